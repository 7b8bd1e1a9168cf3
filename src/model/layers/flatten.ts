import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';

export const flatten: LayerKind = {
  name: 'flatten',
  description: 'Flatten h×w×c into h·w·c features (NHWC order, unlike PyTorch NCHW order; the parameter count is the same).',
  options: {},
  outputShape(input: Shape): ShapeResult {
    return { shape: [input.reduce((a, b) => a * b, 1)] };
  },
  parameters: () => 0,
  build(tf: typeof tfjs, _o, ctx: BuildContext): tfjs.layers.Layer[] {
    return [tf.layers.flatten({ name: ctx.name })];
  },
};
