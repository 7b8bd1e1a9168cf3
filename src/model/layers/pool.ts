/** Shared implementation of maxpool2d and avgpool2d. */
import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';
import { fmtPair, fmtShape, intOrPair, pair, requireImage, tfPadding, window2d, type IntOrPair, type Padding } from './util.js';

export interface PoolOptions extends Record<string, unknown> {
  pool_size: IntOrPair;
  stride: IntOrPair | null;
  padding: Padding;
}

export function poolKind(name: 'maxpool2d' | 'avgpool2d'): LayerKind<PoolOptions> {
  const what = name === 'maxpool2d' ? 'max' : 'average';
  return {
    name,
    description: `2-D ${what} pooling over an h×w×c image (PyTorch nn.${name === 'maxpool2d' ? 'MaxPool2d' : 'AvgPool2d'}).`,
    options: {
      pool_size: intOrPair('Window size: an integer or [height, width].'),
      stride: {
        ...intOrPair('Stride: an integer or [height, width]; null means the pool size (as in PyTorch).'),
        anyOf: [...(intOrPair('').anyOf as unknown[]), { type: 'null' }],
        default: null,
      },
      padding: {
        description:
          "Padding on each side: an integer or [height, width] (explicit zero padding, then a 'valid' pool), or 'same' / 'valid' (TensorFlow semantics).",
        default: 0,
        anyOf: [
          { type: 'integer', minimum: 0 },
          { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
          { enum: ['same', 'valid'] },
        ],
      },
    },
    required: ['pool_size'],
    shorthand: 'pool_size',
    outputShape(input: Shape, o: PoolOptions): ShapeResult {
      const bad = requireImage(name, input);
      if (bad) return bad;
      const k = pair(o.pool_size);
      const s = pair(o.stride ?? o.pool_size);
      const r = window2d('pool', input, k, s, o.padding);
      if (r.error) {
        return { error: `${name} ${fmtPair(k)} would shrink its input ${fmtShape(input)} below 1×1` };
      }
      return { shape: [r.out![0], r.out![1], input[2]!] };
    },
    parameters: () => 0,
    build(tf: typeof tfjs, o: PoolOptions, ctx: BuildContext): tfjs.layers.Layer[] {
      const poolSize = pair(o.pool_size);
      const strides = pair(o.stride ?? o.pool_size);
      const { pre, padding } = tfPadding(tf, o.padding, poolSize, strides, ctx.name);
      const args = { poolSize, strides, padding, name: ctx.name };
      return [...pre, name === 'maxpool2d' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args)];
    },
  };
}
