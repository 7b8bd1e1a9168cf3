import { pick } from '../../registry.js';
import { adamRule } from './adam.js';
import type { OptimizerKind } from './kind.js';
import { OPTIMIZER_OPTIONS } from './options.js';

export const adamw: OptimizerKind = {
  name: 'adamw',
  description: 'Adam with decoupled weight decay (torch.optim.AdamW); weight_decay defaults to 0.01 as in PyTorch.',
  options: pick(OPTIMIZER_OPTIONS, ['weight_decay', 'betas', 'eps'], { weight_decay: 0.01 }),
  ...adamRule(true),
};
