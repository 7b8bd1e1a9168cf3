import { pick } from '../../registry.js';
import type { ScheduleKind } from './kind.js';
import { SCHEDULE_OPTIONS } from './options.js';

/** PyTorch StepLR. */
export const step: ScheduleKind = {
  name: 'step',
  description: 'multiply by gamma every step_size epochs',
  options: pick(SCHEDULE_OPTIONS, ['step_size', 'gamma']),
  rate: (s, x) => x.base * Math.pow(s.gamma, Math.floor(x.epoch / s.step_size)),
};
