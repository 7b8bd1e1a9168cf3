/** Losses on logits, reduced as PyTorch reduces them (mean over the batch); one file per loss (loss-registry.ts). */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperiment, ResolvedLoss } from '../config/index.js';
import { losses } from './loss-registry.js';

/** Per-example losses, shape [batch]. `labels` are int32 class indices. */
export function perExampleLoss(loss: ResolvedExperiment['loss'], logits: tf.Tensor2D, labels: tf.Tensor1D, classes: number): tf.Tensor1D {
  const kind = losses.get(loss.name);
  const filled = { ...losses.defaults(kind, true), ...loss } as ResolvedLoss;
  return tf.tidy(() => kind.perExample(tf, filled, logits, labels, classes));
}
