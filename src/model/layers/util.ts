/** Helpers shared by the layer kinds: option schemas, pairs, padding arithmetic, initialisers. No tfjs at run time. */
import type * as tfjs from '@tensorflow/tfjs';
import { deriveSeed } from '../../data/prng.js';
import type { BuildContext, OptionSchema, Shape, ShapeResult } from '../layer-kind.js';
import type { FusedActivation } from '../../backends/fused-kernels.js';
import { fastActivation } from './activation-layer.js';

export type IntOrPair = number | [number, number];
export type Padding = number | [number, number] | 'same' | 'valid';

export function intOrPair(description: string, dflt?: unknown, minimum = 1): OptionSchema {
  const s: OptionSchema = {
    description,
    anyOf: [
      { type: 'integer', minimum },
      { type: 'array', items: { type: 'integer', minimum }, minItems: 2, maxItems: 2 },
    ],
  };
  if (dflt !== undefined) s.default = dflt;
  return s;
}

export function paddingOption(description: string): OptionSchema {
  return {
    description,
    default: 0,
    anyOf: [
      { type: 'integer', minimum: 0 },
      { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
      { enum: ['same', 'valid'] },
    ],
  };
}

export function pair(v: IntOrPair): [number, number] {
  return Array.isArray(v) ? [v[0], v[1]] : [v, v];
}

export function fmtShape(s: Shape): string {
  return s.join('×');
}

export function fmtPair([a, b]: [number, number]): string {
  return `${a}×${b}`;
}

/** Checks that the input is an image [h, w, c]. */
export function requireImage(kind: string, input: Shape): ShapeResult | undefined {
  if (input.length !== 3) {
    return { error: `${kind} expects an image input h×w×c, received shape ${fmtShape(input)}` };
  }
  return undefined;
}

/**
 * Output side lengths of a sliding window (conv or pool) with PyTorch semantics for integer padding and
 * TensorFlow semantics for 'same' / 'valid'. Returns an error text when the window does not fit.
 */
export function window2d(
  what: string,
  input: Shape,
  kernel: [number, number],
  stride: [number, number],
  padding: Padding,
): { out?: [number, number]; error?: string } {
  const [h, w] = [input[0]!, input[1]!];
  if (padding === 'same') return { out: [Math.ceil(h / stride[0]), Math.ceil(w / stride[1])] };
  const p = padding === 'valid' ? ([0, 0] as [number, number]) : pair(padding);
  const ph = h + 2 * p[0];
  const pw = w + 2 * p[1];
  if (kernel[0] > ph || kernel[1] > pw) {
    const padded = p[0] || p[1] ? ` (${fmtPair([ph, pw])} with padding)` : '';
    return { error: `${what} ${fmtPair(kernel)} is larger than its input ${fmtShape(input)}${padded}` };
  }
  return { out: [Math.floor((ph - kernel[0]) / stride[0]) + 1, Math.floor((pw - kernel[1]) / stride[1]) + 1] };
}

/**
 * tf.layers for integer padding: explicit zero padding then a 'valid' layer, or 'same' directly when it gives the
 * same result (stride 1, odd kernel, padding = (k-1)/2 on both axes).
 */
export function tfPadding(
  tf: typeof tfjs,
  padding: Padding,
  kernel: [number, number],
  stride: [number, number],
  name: string,
): { pre: tfjs.layers.Layer[]; padding: 'same' | 'valid' } {
  if (padding === 'same' || padding === 'valid') return { pre: [], padding };
  const p = pair(padding);
  if (p[0] === 0 && p[1] === 0) return { pre: [], padding: 'valid' };
  const sameEquivalent = stride[0] === 1 && stride[1] === 1 && kernel[0] === 2 * p[0] + 1 && kernel[1] === 2 * p[1] + 1;
  if (sameEquivalent) return { pre: [], padding: 'same' };
  return { pre: [tf.layers.zeroPadding2d({ padding: [p[0], p[1]], name: `${name}_pad` })], padding: 'valid' };
}

/** Kernel and bias initialisers for a layer with the given fan-in, per the experiment's `model.init`. */
export function initializers(
  tf: typeof tfjs,
  ctx: BuildContext,
  fanIn: number,
): { kernelInitializer: ReturnType<typeof tfjs.initializers.zeros>; biasInitializer: ReturnType<typeof tfjs.initializers.zeros> } {
  const kernelSeed = deriveSeed(ctx.seed, 1);
  const biasSeed = deriveSeed(ctx.seed, 2);
  switch (ctx.init) {
    case 'glorot':
      return { kernelInitializer: tf.initializers.glorotUniform({ seed: kernelSeed }), biasInitializer: tf.initializers.zeros() };
    case 'he':
      return { kernelInitializer: tf.initializers.heNormal({ seed: kernelSeed }), biasInitializer: tf.initializers.zeros() };
    case 'torch':
    default: {
      // PyTorch's default for Conv2d/Linear: kaiming_uniform(a=√5) for weights = U(±1/√fan_in); bias U(±1/√fan_in).
      const bound = 1 / Math.sqrt(fanIn);
      return {
        kernelInitializer: tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: kernelSeed }),
        biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: biasSeed }),
      };
    }
  }
}

/** Shared definition for parameter-free, shape-preserving activation layers (one fused kernel where available). */
export function activationKind(name: string, description: string, activation: FusedActivation) {
  return {
    name,
    description,
    options: {},
    outputShape: (input: Shape): ShapeResult => ({ shape: [...input] }),
    parameters: () => 0,
    build: (tf: typeof tfjs, _options: Record<string, unknown>, ctx: BuildContext): tfjs.layers.Layer[] => [
      fastActivation(tf)({ activation, name: ctx.name }),
    ],
  };
}

export { deriveSeed };
