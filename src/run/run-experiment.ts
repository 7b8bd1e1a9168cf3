/**
 * One job: validate → create the run directory → write the resolved config → choose the backend → train →
 * write the summary. A job reports a status instead of throwing, so one failure never stops a sweep.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { experimentHash, formatError, loadExperiment, resolvedToYaml, type ConfigError, type ResolvedExperiment } from '../config/index.js';
import { isUserError, UserError } from '../cli/errors.js';
import { packageVersion as tuduiVersion } from '../version.js';
import { writeFileAtomic } from './atomic.js';
import { createRunDir } from './run-dir.js';
import type { EpochMetrics, TrainResult } from '../train/loop.js';
import type { Progress } from '../train/progress.js';

export type RunStatus = 'completed' | 'failed' | 'interrupted' | 'invalid';

export interface RunOptions {
  /** `key.path=value` overrides, applied before validation. */
  overrides?: string[];
  /** Parent of per-experiment run directories (default `runs`). */
  runsDir?: string;
  /** Use exactly this run directory (sweeps name their members); created if missing. */
  runDir?: string;
  /** Overrides the experiment's `device`. */
  device?: 'auto' | 'cpu' | 'gpu';
  cwd?: string;
  /** Where progress and logs go (default process.stdout). */
  out?: { write(s: string): unknown; isTTY?: boolean };
  quiet?: boolean;
  signal?: AbortSignal;
  onEpoch?: (m: EpochMetrics) => void;
  /** Continue the run in `runDir` from its last checkpoint. */
  resume?: boolean;
  /** Resume even though the config differs from the checkpoint's. */
  allowChanged?: boolean;
}

export interface RunSummary {
  name: string;
  status: Exclude<RunStatus, 'invalid'> | 'running';
  error?: string;
  run_dir: string;
  config_hash: string;
  seed: number;
  device: string;
  backend: string;
  backend_description: string;
  epochs: number;
  epochs_completed: number;
  global_step: number;
  parameters: number;
  final: Record<string, number> | null;
  best: { metric: string; value: number; epoch: number } | null;
  durations: { total_s: number; epochs_s: number[] };
  throughput: { train_images_per_s: number; eval_images_per_s: number } | null;
  tensors_after_epoch: number[];
  dataset: { name: string; source: string; train: number; test: number } | null;
  started_at: string;
  finished_at: string;
  host: string;
  versions: Record<string, string>;
  history: EpochMetrics[];
}

export interface RunOutcome {
  status: RunStatus;
  runDir?: string;
  summary?: RunSummary;
  /** One-line message for failures. */
  error?: string;
  /** Validation errors (status 'invalid'). */
  errors?: ConfigError[];
}

