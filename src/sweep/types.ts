/** The sweep's public options and result, and the unit of work its launchers share. */
import type { Device } from '../config/devices.js';
import type { SlurmOptions } from './slurm/options.js';
import type { Manifest, ManifestMember } from './manifest.js';
import type { SummaryRow } from './report.js';

export interface SweepOptions {
  /** `key.path=value` overrides applied to every member (after its grid point). */
  set?: string[];
  /** Sweep name (the directory under `runsDir`); default: the single file's base name, else `sweep`. */
  name?: string;
  /** Parent of sweep directories (default `runs`). */
  runsDir?: string;
  cwd?: string;
  /** Members run at once, a whole number ≥ 1 (default 1; checked by the CLI's option spec). With Slurm: the array's `%N`. */
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
  device?: Device;
  /** Where members run: this machine (default) or a Slurm job array (`slurm`: see {@link SlurmOptions}). */
  launcher?: 'local' | 'slurm';
  /** Slurm submission options (with `launcher: 'slurm'`; a resumed sweep keeps the ones it was started with). */
  slurm?: SlurmOptions;
  /** Slurm: submit and return at once (status 'submitted'); `--status` and `--resume` take over later. */
  detach?: boolean;
  /** Slurm: the members' logs get the full backend choice (as `tudui run --verbose`), not the short device line. */
  verbose?: boolean;
  /** Aborting interrupts running members (they checkpoint) and starts no more. */
  signal?: AbortSignal;
  /** Live task list: 'auto' (a terminal gets the live list, otherwise plain lines), 'tty', 'plain' or 'silent'. */
  renderer?: 'auto' | 'tty' | 'plain' | 'silent';
  /** Informational lines (sweep directory, member count). */
  log?: (line: string) => void;
  /** Warnings (legal but suspicious settings in the members, as `tudui validate` prints them). */
  warn?: (line: string) => void;
}

export interface SweepResult {
  status: 'completed' | 'failed' | 'interrupted' | 'invalid' | 'submitted';
  /** 0 completed or submitted, 1 invalid or any member failed, 130 interrupted. */
  exitCode: number;
  sweepDir?: string;
  /** Validation errors (`FILE:LINE:COL: error: ...`) when status is 'invalid'. */
  errors: string[];
  /** Ranked summary rows (empty when invalid or submitted). */
  rows: SummaryRow[];
  /** The summary table as printed by the CLI. */
  table: string;
  manifest?: Manifest;
  /** Slurm: the job id of the array submitted by this call. */
  jobId?: string;
}

/** A member to run now. */
export interface Work {
  member: ManifestMember;
  /** Continue from its checkpoint rather than start fresh. */
  resume: boolean;
}

export function invalid(errors: string[], sweepDir?: string): SweepResult {
  return { status: 'invalid', exitCode: 1, errors, rows: [], table: '', ...(sweepDir ? { sweepDir } : {}) };
}
