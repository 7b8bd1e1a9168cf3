/**
 * Continuing a sweep directory: its manifest (locked: one writer per sweep), and what must run again — completed
 * members are skipped (also those whose run finished after the manifest was last written); an unfinished member
 * with a checkpoint continues from it; failed members and the rest start fresh. Everything to run is validated first.
 */
import { join, resolve } from 'node:path';
import { formatError, loadExperiment } from '../config/index.js';
import { UserError } from '../errors.js';
import { acquireLock } from '../run/lock.js';
import { hasCheckpoint, readStatus } from '../run/layout.js';
import { readManifest, type Manifest, type ManifestMember } from './manifest.js';
import { checkRankBy, DEFAULT_RANK_BY } from './report.js';
import type { OpenSweep } from './start.js';
import { invalid, type SweepOptions, type SweepResult, type Work } from './types.js';

export function resumeSweep(patterns: string[], opts: SweepOptions): OpenSweep | SweepResult {
  if (patterns.length > 0) throw new UserError('--resume continues an existing sweep: give the sweep directory only, without experiment files');
  if (opts.set?.length) throw new UserError('--set cannot change the members of a sweep being resumed');
  const sweepDir = resolve(opts.cwd ?? process.cwd(), opts.resume!);
  const manifest = readManifest(sweepDir);
  const rankBy = checkRankBy(opts.rankBy ?? manifest.rank_by ?? DEFAULT_RANK_BY);
  // One writer per sweep directory: a second `--resume` of the same sweep is refused, naming the first.
  const lock = acquireLock(sweepDir, { what: `sweep directory ${sweepDir}`, warn: (l) => process.stderr.write(l + '\n') });
  const errors: string[] = [];
  const work: Work[] = [];
  for (const member of manifest.members) {
    const start = memberStart(sweepDir, member);
    if (start === 'done') continue;
    const loaded = loadExperiment(member.file, { overrides: member.overrides, cwd: manifest.cwd });
    errors.push(...loaded.errors.map(formatError));
    work.push({ member, resume: start === 'resume' });
  }
  if (errors.length > 0) {
    lock.release();
    return invalid([...new Set(errors)], sweepDir);
  }
  manifest.rank_by = rankBy;
  return { sweepDir, manifest, work, rankBy, lock };
}

/**
 * How a member starts again: 'done' when its run completed (the manifest is brought up to date), 'resume' when it
 * stopped with a checkpoint and did not fail, else 'fresh'. Shared by this machine's resume and a Slurm task.
 */
export function memberStart(sweepDir: string, member: ManifestMember): 'done' | 'resume' | 'fresh' {
  const runDir = join(sweepDir, member.run_dir);
  if (member.status !== 'completed' && member.status !== 'failed' && readStatus(runDir) === 'completed') member.status = 'completed';
  if (member.status === 'completed') return 'done';
  return member.status !== 'failed' && hasCheckpoint(runDir) ? 'resume' : 'fresh';
}

export function countLine(manifest: Manifest, work: Work[]): string {
  return `${work.length} to run, ${manifest.members.length - work.length} already completed`;
}
