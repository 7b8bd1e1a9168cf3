/**
 * 'tudui-native': TensorFlow.js's pure-JS cpu backend with the heavy kernels replaced by oneDNN through a Node-API
 * addon (native/, built at install by scripts/build-native.mjs when libdnnl-dev is present).
 *
 * The backend *is* a `MathBackendCPU` (made by the registered 'cpu' factory), so tensors are plain JS typed arrays
 * and every cpu kernel works on it unchanged: we re-register all of them for 'tudui-native' and override the hot
 * ones: convolutions and their gradients, pooling and its gradients, matrix products and
 * outer-axis sums here; element-wise activations and math, broadcasting arithmetic, softmax, batch norm, pad and
 * slice, and the fused layer kernels (fused-kernels.ts) in native-ops.ts. The addon works on the typed arrays
 * without copying. Anything else (NCHW, other dtypes) falls back to the cpu kernel, and is counted
 * (`nativeKernelStats`: the bench and the tests require zero fallbacks in a training step of every zoo network).
 *
 * Semantics match the cpu backend (checked by test/native.test.ts), with one deliberate difference: AvgPoolGrad
 * divides by the number of in-bounds cells of each window (the true gradient of AvgPool with 'same' padding);
 * tfjs's cpu kernel divides by the full window size. Both agree for 'valid' padding.
 *
 * Two shortcuts for the training step:
 * - Conv2DBackpropInput is lazy: its output tensor is registered at once, but the addon only fills it when someone
 *   reads it. tf.layers' conv layers use the fused conv op, whose gradient always computes the input gradient; for
 *   the first layer (input = data, not a variable) the tape throws it away unread, so it costs nothing here.
 * - Conv2DBackpropFilter also gets dy's sum over N, H, W from oneDNN and keeps it for the bias gradient's Sum over
 *   the same dy that follows.
 *
 * - Large output arrays of the native kernels are recycled when tfjs disposes their tensors (`ArrayPool`): no
 *   fresh zero-filled ArrayBuffers per step, so no "external memory pressure" garbage collections (the seed net's
 *   step ran a mark-compact every step or two). TUDUI_NATIVE_RECYCLE=0 turns it off.
 *
 * Threads: oneDNN and the pooling loops use OpenMP (OMP_NUM_THREADS, default every core), with passive waiting
 * (see loadNativeAddon). Debug switches: TUDUI_NATIVE_ADDON (addon path), TUDUI_NATIVE_LAZY=0 (compute
 * Conv2DBackpropInput at once), TUDUI_NATIVE_RECYCLE=0 (no ArrayPool).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TF from '@tensorflow/tfjs';
import { registerFusedGradients } from './fused-kernels.js';
import { copyBoxGeom, makeOpKernels, sizeOf, type CpuBackend, type KernelArgs, type KernelImpl } from './native-ops.js';

type Tf = typeof TF;
type TensorInfo = TF.TensorInfo;
type KernelConfig = TF.KernelConfig;
type NamedAttrMap = TF.NamedAttrMap;

export const NATIVE_BACKEND_NAME = 'tudui-native';

/** The addon's functions (native/src/*.cc, one file per family). All synchronous; outputs are preallocated by the caller. */
export interface NativeAddon {
  convForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, geom: Int32Array): void;
  convBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Int32Array): void;
  convBackwardWeights(x: Float32Array, dy: Float32Array, dw: Float32Array, dbias: Float32Array | null, geom: Int32Array): void;
  maxPool(x: Float32Array, y: Float32Array, geom: Int32Array): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geom: Int32Array): void;
  avgPool(x: Float32Array, y: Float32Array, geom: Int32Array): void;
  avgPoolGrad(dy: Float32Array, dx: Float32Array, geom: Int32Array): void;
  matMul(a: Float32Array, b: Float32Array, c: Float32Array, geom: Int32Array): void;
  sumOuter(x: Float32Array, out: Float32Array, outer: number, inner: number): void;
  sumInner(x: Float32Array, out: Float32Array, outer: number, inner: number): void;
  addBias(y: Float32Array, bias: Float32Array | null, rows: number, cols: number, relu: boolean): void;
  info(): string;
  setNumThreads(n: number): number;
  // native/src/eltwise.cc (used by native-ops.ts)
  eltwise(alg: number, x: Float32Array, y: Float32Array, alpha: number, beta: number): void;
  eltwiseGrad(alg: number, v: Float32Array, dy: Float32Array, dx: Float32Array, alpha: number, beta: number): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void;
  softmaxXent(logits: Float32Array, labels: Int32Array, loss: Float32Array, probs: Float32Array, rows: number, cols: number, smoothing: number): void;
  /** Training: mean and variance are written (the batch's); inference: they are read. */
  batchNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, dims: Int32Array, eps: number, training: boolean): void;
  batchNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, dims: Int32Array, eps: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, geom: Int32Array): void;
  copyBox(src: Float32Array, dst: Float32Array, geom: Int32Array, fill: number): void;
  /** tf.dropout's multiplier from alea state [c, s0, s1, s2] (native-ops.ts). */
  dropoutMask(state: Float64Array, keep: number, mask: Float32Array): void;
  // In-place optimizer updates (src/train/optimizers.ts); scalars as float32.
  sgdUpdate(p: Float32Array, g: Float32Array, momentum: Float32Array | null, scalars: Float32Array): void;
  adamUpdate(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, scalars: Float32Array): void;
  rmspropUpdate(p: Float32Array, g: Float32Array, square: Float32Array, momentum: Float32Array | null, scalars: Float32Array): void;
}

