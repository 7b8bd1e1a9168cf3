/** One learning-rate schedule, as the registry knows it: its options and the rate after warm-up. No tfjs. */
import type { ResolvedSchedule } from '../../config/types.js';
import type { Kind } from '../../registry.js';

export interface ScheduleContext {
  /** optimizer.lr */
  base: number;
  globalStep: number;
  stepsPerEpoch: number;
  /** 0-based epoch of `globalStep`. */
  epoch: number;
  warmupSteps: number;
  /** Steps of the whole run (epochs × stepsPerEpoch). */
  totalSteps: number;
  /** The rate a metric-driven schedule (plateau) has reached; undefined before it has one. */
  metricRate?: number;
}

export interface ScheduleKind extends Kind {
  /** The learning rate at a step past the warm-up. `s` has every option filled in. */
  rate(s: ResolvedSchedule, x: ScheduleContext): number;
}
