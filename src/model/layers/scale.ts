import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';

export interface ScaleOptions extends Record<string, unknown> {
  factor: number;
}

/**
 * Multiply by a constant. Why a layer: the fast ResNet-9 recipes scale the logits (David Page: ×0.125) so that the
 * final linear layer on max-pooled, all-positive features does not take steps far larger than the rest of the net.
 * Builds tf.layers.rescaling (offset 0), which plain tfjs loads.
 */
export const scale: LayerKind<ScaleOptions> = {
  name: 'scale',
  description: 'Multiply the input by a constant factor (no parameters), e.g. 0.125 on the logits of a ResNet-9.',
  options: {
    factor: { description: 'The constant multiplier.', type: 'number', exclusiveMinimum: 0 },
  },
  required: ['factor'],
  shorthand: 'factor',
  outputShape: (input: Shape): ShapeResult => ({ shape: [...input] }),
  parameters: () => 0,
  build(tf: typeof tfjs, o: ScaleOptions, ctx: BuildContext): tfjs.layers.Layer[] {
    return [tf.layers.rescaling({ scale: o.factor, offset: 0, name: ctx.name })];
  },
};
