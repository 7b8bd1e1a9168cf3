/**
 * What a Slurm sweep adds to its files: the submissions in `sweep.json` (`launcher`, and per member the job that
 * runs it), and `slurm-task.json` in each member's run directory, written by the task itself (host, job, attempts,
 * status, exit code, times), so that the coordinator, `--status` and `--resume` never depend on `sacct`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic.js';
import type { Manifest, ManifestMember } from '../manifest.js';
import type { SlurmOptions } from './options.js';

export const TASK_RECORD = 'slurm-task.json';

export interface Submission {
  job_id: string;
  members: number[];
  submitted_at: string;
  script: string;
  /** The sbatch options it was submitted with. */
  args: string[];
}

export interface SlurmLaunch {
  kind: 'slurm';
  options: SlurmOptions;
  /** The array's `%N` (members at once). */
  concurrency: number;
  verbose: boolean;
  submissions: Submission[];
}

/** A member's current submission: its array job, and whether its first start continues from a checkpoint. */
export interface MemberLaunch {
  job_id: string;
  resume: boolean;
}

export type SlurmMember = ManifestMember & { slurm?: MemberLaunch };
export type SlurmManifest = Omit<Manifest, 'members'> & { launcher?: SlurmLaunch; members: SlurmMember[] };

export function slurmManifest(m: Manifest): SlurmManifest {
  return m as SlurmManifest;
}

export interface TaskRecord {
  /** The array's job id, and this task's own (they differ: each array task is a job). */
  array_job_id: string;
  job_id: string;
  task: number;
  /** SLURM_RESTART_COUNT: 0 first start, then one more per requeue. */
  restart_count: number;
  host: string;
  pid: number;
  log: string;
  started_at: string;
  finished_at: string | null;
  /** `requeued`: it checkpointed on the pre-timeout signal and asked Slurm to run it again. */
  status: 'running' | 'completed' | 'failed' | 'interrupted' | 'requeued';
  exit_code: number | null;
  seconds: number | null;
  error: string | null;
}

export function readTaskRecord(runDir: string): TaskRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, TASK_RECORD), 'utf8')) as TaskRecord;
  } catch {
    return undefined;
  }
}

export function writeTaskRecord(runDir: string, r: TaskRecord): void {
  writeFileAtomic(join(runDir, TASK_RECORD), JSON.stringify(r, null, 2) + '\n');
}
