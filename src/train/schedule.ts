/** Learning rate at a global step: optional linear warm-up, then the schedule's own rule (schedule-registry.ts). */
import type { ResolvedExperiment, ResolvedSchedule } from '../config/index.js';
import { schedules } from './schedule-registry.js';

export function learningRate(exp: ResolvedExperiment, globalStep: number, stepsPerEpoch: number, metricRate?: number): number {
  const base = exp.optimizer.lr;
  const kind = schedules.get(exp.schedule?.name ?? 'constant');
  const s = { ...schedules.defaults(kind), ...exp.schedule } as ResolvedSchedule;
  const warmupSteps = Math.round(s.warmup_epochs * stepsPerEpoch);
  if (globalStep < warmupSteps) return (base * (globalStep + 1)) / warmupSteps;
  const epoch = Math.floor(globalStep / stepsPerEpoch);
  return kind.rate(s, { base, globalStep, stepsPerEpoch, epoch, warmupSteps, totalSteps: exp.epochs * stepsPerEpoch, ...(metricRate !== undefined ? { metricRate } : {}) });
}
