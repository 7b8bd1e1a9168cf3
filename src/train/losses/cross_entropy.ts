import type * as tfjs from '@tensorflow/tfjs';
import { fusedSoftmaxCrossEntropy } from '../../backends/fused-kernels.js';
import { pick } from '../../registry.js';
import type { LossKind } from './kind.js';
import { LOSS_OPTIONS } from './options.js';

export const cross_entropy: LossKind = {
  name: 'cross_entropy',
  description: 'softmax cross-entropy on logits (PyTorch nn.CrossEntropyLoss)',
  options: pick(LOSS_OPTIONS, ['label_smoothing']),
  perExample(tf: typeof tfjs, loss, logits, labels, classes) {
    const eps = loss.name === 'cross_entropy' ? loss.label_smoothing : 0;
    // One kernel forward and one backward where the backend has it (fused-kernels.ts); the same formula composed otherwise.
    const fused = fusedSoftmaxCrossEntropy(tf, logits, labels, eps);
    if (fused) return fused;
    const onehot = tf.oneHot(labels, classes).toFloat();
    const target = eps ? onehot.mul(1 - eps).add(eps / classes) : onehot;
    return tf.logSoftmax(logits).mul(target).sum(1).neg() as tfjs.Tensor1D;
  },
};
