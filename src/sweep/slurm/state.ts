/**
 * A Slurm sweep member's state from what the task wrote into its run directory (`slurm-task.json`, the run's
 * summary) and what the scheduler says about its array task. The task's record wins when it is final; the
 * scheduler says pending / running, and ends a task that died without a record (`cancelled` when it vanished or
 * was cancelled, `failed` with Slurm's state otherwise).
 */
import { join } from 'node:path';
import { readSummary } from '../../run/layout.js';
import { epochLine } from '../live-list.js';
import type { MemberStatus } from '../manifest.js';
import { taskLog } from './options.js';
import { readTaskRecord, type SlurmMember } from './record.js';
import { isActive } from './scheduler.js';

export interface MemberView {
  status: MemberStatus;
  /** Whether the member has ended (for this submission). */
  final: boolean;
  /** One line for the live list and `--status`. */
  line: string;
  error?: string | null;
  seconds?: number | null;
  finishedAt?: string | null;
}

/**
 * `schedState`: the array task's Slurm state, `undefined` when Slurm does not know it (yet, or any more), in which
 * case `vanished` says whether it has been missing long enough to count as gone.
 */
export function viewMember(sweepDir: string, member: SlurmMember, schedState: string | undefined, vanished: boolean): MemberView {
  const runDir = join(sweepDir, member.run_dir);
  const job = member.slurm?.job_id;
  if (!job) return { status: member.status, final: member.status !== 'running' && member.status !== 'pending', line: member.status };
  const rec = readTaskRecord(runDir);
  const current = rec !== undefined && rec.array_job_id === job;
  if (current && (rec.status === 'completed' || rec.status === 'failed' || rec.status === 'interrupted')) {
    return { status: rec.status, final: true, line: rec.status, error: rec.error, seconds: rec.seconds, finishedAt: rec.finished_at };
  }
  const where = `job ${job}_${member.index}`;
  if (isActive(schedState) || (schedState === undefined && !vanished)) {
    if (schedState === 'RUNNING' || schedState === 'COMPLETING' || (current && rec.status === 'running')) {
      const last = current ? readSummary(runDir)?.history?.at(-1) : undefined;
      return { status: 'running', final: false, line: last ? epochLine(last) : `running on ${current ? rec.host : 'a node'} (${where})` };
    }
    const requeued = current && rec.status === 'requeued';
    return { status: 'pending', final: false, line: `${requeued ? 'requeued, ' : ''}pending (${where}${schedState ? `: ${schedState}` : ''})` };
  }
  const now = new Date().toISOString();
  if (schedState === undefined || schedState === 'CANCELLED' || schedState === 'PREEMPTED') {
    return { status: 'cancelled', final: true, line: 'cancelled', error: null, finishedAt: now };
  }
  const error = `Slurm ended ${where} as ${schedState} before it recorded a result (log: ${taskLog(sweepDir, member.index, 'err')})`;
  return { status: 'failed', final: true, line: 'failed', error, finishedAt: now };
}
