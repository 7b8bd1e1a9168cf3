/**
 * One job: validate → create the run directory → write the resolved config → choose the backend → train →
 * write the summary. A job reports a status instead of throwing, so one failure never stops a sweep.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Device } from '../config/devices.js';
import { experimentHash, formatError, loadExperiment, resolvedToObject, resolvedToYaml, type ConfigError, type ResolvedExperiment } from '../config/index.js';
import { isUserError, UserError } from '../errors.js';
import { packageVersion as tuduiVersion } from '../version.js';
import { symlinkAtomic, WriteError, writeFileAtomic } from '../fs/atomic.js';
import { rewindEventFiles } from '../tensorboard/index.js';
import { checkCheckpoint } from './checkpoint-files.js';
import { acceptedConfig, appendHistory, diffExperiments, formatChanges } from './config-history.js';
import {
  BEST,
  checkpointLink,
  checkpointName,
  CONFIG_HISTORY,
  EPOCH_TAGS,
  hasCheckpoint,
  LAST,
  linkTarget,
  listCheckpoints,
  ORIGINAL_CONFIG,
  readHistory,
  readState,
  readStatus,
  readSummary,
  runPaths,
  type ConfigChange,
  type EpochMetrics,
  type OutcomeStatus,
  type RunSummary,
  type TrainingState,
} from './layout.js';
import { acquireLock, type Lock } from './lock.js';
import { createRunDir } from './run-dir.js';
import { stoppedForGood } from '../train/early-stopping.js';
import type { TrainResult } from '../train/loop.js';
import type { Progress } from '../train/progress.js';
import type { AcceptedConfig } from './config-history.js';

export { readStatus };

export interface RunOptions {
  /** `key.path=value` overrides, applied before validation. */
  overrides?: string[];
  /** Parent of per-experiment run directories (default `runs`). */
  runsDir?: string;
  /** Use exactly this run directory (sweeps name their members); created if missing. */
  runDir?: string;
  /** Overrides the experiment's `device`. */
  device?: Device;
  /** Use exactly this backend (`tudui devices` names them), and this many CPU threads. */
  backend?: string;
  threads?: number;
  cwd?: string;
  /** Where progress and logs go (default process.stdout). */
  out?: { write(s: string): unknown; isTTY?: boolean };
  quiet?: boolean;
  signal?: AbortSignal;
  onEpoch?: (m: EpochMetrics) => void;
  /** Continue the run in `runDir` from its last checkpoint. */
  resume?: boolean;
  /** Resume from this kept checkpoint (`epoch-0003`) instead of `checkpoints/last`. */
  from?: string;
  /** Resume even though the config differs from the checkpoint's. */
  allowChanged?: boolean;
}

export interface RunOutcome {
  status: OutcomeStatus;
  runDir?: string;
  summary?: RunSummary;
  /** One-line message for failures. */
  error?: string;
  /** The stack of the error behind `error`, for --trace. */
  stack?: string;
  /** Validation errors (status 'invalid'). */
  errors?: ConfigError[];
  /** A resume that found nothing to do (the run had already completed): nothing was written. */
  nothingToDo?: boolean;
}

/** What `resume` found and checked before writing anything. */
interface ResumePlan {
  checkpoint: string;
  checkpointName: string;
  state: TrainingState;
  previous: RunSummary | undefined;
  changes: ConfigChange[];
  accepted: AcceptedConfig | undefined;
}

