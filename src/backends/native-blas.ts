/**
 * Matrix products and reductions on 'tudui-native': BatchMatMul and _FusedMatMul on the addon's dnnl_sgemm (bias and
 * relu added in the addon, other epilogues with the cpu kernels), float32 Sum over leading or trailing axes and Mean
 * over a contiguous block of axes (native/src/blas.cc).
 */
import type * as TF from '@tensorflow/tfjs';
import { cpuActivation, cpuAddBias, sizeOf, type CpuBackend, type KernelContext, type KernelImpl } from './native-kernel.js';

type TensorInfo = TF.TensorInfo;

export function makeBlasKernels(ctx: KernelContext): Record<string, KernelImpl> {
  const { tf, nat, out32, f32, fallback, lazyOutput } = ctx;
  const bu = tf.backend_util;

  /** a x b (with transposes and batch broadcasting of size-1 batches); undefined when the addon can't. */
  const matmul = (
    backend: CpuBackend, a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean, lazyProduct = false,
  ): { out: TensorInfo; rows: number; cols: number } | undefined => {
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return undefined;
    const ra = a.shape.length, rb = b.shape.length;
    const M = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const Ka = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const Kb = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const N = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if (Ka !== Kb) return undefined;
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = sizeOf(outerA), batchB = sizeOf(outerB);
    const same = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    if (!same && batchA !== 1 && batchB !== 1) return undefined;
    const outer = bu.assertAndGetBroadcastShape(outerA, outerB);
    if (sizeOf(outer) !== Math.max(batchA, batchB)) return undefined;
    if (M * N * Math.max(batchA, batchB) === 0) return undefined;
    const geom = Int32Array.from([batchA, batchB, M, N, Ka, ta ? 1 : 0, tb ? 1 : 0]);
    const shape = [...outer, M, N];
    const rows = sizeOf(outer) * M;
    // BatchMatMul (tf.layers' forward pass uses _FusedMatMul) comes from gradients: lazy, so the first layer's unused
    // input gradient is never computed. (The backward pass runs with the tape off, so `recording()` can't tell.)
    if (lazyProduct) return { out: lazyOutput(backend, shape, [av, bv], (c) => nat.matMul(av, bv, c, geom)), rows, cols: N };
    const c = out32(Math.max(batchA, batchB) * M * N);
    nat.matMul(av, bv, c, geom);
    return { out: backend.makeTensorInfo(shape, 'float32', c), rows, cols: N };
  };

  const batchMatMul: KernelImpl = (args) => {
    const attrs = args.attrs as unknown as TF.BatchMatMulAttrs;
    const r = matmul(args.backend, args.inputs.a!, args.inputs.b!, !!attrs.transposeA, !!attrs.transposeB, true);
    return r ? r.out : fallback('BatchMatMul', args);
  };

  const fusedMatMul: KernelImpl = (args) => {
    const { backend } = args;
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number };
    const bias = args.inputs.bias, prelu = args.inputs.preluActivationWeights;
    const activation = attrs.activation || 'linear';
    const bv = bias ? f32(backend, bias) : undefined;
    if (bias && !bv) return fallback('_FusedMatMul', args);
    const r = matmul(backend, args.inputs.a!, args.inputs.b!, !!attrs.transposeA, !!attrs.transposeB);
    if (!r) return fallback('_FusedMatMul', args);
    let out = r.out;
    const nativeBias = !!bias && bv!.length === r.cols && bias.shape[bias.shape.length - 1] === r.cols;
    const nativeRelu = activation === 'relu' && (!bias || nativeBias);
    if (nativeBias || nativeRelu) {
      nat.addBias(backend.data.get(out.dataId).values as Float32Array, nativeBias ? bv! : null, r.rows, r.cols, nativeRelu);
    }
    if (bias && !nativeBias) out = cpuAddBias(ctx, backend, out, bias);
    if (activation !== 'linear' && !nativeRelu) out = cpuActivation(ctx, backend, out, activation, prelu, attrs.leakyreluAlpha);
    return out;
  };

  const sum: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const attrs = args.attrs as unknown as TF.SumAttrs;
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0) return fallback('Sum', args);
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((p, q) => p - q);
    const r = x.shape.length;
    if (axes.length === 0 || axes.some((v, i) => i > 0 && v === axes[i - 1])) return fallback('Sum', args);
    const prefix = axes.every((v, i) => v === i);
    const suffix = axes.every((v, i) => v === r - axes.length + i);
    if (!prefix && !suffix) return fallback('Sum', args);
    const [outShape0] = bu.computeOutAndReduceShapes(x.shape, axes);
    const outShape = attrs.keepDims ? bu.expandShapeToKeepDim(outShape0, axes) : outShape0;
    const outSize = sizeOf(outShape0);
    if (outSize === 0 || xv.length === 0) return fallback('Sum', args);
    const biasGrad = ctx.convBiasGrad;
    if (biasGrad && biasGrad.dataId === x.dataId && r === 4 && axes.length === 3 && prefix && biasGrad.values.length === outSize) {
      return backend.makeTensorInfo(outShape, 'float32', Float32Array.from(biasGrad.values));
    }
    const out = out32(outSize);
    if (prefix) nat.sumOuter(xv, out, xv.length / outSize, outSize);
    else nat.sumInner(xv, out, outSize, xv.length / outSize);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };

  /**
   * Mean over a contiguous block of axes (batch-norm moments over N,H,W; global average pooling over H,W): the
   * addon's outer-axis sum on each outer slice, then one scale. tfjs's cpu Mean transposes first and was ~150x slower.
   */
  const mean: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const attrs = args.attrs as unknown as TF.MeanAttrs;
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0 || xv.length === 0) return fallback('Mean', args);
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((p, q) => p - q);
    if (axes.length === 0 || axes.some((v, i) => i > 0 && v !== axes[i - 1]! + 1)) return fallback('Mean', args);
    const first = axes[0]!;
    const last = axes[axes.length - 1]!;
    const outer = sizeOf(x.shape.slice(0, first));
    const mid = sizeOf(x.shape.slice(first, last + 1));
    const inner = sizeOf(x.shape.slice(last + 1));
    const [outShape0] = bu.computeOutAndReduceShapes(x.shape, axes);
    const outShape = attrs.keepDims ? bu.expandShapeToKeepDim(outShape0, axes) : outShape0;
    const out = out32(outer * inner);
    if (inner === 1) nat.sumInner(xv, out, outer, mid);
    else for (let o = 0; o < outer; o++) nat.sumOuter(xv.subarray(o * mid * inner, (o + 1) * mid * inner), out.subarray(o * inner, (o + 1) * inner), mid, inner);
    const scale = 1 / mid;
    for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale;
    return backend.makeTensorInfo(outShape, 'float32', out);
  };

  return {
    BatchMatMul: batchMatMul,
    _FusedMatMul: fusedMatMul,
    Sum: sum,
    Mean: mean,
  };
}
