/**
 * A new sweep: plan and validate every member, then create the sweep directory (locked), its manifest and the
 * members' work list. Nothing is created when the plan is invalid.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { createRunDir } from '../run/run-dir.js';
import { acquireLock, type Lock } from '../run/lock.js';
import { writeManifest, MANIFEST_VERSION, type Manifest } from './manifest.js';
import { safeName } from './naming.js';
import { defaultSweepName, planSweep } from './plan.js';
import { checkRankBy, DEFAULT_RANK_BY, type RankMetric } from './report.js';
import { invalid, type SweepOptions, type SweepResult, type Work } from './types.js';

export interface OpenSweep {
  sweepDir: string;
  /** The topmost directory this call created for it (removed again if the launch is refused); undefined on resume. */
  created?: string;
  manifest: Manifest;
  work: Work[];
  rankBy: RankMetric;
  lock: Lock;
}

export function startSweep(patterns: string[], opts: SweepOptions, beforeCreate: () => void = () => {}): OpenSweep | SweepResult {
  const rankBy = checkRankBy(opts.rankBy ?? DEFAULT_RANK_BY);
  if (patterns.length === 0) throw new UserError('tudui sweep expects experiment files, directories or glob patterns', 'tudui sweep "experiments/*.yaml"');
  const cwd = resolve(opts.cwd ?? process.cwd());
  const plan = planSweep(patterns, { set: opts.set ?? [], cwd });
  for (const w of plan.warnings) opts.warn?.(w);
  if (plan.errors.length > 0) return invalid(plan.errors);
  beforeCreate(); // the launcher's own checks (e.g. Slurm on PATH) come after validation and before anything is written
  const name = safeName(opts.name ?? defaultSweepName(plan.files));
  const parent = resolve(cwd, opts.runsDir ?? 'runs', name);
  let created: string | undefined;
  for (let d = parent; !existsSync(d) && d !== dirname(d); d = dirname(d)) created = d;
  const sweepDir = createRunDir(resolve(cwd, opts.runsDir ?? 'runs'), name);
  created ??= sweepDir;
  const lock = acquireLock(sweepDir, { what: `sweep directory ${sweepDir}` });
  const now = new Date().toISOString();
  const manifest: Manifest = {
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
  return { sweepDir, created, manifest, rankBy, lock, work: manifest.members.map((member) => ({ member, resume: false })) };
}
