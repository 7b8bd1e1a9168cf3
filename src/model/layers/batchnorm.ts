import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';
import { fusedBatchNorm } from './batchnorm-layer.js';

export interface BatchnormOptions extends Record<string, unknown> {
  momentum: number;
  eps: number;
}

export const batchnorm: LayerKind<BatchnormOptions> = {
  name: 'batchnorm',
  description:
    'Batch normalisation over the last (channel/feature) axis (PyTorch nn.BatchNorm2d / BatchNorm1d): 2 trainable parameters per channel plus running mean and variance.',
  options: {
    momentum: {
      description: 'Running-statistics momentum in PyTorch convention: running = (1 - momentum)·running + momentum·batch.',
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.1,
    },
    eps: { description: 'Added to the variance for numerical stability.', type: 'number', exclusiveMinimum: 0, default: 1e-5 },
  },
  outputShape: (input: Shape): ShapeResult => ({ shape: [...input] }),
  parameters: (input: Shape) => 2 * (input[input.length - 1] ?? 0),
  build(tf: typeof tfjs, o: BatchnormOptions, ctx: BuildContext): tfjs.layers.Layer[] {
    // PyTorch semantics and a fused training kernel on the CPU backends (see batchnorm-layer.ts).
    return [fusedBatchNorm(tf)({ momentum: o.momentum, eps: o.eps, name: ctx.name })];
  },
};
