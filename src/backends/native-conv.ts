/**
 * Convolutions on 'tudui-native': Conv2D and FusedConv2D (bias and relu fused in oneDNN, other activations with the
 * cpu kernels) and both gradients, on the addon's oneDNN convolutions (native/src/conv.cc), NHWC and HWIO as tfjs
 * stores them.
 *
 * - Conv2DBackpropInput is lazy: its output tensor is registered at once, but the addon only fills it when someone
 *   reads it. tf.layers' conv layers use the fused conv op, whose gradient always computes the input gradient; for
 *   the first layer (input = data, not a variable) the tape throws it away unread, so it costs nothing here.
 * - Outside a tape the forward is lazy too, so that a pooling reading it first can run conv and pooling together in
 *   cache-sized chunks of the batch (the addon's convPool): the conv output is then never materialised.
 * - Conv2DBackpropFilter also gets dy's sum over N, H, W from oneDNN and keeps it for the bias gradient's Sum over
 *   the same dy that follows (`convBiasGrad`).
 */
import type * as TF from '@tensorflow/tfjs';
import { arrayToken } from './native-arrays.js';
import { copyBoxGeom, cpuActivation, cpuAddBias, sizeOf, type KernelContext, type KernelImpl, type KernelArgs } from './native-kernel.js';

type TensorInfo = TF.TensorInfo;

/**
 * Conv geometry for the addon; undefined when the case is not one the addon takes. `crop` is set when the window
 * never reaches the last input rows or columns (valid padding with stride > 1, e.g. a PyTorch `padding: 1,
 * stride: 2` conv after its explicit pad): oneDNN only runs such a conv on a strided view with its slow reference
 * code, so the callers hand it a dense copy of the rows it reads ([N, cropH, cropW, C]) and a geometry for that.
 */
function convGeom(info: TF.backend_util.Conv2DInfo, relu: boolean): { geom: Int32Array; crop?: [number, number] } | undefined {
  const p = info.padInfo;
  if (info.dataFormat !== 'channelsLast' || p.top < 0 || p.left < 0) return undefined;
  if (info.inChannels * info.outChannels * info.filterHeight * info.filterWidth === 0) return undefined;
  if (info.batchSize * info.outHeight * info.outWidth === 0) return undefined;
  const needH = (info.outHeight - 1) * info.strideHeight + (info.filterHeight - 1) * info.dilationHeight + 1 - p.top;
  const needW = (info.outWidth - 1) * info.strideWidth + (info.filterWidth - 1) * info.dilationWidth + 1 - p.left;
  const ih = Math.min(info.inHeight, needH), iw = Math.min(info.inWidth, needW);
  if (ih <= 0 || iw <= 0) return undefined;
  const geom = Int32Array.from([
    info.batchSize, ih, iw, info.inChannels,
    info.filterHeight, info.filterWidth, info.outChannels, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.left, relu ? 1 : 0,
  ]);
  return ih < info.inHeight || iw < info.inWidth ? { geom, crop: [ih, iw] } : { geom };
}

