import { pick } from '../../registry.js';
import type { ScheduleKind } from './kind.js';
import { SCHEDULE_OPTIONS } from './options.js';

/** PyTorch CosineAnnealingLR over the steps after the warm-up (per step, not per epoch). */
export const cosine: ScheduleKind = {
  name: 'cosine',
  description: 'cosine annealing from lr to min_lr over the epochs',
  options: pick(SCHEDULE_OPTIONS, ['min_lr']),
  rate(s, x) {
    const total = Math.max(1, x.totalSteps - x.warmupSteps);
    const progress = Math.min(1, (x.globalStep - x.warmupSteps) / total);
    return s.min_lr + ((x.base - s.min_lr) * (1 + Math.cos(Math.PI * progress))) / 2;
  },
};
