/**
 * TensorBoard HPARAMS records for a sweep: one session per member directory (start record when it starts, end
 * record with its status when it ends); the metric values are the scalars the run itself writes.
 *
 * No experiment record: TensorBoard takes the first one it finds in a logdir, so two sweeps under one logdir would
 * give it two definitions to pick from arbitrarily. Without one it derives the experiment from every session's
 * start record and scalar tags — one definition for whatever logdir is opened, the same live and after a restart.
 */
import { EventWriter, writeHparamsSessionEnd, writeHparamsSessionStart, type SessionStatus } from '../tensorboard/index.js';
import type { MemberStatus } from '../run/layout.js';
import type { HParam } from './plan.js';

export function writeSessionStart(runDir: string, hparams: Record<string, HParam>, start: Date, group?: string): void {
  const w = EventWriter.open(runDir, { flushSecs: 0 });
  try {
    writeHparamsSessionStart(w, { hparams, startTime: start, ...(group ? { groupName: group } : {}) });
  } finally {
    w.close();
  }
}

const STATUS: Record<MemberStatus, SessionStatus> = {
  pending: 'unknown',
  running: 'running',
  completed: 'success',
  failed: 'failure',
  interrupted: 'unknown',
  cancelled: 'unknown',
};

export function writeSessionEnd(runDir: string, status: MemberStatus, end: Date): void {
  const w = EventWriter.open(runDir, { flushSecs: 0 });
  try {
    writeHparamsSessionEnd(w, { status: STATUS[status], endTime: end });
  } finally {
    w.close();
  }
}
