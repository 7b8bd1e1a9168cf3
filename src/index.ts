/**
 * tudui's library API: what the CLI calls, for programs and tests that drive experiments without spawning processes.
 * Importing this module does not load TensorFlow; `runExperiment` loads it when a run starts.
 */
export { loadExperiment, validateFiles, formatError, resolvedToYaml, experimentHash } from './config/index.js';
export type { ResolvedExperiment, ConfigError } from './config/index.js';
export { runExperiment } from './run/run-experiment.js';
export type { RunOptions, RunOutcome } from './run/run-experiment.js';
/** The run and sweep directories: paths, on-disk types and readers (what `ls`, `show`, `compare` and the board read). */
export * as layout from './run/layout.js';
export { readStatus, readSummary, readMetrics, MetricsTail, readManifest, findRuns, TAGS } from './run/layout.js';
export type { RunSummary, RunStatus, OutcomeStatus, MetricPoint, EpochMetrics, Manifest as SweepManifest, SummaryRow as SweepSummaryRow, SweepSummary } from './run/layout.js';
/** Loads TensorFlow.js when called (the module imports it). */
export const loadCheckpointModel = async (dir: string) => (await import('./run/checkpoint.js')).loadCheckpointModel(dir);
/** A checkpoint (or a run directory: its best checkpoint) ready to classify pictures; loads TensorFlow.js when called. */
export const loadModel = async (dir: string, opts?: { cwd?: string }) => (await import('./infer/load.js')).loadModel(dir, opts);
/** `tudui eval` as a function: a checkpoint's metrics and confusion matrix on a split; loads TensorFlow.js when called. */
export const evaluateCheckpoint = async (dir: string, opts?: import('./infer/evaluate-checkpoint.js').EvalOptions) => (await import('./infer/evaluate-checkpoint.js')).evaluateCheckpoint(dir, opts);
export type { LoadedModel, ClassScore } from './infer/load.js';
export type { EvalReport, EvalOptions } from './infer/evaluate-checkpoint.js';
export type { ImageInput, RawImage } from './infer/preprocess.js';
export type { InferenceMetadata } from './run/checkpoint-files.js';
export { packageVersion } from './version.js';
export { UserError, isUserError } from './errors.js';
export { sweep } from './sweep/index.js';
export type { SweepOptions, SweepResult } from './sweep/index.js';
/** `tudui ls`, `show` and `compare` as functions returning data and text. */
export * as inspect from './inspect/index.js';
export { listRuns, formatRunList, runReport, formatRunReport, plotTag, followRun, compareRuns, formatComparison } from './inspect/index.js';
/** `tudui board` as a function: a read-only page over DIR; `close()` stops it. */
export { startBoard, type Board, type BoardOptions } from './board/server.js';
