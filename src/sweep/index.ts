/**
 * `tudui sweep`: many experiments (glob patterns, each file possibly a parameter grid) as one sweep directory
 * `runs/<name>/<timestamp>/` holding a run directory per member, a manifest (`sweep.json`), a ranked summary
 * (`summary.csv`, `summary.json`) and TensorBoard HPARAMS records. Every member is validated before anything runs;
 * a failing member never stops the others (unless `failFast`); `resume` continues an earlier sweep directory.
 *
 * Importing this module does not load TensorFlow: runs load it (in this process or in child processes).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Listr, type ListrTask } from 'listr2';
import { formatError, loadExperiment } from '../config/index.js';
import { UserError } from '../errors.js';
import { createRunDir } from '../run/run-dir.js';
import type { EpochMetrics } from '../train/loop.js';
import { childProcess, inProcess, type Executor } from './executor.js';
import { acquireLock, type Lock } from '../run/lock.js';
import { readStatus } from '../run/run-experiment.js';
import { writeExperimentRecord, writeSessionEnd, writeSessionStart } from './hparams.js';
import { readManifest, writeManifest, MANIFEST_VERSION, type Manifest, type ManifestMember } from './manifest.js';
import { defaultSweepName, planSweep } from './plan.js';
import { buildRows, checkRankBy, DEFAULT_RANK_BY, formatTable, writeReports, type RankMetric, type SummaryRow } from './report.js';
import { safeName } from './naming.js';

export { planSweep, findFiles, type Plan, type PlannedMember, type HParam } from './plan.js';
export { readGrid, expandGrid, type GridAxis, type GridPoint, type GridValue } from './grid.js';
export { readManifest, type Manifest, type ManifestMember, type MemberStatus } from './manifest.js';
export { RANK_METRICS, type RankMetric, type SummaryRow } from './report.js';
export { safeName, uniqueNames } from './naming.js';

export interface SweepOptions {
  /** `key.path=value` overrides applied to every member (after its grid point). */
  set?: string[];
  /** Sweep name (the directory under `runsDir`); default: the single file's base name, else `sweep`. */
  name?: string;
  /** Parent of sweep directories (default `runs`). */
  runsDir?: string;
  cwd?: string;
  /** Members run at once (default 1). */
  concurrency?: number;
  /**
   * Run each member in its own child process (default true): a crash or leak stays in its member, and every run is
   * the first model of its process, which its checkpoints rely on (tfjs numbers variable names per process).
   * `false` runs them in this process, one at a time (faster to start; resumed members still get a process).
   */
  isolate?: boolean;
  /** Stop at the first failed member: running members are interrupted (resumable), the rest not started. */
  failFast?: boolean;
  /** Ranking metric of the summary (default best_test_accuracy). */
  rankBy?: string;
  /** Continue the sweep in this directory instead of starting one (patterns and `set` are then not used). */
  resume?: string;
  /** Overrides every member's `device`. */
  device?: 'auto' | 'cpu' | 'gpu';
  /** Aborting interrupts running members (they checkpoint) and starts no more. */
  signal?: AbortSignal;
  /** Live task list: 'auto' (a terminal gets the live list, otherwise plain lines), 'tty', 'plain' or 'silent'. */
  renderer?: 'auto' | 'tty' | 'plain' | 'silent';
  /** Informational lines (sweep directory, member count). */
  log?: (line: string) => void;
}

export interface SweepResult {
  status: 'completed' | 'failed' | 'interrupted' | 'invalid';
  /** 0 completed, 1 invalid or any member failed, 130 interrupted. */
  exitCode: number;
  sweepDir?: string;
  /** Validation errors (`FILE:LINE:COL: error: ...`) when status is 'invalid'. */
  errors: string[];
  /** Ranked summary rows (empty when invalid). */
  rows: SummaryRow[];
  /** The summary table as printed by the CLI. */
  table: string;
  manifest?: Manifest;
}

interface Work {
  member: ManifestMember;
  /** Continue from its checkpoint rather than start fresh. */
  resume: boolean;
}

