/**
 * TensorBoard HPARAMS records for a sweep: the experiment description (hyperparameters with their domains, metric
 * tags) in the sweep directory's own event file, and one session per member directory (start record when it
 * starts, end record with its status when it ends). The metric values are the scalars the run itself writes.
 */
import { EventWriter, writeHparamsExperiment, writeHparamsSessionEnd, writeHparamsSessionStart, type HParamSpec, type SessionStatus } from '../tensorboard/index.js';
import { HPARAM_METRIC_TAGS, type MemberStatus } from '../run/layout.js';
import type { HParam } from './plan.js';

/** Scalar tags the training loop writes per epoch, shown as metric columns (TensorBoard takes the last value). */
export const METRIC_TAGS = HPARAM_METRIC_TAGS;

export function writeExperimentRecord(sweepDir: string, name: string, hparams: string[], members: Array<{ hparams: Record<string, HParam> }>): void {
  const specs: HParamSpec[] = hparams.map((h) => {
    const values: HParam[] = [];
    for (const m of members) {
      const v = m.hparams[h];
      if (v !== undefined && !values.includes(v)) values.push(v);
    }
    return { name: h, domain: values };
  });
  const w = EventWriter.open(sweepDir, { flushSecs: 0 });
  try {
    writeHparamsExperiment(w, {
      hparams: specs,
      metrics: METRIC_TAGS.map((tag) => ({ tag, displayName: tag })),
      description: `tudui sweep ${name}: ${members.length} members`,
      timeCreated: new Date(),
    });
  } finally {
    w.close();
  }
}

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
};

export function writeSessionEnd(runDir: string, status: MemberStatus, end: Date): void {
  const w = EventWriter.open(runDir, { flushSecs: 0 });
  try {
    writeHparamsSessionEnd(w, { status: STATUS[status], endTime: end });
  } finally {
    w.close();
  }
}
