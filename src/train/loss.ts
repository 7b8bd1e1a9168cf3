/** Losses on logits, reduced as PyTorch reduces them (mean over the batch). */
import * as tf from '@tensorflow/tfjs';
import { fusedSoftmaxCrossEntropy } from '../backends/fused-kernels.js';
import type { ResolvedExperiment } from '../config/index.js';

/** Per-example losses, shape [batch]. `labels` are int32 class indices. */
export function perExampleLoss(loss: ResolvedExperiment['loss'], logits: tf.Tensor2D, labels: tf.Tensor1D, classes: number): tf.Tensor1D {
  return tf.tidy(() => {
    const eps = loss.name === 'mse' ? 0 : (loss.label_smoothing ?? 0);
    // One kernel forward and one backward where the backend has it (fused-kernels.ts); the same formula composed otherwise.
    const fused = loss.name === 'mse' ? undefined : fusedSoftmaxCrossEntropy(tf, logits, labels, eps);
    if (fused) return fused;
    const onehot = tf.oneHot(labels, classes).toFloat();
    if (loss.name === 'mse') return logits.sub(onehot).square().mean(1) as tf.Tensor1D;
    const target = eps ? onehot.mul(1 - eps).add(eps / classes) : onehot;
    return tf.logSoftmax(logits).mul(target).sum(1).neg() as tf.Tensor1D;
  });
}
