import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';
import { fastActivation } from './activation-layer.js';

export interface LeakyReluOptions extends Record<string, unknown> {
  negative_slope: number;
}

export const leaky_relu: LayerKind<LeakyReluOptions> = {
  name: 'leaky_relu',
  description: 'Element-wise leaky ReLU: x if x > 0 else negative_slope·x (PyTorch nn.LeakyReLU); shape unchanged.',
  options: {
    negative_slope: { description: 'Slope for negative inputs.', type: 'number', minimum: 0, default: 0.01 },
  },
  shorthand: 'negative_slope',
  outputShape: (input: Shape): ShapeResult => ({ shape: [...input] }),
  parameters: () => 0,
  build(tf: typeof tfjs, o: LeakyReluOptions, ctx: BuildContext): tfjs.layers.Layer[] {
    return [fastActivation(tf)({ activation: 'leaky_relu', alpha: o.negative_slope, name: ctx.name })];
  },
};
