/**
 * `tudui sweep`: many experiments (glob patterns, each file possibly a parameter grid) as one sweep directory
 * `runs/<name>/<timestamp>/` holding a run directory per member, a manifest (`sweep.json`), a ranked summary
 * (`summary.csv`, `summary.json`) and TensorBoard HPARAMS records. Every member is validated before anything runs;
 * a failing member never stops the others (unless `failFast`); `resume` continues an earlier sweep directory.
 * Members run on this machine (`local.ts`) or as a Slurm job array (`slurm/`); both end in `finishSweep`.
 *
 * Importing this module does not load TensorFlow: runs load it (in this process or in child processes).
 */
import { UserError } from '../errors.js';
import { finishSweep } from './finish.js';
import { runLocal } from './local.js';
import { writeManifest } from './manifest.js';
import { countLine, resumeSweep } from './resume.js';
import { checkSlurm, runSlurm } from './slurm/coordinator.js';
import { slurmManifest } from './slurm/record.js';
import { startSweep } from './start.js';
import type { SweepOptions, SweepResult } from './types.js';

export { planSweep, findFiles, type Plan, type PlannedMember, type HParam } from './plan.js';
export { readGrid, expandGrid, expandSweep, type GridAxis, type GridPoint, type GridValue } from './grid.js';
export { readManifest, type Manifest, type ManifestMember, type MemberStatus } from './manifest.js';
export { RANK_METRICS, type RankMetric, type SummaryRow } from './report.js';
export { safeName, uniqueNames } from './naming.js';
export { sweepStatus, type SweepStatus } from './status.js';
export { runSlurmTask } from './slurm/task.js';
export type { SlurmOptions } from './slurm/options.js';
export type { SweepOptions, SweepResult } from './types.js';

export async function sweep(patterns: string[], opts: SweepOptions = {}): Promise<SweepResult> {
  const log = opts.log ?? (() => {});
  if (opts.isolate === false && (opts.concurrency ?? 1) > 1) throw new UserError('members can run in this process only one at a time: --concurrency 1 with --in-process');
  const open = opts.resume ? resumeSweep(patterns, opts) : startSweep(patterns, opts, () => opts.launcher === 'slurm' && checkSlurm(opts.slurm ?? {}));
  if (!('lock' in open)) return open;
  const { sweepDir, manifest, work, rankBy, lock } = open;
  try {
    const slurm = opts.resume ? slurmManifest(manifest).launcher?.kind === 'slurm' : opts.launcher === 'slurm';
    if (opts.detach && !slurm) throw new UserError(`--detach submits to Slurm and returns: ${sweepDir} runs on this machine`);
    if (opts.resume) log(`sweep: resuming ${sweepDir}: ${countLine(manifest, work)}`);
    else log(`sweep: ${sweepDir}: ${work.length} member${work.length === 1 ? '' : 's'}, ${Math.max(1, Math.floor(opts.concurrency ?? 1))} at a time${slurm ? ' (Slurm job array)' : ''}`);
    if (slurm) {
      const submitted = await runSlurm(open, opts);
      if (submitted) return submitted; // detached, or the submission failed
    } else {
      manifest.status = 'running';
      writeManifest(sweepDir, manifest);
      await runLocal(open, opts);
    }
    return finishSweep(sweepDir, manifest, rankBy);
  } finally {
    lock.release();
  }
}
