/**
 * Talking to Slurm: submit (`sbatch --parsable`), the state of each array task, cancel and signal. State comes from
 * `sacct` when it answers (accounting is often disabled), else `squeue -t all -r`, else `scontrol -o show job`.
 * Every call is a short synchronous command; a missing command is a UserError naming it.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from '../../errors.js';

/** Slurm job states in which a task may still run (everything else is an end). */
const ACTIVE = new Set(['PENDING', 'RUNNING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'CONFIGURING', 'COMPLETING', 'RESIZING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT', 'RESV_DEL_HOLD', 'SPECIAL_EXIT']);

export function isActive(state: string | undefined): boolean {
  return state !== undefined && ACTIVE.has(state);
}

/** The executable's path when `name` is on PATH. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

function run(cmd: string, args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}), timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${cmd} is not on PATH: is this a Slurm login node?`);
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Slurm's message, one line (its own `sbatch: error:` prefixes kept: they say who spoke). */
function message(r: { stdout: string; stderr: string; code: number }): string {
  const lines = (r.stderr || r.stdout).split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines.join(' ') : `exit status ${r.code}`;
}

/** Submit the script with these options; the job id (an array's id). */
export function submit(args: string[], scriptPath: string): string {
  const r = run('sbatch', [...args, scriptPath]);
  const id = r.stdout.trim().split(';')[0]!;
  if (r.code !== 0 || !/^\d+$/.test(id)) throw new UserError(`Slurm rejected the job array: ${message(r)}`);
  return id;
}

/** The cluster's partitions, or undefined when sinfo cannot say. */
export function partitions(): string[] | undefined {
  try {
    const r = run('sinfo', ['-h', '-o', '%R']);
    return r.code === 0 ? [...new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean))] : undefined;
  } catch {
    return undefined;
  }
}

/** A task Slurm does not list for this long is gone (a fresh submission can lag behind in sacct). */
const VANISHED_MS = 5_000;

/** Slurm's view of the jobs, asked once per poll per job; tasks missing from it are timed to tell lag from gone. */
export class JobStates {
  #cache = new Map<string, Map<number, string>>();
  #missingSince = new Map<string, number>();
  /** Forget the last answers; with `jobs`, ask Slurm about them now. */
  refresh(jobs: string[] = []): void {
    this.#cache.clear();
    for (const j of jobs) this.#cache.set(j, taskStates(j));
  }
  get(job: string, index: number): string | undefined {
    let s = this.#cache.get(job);
    if (!s) this.#cache.set(job, (s = taskStates(job)));
    const state = s.get(index);
    const key = `${job}_${index}`;
    if (state !== undefined) this.#missingSince.delete(key);
    else if (!this.#missingSince.has(key)) this.#missingSince.set(key, Date.now());
    return state;
  }
  vanished(job: string, index: number): boolean {
    const since = this.#missingSince.get(`${job}_${index}`);
    return since !== undefined && Date.now() - since >= VANISHED_MS;
  }
}

let sacctWorks: boolean | undefined;

/** State of every array task of the job: task index → Slurm state (tasks Slurm no longer knows are absent). */
export function taskStates(jobId: string): Map<number, string> {
  if (sacctWorks !== false) {
    const r = tryRun('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State']);
    if (r && r.code === 0) {
      sacctWorks = true;
      return parseIdStateLines(r.stdout, jobId, '|');
    }
    sacctWorks = false; // "Slurm accounting storage is disabled": ask the controller from now on
  }
  const q = tryRun('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%i|%T']);
  if (q && q.code === 0) return parseIdStateLines(q.stdout, jobId, '|');
  const s = tryRun('scontrol', ['-o', 'show', 'job', jobId]);
  const out = new Map<number, string>();
  if (s && s.code === 0) {
    for (const line of s.stdout.split('\n')) {
      const task = /\bArrayTaskId=(\S+)/.exec(line)?.[1];
      const state = /\bJobState=(\S+)/.exec(line)?.[1];
      if (task && state) for (const i of expandTasks(task)) out.set(i, state);
    }
  }
  return out;
}

function tryRun(cmd: string, args: string[]) {
  try {
    return run(cmd, args);
  } catch {
    return undefined;
  }
}

/** `123_4|RUNNING`, `123_[5-7%2]|PENDING` (pending tasks collapsed), `CANCELLED by 0`. */
export function parseIdStateLines(text: string, jobId: string, sep: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [id, state] = line.trim().split(sep);
    if (!id || !state || !id.startsWith(`${jobId}_`)) continue;
    for (const i of expandTasks(id.slice(jobId.length + 1))) out.set(i, state.split(' ')[0]!.replace(/\+$/, ''));
  }
  return out;
}

/** `4`, `[5-7%2]`, `1,3-4` → task indexes. */
export function expandTasks(spec: string): number[] {
  const body = spec.replace(/^\[|\]$/g, '').replace(/%\d+$/, '');
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part);
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

/** Cancel the job's tasks (all of them, or only those pending). */
export function cancel(jobId: string, opts: { pendingOnly?: boolean } = {}): void {
  tryRun('scancel', [...(opts.pendingOnly ? ['--state=PENDING'] : []), jobId]);
}

/** Send a signal to the batch shell of the job's running tasks (the member's process: the script execs it). */
export function signalTasks(jobId: string, signal: string): void {
  tryRun('scancel', ['--batch', `--signal=${signal}`, '--state=RUNNING', jobId]);
}

/** Requeue this task (called by the task itself after its checkpoint); Slurm's message when it refuses. */
export function requeue(jobId: string): string | undefined {
  const r = tryRun('scontrol', ['requeue', jobId]);
  return r && r.code === 0 ? undefined : r ? message(r) : 'scontrol is not on PATH';
}