/**
 * Version tokens of float32 arrays, for the addon's reorder cache (native/src/conv.cc run_entry): equal tokens
 * promise equal contents. Tensor data never changes, with two exceptions, each of which forgets the token: the
 * in-place optimizer updates (src/train/optimizers.ts) and arrays recycled by the output pool.
 */
const tokens = new WeakMap<Float32Array, number>();
let nextToken = 1;
export function arrayToken(a: Float32Array): number {
  let t = tokens.get(a);
  if (t === undefined) {
    t = nextToken;
    nextToken = nextToken >= 0x7ffffffe ? 1 : nextToken + 1;
    tokens.set(a, t);
  }
  return t;
}
export function forgetArrayToken(a: Float32Array): void {
  tokens.delete(a);
}

/** Where the built addon lives: <package>/native/build/Release/tudui_native.node (from src/ or dist/), or $TUDUI_NATIVE_ADDON. */
export function nativeAddonPath(): string {
  if (process.env.TUDUI_NATIVE_ADDON) return path.resolve(process.env.TUDUI_NATIVE_ADDON);
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'native', 'build', 'Release', 'tudui_native.node');
}

let addon: NativeAddon | undefined;
let addonError: string | undefined;

/** Load the addon (once); the addon, or one line saying why it is unavailable. */
export function loadNativeAddon(): NativeAddon | string {
  if (addon) return addon;
  if (addonError) return addonError;
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    addonError =
      `the tudui-native addon is not built (${path.relative(process.cwd(), file) || file} missing; ` +
      'install libdnnl-dev, then run `npm run build:native`)';
    return addonError;
  }
  try {
    // OpenMP's default is to spin while waiting for work. Between our kernels the main thread runs JS (the cpu
    // kernels, the tape), and on a busy machine spinning workers steal its core: measured 4-8× slower steps under
    // load. Passive waiting costs a futex wake per parallel region (microseconds). Read by libgomp when the addon
    // loads it, so it must be set before require(); an explicit user setting wins.
    if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
      process.env.OMP_WAIT_POLICY = 'passive';
    }
    const require = createRequire(import.meta.url);
    addon = require(file) as NativeAddon;
    return addon;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    addonError = `the tudui-native addon failed to load: ${msg.split('\n')[0]}`;
    return addonError;
  }
}

/** Human-readable description of the loaded addon (oneDNN version, threads), or undefined when not loaded. */
export function nativeInfo(): string | undefined {
  return addon?.info();
}

// ------------------------------------------------------------------------------------------------ helpers

