/**
 * Custom tf.layers classes needed by the layer kinds. tfjs 4.22 has every activation we need built in (including an
 * exact, erf-based 'gelu'), so there is nothing to register today; the compiler calls this once per tf namespace so
 * that a future custom class (registered with tf.serialization.registerClass) reloads with tf.loadLayersModel.
 */
import type * as tfjs from '@tensorflow/tfjs';

export function registerCustomLayers(_tf: typeof tfjs): void {
  // Nothing to register with tfjs 4.22.
}
