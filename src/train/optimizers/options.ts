/**
 * Every optimizer option, declared once (JSON Schema; '{only}' names the optimizers that use it). The optimizer
 * files pick theirs (src/train/optimizers/<name>.ts); `lr` is used by all.
 */
import type { OptionSchema } from '../../registry.js';

export const OPTIMIZER_OPTIONS = {
  lr: { description: 'Learning rate (before the schedule).', type: 'number', exclusiveMinimum: 0 },
  momentum: { description: '{only}: momentum factor.', type: 'number', minimum: 0, maximum: 1, default: 0 },
  nesterov: { description: '{only}: Nesterov momentum (needs momentum > 0).', type: 'boolean', default: false },
  weight_decay: { description: 'L2 penalty (sgd, adam, rmsprop) or decoupled weight decay (adamw).', type: 'number', minimum: 0, default: 0 },
  betas: {
    description: '{only}: coefficients for the running averages of the gradient and its square.',
    type: 'array',
    items: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    minItems: 2,
    maxItems: 2,
    default: [0.9, 0.999],
  },
  eps: { description: '{only}: term added to the denominator.', type: 'number', exclusiveMinimum: 0, default: 1e-8 },
  clip_grad_norm: {
    description: 'Clip the gradients before each step so that their total L2 norm (over all parameters) is at most this (PyTorch clip_grad_norm_: scaled by max_norm / (norm + 1e-6) when that is below 1). Unset or null: no clipping.',
    type: ['number', 'null'],
    exclusiveMinimum: 0,
  },
  alpha: { description: '{only}: smoothing constant.', type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.99 },
} satisfies Record<string, OptionSchema>;