function f32(backend: CpuBackend, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : undefined;
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

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
 * Recycles the large float32 arrays of native kernel outputs when tfjs disposes their tensors, so a training step
 * reuses last step's buffers instead of allocating ~30 MB of fresh zero-filled ArrayBuffers: those allocations cost
 * their zero fill and, worse, make V8 run a scavenge plus a mark-compact every step or two for "external memory
 * pressure" (~5-7 ms per step of the seed net). Only arrays nobody else can still see are reused:
 * - allocated by `take` (native kernel outputs), never handed in from outside;
 * - never read out (`read`/`readSync`: dataSync(), data(), array() return the live array on this backend);
 * - never an input of a tfjs cpu kernel (some return views of their input, e.g. a simple Slice's subarray);
 * - not captured by a lazy Conv2DBackpropInput that has not run yet (`pin`).
 * TUDUI_NATIVE_RECYCLE=0 turns it off.
 */
class ArrayPool {
  static readonly MIN = 1 << 16;
  private static readonly PER_SIZE = 32;
  private static readonly MAX_BYTES = 1024 * 1024 * 1024;
  private readonly owned = new WeakSet<Float32Array>();
  private readonly pinned = new Map<Float32Array, number>();
  /** Pinned arrays whose tensors were disposed: recycled when the last pin goes. */
  private readonly orphans = new WeakSet<Float32Array>();
  private readonly free = new Map<number, Float32Array[]>();
  private bytes = 0;
  /** Data ids of lazy outputs: their `values` getter computes, so disposal must not touch it. */
  readonly lazy = new WeakMap<object, () => Float32Array | undefined>();

  take(n: number): Float32Array {
    const list = this.free.get(n);
    const a = list?.pop();
    if (a) {
      this.bytes -= n * 4;
      forgetArrayToken(a);
      return a;
    }
    const b = new Float32Array(n);
    this.owned.add(b);
    return b;
  }

  /** `a` may now be visible outside the backend's kernels: never recycle it. */
  escape(a: unknown): void {
    if (a instanceof Float32Array) this.owned.delete(a);
  }

  pin(a: Float32Array): void {
    if (this.owned.has(a)) this.pinned.set(a, (this.pinned.get(a) ?? 0) + 1);
  }

  unpin(a: Float32Array): void {
    const n = this.pinned.get(a);
    if (n === undefined) return;
    if (n > 1) {
      this.pinned.set(a, n - 1);
      return;
    }
    this.pinned.delete(a);
    if (this.orphans.has(a)) {
      this.orphans.delete(a);
      this.give(a);
    }
  }

  private give(a: Float32Array): void {
    if (!this.owned.has(a)) return;
    if (this.pinned.has(a)) {
      this.orphans.add(a);
      return;
    }
    if (this.bytes + a.length * 4 > ArrayPool.MAX_BYTES) return;
    let list = this.free.get(a.length);
    if (!list) this.free.set(a.length, (list = []));
    if (list.length >= ArrayPool.PER_SIZE || list.includes(a)) return;
    list.push(a);
    this.bytes += a.length * 4;
  }

  /** Hooks one backend instance's reads and disposals. */
  attach(backend: PoolBackend): void {
    const { data } = backend;
    const readSync = backend.readSync.bind(backend);
    const read = backend.read.bind(backend);
    const disposeData = backend.disposeData.bind(backend);
    backend.readSync = (dataId) => {
      const v = readSync(dataId);
      this.escape(v);
      return v;
    };
    backend.read = async (dataId) => {
      const v = await read(dataId);
      this.escape(v);
      return v;
    };
    backend.disposeData = (dataId, force) => {
      const lazy = this.lazy.get(dataId);
      const values = lazy ? lazy() : data.get(dataId)?.values;
      const r = disposeData(dataId, force);
      if (values instanceof Float32Array && values.length >= ArrayPool.MIN && !data.has(dataId)) this.give(values);
      return r;
    };
  }
}

/** The parts of MathBackendCPU the pool hooks. */
interface PoolBackend {
  data: { get(dataId: object): { values?: unknown } | undefined; has(dataId: object): boolean };
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
  disposeData(dataId: object, force?: boolean): boolean;
}

// ------------------------------------------------------------------------------------------------ kernels

function makeKernels(
  tf: Tf, nat: NativeAddon, cpu: Map<string, KernelConfig>, arrays: ArrayPool | undefined, noteFallback: () => void,
): Record<string, KernelImpl> {
  const bu = tf.backend_util;
  // TUDUI_NATIVE_LAZY=0 computes Conv2DBackpropInput eagerly (profiling; or if laziness ever surprises).
  const lazy = process.env.TUDUI_NATIVE_LAZY !== '0';
  /** Output buffer for a native kernel: recycled for large tensors (see ArrayPool). */
  const out32 = (n: number): Float32Array => (arrays && n >= ArrayPool.MIN ? arrays.take(n) : new Float32Array(n));

  /** Whether tfjs is recording a gradient tape: kernels run outside one need no state for a backward pass. */
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  const recording = (): boolean => engine.isTapeOn?.() ?? true;
  /** The rows and columns a cropped conv reads, as a dense [N, h, w, C] array. */
  const cropInput = (xv: Float32Array, shape: readonly number[], [h, w]: [number, number]): Float32Array => {
    const dst = [shape[0]!, h, w, shape[3]!];
    const out = new Float32Array(sizeOf(dst));
    nat.copyBox(xv, out, copyBoxGeom(shape, dst, [0, 0, 0, 0]), 0);
    return out;
  };
  const cpuFn = (name: string): KernelImpl => {
    noteFallback();
    const k = cpu.get(name);
    if (!k) throw new Error(`tudui-native: the cpu backend has no kernel ${name}`);
    return k.kernelFunc as unknown as KernelImpl;
  };
  /** A tfjs cpu kernel may return a view of an input's array: those arrays are never recycled. */
  const escapeInputs = (args: KernelArgs): void => {
    if (!arrays) return;
    for (const t of Object.values(args.inputs)) if (t) arrays.escape(args.backend.data.get(t.dataId).values);
  };
  const fallback = (name: string, args: KernelArgs): TensorInfo | TensorInfo[] => {
    escapeInputs(args);
    return cpuFn(name)(args);
  };
  const single = (r: TensorInfo | TensorInfo[]): TensorInfo => (Array.isArray(r) ? r[0]! : r);

  /** Apply a fused activation (other than linear/relu, which the addon does) with the cpu kernels. */
  const activate = (
    backend: CpuBackend, x: TensorInfo, activation: string, prelu: TensorInfo | undefined, alpha: number | undefined,
  ): TensorInfo => {
    let out: TensorInfo;
    switch (activation) {
      case 'linear': return x;
      case 'relu': out = single(cpuFn('Relu')({ inputs: { x }, backend })); break;
      case 'relu6': out = single(cpuFn('Relu6')({ inputs: { x }, backend })); break;
      case 'elu': out = single(cpuFn('Elu')({ inputs: { x }, backend })); break;
      case 'sigmoid': out = single(cpuFn('Sigmoid')({ inputs: { x }, backend })); break;
      case 'leakyrelu':
        out = single(cpuFn('LeakyRelu')({ inputs: { x }, backend, attrs: { alpha: alpha ?? 0.2 } }));
        break;
      case 'prelu':
        if (!prelu) throw new Error('tudui-native: prelu activation without weights');
        out = single(cpuFn('Prelu')({ inputs: { x, alpha: prelu }, backend }));
        break;
      default: throw new Error(`tudui-native: unknown fused activation '${activation}'`);
    }
    backend.disposeIntermediateTensorInfo(x);
    return out;
  };

  /** Adds a bias the addon cannot broadcast itself, with the cpu Add kernel. */
  const addGeneric = (backend: CpuBackend, x: TensorInfo, bias: TensorInfo): TensorInfo => {
    const out = single(cpuFn('Add')({ inputs: { a: x, b: bias }, backend }));
    backend.disposeIntermediateTensorInfo(x);
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
    // [16]: inference (no tape); [17]: the filter's version token, so a constant filter is reordered only once.
    const geom = Int32Array.from([...g.geom, recording() ? 0 : 1, arrayToken(wv)]);
    const y = out32(sizeOf(info.outShape));
    nat.convForward(g.crop ? cropInput(xv, x.shape, g.crop) : xv, wv, nativeBias ? bv! : null, y, geom);
    let out = backend.makeTensorInfo(info.outShape, 'float32', y);
    if (bias && !nativeBias) out = addGeneric(backend, out, bias);
    if (activation !== 'linear' && geom[15] !== 1) out = activate(backend, out, activation, prelu, attrs.leakyreluAlpha);
    return out;
  };

  /**
   * A float32 output computed on first read (TUDUI_NATIVE_LAZY=0: at once). For the gradients tfjs computes and then
   * drops: its fused conv and matmul gradients always compute the input's gradient, which for the first layer
   * (input = data) the tape throws away unread. The input arrays are captured (tfjs never mutates tensor data; the
   * in-place optimizer runs only after the backward pass has read every gradient), and pinned so the pool cannot
   * reuse them before then.
   */
  const lazyOutput = (backend: CpuBackend, shape: number[], inputs: Float32Array[], compute: (out: Float32Array) => void): TensorInfo => {
    if (!lazy) {
      const out = out32(sizeOf(shape));
      compute(out);
      return backend.makeTensorInfo(shape, 'float32', out);
    }
    const out = backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
    const entry = backend.data.get(out.dataId) as { values?: unknown };
    let computed: Float32Array | undefined;
    if (arrays) {
      const pool = arrays;
      for (const a of inputs) pool.pin(a);
      pool.lazy.set(out.dataId, () => {
        // Disposed: unread, its inputs are free again (a read already unpinned them).
        if (!computed) for (const a of inputs) pool.unpin(a);
        return computed;
      });
    }
    Object.defineProperty(entry, 'values', {
      configurable: true,
      enumerable: true,
      get() {
        if (!computed) {
          computed = out32(sizeOf(shape));
          compute(computed);
          if (arrays) for (const a of inputs) arrays.unpin(a);
        }
        return computed;
      },
      set(v: unknown) {
        computed = v as Float32Array;
      },
    });
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
    const backwardData = (dx: Float32Array) => {
      if (!g.crop) return nat.convBackwardData(dyv, wv, dx, g.geom);
      // The gradient of the rows read, then zeros for the rows never read.
      const cropShape = [shape[0]!, g.crop[0], g.crop[1], shape[3]!];
      const part = new Float32Array(sizeOf(cropShape));
      nat.convBackwardData(dyv, wv, part, g.geom);
      nat.copyBox(part, dx, copyBoxGeom(cropShape, shape, [0, 0, 0, 0]), 0);
    };
    return lazyOutput(backend, shape, [dyv, wv], backwardData);
  };

  /** dy's sum over N, H, W from the last Conv2DBackpropFilter (tensor data is immutable, dataIds never reused). */
  let biasGrad: { dataId: object; values: Float32Array } | undefined;

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
    // on the same dy right after (see `sum`), instead of another pass over dy.
    const db = new Float32Array(info.outChannels);
    nat.convBackwardWeights(g.crop ? cropInput(xv, x.shape, g.crop) : xv, dyv, dw, db, g.geom);
    biasGrad = { dataId: dy.dataId, values: db };
    return backend.makeTensorInfo([...attrs.filterShape], 'float32', dw);
  };

  const poolInfo = (x: TensorInfo, attrs: TF.MaxPoolAttrs) =>
    bu.computePool2DInfo(
      x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);

  const pool = (name: 'MaxPool' | 'AvgPool'): KernelImpl => (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    if (!xv || x.shape.length !== 4) return fallback(name, args);
    const info = poolInfo(x, args.attrs as unknown as TF.MaxPoolAttrs);
    const geom = poolGeom(info);
    if (!geom) return fallback(name, args);
    const y = out32(sizeOf(info.outShape));
    if (name === 'MaxPool') nat.maxPool(xv, y, geom);
    else nat.avgPool(xv, y, geom);
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
    nat.maxPoolGrad(xv, dyv, dx, geom);
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
    if (bias && !nativeBias) out = addGeneric(backend, out, bias);
    if (activation !== 'linear' && !nativeRelu) out = activate(backend, out, activation, prelu, attrs.leakyreluAlpha);
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

  /**
   * Tile of a tensor whose leading axes are all 1 along those same leading axes ([1,1,1,C] → [N,H,W,C]: tfjs's
   * batch-norm gradient does this every step): copies of one row. Other tilings go to the cpu kernel.
   */
  const tile: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const reps = (args.attrs as unknown as TF.TileAttrs).reps;
    const xv = f32(backend, x);
    const r = x.shape.length;
    if (!xv || reps.length !== r || r === 0) return fallback('Tile', args);
    let k = 0; // number of leading axes that are tiled
    while (k < r && x.shape[k] === 1) k++;
    if (reps.slice(k).some((v) => v !== 1)) return fallback('Tile', args);
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const copies = sizeOf(reps.slice(0, k));
    const out = out32(copies * xv.length);
    for (let c = 0; c < copies; c++) out.set(xv, c * xv.length);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };

  /** Relu and Step (relu's gradient) on float32: same results as the cpu kernels, NaN included. */
  const relu: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    if (!xv) return fallback('Relu', args);
    const o = new Float32Array(xv.length);
    for (let i = 0; i < o.length; i++) { const v = xv[i]!; o[i] = v < 0 ? 0 : v; }
    return backend.makeTensorInfo([...x.shape], 'float32', o);
  };
  const step: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    if (!xv) return fallback('Step', args);
    const alpha = ((args.attrs ?? {}) as { alpha?: number }).alpha ?? 0;
    const o = new Float32Array(xv.length);
    for (let i = 0; i < o.length; i++) { const v = xv[i]!; o[i] = v !== v ? NaN : v > 0 ? 1 : alpha; }
    return backend.makeTensorInfo([...x.shape], 'float32', o);
  };

  return {
    Conv2D: (args) => conv(args, false),
    FusedConv2D: (args) => conv(args, true),
    Conv2DBackpropInput: conv2DBackpropInput,
    Conv2DBackpropFilter: conv2DBackpropFilter,
    MaxPool: pool('MaxPool'),
    AvgPool: pool('AvgPool'),
    MaxPoolGrad: maxPoolGrad,
    AvgPoolGrad: avgPoolGrad,
    BatchMatMul: batchMatMul,
    _FusedMatMul: fusedMatMul,
    Mean: mean,
    Tile: tile,
    Relu: relu,
    Step: step,
    ...makeOpKernels({ tf, nat, out32, f32, fallback, floatSum: sum, identity: (args) => single((cpu.get('Identity')!.kernelFunc as unknown as KernelImpl)(args)) }),
  };
}

