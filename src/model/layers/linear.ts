import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';
import { fmtShape, initializers } from './util.js';

export interface LinearOptions extends Record<string, unknown> {
  units: number;
  bias: boolean;
}

export const linear: LayerKind<LinearOptions> = {
  name: 'linear',
  aliases: ['dense'],
  description: 'Fully connected layer on a flat input (PyTorch nn.Linear, Keras Dense); output `units` features.',
  options: {
    units: { description: 'Number of output features (PyTorch out_features).', type: 'integer', minimum: 1 },
    bias: { description: 'Add a learned bias per output feature.', type: 'boolean', default: true },
  },
  required: ['units'],
  shorthand: 'units',
  outputShape(input: Shape, o: LinearOptions): ShapeResult {
    if (input.length !== 1) {
      return { error: `linear expects a flat input, received shape ${fmtShape(input)}; add '- flatten' before it` };
    }
    return { shape: [o.units] };
  },
  parameters(input: Shape, o: LinearOptions): number {
    const fanIn = input.reduce((a, b) => a * b, 1);
    return fanIn * o.units + (o.bias ? o.units : 0);
  },
  build(tf: typeof tfjs, o: LinearOptions, ctx: BuildContext): tfjs.layers.Layer[] {
    const fanIn = ctx.inputShape.reduce((a, b) => a * b, 1);
    const init = initializers(tf, ctx, fanIn);
    return [
      tf.layers.dense({
        units: o.units,
        useBias: o.bias,
        kernelInitializer: init.kernelInitializer,
        ...(o.bias ? { biasInitializer: init.biasInitializer } : {}),
        name: ctx.name,
      }),
    ];
  },
};