export async function runExperiment(file: string, opts: RunOptions = {}): Promise<RunOutcome> {
  const out = opts.out ?? process.stdout;
  const log = (line: string) => {
    if (!opts.quiet) out.write(line + '\n');
  };
  const warn = (line: string) => out.write(line + '\n');
  const cwd = opts.cwd ?? process.cwd();

  // --- Validate before anything is created ----------------------------------------------------------------------
  const loaded = loadExperiment(resolve(cwd, file), { overrides: opts.overrides ?? [], cwd });
  if (loaded.errors.length > 0) {
    return { status: 'invalid', errors: loaded.errors, error: loaded.errors.map(formatError).join('\n') };
  }
  const exp: ResolvedExperiment = { ...loaded.experiment, device: opts.device ?? loaded.experiment.device };
  const configHash = experimentHash(exp);

  // --- Resume: lock the run directory, then check everything before anything is written ------------------------
  let lock: Lock | undefined;
  let plan: ResumePlan | undefined;
  let runDir: string;
  if (opts.resume) {
    runDir = resolve(cwd, opts.runDir!);
    try {
      lock = acquireLock(runDir, { what: `run directory ${runDir}`, warn });
      plan = planResume(runDir, exp, opts, cwd);
    } catch (e) {
      lock?.release();
      // --runs-dir is no option of resume: say what will work instead.
      if (e instanceof WriteError && e.hint?.includes('--runs-dir')) return failure(new WriteError(e.message, `make ${runDir} writable, or copy it somewhere writable and resume the copy`), runDir);
      return failure(e, runDir);
    }
    if (!plan) {
      lock!.release();
      const s = readSummary(runDir);
      const longer = s?.reason && exp.early_stopping && (s.epochs_completed ?? 0) < exp.epochs ? `early_stopping.patience=${exp.early_stopping.patience + 1}` : `epochs=${exp.epochs + 1}`;
      log(`${runDir} already completed ${s?.epochs_completed ?? exp.epochs} of ${exp.epochs} epochs${s?.reason ? ` (${s.reason})` : ''}; nothing to do (to train longer: tudui resume ${runDir} --allow-changed --set ${longer})`);
      return { status: 'completed', runDir, ...(s ? { summary: s } : {}), nothingToDo: true };
    }
  }

  // --- Backend: chosen before anything is written, so an unavailable device leaves no empty run behind -------------
  let backend: Awaited<ReturnType<typeof import('../backends/index.js').selectBackend>>;
  try {
    const { selectBackend } = await import('../backends/index.js');
    backend = await selectBackend(exp.device, {
      log,
      ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    });
  } catch (e) {
    lock?.release();
    return failure(e, opts.resume ? runDir! : undefined);
  }

  // --- Run directory and resolved config (fresh runs) -------------------------------------------------------------
  try {
    if (!opts.resume) {
      if (opts.runDir) {
        runDir = resolve(cwd, opts.runDir);
        mkdirSync(runDir, { recursive: true });
      } else {
        runDir = createRunDir(resolve(cwd, opts.runsDir ?? 'runs'), exp.name);
      }
      lock = acquireLock(runDir, { what: `run directory ${runDir}`, warn });
      const yaml = resolvedToYaml(exp);
      writeFileAtomic(runPaths(runDir).originalConfig, yaml);
      writeFileAtomic(runPaths(runDir).config, yaml);
    }
  } catch (e) {
    lock?.release();
    return failure(e);
  }
  runDir = runDir!;
  log(`run: ${runDir}`);

  const started = new Date();
  const previous = plan?.previous;
  const configChanges = () => readHistory(runDir).length;
  const base: Omit<RunSummary, 'status' | 'backend' | 'backend_description' | 'history' | 'finished_at' | 'skipped_batches' | 'config_changes'> = {
    name: exp.name,
    run_dir: runDir,
    config_hash: configHash,
    seed: exp.seed,
    device: exp.device,
    epochs: exp.epochs,
    epochs_completed: 0,
    global_step: 0,
    parameters: previous?.parameters ?? 0,
    final: null,
    best: null,
    durations: { total_s: 0, epochs_s: [] },
    throughput: null,
    tensors_after_epoch: [],
    dataset: previous?.dataset ?? null,
    started_at: previous?.started_at ?? started.toISOString(),
    host: hostname(),
    pid: process.pid,
    versions: { tudui: tuduiVersion(), node: process.version },
  };
  // Epochs the checkpoint covers (a resume from an earlier checkpoint drops the later ones).
  const history: EpochMetrics[] = plan ? (previous?.history ?? []).filter((h) => h.epoch <= plan!.state.epoch) : [];
  const earlierSeconds = previousSeconds(history);
  const backendName = backend.name;
  const backendDescription = backend.description;
  base.versions.tfjs = backend.tf.version.tfjs ?? '';
  let skipped = plan?.state.skipped_batches ?? 0;
  let written: RunSummary | undefined;
  const writeSummary = (status: RunSummary['status'], result?: TrainResult, stop?: { reason: string; error?: string }) => {
    const last = history[history.length - 1];
    if (result) skipped = result.skippedBatches;
    const summary: RunSummary = {
      ...base,
      status,
      ...(stop ? { reason: stop.reason } : {}),
      ...(stop?.error ? { error: stop.error } : {}),
      ...(status !== 'completed' && status !== 'running' ? { stopped_at: result?.stoppedAt ?? { epoch: last?.epoch ?? 0, global_step: last?.global_step ?? 0 } } : {}),
      skipped_batches: skipped,
      config_changes: configChanges(),
      backend: backendName,
      backend_description: backendDescription,
      epochs_completed: last?.epoch ?? 0,
      global_step: result?.globalStep ?? last?.global_step ?? 0,
      parameters: result?.parameters ?? base.parameters,
      final: last ? finalMetrics(last, result?.test ?? previous?.test) : null,
      best: result?.best ?? bestOf(history, exp.checkpoint.monitor),
      durations: { total_s: (Date.now() - started.getTime()) / 1000 + earlierSeconds, epochs_s: history.map((h) => h.seconds) },
      throughput: history.length ? { train_images_per_s: median(history.map((h) => h.train_images_per_sec)), eval_images_per_s: median(history.map((h) => h.eval_images_per_sec)) } : null,
      tensors_after_epoch: history.map((h) => h.tensors),
      dataset: result ? { name: exp.dataset.name, source: result.dataset.source, train: result.dataset.train, test: result.dataset.test } : base.dataset,
      finished_at: new Date().toISOString(),
      ...(result?.test ? { test: result.test } : previous?.test ? { test: previous.test } : {}),
      history,
    };
    try {
      writeFileAtomic(runPaths(runDir).summary, JSON.stringify(summary, null, 2) + '\n');
      written = summary;
    } catch (e) {
      log(`warning: could not write summary.json: ${message(e)}`);
    }
    return summary;
  };

  // A second Ctrl-C exits at once (process.exit): the summary must not be left saying `running`.
  let startedWriting = !opts.resume;
  const onExit = () => {
    if (startedWriting && written?.status === 'running') {
      const kept = checkpointLink(runDir, LAST);
      writeSummary('interrupted', undefined, { reason: `stopped at once by a second interrupt signal; ${kept ? `the last checkpoint (${kept}) is intact` : 'no checkpoint had been written yet'}` });
    }
  };
  process.on('exit', onExit);

  // --- Train ---------------------------------------------------------------------------------------------------------
  try {
    const { train } = await import('../train/loop.js');
    const { createProgress } = await import('../train/progress.js');
    const progress: Progress = createProgress(out, opts.quiet);
    if (!opts.resume) writeSummary('running');
    const result = await train({
      experiment: exp,
      runDir,
      backend: backend.name,
      configHash,
      progress,
      log,
      signal: opts.signal,
      resumeFrom: plan?.checkpoint,
      cwd,
      configText: configText(exp, backend.name, plan),
      // Everything above only read: from here on the run directory changes.
      onStart: (state) => {
        if (!plan) return;
        startedWriting = true;
        if (plan.changes.length) recordChanges(runDir, exp, plan, state);
        if (plan.checkpointName !== LAST) rewind(runDir, plan);
        writeSummary('running');
      },
      onEpoch: (m) => {
        history.push(m);
        writeSummary('running'); // a killed run still leaves a summary of what it finished
        opts.onEpoch?.(m);
      },
    });
    if (!startedWriting) {
      // Interrupted before anything was written (a resume stopped while loading): the run directory is untouched.
      log(`interrupted before training started; ${runDir} is unchanged`);
      return { status: 'interrupted', runDir, ...(previous ? { summary: previous } : {}) };
    }
    const stop = result.status === 'completed' ? (result.reason ? { reason: result.reason } : undefined) : { reason: result.reason ?? result.status };
    const summary = writeSummary(result.status, result, stop);
    if (result.status === 'interrupted') {
      if (result.lastCheckpoint) log(`interrupted: checkpoint written to ${result.lastCheckpoint}; continue with: tudui resume ${runDir}`);
      else if (hasCheckpoint(runDir)) log(`interrupted: ${result.reason}; continue with: tudui resume ${runDir}`);
      else log(`interrupted: ${result.reason}; no checkpoint was written, so there is nothing to resume: start again with tudui run ${join(runDir, 'config.yaml')}`);
      return { status: 'interrupted', runDir, summary };
    }
    if (result.status === 'diverged') {
      const error = `${result.reason}\n  hint: ${divergedHint(exp, runDir)}`;
      try {
        writeFileAtomic(runPaths(runDir).error, `the run diverged: ${error}\n`);
      } catch {
        // the summary already carries the reason
      }
      return { status: 'diverged', runDir, summary, error };
    }
    log(`done: ${describeFinal(summary)}; run directory ${runDir}`);
    return { status: result.status, runDir, summary };
  } catch (e) {
    if (!startedWriting) return failure(e, runDir); // a resume that failed its checks changes nothing
    const error = withResumeHint(e, runDir);
    const summary = writeSummary('failed', undefined, { reason: error.split('\n')[0]!, error });
    try {
      writeFileAtomic(runPaths(runDir).error, `${error}\n\n${(e as Error)?.stack ?? ''}\n`);
    } catch {
      // the summary already carries the message
    }
    return { status: 'failed', runDir, summary, error, ...stackOf(e) };
  } finally {
    process.off('exit', onExit);
    lock?.release();
  }
}

