/**
 * One optimizer, as the registry knows it: its options, its checks and its update rule in two forms that give
 * bit-identical weights — on tf ops (any backend) and in place on the Float32Arrays of a JS-array backend. `tf` is
 * passed in and only tfjs types are imported, so the config layer reads the registry without loading TensorFlow.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { NativeAddon } from '../../backends/native.js';
import type { ResolvedOptimizer } from '../../config/types.js';
import type { Kind, OptionProblem } from '../../registry.js';

export interface UpdateContext {
  /** The resolved optimizer config. */
  c: ResolvedOptimizer;
  /** Learning rate of this step (after the schedule). */
  lr: number;
  /** Step number, 1-based (Adam's bias correction; SGD's first momentum step). */
  t: number;
}

export interface OptimizerKind extends Kind {
  /** Problems with a resolved config that the schema cannot express (keys of the optimizer section). */
  check?(c: ResolvedOptimizer): OptionProblem[];
  /** One variable's update on tf ops, inside the caller's tidy; `slot(name)` is the variable's slot (zeros at first). */
  update(tf: typeof tfjs, x: UpdateContext, p: tfjs.Variable, g: tfjs.Tensor, slot: (name: string) => tfjs.Variable): void;
  /**
   * The same update in place: `p` and the arrays `slot(name)` returns are the variables' own (safe to write), `g`
   * the gradient's; `native` is the tudui-native addon when that backend is active. Every float32 rounding of the
   * tf-op form is reproduced (`Math.fround`).
   */
  updateInPlace(x: UpdateContext, p: Float32Array, g: Float32Array, slot: (name: string) => Float32Array, native: NativeAddon | undefined): void;
}
