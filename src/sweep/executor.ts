/**
 * Running one member: in this process (concurrency 1: tfjs is process-global, so one run at a time), or in a child
 * process per member (`worker.js`, over IPC) when several run at once or isolation is asked for. A child that dies
 * (out of memory, a native crash) fails only its own member; its error is kept in the run directory.
 */
import type { Device } from '../config/devices.js';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../fs/atomic.js';
import { readSummary, runPaths, type EpochMetrics, type MemberStatus, type RunSummary } from '../run/layout.js';

export interface MemberJob {
  file: string;
  overrides: string[];
  runDir: string;
  /** Continue from the run directory's last checkpoint. */
  resume: boolean;
  device?: Device;
  cwd: string;
}

export interface MemberOutcome {
  status: Exclude<MemberStatus, 'pending' | 'running'> | 'invalid';
  error?: string;
  summary?: RunSummary;
}

export type Executor = (job: MemberJob, onEpoch: (m: EpochMetrics) => void, signal: AbortSignal) => Promise<MemberOutcome>;

/** Worker messages (parent ← child). */
export type WorkerMessage = { type: 'epoch'; metrics: EpochMetrics } | { type: 'done'; outcome: MemberOutcome };
/** Parent → child. */
export type ParentMessage = { type: 'run'; job: MemberJob } | { type: 'abort' };

export const inProcess: Executor = async (job, onEpoch, signal) => {
  const { runExperiment } = await import('../run/run-experiment.js');
  try {
    const o = await runExperiment(job.file, {
      overrides: job.overrides,
      runDir: job.runDir,
      resume: job.resume,
      device: job.device,
      cwd: job.cwd,
      quiet: true,
      signal,
      onEpoch,
    });
    // A diverged member is a failed member of the sweep (its summary.json says diverged, with the reason).
    return { status: o.status === 'diverged' ? 'failed' : o.status, error: o.error, summary: o.summary };
  } catch (e) {
    // runExperiment reports user errors as a status; anything thrown here is a bug, still confined to this member.
    const error = e instanceof Error ? e.message : String(e);
    recordCrash(job.runDir, error, (e as Error)?.stack ?? '');
    return { status: 'failed', error };
  }
};

function workerPath(): string {
  return fileURLToPath(new URL('./worker.js', import.meta.url));
}

export const childProcess: Executor = (job, onEpoch, signal) =>
  new Promise((resolvePromise) => {
    const child = fork(workerPath(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    let outcome: MemberOutcome | undefined;
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    const onAbort = () => {
      if (child.connected) child.send({ type: 'abort' } satisfies ParentMessage);
    };
    child.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'epoch') onEpoch(msg.metrics);
      else if (msg.type === 'done') outcome = msg.outcome;
    });
    child.on('error', (e) => {
      stderr += `\n${e.message}`;
    });
    child.on('exit', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (outcome) return resolvePromise(outcome);
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      const error = `the run's process exited unexpectedly (${sig ? `signal ${sig}` : `exit code ${code}`})${tail ? `: ${tail}` : ''}`;
      recordCrash(job.runDir, error, stderr);
      resolvePromise({ status: 'failed', error });
    });
    signal.addEventListener('abort', onAbort, { once: true });
    child.send({ type: 'run', job } satisfies ParentMessage);
    if (signal.aborted) onAbort();
  });

/** Leave `error.txt` and a failed `summary.json` when the run could not write them itself. */
export function recordCrash(runDir: string, error: string, details: string): void {
  try {
    if (!existsSync(runDir)) return;
    const paths = runPaths(runDir);
    writeFileAtomic(paths.error, `${error}\n\n${details}\n`);
    const summary: Partial<RunSummary> = readSummary(runDir) ?? { status: 'failed', run_dir: runDir };
    writeFileAtomic(paths.summary, JSON.stringify({ ...summary, status: 'failed', error, finished_at: new Date().toISOString() }, null, 2) + '\n');
  } catch {
    // the manifest still records the failure
  }
}
