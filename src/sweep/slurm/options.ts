/**
 * Slurm submission options and the batch script of a sweep's job array: one array task per member
 * (`SLURM_ARRAY_TASK_ID` = member index), a log per task appended across requeues, a pre-timeout USR1 to the batch
 * shell (which is the member's own Node.js process: the script `exec`s it), requeue allowed.
 */
import { join } from 'node:path';

export interface SlurmOptions {
  partition?: string;
  account?: string;
  qos?: string;
  /** Time limit per task, in any form sbatch accepts (`30`, `1:00:00`, `1-12`). */
  time?: string;
  cpusPerTask?: number;
  /** Memory per node (`4G`). */
  mem?: string;
  /** GPUs per task as generic resources: `--gres=gpu:N`. */
  gpus?: number;
  /** `--gpus-per-task=N` (clusters that schedule GPUs per task). */
  gpusPerTask?: number;
  constraint?: string;
  jobName?: string;
  /** Further sbatch arguments, passed as given (`--exclusive`, `--nice=10`). */
  sbatchArgs?: string[];
  /** Shell lines run in each task before the member starts (`module load nodejs`). */
  setup?: string[];
  /** Seconds before the time limit at which a task is told to checkpoint and requeue itself (default 120). */
  signalGrace?: number;
  /** Node.js on the compute nodes (default: the one running this sweep, at the same path). */
  node?: string;
}

export const DEFAULT_SIGNAL_GRACE = 120;
/** Where a sweep's Slurm files live, inside the sweep directory. */
export const SLURM_DIR = 'slurm';
/** In SLURM_DIR: the one line of the first task that found its node unable to run tudui. */
export const LAUNCH_ERROR = 'launch-error.txt';

export function taskLog(sweepDir: string, index: number | string, stream: 'out' | 'err'): string {
  return join(sweepDir, SLURM_DIR, `member-${index}.${stream}`);
}

/** `0-5%2`, or `1,3,4%2` for a subset (Slurm's own array syntax). */
export function arraySpec(indexes: number[], parallel: number | undefined): string {
  const ranges: string[] = [];
  const sorted = [...indexes].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',') + (parallel && parallel < indexes.length ? `%${parallel}` : '');
}

/** The sbatch options of one submission (command-line form). */
export function sbatchOptions(o: SlurmOptions, sweepDir: string, name: string, indexes: number[], parallel: number | undefined, cwd: string): string[] {
  const args = [
    '--parsable',
    `--job-name=${o.jobName ?? `tudui-${name}`}`,
    `--array=${arraySpec(indexes, parallel)}`,
    `--output=${taskLog(sweepDir, '%a', 'out')}`,
    `--error=${taskLog(sweepDir, '%a', 'err')}`,
    '--open-mode=append',
    `--signal=B:USR1@${o.signalGrace ?? DEFAULT_SIGNAL_GRACE}`,
    '--requeue',
    `--chdir=${cwd}`,
  ];
  const opt = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) args.push(`--${flag}=${v}`);
  };
  opt('partition', o.partition);
  opt('account', o.account);
  opt('qos', o.qos);
  opt('time', o.time);
  opt('cpus-per-task', o.cpusPerTask);
  opt('mem', o.mem);
  if (o.gpus !== undefined) args.push(`--gres=gpu:${o.gpus}`);
  opt('gpus-per-task', o.gpusPerTask);
  opt('constraint', o.constraint);
  args.push(...(o.sbatchArgs ?? []));
  return args;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The batch script: the setup lines, a check that Node.js and tudui exist at the same paths on this node (else one
 * line in `slurm/launch-error.txt` and the whole array is cancelled: nothing else starts), then `exec` of the task.
 */
export function batchScript(o: { sweepDir: string; node: string; bin: string; setup: string[]; verbose: boolean }): string {
  const err = join(o.sweepDir, SLURM_DIR, LAUNCH_ERROR);
  return [
    '#!/bin/bash',
    '# written by tudui sweep --launcher slurm: one array task per sweep member',
    ...o.setup,
    `NODE=${q(o.node)}`,
    `BIN=${q(o.bin)}`,
    'missing=""',
    '[ -x "$NODE" ] || missing="Node.js $NODE"',
    '[ -z "$missing" ] && [ ! -f "$BIN" ] && missing="tudui $BIN"',
    'if [ -n "$missing" ]; then',
    '  msg="host $(hostname): $missing not found (it must be at the same path as where the sweep was submitted, or set with --slurm-node / --setup)"',
    '  echo "tudui: error: $msg" >&2',
    `  printf '%s\\n' "$msg" > ${q(err)}.$$ && mv -f ${q(err)}.$$ ${q(err)}`,
    '  scancel "$SLURM_ARRAY_JOB_ID"',
    '  exit 1',
    'fi',
    `exec "$NODE" "$BIN" sweep --slurm-task ${q(o.sweepDir)}${o.verbose ? ' --verbose' : ''}`,
    '',
  ].join('\n');
}