export async function sweep(patterns: string[], opts: SweepOptions = {}): Promise<SweepResult> {
  const log = opts.log ?? (() => {});
  const concurrency = Math.floor(opts.concurrency ?? 1);
  if (!(concurrency >= 1)) throw new UserError(`--concurrency expects a whole number ≥ 1, received ${opts.concurrency}`);
  if (opts.isolate === false && concurrency > 1) throw new UserError('members can run in this process only one at a time: --concurrency 1 with --in-process');

  let sweepDir: string;
  let manifest: Manifest;
  let work: Work[];
  let rankBy: RankMetric;
  let lock: Lock;
  if (opts.resume) {
    if (patterns.length > 0) throw new UserError('--resume continues an existing sweep: give the sweep directory only, without experiment files');
    if (opts.set?.length) throw new UserError('--set cannot change the members of a sweep being resumed');
    sweepDir = resolve(opts.cwd ?? process.cwd(), opts.resume);
    manifest = readManifest(sweepDir);
    rankBy = checkRankBy(opts.rankBy ?? manifest.rank_by ?? DEFAULT_RANK_BY);
    // One writer per sweep directory: a second `--resume` of the same sweep is refused, naming the first.
    lock = acquireLock(sweepDir, { what: `sweep directory ${sweepDir}`, warn: (l) => process.stderr.write(l + '\n') });
    const prepared = prepareResume(sweepDir, manifest);
    if (prepared.errors.length > 0) {
      lock.release();
      return invalid(prepared.errors, sweepDir);
    }
    work = prepared.work;
    manifest.status = 'running';
    manifest.rank_by = rankBy;
    writeManifest(sweepDir, manifest);
    const done = manifest.members.length - work.length;
    log(`sweep: resuming ${sweepDir}: ${work.length} to run, ${done} already completed`);
  } else {
    rankBy = checkRankBy(opts.rankBy ?? DEFAULT_RANK_BY);
    if (patterns.length === 0) throw new UserError('tudui sweep expects experiment files, directories or glob patterns', 'tudui sweep "experiments/*.yaml"');
    const cwd = resolve(opts.cwd ?? process.cwd());
    const plan = planSweep(patterns, { set: opts.set ?? [], cwd });
    if (plan.errors.length > 0) return invalid(plan.errors);
    const name = safeName(opts.name ?? defaultSweepName(plan.files));
    sweepDir = createRunDir(resolve(cwd, opts.runsDir ?? 'runs'), name);
    lock = acquireLock(sweepDir, { what: `sweep directory ${sweepDir}` });
    const now = new Date().toISOString();
    manifest = {
      version: MANIFEST_VERSION,
      name,
      created_at: now,
      updated_at: now,
      cwd,
      patterns,
      set: opts.set ?? [],
      device: opts.device ?? null,
      rank_by: rankBy,
      status: 'running',
      hparams: plan.hparams,
      members: plan.members.map((p, index) => ({
        index,
        label: p.label,
        run_dir: p.dir,
        file: p.file,
        experiment: p.experiment,
        overrides: p.overrides,
        grid: p.grid,
        hparams: p.hparams,
        status: 'pending',
        attempts: 0,
        started_at: null,
        finished_at: null,
        seconds: null,
        error: null,
      })),
    };
    writeManifest(sweepDir, manifest);
    writeExperimentRecord(sweepDir, name, plan.hparams, plan.members);
    work = manifest.members.map((member) => ({ member, resume: false }));
    log(`sweep: ${sweepDir}: ${work.length} member${work.length === 1 ? '' : 's'}, ${concurrency} at a time`);
  }

  try {
    return await runMembers(sweepDir, manifest, work, rankBy, concurrency, opts);
  } finally {
    lock.release();
  }
}