/**
 * Kernel calls on 'tudui-native' since the last reset: `native` ran our code; `fallback` ran tfjs's generic cpu
 * code (a kernel we do not implement, or a case ours hands on). Reshape and Identity are not counted: they only
 * relabel a tensor's data. Read by `npm run bench` (fallbacks per training step) and the tests.
 */
export interface NativeKernelStats {
  native: Record<string, number>;
  fallback: Record<string, number>;
}
const stats = { native: new Map<string, number>(), fallback: new Map<string, number>() };
const SHAPE_ONLY = new Set(['Reshape', 'Identity']);
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export function nativeKernelStats(): NativeKernelStats {
  return { native: Object.fromEntries(stats.native), fallback: Object.fromEntries(stats.fallback) };
}
export function resetNativeKernelStats(): void {
  stats.native.clear();
  stats.fallback.clear();
}

export interface NativeLoadOptions {
  /** OpenMP threads for the addon (default: OMP_NUM_THREADS, else every core). */
  threads?: number;
}

/**
 * Register the 'tudui-native' backend (does not activate it): true, or one line saying why it can't.
 * Idempotent. Call `tf.setBackend('tudui-native')` afterwards.
 */
export async function loadNativeBackend(tf: Tf, opts: NativeLoadOptions = {}): Promise<true | string> {
  const nat = loadNativeAddon();
  if (typeof nat === 'string') return nat;
  if (opts.threads !== undefined && opts.threads > 0) nat.setNumThreads(opts.threads);
  if (tf.findBackendFactory(NATIVE_BACKEND_NAME)) return true;
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory) return "tfjs's cpu backend is not registered";
  const cpuKernels = tf.getKernelsForBackend('cpu');
  if (cpuKernels.length === 0) return "tfjs's cpu backend has no kernels";
  const cpu = new Map(cpuKernels.map((k) => [k.kernelName, k]));
  const pool = process.env.TUDUI_NATIVE_RECYCLE === '0' ? undefined : new ArrayPool();
  let fellBack = false;
  const kernels = makeKernels(tf, nat, cpu, pool, () => { fellBack = true; });
  for (const k of cpuKernels) {
    if (k.kernelName in kernels) continue;
    const f = k.kernelFunc as unknown as KernelImpl;
    const name = k.kernelName;
    // With the pool, the cpu kernels' inputs are marked as seen (see ArrayPool); Identity and Reshape only share
    // the input's data id (reference-counted), never its array under another id.
    const shapeOnly = SHAPE_ONLY.has(name);
    const kernelFunc: KernelImpl = shapeOnly
      ? f
      : (args) => {
        bump(stats.fallback, name);
        if (pool) for (const t of Object.values(args.inputs)) if (t) pool.escape(args.backend.data.get(t.dataId).values);
        return f(args);
      };
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as unknown as TF.KernelFunc });
  }
  for (const [kernelName, fn] of Object.entries(kernels)) {
    const counted: KernelImpl = (args) => {
      const outer = fellBack;
      fellBack = false;
      const r = fn(args);
      bump(fellBack ? stats.fallback : stats.native, kernelName);
      fellBack = outer;
      return r;
    };
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: counted as unknown as TF.KernelFunc });
  }
  registerFusedGradients(tf);
  // Priority 0: never chosen implicitly over 'cpu'; selectBackend activates it explicitly.
  tf.registerBackend(NATIVE_BACKEND_NAME, () => {
    const backend = cpuFactory() as TF.KernelBackend;
    pool?.attach(backend as unknown as PoolBackend);
    return backend;
  }, 0);
  return true;
}
