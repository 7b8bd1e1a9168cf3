/**
 * Activation layers that run as one fused kernel forward and one backward where the backend has it
 * (fused-kernels.ts: 'tudui-native'), and as the stock tf.layers layer elsewhere. tfjs's own GELU is five
 * element-wise ops forward and about ten backward; leaky ReLU's gradient three; sigmoid's and tanh's three.
 *
 * Each layer wraps the stock layer it stands for and serialises as it (`Activation` with the same activation name,
 * `LeakyReLU` with its alpha), so checkpoints load in plain tfjs and compute the same function.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { fusedActivation, type FusedActivation } from '../../backends/fused-kernels.js';

export interface ActivationArgs {
  activation: FusedActivation;
  /** leaky_relu's negative slope. */
  alpha?: number;
  name: string;
}

type Factory = (args: ActivationArgs) => tfjs.layers.Layer;
const factories = new WeakMap<object, Factory>();

export function fastActivation(tf: typeof tfjs): Factory {
  const cached = factories.get(tf);
  if (cached) return cached;

  const stockLayer = (a: ActivationArgs): tfjs.layers.Layer =>
    a.activation === 'leaky_relu'
      ? tf.layers.leakyReLU({ alpha: a.alpha ?? 0.01, name: a.name })
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      : tf.layers.activation({ activation: a.activation as any, name: a.name });

  class TuduiActivation extends tf.layers.Layer {
    // The class name the stock layer serialises under; set per instance in getClassName.
    static className = 'TuduiActivation';
    private readonly stock: tfjs.layers.Layer;

    constructor(private readonly args: ActivationArgs) {
      super({ name: args.name });
      this.stock = stockLayer(args);
      this.supportsMasking = true;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return fusedActivation(tf, x, this.args.activation, this.args.alpha ?? 0) ?? (this.stock.apply(x) as tfjs.Tensor);
    }

    override getClassName(): string {
      return this.stock.getClassName();
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...this.stock.getConfig(), ...super.getConfig() };
    }
  }

  const factory: Factory = (args) => new TuduiActivation(args);
  factories.set(tf, factory);
  return factory;
}
