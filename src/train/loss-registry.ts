/**
 * The loss registry: one file per loss under src/train/losses/, one `register` call each. Importing it never loads
 * TensorFlow. The schema's `loss` section, validation and `perExampleLoss` (loss.ts) read it.
 */
import { Registry } from '../registry.js';
import { cross_entropy } from './losses/cross_entropy.js';
import type { LossKind } from './losses/kind.js';
import { mse } from './losses/mse.js';
import { LOSS_OPTIONS } from './losses/options.js';

export type { LossKind } from './losses/kind.js';

export const losses = new Registry<LossKind>('loss', LOSS_OPTIONS, []);

losses.register(cross_entropy);
losses.register(mse);
