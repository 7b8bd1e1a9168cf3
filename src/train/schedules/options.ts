/**
 * Every schedule option, declared once (JSON Schema; '{only}' names the schedules that use it). The schedule files
 * pick theirs (src/train/schedules/<name>.ts); `warmup_epochs` is used by all.
 */
import type { OptionSchema } from '../../registry.js';

export const SCHEDULE_OPTIONS = {
  step_size: { description: '{only}: epochs between decays.', type: 'integer', minimum: 1, default: 10 },
  gamma: {
    description: '{only}: multiplicative factor applied every step_size epochs (below 1 decays; PyTorch StepLR accepts any positive value).',
    type: 'number',
    exclusiveMinimum: 0,
    default: 0.1,
  },
  min_lr: { description: '{only}: final learning rate.', type: 'number', minimum: 0, default: 0 },
  factor: { description: '{only}: multiply the learning rate by this when the monitored metric has stopped improving.', type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
  patience: { description: '{only}: epochs without improvement (relative threshold 1e-4, as PyTorch) before the rate is reduced.', type: 'integer', minimum: 0 },
  warmup_epochs: { description: 'Linear warm-up from lr/warmup to lr over the first epochs (any schedule).', type: 'integer', minimum: 0, default: 0 },
} satisfies Record<string, OptionSchema>;
