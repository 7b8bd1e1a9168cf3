/**
 * Custom tf.layers classes needed by the layer kinds, built per tf namespace (the layer files only import tfjs types).
 *
 * SeededDropout: tf.layers.dropout with a `seed` draws the *same* mask at every step (tf.dropout seeds a fresh
 * generator with it on each call), and without a seed it uses Math.random, which no run can reproduce. This layer
 * derives each step's mask seed from its own seed and the global training step, so masks differ between steps yet a
 * run, and a resumed run, reproduce them exactly. The step comes with each call (`apply(x, { training: true, step })`,
 * as the loop's trainStep passes it; absent: 0), not from shared state. It serialises as a plain `Dropout`, so
 * checkpoints stay loadable by stock tf.loadLayersModel.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { fusedDropoutMask } from '../../backends/fused-kernels.js';
import { stepSeed } from '../../data/prng.js';

type DropoutFactory = (args: { rate: number; seed: number; name: string }) => tfjs.layers.Layer;
const factories = new WeakMap<object, DropoutFactory>();

export function seededDropout(tf: typeof tfjs): DropoutFactory {
  const cached = factories.get(tf);
  if (cached) return cached;
  class SeededDropout extends tf.layers.Layer {
    static className = 'Dropout';
    private readonly rate: number;
    private readonly seed: number;
    constructor(args: { rate: number; seed: number; name: string }) {
      super({ name: args.name });
      this.rate = args.rate;
      this.seed = args.seed;
      this.supportsMasking = true;
    }
    override call(inputs: tfjs.Tensor | tfjs.Tensor[], kwargs: { training?: boolean; step?: number }): tfjs.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (!kwargs.training || this.rate === 0) return tf.clone(x);
      const seed = stepSeed(this.seed, kwargs.step ?? 0);
      // One kernel for tf.dropout's mask where the backend has it (the same mask, bit for bit), then the product.
      const mask = x.dtype === 'float32' ? fusedDropoutMask(tf, x.shape, this.rate, seed) : undefined;
      if (!mask) return tf.dropout(x, this.rate, undefined, seed);
      return tf.mul(x, mask); // the mask is an intermediate, like tf.dropout's: the caller's tidy disposes it
    }
    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...super.getConfig(), rate: this.rate, noiseShape: null, seed: this.seed };
    }
  }
  const factory: DropoutFactory = (args) => new SeededDropout(args);
  factories.set(tf, factory);
  return factory;
}
