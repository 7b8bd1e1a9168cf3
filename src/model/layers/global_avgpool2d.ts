import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';
import { requireImage } from './util.js';

export const global_avgpool2d: LayerKind = {
  name: 'global_avgpool2d',
  description: 'Average over the whole h×w plane: h×w×c → c (PyTorch nn.AdaptiveAvgPool2d(1) followed by flatten).',
  options: {},
  outputShape(input: Shape): ShapeResult {
    return requireImage('global_avgpool2d', input) ?? { shape: [input[2]!] };
  },
  parameters: () => 0,
  build(tf: typeof tfjs, _o, ctx: BuildContext): tfjs.layers.Layer[] {
    return [tf.layers.globalAveragePooling2d({ name: ctx.name })];
  },
};