export async function runExperiment(file: string, opts: RunOptions = {}): Promise<RunOutcome> {
  const out = opts.out ?? process.stdout;
  const log = (line: string) => {
    if (!opts.quiet) out.write(line + '\n');
  };
  const cwd = opts.cwd ?? process.cwd();

  // --- Validate before anything is created ----------------------------------------------------------------------
  const loaded = loadExperiment(resolve(cwd, file), { overrides: opts.overrides ?? [], cwd });
  if (loaded.errors.length > 0) {
    return { status: 'invalid', errors: loaded.errors, error: loaded.errors.map(formatError).join('\n') };
  }
  const exp: ResolvedExperiment = { ...loaded.experiment, device: opts.device ?? loaded.experiment.device };
  const configHash = experimentHash(exp);

  // --- Backend: chosen before anything is written, so an unavailable device leaves no empty run behind -------------
  let backend: Awaited<ReturnType<typeof import('../backends/index.js').selectBackend>>;
  try {
    const { selectBackend } = await import('../backends/index.js');
    backend = await selectBackend(exp.device, { log });
  } catch (e) {
    return { status: 'failed', error: message(e) };
  }

  // --- Run directory and resolved config ------------------------------------------------------------------------
  let runDir: string;
  let resumeFrom: string | undefined;
  try {
    if (opts.resume) {
      runDir = resolve(cwd, opts.runDir!);
      resumeFrom = join(runDir, 'checkpoints', 'last');
      if (!existsSync(resumeFrom)) return { status: 'failed', runDir, error: `${runDir} has no checkpoint to resume from (checkpoints/last is missing)` };
    } else if (opts.runDir) {
      runDir = resolve(cwd, opts.runDir);
      mkdirSync(runDir, { recursive: true });
    } else {
      runDir = createRunDir(resolve(cwd, opts.runsDir ?? 'runs'), exp.name);
    }
    if (!opts.resume) writeFileAtomic(join(runDir, 'config.yaml'), resolvedToYaml(exp));
  } catch (e) {
    return { status: 'failed', error: message(e) };
  }
  log(`run: ${runDir}`);

  const started = new Date();
  const base: Omit<RunSummary, 'status' | 'backend' | 'backend_description' | 'history' | 'finished_at'> = {
    name: exp.name,
    run_dir: runDir,
    config_hash: configHash,
    seed: exp.seed,
    device: exp.device,
    epochs: exp.epochs,
    epochs_completed: 0,
    global_step: 0,
    parameters: 0,
    final: null,
    best: null,
    durations: { total_s: 0, epochs_s: [] },
    throughput: null,
    tensors_after_epoch: [],
    dataset: null,
    started_at: started.toISOString(),
    host: hostname(),
    versions: { tudui: tuduiVersion(), node: process.version },
  };
  const previous = opts.resume ? readPreviousHistory(runDir) : [];
  const backendName = backend.name;
  const backendDescription = backend.description;
  base.versions.tfjs = backend.tf.version.tfjs ?? '';
  const history: EpochMetrics[] = [...previous];
  const writeSummary = (status: RunSummary['status'], result?: TrainResult, error?: string) => {
    const last = history[history.length - 1];
    const summary: RunSummary = {
      ...base,
      status,
      ...(error ? { error } : {}),
      backend: backendName,
      backend_description: backendDescription,
      epochs_completed: last?.epoch ?? 0,
      global_step: result?.globalStep ?? last?.global_step ?? 0,
      parameters: result?.parameters ?? 0,
      final: last ? { train_loss: last.train_loss, test_loss: last.test_loss, test_accuracy: last.test_accuracy } : null,
      best: result?.best ?? bestOf(history, exp.checkpoint.monitor),
      durations: { total_s: (Date.now() - started.getTime()) / 1000 + previousSeconds(previous), epochs_s: history.map((h) => h.seconds) },
      throughput: history.length ? { train_images_per_s: median(history.map((h) => h.train_images_per_sec)), eval_images_per_s: median(history.map((h) => h.eval_images_per_sec)) } : null,
      tensors_after_epoch: history.map((h) => h.tensors),
      dataset: result ? { name: exp.dataset.name, source: result.dataset.source, train: result.dataset.train, test: result.dataset.test } : null,
      finished_at: new Date().toISOString(),
      history,
    };
    try {
      writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    } catch (e) {
      log(`warning: could not write summary.json: ${message(e)}`);
    }
    return summary;
  };

  // --- Train ---------------------------------------------------------------------------------------------------------
  try {
    if (opts.resume) checkConfigUnchanged(runDir, resumeFrom!, exp, configHash, opts.allowChanged ?? false);

    const { train } = await import('../train/loop.js');
    const { createProgress } = await import('../train/progress.js');
    const progress: Progress = createProgress(out, opts.quiet);
    const result = await train({
      experiment: exp,
      runDir,
      backend: backend.name,
      configHash,
      progress,
      log,
      signal: opts.signal,
      resumeFrom,
      cwd,
      onEpoch: (m) => {
        history.push(m);
        writeSummary('running'); // a killed run still leaves a summary of what it finished
        opts.onEpoch?.(m);
      },
    });
    const summary = writeSummary(result.status, result);
    if (result.status === 'interrupted') log(`interrupted: checkpoint written to ${result.lastCheckpoint}; continue with: tudui resume ${runDir}`);
    else log(`done: ${describeFinal(summary)}; run directory ${runDir}`);
    return { status: result.status, runDir, summary };
  } catch (e) {
    const error = message(e);
    const summary = writeSummary('failed', undefined, error);
    try {
      writeFileAtomic(join(runDir, 'error.txt'), `${error}\n\n${(e as Error)?.stack ?? ''}\n`);
    } catch {
      // the summary already carries the message
    }
    if (!isUserError(e) && process.env.TUDUI_TRACE === '1') out.write(`${(e as Error).stack}\n`);
    return { status: 'failed', runDir, summary, error };
  }
}

function message(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const hint = isUserError(e) ? (e as UserError).hint : undefined;
  return hint ? `${e.message}\n  hint: ${hint}` : e.message;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function bestOf(history: EpochMetrics[], monitor: string) {
  let best: RunSummary['best'] = null;
  for (const h of history) {
    const v = monitor === 'test_loss' ? h.test_loss : h.test_accuracy;
    if (!best || (monitor === 'test_loss' ? v < best.value : v > best.value)) best = { metric: monitor, value: v, epoch: h.epoch };
  }
  return best;
}

function describeFinal(s: RunSummary): string {
  if (!s.final) return 'no epoch completed';
  return `test_accuracy ${(s.final.test_accuracy! * 100).toFixed(2)}%, test_loss ${s.final.test_loss!.toFixed(4)} after ${s.epochs_completed} epochs in ${s.durations.total_s.toFixed(1)}s`;
}

function readPreviousHistory(runDir: string): EpochMetrics[] {
  try {
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    return s.history ?? [];
  } catch {
    return [];
  }
}

function previousSeconds(history: EpochMetrics[]): number {
  return history.reduce((s, h) => s + h.seconds, 0);
}

/** Refuse to resume with a different config unless asked, showing what changed. */
function checkConfigUnchanged(runDir: string, checkpoint: string, exp: ResolvedExperiment, hash: string, allow: boolean): void {
  const state = JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8')) as { config_hash: string };
  if (state.config_hash === hash) return;
  const diff = diffConfigs(readFileSync(join(runDir, 'config.yaml'), 'utf8'), resolvedToYaml(exp));
  if (allow) {
    writeFileAtomic(join(runDir, 'config.yaml'), resolvedToYaml(exp));
    return;
  }
  throw new UserError(`the experiment changed since this run started:\n${diff}`, 'rerun with --allow-changed to resume anyway');
}

function diffConfigs(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) {
      if (la[i] !== undefined) out.push(`  - ${la[i]}`);
      if (lb[i] !== undefined) out.push(`  + ${lb[i]}`);
    }
  }
  return out.join('\n');
}