function failure(e: unknown, runDir?: string): RunOutcome {
  return { status: 'failed', ...(runDir ? { runDir } : {}), error: message(e), ...stackOf(e) };
}

function stackOf(e: unknown): { stack?: string } {
  return e instanceof Error && e.stack ? { stack: e.stack } : {};
}

/** A write error suggests `tudui resume` only when there is a checkpoint to resume from. */
function withResumeHint(e: unknown, runDir: string): string {
  if (e instanceof WriteError) {
    const next = hasCheckpoint(runDir) ? `then continue with: tudui resume ${runDir}` : `then start again with: tudui run ${join(runDir, 'config.yaml')}`;
    return `${e.message}\n  hint: ${e.hint ? `${e.hint}, ` : ''}${next}`;
  }
  return message(e);
}

/** What to try after a divergence: only commands that will run (from the last good checkpoint when there is one). */
function divergedHint(exp: ResolvedExperiment, runDir: string): string {
  const tenth = Number((exp.optimizer.lr / 10).toPrecision(3));
  const lr = tenth >= 1e6 || tenth < 1e-4 ? tenth.toExponential() : String(tenth);
  const skip = exp.on_nan === 'stop' ? ', or skip such batches with on_nan: skip' : '';
  if (hasCheckpoint(runDir)) return `lower the learning rate and continue from the last good checkpoint: tudui resume ${runDir} --allow-changed --set optimizer.lr=${lr}${skip}`;
  return `lower the learning rate and start again: tudui run ${join(runDir, 'config.yaml')} --set optimizer.lr=${lr}${skip}`;
}

