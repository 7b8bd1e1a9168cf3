/**
 * Pooling on 'tudui-native': MaxPool, AvgPool and their gradients in the addon (native/src/pooling.cc), NHWC.
 *
 * Semantics match the cpu backend, with one deliberate difference: AvgPoolGrad divides by the number of in-bounds
 * cells of each window (the true gradient of AvgPool with 'same' padding); tfjs's cpu kernel divides by the full
 * window size. Both agree for 'valid' padding.
 */
import type * as TF from '@tensorflow/tfjs';
import { arrayToken } from './native-arrays.js';
import { sizeOf, type KernelContext, type KernelImpl } from './native-kernel.js';

type TensorInfo = TF.TensorInfo;

/** Pool geometry for the addon; undefined when the case is not one the addon takes. */
function poolGeom(info: TF.backend_util.Conv2DInfo): Int32Array | undefined {
  const p = info.padInfo;
  if (info.dataFormat !== 'channelsLast' || p.top < 0 || p.left < 0) return undefined;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  if (sizeOf([info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth]) === 0) return undefined;
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.filterHeight, info.filterWidth, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, p.top, p.left,
  ]);
}

/**
 * The winners of a recorded MaxPool, keyed by its output array: MaxPoolGrad then reads dy and this mask (a byte per
 * output) instead of recomputing every window's maximum from x (4× the bytes for 2×2 windows, and a cold read of
 * the largest activation). Valid while the output array keeps the token it had when written: a recycled array
 * forgets its token (native-arrays.ts), so a stale mask is never used. The mask buffer stays with the array and is
 * reused when the pool hands that array out again.
 */
interface PoolMask {
  token: number;
  /** Token of the input the mask was computed from: a MaxPoolGrad called with another x recomputes. */
  input: number;
  mask: Uint8Array;
}

export function makePoolingKernels(ctx: KernelContext): Record<string, KernelImpl> {
  const { tf, nat, out32, f32, fallback, recording } = ctx;
  const bu = tf.backend_util;
  const masks = new WeakMap<Float32Array, PoolMask>();

  const poolInfo = (x: TensorInfo, attrs: TF.MaxPoolAttrs) =>
    bu.computePool2DInfo(
      x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);

  const pool = (name: 'MaxPool' | 'AvgPool'): KernelImpl => (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    // x a deferred convolution's output, not computed yet (native-conv.ts): both at once, x never computed.
    const conv = ctx.deferredConvs.get(x.dataId);
    if (conv && x.shape.length === 4 && !recording()) {
      const info = poolInfo(x, args.attrs as unknown as TF.MaxPoolAttrs);
      const geom = poolGeom(info);
      if (geom) {
        const y = out32(sizeOf(info.outShape));
        if (nat.convPool(conv.x, conv.w, conv.bias, y, conv.geom, geom, name === 'MaxPool')) return backend.makeTensorInfo(info.outShape, 'float32', y);
      }
    }
    const xv = f32(backend, x);
    if (!xv || x.shape.length !== 4) return fallback(name, args);
    const info = poolInfo(x, args.attrs as unknown as TF.MaxPoolAttrs);
    const geom = poolGeom(info);
    if (!geom) return fallback(name, args);
    const y = out32(sizeOf(info.outShape));
    if (name === 'AvgPool') nat.avgPool(xv, y, geom);
    else if (recording() && info.filterHeight * info.filterWidth < 255) {
      let entry = masks.get(y); // an array's length never changes: its mask fits for good
      if (!entry) masks.set(y, (entry = { token: 0, input: 0, mask: new Uint8Array(y.length) }));
      nat.maxPool(xv, y, geom, entry.mask);
      entry.token = arrayToken(y);
      entry.input = arrayToken(xv);
    } else nat.maxPool(xv, y, geom);
    return backend.makeTensorInfo(info.outShape, 'float32', y);
  };

  const maxPoolGrad: KernelImpl = (args) => {
    const { backend } = args;
    const dy = args.inputs.dy!, x = args.inputs.input!;
    const xv = f32(backend, x), dyv = f32(backend, dy);
    if (!xv || !dyv || x.shape.length !== 4) return fallback('MaxPoolGrad', args);
    const info = poolInfo(x, args.attrs as unknown as TF.MaxPoolAttrs);
    const geom = poolGeom(info);
    if (!geom || sizeOf(info.outShape) !== dyv.length) return fallback('MaxPoolGrad', args);
    const dx = out32(xv.length);
    const yv = args.inputs.output ? f32(backend, args.inputs.output) : undefined;
    const entry = yv && masks.get(yv);
    if (yv && entry && entry.token === arrayToken(yv) && entry.input === arrayToken(xv) && entry.mask.length === dyv.length) {
      nat.maxPoolGradMask(dyv, entry.mask, dx, geom);
    }
    else nat.maxPoolGrad(xv, dyv, dx, geom);
    return backend.makeTensorInfo([...x.shape], 'float32', dx);
  };

  const avgPoolGrad: KernelImpl = (args) => {
    const { backend } = args;
    const dy = args.inputs.dy!, x = args.inputs.input!;
    const dyv = f32(backend, dy);
    if (!dyv || x.shape.length !== 4 || x.dtype !== 'float32') return fallback('AvgPoolGrad', args);
    const info = poolInfo(x, args.attrs as unknown as TF.MaxPoolAttrs);
    const geom = poolGeom(info);
    if (!geom || sizeOf(info.outShape) !== dyv.length) return fallback('AvgPoolGrad', args);
    const dx = out32(sizeOf(x.shape));
    nat.avgPoolGrad(dyv, dx, geom);
    return backend.makeTensorInfo([...x.shape], 'float32', dx);
  };

  return {
    MaxPool: pool('MaxPool'),
    AvgPool: pool('AvgPool'),
    MaxPoolGrad: maxPoolGrad,
    AvgPoolGrad: avgPoolGrad,
  };
}
