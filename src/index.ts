/**
 * tudui's library API: what the CLI calls, for programs and tests that drive experiments without spawning processes.
 * Importing this module does not load TensorFlow; `runExperiment` loads it when a run starts.
 */
export { loadExperiment, validateFiles, formatError, resolvedToYaml, experimentHash } from './config/index.js';
export type { ResolvedExperiment, ConfigError } from './config/index.js';
export { runExperiment, readStatus } from './run/run-experiment.js';
export type { RunOptions, RunOutcome, RunSummary, RunStatus } from './run/run-experiment.js';
export { readMetrics } from './run/metrics.js';
/** Loads TensorFlow.js when called (the module imports it). */
export const loadCheckpointModel = async (dir: string) => (await import('./run/checkpoint.js')).loadCheckpointModel(dir);
export { packageVersion } from './version.js';
export { UserError, isUserError } from './errors.js';
export { sweep } from './sweep/index.js';
export type { SweepOptions, SweepResult, SummaryRow as SweepSummaryRow, Manifest as SweepManifest } from './sweep/index.js';