/** TensorBoard's `config` text: the resolved config as in config.yaml (and what changed, on a resume). */
function configText(exp: ResolvedExperiment, backend: string, plan: ResumePlan | undefined): string | undefined {
  const yaml = '```yaml\n' + resolvedToYaml(exp) + '```';
  if (!plan) return `backend: ${backend}\n\n${yaml}`;
  if (!plan.changes.length) return undefined;
  return `changed when resuming after epoch ${plan.state.epoch} (backend: ${backend}):\n\n${'```'}\n${formatChanges(plan.changes)}\n${'```'}\n\n${yaml}`;
}

function recordChanges(runDir: string, exp: ResolvedExperiment, plan: ResumePlan, state: TrainingState): void {
  // A run from before the original config was kept: keep the one it accepted, before config.yaml changes.
  const paths = runPaths(runDir);
  if (!existsSync(paths.originalConfig) && plan.accepted) writeFileAtomic(paths.originalConfig, resolvedToYaml(plan.accepted.experiment));
  appendHistory(runDir, {
    time: new Date().toISOString(),
    epoch: state.epoch,
    global_step: state.global_step,
    checkpoint: linkTarget(join(paths.checkpoints, plan.checkpointName)) ?? plan.checkpointName,
    changes: plan.changes,
    config_hash: experimentHash(exp),
    config: resolvedToObject(exp),
  });
  const n = readHistory(runDir).length;
  const note = `# Changed ${n === 1 ? 'once' : `${n} times`} since the run started (config.original.yaml, config-history.jsonl); this is the config now in effect.\n`;
  writeFileAtomic(paths.config, note + resolvedToYaml(exp));
}

