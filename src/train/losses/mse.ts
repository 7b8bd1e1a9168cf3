import type * as tfjs from '@tensorflow/tfjs';
import type { LossKind } from './kind.js';

export const mse: LossKind = {
  name: 'mse',
  description: 'mean squared error against one-hot labels',
  options: {},
  perExample(tf: typeof tfjs, _loss, logits, labels, classes) {
    const onehot = tf.oneHot(labels, classes).toFloat();
    return logits.sub(onehot).square().mean(1) as tfjs.Tensor1D;
  },
};
