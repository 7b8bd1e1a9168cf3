import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';
import { deriveSeed } from './util.js';
import { seededDropout } from './custom.js';

export interface DropoutOptions extends Record<string, unknown> {
  rate: number;
}

export const dropout: LayerKind<DropoutOptions> = {
  name: 'dropout',
  description: 'Randomly zero a fraction `rate` of the inputs during training, scaling the rest by 1/(1-rate) (PyTorch nn.Dropout).',
  options: {
    rate: { description: 'Probability of zeroing each input (PyTorch p).', type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.5 },
  },
  shorthand: 'rate',
  outputShape: (input: Shape): ShapeResult => ({ shape: [...input] }),
  parameters: () => 0,
  build(tf: typeof tfjs, o: DropoutOptions, ctx: BuildContext): tfjs.layers.Layer[] {
    // A fresh, reproducible mask every step (see custom.ts for why not tf.layers.dropout's seed).
    return [seededDropout(tf)({ rate: o.rate, seed: deriveSeed(ctx.seed, 3), name: ctx.name })];
  },
};