/**
 * Resuming from an earlier checkpoint: `last` points at it, `best` at nothing newer, and the log points it does not
 * cover are dropped (those epochs are trained and logged again; newer checkpoints are overwritten as they come).
 */
function rewind(runDir: string, plan: ResumePlan): void {
  const { checkpoints: dir, last, best: bestLink } = runPaths(runDir);
  const name = linkTarget(join(dir, plan.checkpointName)) ?? plan.checkpointName;
  symlinkAtomic(name, last);
  const best = checkpointLink(runDir, BEST);
  if (best !== undefined && best > name) {
    const b = plan.state.best ? checkpointName(plan.state.best.epoch) : undefined;
    if (b !== undefined && b <= name && existsSync(join(dir, b))) symlinkAtomic(b, bestLink);
    else rmSync(bestLink, { force: true });
  }
  truncateLogs(runDir, plan.state);
}

/**
 * Drop the log points a checkpoint does not cover, from metrics.jsonl and from the TensorBoard event files alike.
 * Per-epoch tags are logged at step = epoch, the others at the global step.
 */
function truncateLogs(runDir: string, state: TrainingState): void {
  const uncovered = (tag: string, step: number) => (EPOCH_TAGS.has(tag) ? step > state.epoch : step > state.global_step);
  const path = runPaths(runDir).metrics;
  if (existsSync(path)) {
    const keep = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          const p = JSON.parse(line) as { tag: string; step: number };
          return !uncovered(p.tag, p.step);
        } catch {
          return false;
        }
      });
    writeFileAtomic(path, keep.map((l) => l + '\n').join(''));
  }
  rewindEventFiles(runDir, uncovered);
}

/**
 * Everything `resume` checks, reading only: the checkpoint (and its integrity), the config against the last
 * accepted one, epochs only extended. Returns undefined when the run has already completed and nothing changes.
 */
