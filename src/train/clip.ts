/**
 * Gradient clipping by total norm, as PyTorch's clip_grad_norm_(parameters, max_norm) (norm_type 2,
 * error_if_nonfinite False, foreach): total = ‖(‖g_1‖, …, ‖g_n‖)‖, every gradient scaled by
 * min(1, max_norm / (total + 1e-6)). Stateless, so resuming needs nothing saved.
 */
import * as tf from '@tensorflow/tfjs';

/** New gradient tensors (the caller disposes them and the originals). */
export function clipGradNorm(grads: tf.Tensor[], maxNorm: number): tf.Tensor[] {
  return tf.tidy(() => {
    const total = tf.sqrt(tf.addN(grads.map((g) => tf.square(tf.norm(g)))));
    const coef = tf.minimum(tf.scalar(maxNorm).div(total.add(1e-6)), 1);
    return grads.map((g) => g.mul(coef));
  });
}