async function runMembers(sweepDir: string, manifest: Manifest, work: Work[], rankBy: RankMetric, concurrency: number, opts: SweepOptions): Promise<SweepResult> {
  // --- Run ------------------------------------------------------------------------------------------------------
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const executor: Executor = opts.isolate === false ? inProcess : childProcess;
  const device = opts.device ?? (manifest.device as SweepOptions['device'] | null) ?? undefined;
  const save = () => writeManifest(sweepDir, manifest);
  const total = manifest.members.length;
  let failed = false;

  const renderer = opts.renderer ?? 'auto';
  const plain = renderer === 'plain' || (renderer === 'auto' && !process.stdout.isTTY);
  const tasks: ListrTask[] = manifest.members.map((member) => {
    const w = work.find((x) => x.member === member);
    const title = `[${member.index + 1}/${total}] ${member.label}`;
    if (!w) return { title, skip: () => 'completed earlier', task: () => {} };
    return {
      title,
      task: async (_ctx, task) => {
        if (stop.signal.aborted) {
          task.skip(`not started (${failed && opts.failFast ? '--fail-fast' : 'interrupted'})`);
          return;
        }
        const runDir = join(sweepDir, member.run_dir);
        const started = new Date();
        if (!w.resume) {
          rmSync(runDir, { recursive: true, force: true }); // a failed or unfinished member restarts in a clean directory
          mkdirSync(runDir, { recursive: true });
        }
        member.status = 'running';
        member.attempts += 1;
        member.started_at = started.toISOString();
        member.finished_at = null;
        member.error = null;
        save();
        if (!w.resume || !hasSessionStart(runDir)) safely(() => writeSessionStart(runDir, member.hparams, started));
        if (w.resume) task.output = 'resuming from its checkpoint';
        const onEpoch = (m: EpochMetrics) => {
          task.output = `${plain && concurrency > 1 ? `${member.label}: ` : ''}epoch ${m.epoch}: loss ${fmt(m.train_loss)}, test loss ${fmt(m.test_loss)}, test acc ${(m.test_accuracy * 100).toFixed(2)}%`;
        };
        // A continued member is loaded from its file and overrides, as at its start: the checkpoint's config hash
        // then proves that the experiment is unchanged (runExperiment refuses to continue otherwise).
        const job = { file: member.file, overrides: member.overrides, runDir, resume: w.resume, device, cwd: manifest.cwd };
        // Continuing always runs in a fresh process: tfjs numbers variable names per process, and a checkpoint's
        // optimizer slots name the variables of its model as they were named where it was written.
        const outcome = await (w.resume ? childProcess : executor)(job, onEpoch, stop.signal);
        const finished = new Date();
        member.finished_at = finished.toISOString();
        member.seconds = readSeconds(runDir) ?? (finished.getTime() - started.getTime()) / 1000;
        member.status = outcome.status === 'completed' ? 'completed' : outcome.status === 'interrupted' ? 'interrupted' : 'failed';
        member.error = member.status === 'failed' ? (outcome.error ?? 'failed') : null;
        save();
        safely(() => writeSessionEnd(runDir, member.status, finished));
        if (member.status === 'failed') {
          failed = true;
          if (opts.failFast) stop.abort();
          throw new Error(member.error!.split('\n')[0]);
        }
        if (member.status === 'interrupted') {
          task.skip(`interrupted; continue with: tudui sweep --resume ${sweepDir}`);
          return;
        }
        task.title = `${title}: ${describe(runDir)}`;
      },
    };
  });

  const list = new Listr(tasks, {
    concurrent: concurrency,
    exitOnError: false,
    registerSignalListeners: false,
    renderer: renderer === 'silent' ? 'silent' : renderer === 'plain' ? 'simple' : 'default',
    fallbackRenderer: renderer === 'silent' ? 'silent' : 'simple',
    ...(renderer === 'tty' ? { forceTTY: true } : {}),
    rendererOptions: { collapseErrors: false, collapseSkips: false, showErrorMessage: true, showSkipMessage: true, suffixSkips: false },
    fallbackRendererOptions: { timestamp: undefined },
  } as ConstructorParameters<typeof Listr>[1]);
  try {
    await list.run();
  } catch {
    // members' failures are recorded in the manifest; listr only rethrows them
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }

  // --- Report -----------------------------------------------------------------------------------------------------
  const anyFailed = manifest.members.some((m) => m.status === 'failed');
  const unfinished = manifest.members.some((m) => m.status !== 'completed' && m.status !== 'failed');
  manifest.status = anyFailed ? 'failed' : unfinished ? 'interrupted' : 'completed';
  save();
  const rows = buildRows(sweepDir, manifest, rankBy);
  writeReports(sweepDir, manifest, rows, rankBy);
  const table = formatTable(rows, rankBy);
  const exitCode = anyFailed ? 1 : unfinished ? 130 : 0;
  return { status: manifest.status, exitCode, sweepDir, errors: [], rows, table, manifest };
}

function invalid(errors: string[], sweepDir?: string): SweepResult {
  return { status: 'invalid', exitCode: 1, errors, rows: [], table: '', ...(sweepDir ? { sweepDir } : {}) };
}

/**
 * What a resumed sweep must run: completed members are skipped (also those whose run finished after the manifest
 * was last written); an unfinished member with a checkpoint continues from it; failed members and the rest start
 * fresh. Everything to run is validated first.
 */
function prepareResume(sweepDir: string, manifest: Manifest): { work: Work[]; errors: string[] } {
  const work: Work[] = [];
  const errors: string[] = [];
  for (const member of manifest.members) {
    const runDir = join(sweepDir, member.run_dir);
    if (member.status !== 'completed' && member.status !== 'failed' && runStatus(runDir) === 'completed') member.status = 'completed';
    if (member.status === 'completed') continue;
    const resume = member.status !== 'failed' && existsSync(join(runDir, 'checkpoints', 'last'));
    const loaded = loadExperiment(member.file, { overrides: member.overrides, cwd: manifest.cwd });
    errors.push(...loaded.errors.map(formatError));
    work.push({ member, resume });
  }
  return { work, errors: [...new Set(errors)] };
}

/** The member's status as its run directory tells it (a `running` one whose process is gone reads as interrupted). */
function runStatus(runDir: string): string | undefined {
  return readStatus(runDir);
}

function readSeconds(runDir: string): number | null {
  try {
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { durations?: { total_s?: number } };
    return typeof s.durations?.total_s === 'number' ? s.durations.total_s : null;
  } catch {
    return null;
  }
}

function describe(runDir: string): string {
  try {
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { final?: { test_accuracy?: number; test_loss?: number } | null; durations?: { total_s?: number } };
    const acc = s.final?.test_accuracy;
    const loss = s.final?.test_loss;
    const t = s.durations?.total_s;
    return [acc !== undefined ? `test acc ${(acc * 100).toFixed(2)}%` : '', loss !== undefined ? `test loss ${fmt(loss)}` : '', t !== undefined ? `${t.toFixed(1)}s` : '']
      .filter(Boolean)
      .join(', ');
  } catch {
    return 'completed';
  }
}

function hasSessionStart(runDir: string): boolean {
  try {
    return readdirSync(runDir).some((f) => f.startsWith('events.out.tfevents.'));
  } catch {
    return false;
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}

/** TensorBoard records are a convenience: a failure to write them must not fail the member. */
function safely(f: () => void): void {
  try {
    f();
  } catch {
    // ignored
  }
}
