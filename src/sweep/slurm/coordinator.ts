/**
 * The Slurm launcher's coordinator: submits the members to run as one job array (`sbatch --parsable`), then waits
 * and shows the live list from the members' run directories and the scheduler's state, until every member ended.
 * Ctrl-C (the sweep's abort signal) cancels the pending tasks, asks the running ones to checkpoint (SIGINT to their
 * process) and cancels the array once they stopped. `detach` returns right after the submission.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import { liveList } from '../live-list.js';
import { readSeconds } from '../local.js';
import { writeManifest } from '../manifest.js';
import type { OpenSweep } from '../start.js';
import type { SweepOptions, SweepResult, Work } from '../types.js';
import { batchScript, LAUNCH_ERROR, sbatchOptions, SLURM_DIR, type SlurmOptions } from './options.js';
import { slurmManifest, type SlurmLaunch, type SlurmManifest, type SlurmMember } from './record.js';
import { cancel, isActive, JobStates, onPath, partitions, signalTasks, submit, taskStates } from './scheduler.js';
import { viewMember } from './state.js';

const POLL_MS = 500;
/** After Ctrl-C and the members' end, how long the coordinator waits for Slurm to list none of the array as active. */
const ARRAY_END_WAIT_MS = 30_000;
/** After Ctrl-C, running members get this long to checkpoint before the array is cancelled outright. */
const CHECKPOINT_WAIT_MS = 60_000;

/** Written by the first task that finds Node.js or tudui missing on its node (see `batchScript`). */
function launchErrorFile(sweepDir: string): string {
  return join(sweepDir, SLURM_DIR, LAUNCH_ERROR);
}

/** Checks made before anything is written: Slurm's commands are here, the partition exists. */
export function checkSlurm(o: SlurmOptions): void {
  if (!onPath('sbatch')) throw new UserError('--launcher slurm: sbatch is not on PATH (run the sweep on a Slurm login node, or load Slurm first)');
  if (o.partition !== undefined) {
    const known = partitions();
    if (known && !known.includes(o.partition)) throw new UserError(`--partition ${o.partition}: Slurm has no such partition (partitions: ${known.join(', ')})`);
  }
}

/** tudui's own entry point, at the same path on every node. */
function binPath(): string {
  return fileURLToPath(new URL('../../../bin/tudui.js', import.meta.url));
}

/** Submit what must run and wait for the members; a result only when it returns early (detached). */
export async function runSlurm(open: OpenSweep, opts: SweepOptions): Promise<SweepResult | undefined> {
  const { sweepDir } = open;
  const m = slurmManifest(open.manifest);
  const launch: SlurmLaunch = m.launcher ?? {
    kind: 'slurm',
    options: opts.slurm ?? {},
    concurrency: Math.max(1, Math.floor(opts.concurrency ?? 1)),
    verbose: Boolean(opts.verbose),
    submissions: [],
  };
  if (opts.resume) checkSlurm(launch.options);
  rmSync(launchErrorFile(sweepDir), { force: true }); // an earlier launch error was reported by the run that met it
  if (opts.concurrency !== undefined) launch.concurrency = Math.max(1, Math.floor(opts.concurrency));

  // Members still queued or running under an earlier submission (a detached sweep) are watched, not resubmitted.
  const states = new JobStates();
  const active = (mem: SlurmMember) => mem.slurm !== undefined && isActive(states.get(mem.slurm.job_id, mem.index));
  const toSubmit = open.work.filter((w) => !active(w.member as SlurmMember));
  let jobId: string | undefined;
  if (toSubmit.length > 0) jobId = submitArray(sweepDir, m, launch, toSubmit, open);
  m.launcher = launch;
  m.status = 'running';
  writeManifest(sweepDir, m);
  const attached = open.work.length - toSubmit.length;
  if (jobId) opts.log?.(`slurm: submitted job array ${jobId}: ${toSubmit.length} task${toSubmit.length === 1 ? '' : 's'}, ${launch.concurrency} at a time; task logs in ${join(sweepDir, SLURM_DIR)}`);
  if (attached) opts.log?.(`slurm: ${attached} member${attached === 1 ? '' : 's'} still queued or running from an earlier submission`);
  if (opts.detach) {
    return { status: 'submitted', exitCode: 0, sweepDir, errors: [], rows: [], table: '', manifest: m, ...(jobId ? { jobId } : {}) };
  }
  await watch(sweepDir, m, open.work, opts, states);
  return undefined;
}