export function makeConvKernels(ctx: KernelContext): Record<string, KernelImpl> {
  const { tf, nat, out32, f32, fallback, lazyOutput } = ctx;
  const bu = tf.backend_util;
  /** The rows and columns a cropped conv reads, as a dense [N, h, w, C] array. */
  const cropInput = (xv: Float32Array, shape: readonly number[], [h, w]: [number, number]): Float32Array => {
    const dst = [shape[0]!, h, w, shape[3]!];
    const out = new Float32Array(sizeOf(dst));
    nat.copyBox(xv, out, copyBoxGeom(shape, dst, [0, 0, 0, 0]), 0);
    return out;
  };

  const conv = (args: KernelArgs, fused: boolean): TensorInfo | TensorInfo[] => {
    const name = fused ? 'FusedConv2D' : 'Conv2D';
    const { backend } = args;
    const x = args.inputs.x!, filter = args.inputs.filter!;
    const attrs = (args.attrs ?? {}) as unknown as TF.Conv2DAttrs & { activation?: string; leakyreluAlpha?: number };
    const bias = fused ? args.inputs.bias : undefined;
    const prelu = fused ? args.inputs.preluActivationWeights : undefined;
    const activation = (fused && attrs.activation) || 'linear';
    const xv = f32(backend, x), wv = f32(backend, filter);
    if (!xv || !wv || x.shape.length !== 4 || attrs.dataFormat === 'NCHW') return fallback(name, args);
    const info = bu.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const bv = bias ? f32(backend, bias) : undefined;
    const nativeBias = !!bias && !!bv && bv.length === info.outChannels && bias.shape[bias.shape.length - 1] === info.outChannels;
    if (bias && !bv) return fallback(name, args);
    const g = convGeom(info, activation === 'relu' && (nativeBias || !bias));
    if (!g) return fallback(name, args);
    // [16]: 1, oneDNN's inference kernels, in training too: a convolution keeps no state for its backward pass
    // (the step's speed was measured so); [17]: the filter's version token, so a constant filter is reordered once.
    const geom = Int32Array.from([...g.geom, 1, arrayToken(wv)]);
    // Outside a tape (evaluation, prediction) a conv whose whole work is in the addon is deferred: a pooling that
    // reads it first runs both at once (native-pooling.ts); any other reader computes it here on first read.
    const whole = !g.crop && (nativeBias || !bias) && (activation === 'linear' || geom[15] === 1);
    if (whole && !ctx.recording()) {
      const b = nativeBias ? bv! : null;
      // The record lives while the output is not computed: whoever computes it (any reader) removes it.
      let id: object | undefined;
      let computed = false; // TUDUI_NATIVE_LAZY=0 computes at once, inside lazyOutput
      const out = lazyOutput(backend, info.outShape, b ? [xv, wv, b] : [xv, wv], (y) => {
        computed = true;
        if (id) ctx.deferredConvs.delete(id);
        nat.convForward(xv, wv, b, y, geom);
      });
      if (!computed) ctx.deferredConvs.set((id = out.dataId), { x: xv, w: wv, bias: b, geom });
      return out;
    }
    const y = out32(sizeOf(info.outShape));
    nat.convForward(g.crop ? cropInput(xv, x.shape, g.crop) : xv, wv, nativeBias ? bv! : null, y, geom);
    let out = backend.makeTensorInfo(info.outShape, 'float32', y);
    if (bias && !nativeBias) out = cpuAddBias(ctx, backend, out, bias);
    if (activation !== 'linear' && geom[15] !== 1) out = cpuActivation(ctx, backend, out, activation, prelu, attrs.leakyreluAlpha);
    return out;
  };

  const conv2DBackpropInput: KernelImpl = (args) => {
    const { backend } = args;
    const dy = args.inputs.dy!, filter = args.inputs.filter!;
    const attrs = (args.attrs ?? {}) as unknown as TF.Conv2DBackpropInputAttrs;
    const dyv = f32(backend, dy), wv = f32(backend, filter);
    if (!dyv || !wv || attrs.dataFormat === 'NCHW') return fallback('Conv2DBackpropInput', args);
    const info = bu.computeConv2DInfo(
      attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad,
      attrs.dimRoundingMode, false, 'channelsLast');
    const g = convGeom(info, false);
    if (!g || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return fallback('Conv2DBackpropInput', args);
    const shape = [...attrs.inputShape];
    // as the forward's ([16] unused here): [17] the filter's token, for the addon's caches of the transformed filter
    const geom = Int32Array.from([...g.geom, 1, arrayToken(wv)]);
    const backwardData = (dx: Float32Array) => {
      if (!g.crop) return nat.convBackwardData(dyv, wv, dx, geom);
      // The gradient of the rows read, then zeros for the rows never read.
      const cropShape = [shape[0]!, g.crop[0], g.crop[1], shape[3]!];
      const part = new Float32Array(sizeOf(cropShape));
      nat.convBackwardData(dyv, wv, part, g.geom);
      nat.copyBox(part, dx, copyBoxGeom(cropShape, shape, [0, 0, 0, 0]), 0);
    };
    return lazyOutput(backend, shape, [dyv, wv], backwardData);
  };

  const conv2DBackpropFilter: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!, dy = args.inputs.dy!;
    const attrs = (args.attrs ?? {}) as unknown as TF.Conv2DBackpropFilterAttrs;
    const xv = f32(backend, x), dyv = f32(backend, dy);
    if (!xv || !dyv || x.shape.length !== 4 || attrs.dataFormat === 'NCHW') return fallback('Conv2DBackpropFilter', args);
    const info = bu.computeConv2DInfo(
      x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad,
      attrs.dimRoundingMode, false, 'channelsLast');
    const g = convGeom(info, false);
    if (!g || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return fallback('Conv2DBackpropFilter', args);
    const dw = out32(sizeOf(attrs.filterShape));
    // oneDNN sums dy over N, H, W on the way (almost free): kept for the Sum that tfjs's conv bias gradient runs
    // on the same dy right after (native-blas.ts), instead of another pass over dy.
    const db = new Float32Array(info.outChannels);
    nat.convBackwardWeights(g.crop ? cropInput(xv, x.shape, g.crop) : xv, dyv, dw, db, g.geom);
    ctx.convBiasGrad = { dataId: dy.dataId, values: db };
    return backend.makeTensorInfo([...attrs.filterShape], 'float32', dw);
  };

  return {
    Conv2D: (args) => conv(args, false),
    FusedConv2D: (args) => conv(args, true),
    Conv2DBackpropInput: conv2DBackpropInput,
    Conv2DBackpropFilter: conv2DBackpropFilter,
  };
}
