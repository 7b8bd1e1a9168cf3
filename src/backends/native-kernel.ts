/**
 * What every kernel family of the 'tudui-native' backend shares: the shapes of tfjs's cpu backend and kernel calls,
 * the context native.ts hands to each family (the addon, output arrays, the cpu fallback, lazy outputs), and the
 * small helpers they all use. The families: native-conv.ts, native-pooling.ts, native-blas.ts (matrix products and
 * reductions), native-ops.ts (element-wise, normalisation, data movement, the fused kernels).
 */
import type * as TF from '@tensorflow/tfjs';

type Tf = typeof TF;
type TensorInfo = TF.TensorInfo;

/** The addon's functions (native/src/*.cc, one file per family). All synchronous; outputs are preallocated by the caller. */
export interface NativeAddon {
  // conv.cc (native-conv.ts)
  convForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, geom: Int32Array): void;
  convBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Int32Array): void;
  convBackwardWeights(x: Float32Array, dy: Float32Array, dw: Float32Array, dbias: Float32Array | null, geom: Int32Array): void;
  /** Convolutions run by the Winograd F(2×2, 5×5) path so far (winograd.cc), -1 where it is off. */
  winogradRuns(): number;
  /** The Winograd path's instruction set ('off' | 'avx2' | 'avx512'), after choosing `isa` (one this core has). */
  winogradIsa(isa?: 'off' | 'avx2' | 'avx512'): string;
  /** y = max (or average) pooling of conv(x), the conv output never materialised; false: not taken (layouts). */
  convPool(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, convGeom: Int32Array, poolGeom: Int32Array, max: boolean): boolean;
  // pooling.cc (native-pooling.ts)
  /** `mask` (y's length, windows of < 255 cells): which cell of each window won, for maxPoolGradMask. */
  maxPool(x: Float32Array, y: Float32Array, geom: Int32Array, mask?: Uint8Array): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geom: Int32Array): void;
  maxPoolGradMask(dy: Float32Array, mask: Uint8Array, dx: Float32Array, geom: Int32Array): void;
  avgPool(x: Float32Array, y: Float32Array, geom: Int32Array): void;
  avgPoolGrad(dy: Float32Array, dx: Float32Array, geom: Int32Array): void;
  // blas.cc (native-blas.ts; addBias also for the fused matmul's bias)
  matMul(a: Float32Array, b: Float32Array, c: Float32Array, geom: Int32Array): void;
  sumOuter(x: Float32Array, out: Float32Array, outer: number, inner: number): void;
  sumInner(x: Float32Array, out: Float32Array, outer: number, inner: number): void;
  addBias(y: Float32Array, bias: Float32Array | null, rows: number, cols: number, relu: boolean): void;
  // tudui_native.cc (module glue)
  info(): string;
  setNumThreads(n: number): number;
  // eltwise.cc (native-ops.ts)
  eltwise(alg: number, x: Float32Array, y: Float32Array, alpha: number, beta: number): void;
  eltwiseGrad(alg: number, v: Float32Array, dy: Float32Array, dx: Float32Array, alpha: number, beta: number): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void;
  softmaxXent(logits: Float32Array, labels: Int32Array, loss: Float32Array, probs: Float32Array, rows: number, cols: number, smoothing: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, geom: Int32Array): void;
  copyBox(src: Float32Array, dst: Float32Array, geom: Int32Array, fill: number): void;
  /** tf.dropout's multiplier from alea state [c, s0, s1, s2] (native-ops.ts). */
  dropoutMask(state: Float64Array, keep: number, mask: Float32Array): void;
  // in-place optimizer updates (src/train/optimizers.ts); scalars as float32.
  sgdUpdate(p: Float32Array, g: Float32Array, momentum: Float32Array | null, scalars: Float32Array): void;
  adamUpdate(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, scalars: Float32Array): void;
  rmspropUpdate(p: Float32Array, g: Float32Array, square: Float32Array, momentum: Float32Array | null, scalars: Float32Array): void;
  // batchnorm.cc (native-ops.ts). Training: mean and variance are written (the batch's); inference: they are read.
  batchNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, dims: Int32Array, eps: number, training: boolean): void;
  batchNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, dims: Int32Array, eps: number): void;
}

/** The parts of MathBackendCPU the kernels use. */
export interface CpuBackend {
  data: { get(dataId: object): { values?: unknown; dtype?: string } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}
export type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; backend: CpuBackend; attrs?: TF.NamedAttrMap };
export type KernelImpl = (args: KernelArgs) => TensorInfo | TensorInfo[];