function submitArray(sweepDir: string, m: SlurmManifest, launch: SlurmLaunch, work: Work[], open: OpenSweep): string {
  const dir = join(sweepDir, SLURM_DIR);
  mkdirSync(dir, { recursive: true });
  const script = join(dir, `array-${launch.submissions.length + 1}.sh`);
  const node = launch.options.node ?? process.execPath;
  writeFileSync(script, batchScript({ sweepDir, node, bin: binPath(), setup: launch.options.setup ?? [], verbose: launch.verbose }));
  chmodSync(script, 0o755);
  const indexes = work.map((w) => w.member.index);
  const args = sbatchOptions(launch.options, sweepDir, m.name, indexes, launch.concurrency, m.cwd);
  let jobId: string;
  try {
    jobId = submit(args, script);
  } catch (e) {
    // A refused submission changes nothing: a new sweep directory goes, a resumed one keeps its manifest.
    if (!open.created) rmSync(script, { force: true });
    else {
      open.lock.release();
      rmSync(open.created, { recursive: true, force: true });
    }
    throw e;
  }
  launch.submissions.push({ job_id: jobId, members: indexes, submitted_at: new Date().toISOString(), script, args });
  for (const w of work) {
    const mem = w.member as SlurmMember;
    mem.slurm = { job_id: jobId, resume: w.resume };
    mem.status = 'pending';
    mem.attempts += 1;
    mem.started_at = null;
    mem.finished_at = null;
    mem.error = null;
  }
  return jobId;
}

async function watch(sweepDir: string, m: SlurmManifest, work: Work[], opts: SweepOptions, states: JobStates): Promise<void> {
  const waiting = new Map<number, { line: (text: string) => void; done: () => void }>();
  const jobs = () => [...new Set(work.map((w) => (w.member as SlurmMember).slurm?.job_id).filter((j): j is string => !!j))];
  let stopAt: number | undefined;
  let launchError: string | undefined;
  let failed = false;
  const stop = () => {
    if (stopAt !== undefined) return;
    stopAt = Date.now();
    for (const j of jobs()) cancel(j, { pendingOnly: true });
    for (const j of jobs()) signalTasks(j, 'INT');
  };

  const shown = new Map<number, string>();
  const poll = async () => {
    const open = new Set(work.map((w) => w.member.index));
    while (open.size > 0) {
      if (opts.signal?.aborted || (failed && opts.failFast)) stop();
      if (stopAt !== undefined && Date.now() - stopAt > CHECKPOINT_WAIT_MS) for (const j of jobs()) cancel(j);
      // Slurm first, then the files: a task that ended by now wrote its files before it ended.
      states.refresh(jobs());
      const errFile = launchErrorFile(sweepDir);
      if (launchError === undefined && existsSync(errFile)) {
        launchError = readFileSync(errFile, 'utf8').trim();
        for (const j of jobs()) cancel(j);
      }
      for (const w of work) {
        const mem = w.member as SlurmMember;
        if (!open.has(mem.index)) continue;
        const job = mem.slurm!.job_id;
        // After a launch error every task still open was cancelled with the array, whatever Slurm calls its end.
        const view = launchError !== undefined ? { status: 'cancelled' as const, final: true, line: 'cancelled', finishedAt: null, seconds: null, error: null } : viewMember(sweepDir, mem, states.get(job, mem.index), states.vanished(job, mem.index));
        const waiter = waiting.get(mem.index);
        if (!view.final) {
          if (view.status === 'running' && mem.status !== 'running') {
            mem.status = 'running';
            mem.started_at = new Date().toISOString();
            writeManifest(sweepDir, m);
          }
          if (waiter && shown.get(mem.index) !== view.line) {
            shown.set(mem.index, view.line); // a line only when it changes (plain output prints every one)
            waiter.line(view.line);
          }
          continue;
        }
        if (!waiter) continue; // its list entry has not started listening yet
        mem.status = view.status;
        mem.error = view.status === 'failed' ? (view.error ?? 'failed') : null;
        mem.finished_at = view.finishedAt ?? new Date().toISOString();
        mem.seconds = view.seconds ?? readSeconds(join(sweepDir, mem.run_dir));
        writeManifest(sweepDir, m);
        if (mem.status === 'failed') failed = true;
        open.delete(mem.index);
        waiter.done();
      }
      if (open.size > 0) await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  const listed = liveList(
    m.members,
    work,
    (w, line) => new Promise<boolean>((resolveDone) => waiting.set(w.member.index, { line, done: () => resolveDone(true) })),
    { renderer: opts.renderer ?? 'auto', concurrency: Math.max(1, work.length), sweepDir, notStarted: () => 'interrupted' },
  );
  await Promise.all([poll(), listed]);
  if (stopAt !== undefined) {
    for (const j of jobs()) cancel(j); // whatever the array still holds (a late requeue)
    // A task that wrote its record may still be COMPLETING (its step and epilog ending); a `--resume` right after
    // would take it for a running member. The coordinator returns once Slurm lists none of the array as active.
    const until = Date.now() + ARRAY_END_WAIT_MS;
    const stillActive = () => jobs().some((j) => [...taskStates(j).values()].some(isActive));
    while (Date.now() < until && stillActive()) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (launchError) {
    m.status = 'interrupted';
    writeManifest(sweepDir, m);
    throw new UserError(launchError, `fix the nodes' setup, then: tudui sweep --resume ${sweepDir}`);
  }
}
