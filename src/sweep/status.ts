/**
 * `tudui sweep --status SWEEP_DIR`: every member's state now, read-only, from any login node — the manifest, the
 * members' run directories and (for a Slurm sweep) the scheduler.
 */
import { join, resolve } from 'node:path';
import { readStatus } from '../run/layout.js';
import { readManifest, type MemberStatus } from './manifest.js';
import { describe } from './live-list.js';
import { slurmManifest } from './slurm/record.js';
import { JobStates } from './slurm/scheduler.js';
import { viewMember } from './slurm/state.js';

export interface SweepStatus {
  sweepDir: string;
  launcher: 'local' | 'slurm';
  jobs: string[];
  members: Array<{ index: number; label: string; status: MemberStatus; line: string }>;
  counts: Partial<Record<MemberStatus, number>>;
  /** The table as the CLI prints it. */
  text: string;
}

/** What an ended member shows: its final metrics, or its error. */
function ended(runDir: string, status: MemberStatus, error: string | null | undefined): string {
  return status === 'completed' ? describe(runDir) : (error?.split('\n')[0] ?? status);
}

export function sweepStatus(dir: string, cwd = process.cwd()): SweepStatus {
  const sweepDir = resolve(cwd, dir);
  const m = slurmManifest(readManifest(sweepDir));
  const states = new JobStates();
  const members = m.members.map((mem) => {
    if (m.launcher && mem.slurm) {
      const job = mem.slurm.job_id;
      // a single look: a task Slurm no longer lists has ended (its record, if any, says how)
      const state = states.get(job, mem.index);
      const v = viewMember(sweepDir, mem, state, true);
      return { index: mem.index, label: mem.label, status: v.status, line: v.final ? ended(join(sweepDir, mem.run_dir), v.status, v.error) : v.line };
    }
    const run = readStatus(join(sweepDir, mem.run_dir));
    const status: MemberStatus = mem.status === 'running' && run !== 'running' ? 'interrupted' : mem.status;
    return { index: mem.index, label: mem.label, status, line: ended(join(sweepDir, mem.run_dir), status, mem.error) };
  });
  const counts: SweepStatus['counts'] = {};
  for (const x of members) counts[x.status] = (counts[x.status] ?? 0) + 1;
  const jobs = m.launcher?.submissions.map((s) => s.job_id) ?? [];
  const w = Math.max(6, ...members.map((x) => x.label.length));
  const sw = Math.max(6, ...members.map((x) => x.status.length));
  const text = [
    `sweep ${sweepDir}${jobs.length ? ` (Slurm job${jobs.length === 1 ? '' : 's'} ${jobs.join(', ')})` : ''}`,
    `${'#'.padStart(3)}  ${'member'.padEnd(w)}  ${'status'.padEnd(sw)}  now`,
    ...members.map((x) => `${String(x.index + 1).padStart(3)}  ${x.label.padEnd(w)}  ${x.status.padEnd(sw)}  ${x.line}`),
    Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', '),
  ].join('\n');
  return { sweepDir, launcher: m.launcher ? 'slurm' : 'local', jobs, members, counts, text };
}
