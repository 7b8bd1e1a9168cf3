import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';

export const softmax: LayerKind = {
  name: 'softmax',
  description:
    'Softmax over the last axis. Not needed before cross_entropy (the loss works on logits, like PyTorch nn.CrossEntropyLoss).',
  options: {},
  outputShape: (input: Shape): ShapeResult => ({ shape: [...input] }),
  parameters: () => 0,
  build(tf: typeof tfjs, _o, ctx: BuildContext): tfjs.layers.Layer[] {
    return [tf.layers.softmax({ axis: -1, name: ctx.name })];
  },
};
