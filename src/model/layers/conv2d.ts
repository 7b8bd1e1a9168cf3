import type * as tfjs from '@tensorflow/tfjs';
import type { BuildContext, LayerKind, Shape, ShapeResult } from '../layer-kind.js';
import { initializers, intOrPair, pair, paddingOption, requireImage, tfPadding, window2d, type IntOrPair, type Padding } from './util.js';

export interface Conv2dOptions extends Record<string, unknown> {
  filters: number;
  kernel_size: IntOrPair;
  stride: IntOrPair;
  padding: Padding;
  bias: boolean;
}

export const conv2d: LayerKind<Conv2dOptions> = {
  name: 'conv2d',
  description: '2-D convolution over an h×w×c image (PyTorch nn.Conv2d); output h′×w′×filters.',
  options: {
    filters: { description: 'Number of output channels (PyTorch out_channels).', type: 'integer', minimum: 1 },
    kernel_size: intOrPair('Kernel size: an integer or [height, width].'),
    stride: intOrPair('Stride: an integer or [height, width].', 1),
    padding: paddingOption(
      "Zero padding on each side: an integer or [height, width] (PyTorch semantics), or 'same' / 'valid' (TensorFlow semantics).",
    ),
    bias: { description: 'Add a learned bias per output channel.', type: 'boolean', default: true },
  },
  required: ['filters', 'kernel_size'],
  outputShape(input: Shape, o: Conv2dOptions): ShapeResult {
    const bad = requireImage('conv2d', input);
    if (bad) return bad;
    const r = window2d('kernel', input, pair(o.kernel_size), pair(o.stride), o.padding);
    if (r.error) return { error: r.error };
    return { shape: [r.out![0], r.out![1], o.filters] };
  },
  parameters(input: Shape, o: Conv2dOptions): number {
    const [kh, kw] = pair(o.kernel_size);
    const cin = input[input.length - 1] ?? 0;
    return kh * kw * cin * o.filters + (o.bias ? o.filters : 0);
  },
  build(tf: typeof tfjs, o: Conv2dOptions, ctx: BuildContext): tfjs.layers.Layer[] {
    const kernel = pair(o.kernel_size);
    const strides = pair(o.stride);
    const cin = ctx.inputShape[ctx.inputShape.length - 1] ?? 1;
    const { pre, padding } = tfPadding(tf, o.padding, kernel, strides, ctx.name);
    const init = initializers(tf, ctx, kernel[0] * kernel[1] * cin);
    return [
      ...pre,
      tf.layers.conv2d({
        filters: o.filters,
        kernelSize: kernel,
        strides,
        padding,
        useBias: o.bias,
        kernelInitializer: init.kernelInitializer,
        ...(o.bias ? { biasInitializer: init.biasInitializer } : {}),
        name: ctx.name,
      }),
    ];
  },
};