export interface KernelContext {
  tf: Tf;
  nat: NativeAddon;
  /** Output array for a native kernel (recycled when large). */
  out32(n: number): Float32Array;
  /** The float32 array of a tensor, or undefined for other dtypes. */
  f32(backend: CpuBackend, t: TensorInfo): Float32Array | undefined;
  /** Hands the call to tfjs's cpu kernel `name` (counted as a fallback). */
  fallback(name: string, args: KernelArgs): TensorInfo | TensorInfo[];
  /** tfjs's cpu kernel `name`, for a step the addon lacks inside one of ours (counted as a fallback). */
  cpu(name: string): KernelImpl;
  /** tfjs's Identity (shares the input's data; not a fallback). */
  identity(args: KernelArgs): TensorInfo;
  /**
   * A float32 output computed on first read (TUDUI_NATIVE_LAZY=0: at once), for the gradients tfjs computes and may
   * then drop. `inputs` are the arrays `compute` reads: they stay unrecycled until then.
   */
  lazyOutput(backend: CpuBackend, shape: number[], inputs: Float32Array[], compute: (out: Float32Array) => void): TensorInfo;
  /**
   * Convolutions run outside a tape whose output is still lazy and not computed, by output data id (native-conv.ts;
   * computing the output removes its entry): a pooling that reads one first runs conv and pooling together
   * (native-pooling.ts, the addon's convPool).
   */
  deferredConvs: WeakMap<object, DeferredConv>;
  /** Whether tfjs is recording a gradient tape: kernels run outside one need no state for a backward pass. */
  recording(): boolean;
  /**
   * dy's sum over N, H, W from the last Conv2DBackpropFilter (native-conv.ts), for the Sum that tfjs's conv bias
   * gradient runs on the same dy right after (native-blas.ts). Tensor data is immutable and dataIds never reused.
   */
  convBiasGrad: { dataId: object; values: Float32Array } | undefined;
}

/** A convolution's inputs and geometry, kept while its output is deferred. */
export interface DeferredConv {
  x: Float32Array;
  w: Float32Array;
  bias: Float32Array | null;
  geom: Int32Array;
}

export function f32(backend: CpuBackend, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : undefined;
}

export function single(r: TensorInfo | TensorInfo[]): TensorInfo {
  return Array.isArray(r) ? r[0]! : r;
}

/** Geometry of the addon's copyBox: dst[i] = src[i + offset] where in range, else the fill value. */
export function copyBoxGeom(src: readonly number[], dst: readonly number[], offset: readonly number[]): Int32Array {
  return Int32Array.from([src.length, ...src, ...dst, ...offset]);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Applies a fused activation (other than linear/relu, which the addon does) with the cpu kernels; disposes `x`. */
export function cpuActivation(
  ctx: KernelContext, backend: CpuBackend, x: TensorInfo, activation: string, prelu: TensorInfo | undefined, alpha: number | undefined,
): TensorInfo {
  const { cpu } = ctx;
  let out: TensorInfo;
  switch (activation) {
    case 'linear': return x;
    case 'relu': out = single(cpu('Relu')({ inputs: { x }, backend })); break;
    case 'relu6': out = single(cpu('Relu6')({ inputs: { x }, backend })); break;
    case 'elu': out = single(cpu('Elu')({ inputs: { x }, backend })); break;
    case 'sigmoid': out = single(cpu('Sigmoid')({ inputs: { x }, backend })); break;
    case 'leakyrelu':
      out = single(cpu('LeakyRelu')({ inputs: { x }, backend, attrs: { alpha: alpha ?? 0.2 } }));
      break;
    case 'prelu':
      if (!prelu) throw new Error('tudui-native: prelu activation without weights');
      out = single(cpu('Prelu')({ inputs: { x, alpha: prelu }, backend }));
      break;
    default: throw new Error(`tudui-native: unknown fused activation '${activation}'`);
  }
  backend.disposeIntermediateTensorInfo(x);
  return out;
}

/** Adds a bias the addon cannot broadcast itself, with the cpu Add kernel; disposes `x`. */
export function cpuAddBias(ctx: KernelContext, backend: CpuBackend, x: TensorInfo, bias: TensorInfo): TensorInfo {
  const out = single(ctx.cpu('Add')({ inputs: { a: x, b: bias }, backend }));
  backend.disposeIntermediateTensorInfo(x);
  return out;
}