function planResume(runDir: string, exp: ResolvedExperiment, opts: RunOptions, cwd: string): ResumePlan | undefined {
  const previous = readSummary(runDir);
  const checkpoints = runPaths(runDir).checkpoints;
  const name = opts.from ?? LAST;
  const checkpoint = join(checkpoints, name);
  if (!existsSync(checkpoint)) {
    const kept = listCheckpoints(runDir);
    if (opts.from) {
      throw new UserError(`${runDir} has no checkpoint ${opts.from}`, kept.length ? `kept checkpoints: ${kept.join(', ')}` : 'it has no checkpoint at all');
    }
    if (kept.length) throw new UserError(`${runDir} has no checkpoints/last`, `resume from a kept checkpoint: tudui resume ${runDir} --from ${kept[kept.length - 1]}`);
    throw new UserError(`${runDir} has no checkpoint to resume from: it stopped before its first checkpoint`, `start it again with: tudui run ${join(runDir, 'config.yaml')}`);
  }
  const state = verifyCheckpoint(checkpoint, runDir);
  const accepted = acceptedConfig(runDir, state.config_hash, cwd);
  let changes: ConfigChange[];
  if (accepted) {
    changes = diffExperiments(accepted.experiment, exp);
  } else {
    changes = experimentHash(exp) === state.config_hash ? [] : [{ key: '(unknown: the config this run started with was not kept)', old: undefined, new: undefined }];
  }
  if (changes.length && !opts.allowChanged) {
    throw new UserError(`the experiment changed since this run ${accepted?.source === CONFIG_HISTORY ? 'last accepted a change' : 'started'}:\n${formatChanges(changes)}`, `rerun with --allow-changed to resume with these changes (they are recorded in ${CONFIG_HISTORY})`);
  }
  const planned = accepted?.experiment.epochs ?? previous?.epochs ?? state.epoch;
  if (exp.epochs < planned) {
    throw new UserError(`epochs can only be extended: this run is planned for ${planned} epochs (${state.epoch} completed), not ${exp.epochs}`, `to stop it early, just do not resume it; to train longer: --set epochs=${Math.max(planned, state.epoch) + 1}`);
  }
  // completed: all epochs, or stopped early with the patience now in effect used up (resuming trains nothing)
  const completed = (state.epoch >= exp.epochs && state.batch_in_epoch === 0) || stoppedForGood(exp, state) !== undefined;
  if (completed && readStatus(runDir, previous) === 'completed' && !changes.length && name === LAST) return undefined;
  return { checkpoint, checkpointName: name, state, previous, changes, accepted };
}

/** The checkpoint's training state, after checking that its files are whole; a damaged one is named. */
function verifyCheckpoint(checkpoint: string, runDir: string): TrainingState {
  const problem = checkCheckpoint(checkpoint);
  if (problem === undefined) return readState(checkpoint);
  const checkpoints = runPaths(runDir).checkpoints;
  const name = linkTarget(checkpoint) ?? checkpoint.split('/').pop()!;
  const intact = listCheckpoints(runDir).reverse().find((n) => n !== name && checkCheckpoint(join(checkpoints, n)) === undefined);
  throw new UserError(
    `checkpoint ${join(checkpoints, name)} is damaged: ${problem}`,
    intact ? `resume from the newest intact checkpoint: tudui resume ${runDir} --from ${intact}` : 'no intact checkpoint is left; start again with: tudui run ' + join(runDir, 'config.yaml'),
  );
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
    // with a validation split the monitor reads its val_ counterpart (as the loop does)
    const name = h.val_loss !== undefined ? monitor.replace(/^test_/, 'val_') : monitor;
    const v = (h as unknown as Record<string, number | undefined>)[name];
    if (v === undefined) continue;
    if (!best || (name.endsWith('_loss') ? v < best.value : v > best.value)) best = { metric: name, value: v, epoch: h.epoch };
  }
  return best;
}

/** The last epoch's numbers; with a validation split, the end-of-run test evaluation as test_loss / test_accuracy. */
function finalMetrics(last: EpochMetrics, test: RunSummary['test']): Record<string, number> {
  const out: Record<string, number> = { train_loss: last.train_loss };
  for (const k of ['val_loss', 'val_accuracy', 'test_loss', 'test_accuracy'] as const) if (last[k] !== undefined) out[k] = last[k]!;
  if (test) Object.assign(out, { test_loss: test.loss, test_accuracy: test.accuracy });
  return out;
}

function describeFinal(s: RunSummary): string {
  if (!s.final) return 'no epoch completed';
  return `test_accuracy ${(s.final.test_accuracy! * 100).toFixed(2)}%, test_loss ${s.final.test_loss!.toFixed(4)} after ${s.epochs_completed} epochs in ${s.durations.total_s.toFixed(1)}s`;
}

function previousSeconds(history: EpochMetrics[]): number {
  return history.reduce((s, h) => s + h.seconds, 0);
}
