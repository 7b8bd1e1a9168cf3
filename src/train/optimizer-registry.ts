/**
 * The optimizer registry: one file per optimizer under src/train/optimizers/, one `register` call each. Importing
 * it never loads TensorFlow. The schema's `optimizer` section, validation and `Optimizer` (optimizers.ts) read it.
 */
import { Registry } from '../registry.js';
import { adam } from './optimizers/adam.js';
import { adamw } from './optimizers/adamw.js';
import type { OptimizerKind } from './optimizers/kind.js';
import { OPTIMIZER_OPTIONS } from './optimizers/options.js';
import { rmsprop } from './optimizers/rmsprop.js';
import { sgd } from './optimizers/sgd.js';

export type { OptimizerKind, UpdateContext } from './optimizers/kind.js';

export const optimizers = new Registry<OptimizerKind>('optimizer', OPTIMIZER_OPTIONS, ['lr', 'clip_grad_norm']);

optimizers.register(sgd);
optimizers.register(adam);
optimizers.register(adamw);
optimizers.register(rmsprop);
