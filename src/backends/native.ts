/**
 * 'tudui-native': TensorFlow.js's pure-JS cpu backend with the heavy kernels replaced by oneDNN through a Node-API
 * addon (native/, built at install by scripts/build-native.mjs when libdnnl-dev is present).
 *
 * The backend *is* a `MathBackendCPU` (made by the registered 'cpu' factory), so tensors are plain JS typed arrays
 * and every cpu kernel works on it unchanged: we re-register all of them for 'tudui-native' and override the hot
 * ones, one file per family (each a `make*Kernels(ctx)` over the context of native-kernel.ts): convolutions and
 * their gradients (native-conv.ts), pooling and its gradients (native-pooling.ts), matrix products, sums and means
 * (native-blas.ts), element-wise activations and math, broadcasting arithmetic, softmax, batch norm, pad and slice
 * and the fused layer kernels of fused-kernels.ts (native-ops.ts). The addon works on the typed arrays without
 * copying. Anything else (NCHW, other dtypes) falls back to the cpu kernel, and is counted (`nativeKernelStats`:
 * the bench and the tests require zero fallbacks in a training step of every zoo network).
 *
 * Semantics match the cpu backend (checked by test/native.test.ts), with one deliberate difference in AvgPoolGrad
 * (native-pooling.ts).
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
import { NATIVE_BACKEND_NAME } from './js-array-backends.js';
import { activate, BackendUnavailable, firstLine, type LoadedBackend, type ProviderContext } from './provider.js';
import { ArrayPool, deferReads, type PoolBackend } from './native-arrays.js';
import { makeBlasKernels } from './native-blas.js';
import { makeConvKernels } from './native-conv.js';
import { f32, single, sizeOf, type CpuBackend, type KernelArgs, type KernelContext, type KernelImpl, type NativeAddon } from './native-kernel.js';
import { makeOpKernels } from './native-ops.js';
import { makePoolingKernels } from './native-pooling.js';

export { arrayToken, forgetArrayToken } from './native-arrays.js';
export { NATIVE_BACKEND_NAME } from './js-array-backends.js';
export type { NativeAddon } from './native-kernel.js';

type Tf = typeof TF;
type TensorInfo = TF.TensorInfo;
type KernelConfig = TF.KernelConfig;

/** Where the built addon lives: <package>/native/build/Release/tudui_native.node (from src/ or dist/), or $TUDUI_NATIVE_ADDON. */
export function nativeAddonPath(): string {
  if (process.env.TUDUI_NATIVE_ADDON) return path.resolve(process.env.TUDUI_NATIVE_ADDON);
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'native', 'build', 'Release', 'tudui_native.node');
}

let addon: NativeAddon | undefined;
let addonError: string | undefined;

/** Loads the addon (once); throws BackendUnavailable (one line: why) when it is not built or does not load. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  if (addonError) throw new BackendUnavailable(addonError);
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    addonError =
      `the tudui-native addon is not built (${path.relative(process.cwd(), file) || file} missing; ` +
      'install libdnnl-dev, then run `npm run build:native`)';
    throw new BackendUnavailable(addonError);
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
    addonError = `the tudui-native addon failed to load: ${firstLine(e)}`;
    throw new BackendUnavailable(addonError);
  }
}

/** Human-readable description of the loaded addon (oneDNN version, threads), or undefined when not loaded. */
export function nativeInfo(): string | undefined {
  return addon?.info();
}

// ------------------------------------------------------------------------------------------------ kernels

/** The context every kernel family gets (native-kernel.ts); `noteFallback` marks the running kernel's call. */
function makeContext(
  tf: Tf, nat: NativeAddon, cpuKernels: Map<string, KernelConfig>, arrays: ArrayPool | undefined, noteFallback: () => void,
): KernelContext {
  // TUDUI_NATIVE_LAZY=0 computes Conv2DBackpropInput eagerly (profiling; or if laziness ever surprises).
  const lazy = process.env.TUDUI_NATIVE_LAZY !== '0';
  /** Output buffer for a native kernel: recycled for large tensors (see ArrayPool). */
  const out32 = (n: number): Float32Array => (arrays && n >= ArrayPool.MIN ? arrays.take(n) : new Float32Array(n));
  // Not engine.isTapeOn(): it is false inside any kernel (kernelDepth > 0), i.e. always, where kernels ask.
  const engine = tf.engine() as unknown as { state?: { gradientDepth?: number } };
  const cpu = (name: string): KernelImpl => {
    noteFallback();
    const k = cpuKernels.get(name);
    if (!k) throw new Error(`tudui-native: the cpu backend has no kernel ${name}`);
    return k.kernelFunc as unknown as KernelImpl;
  };
  /** A tfjs cpu kernel may return a view of an input's array: those arrays are never recycled. */
  const escapeInputs = (args: KernelArgs): void => {
    if (!arrays) return;
    for (const t of Object.values(args.inputs)) if (t) arrays.escape(args.backend.data.get(t.dataId).values);
  };

  /**
   * A float32 output computed on first read (TUDUI_NATIVE_LAZY=0: at once). For the gradients tfjs computes and then
   * drops: its fused conv and matmul gradients always compute the input's gradient, which for the first layer
   * (input = data) the tape throws away unread; and for convolutions outside a tape, which a following pooling
   * may run together with itself (native-conv.ts). The input arrays are captured (tfjs never mutates tensor data;
   * the in-place optimizer's updates make every deferred reader of a weight compute first, see forgetArrayToken),
   * and pinned so the pool cannot reuse them before then.
   */
  const lazyOutput = (backend: CpuBackend, shape: number[], inputs: Float32Array[], compute: (out: Float32Array) => void): TensorInfo => {
    // Without the pool there is no word of a tensor's disposal, which the bookkeeping below needs: computed at once.
    if (!lazy || !arrays) {
      const out = out32(sizeOf(shape));
      compute(out);
      return backend.makeTensorInfo(shape, 'float32', out);
    }
    const pool = arrays;
    const out = backend.makeTensorInfo(shape, 'float32', new Float32Array(0));
    const entry = backend.data.get(out.dataId) as { values?: unknown };
    let computed: Float32Array | undefined;
    const run = () => {
      if (computed) return;
      computed = out32(sizeOf(shape));
      compute(computed);
      done();
    };
    // An input about to change in place (the optimizer's update of a weight) makes it compute first.
    const unregister = deferReads(inputs, run);
    const done = () => {
      unregister();
      for (const a of inputs) pool.unpin(a);
    };
    for (const a of inputs) pool.pin(a);
    // Disposed unread: its inputs are free again.
    pool.lazy.set(out.dataId, () => {
      if (!computed) done();
      return computed;
    });
    Object.defineProperty(entry, 'values', {
      configurable: true,
      enumerable: true,
      get() {
        run();
        return computed;
      },
      set(v: unknown) {
        computed = v as Float32Array;
      },
    });
    return out;
  };

  return {
    tf,
    nat,
    out32,
    f32,
    cpu,
    fallback: (name, args) => {
      escapeInputs(args);
      return cpu(name)(args);
    },
    identity: (args) => single((cpuKernels.get('Identity')!.kernelFunc as unknown as KernelImpl)(args)),
    lazyOutput,
    deferredConvs: new WeakMap(),
    recording: () => (engine.state?.gradientDepth ?? 1) > 0,
    convBiasGrad: undefined,
  };
}

/** Every kernel 'tudui-native' implements itself, by family; a name defined by two families is a bug. */
function makeKernels(ctx: KernelContext): Record<string, KernelImpl> {
  const blas = makeBlasKernels(ctx);
  const families = [makeConvKernels(ctx), makePoolingKernels(ctx), blas, makeOpKernels(ctx, blas.Sum!)];
  const kernels: Record<string, KernelImpl> = {};
  for (const family of families) {
    for (const [name, fn] of Object.entries(family)) {
      // blas's float32 Sum is wrapped by native-ops.ts's Sum (int32 and bool too).
      if (name in kernels && !(name === 'Sum' && family !== blas)) throw new Error(`tudui-native: kernel ${name} defined twice`);
      kernels[name] = fn;
    }
  }
  return kernels;
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
 * Registers the 'tudui-native' backend (does not activate it; idempotent) and resolves with true; throws
 * BackendUnavailable saying why it can't. Call `tf.setBackend('tudui-native')` afterwards.
 */
export async function loadNativeBackend(tf: Tf, opts: NativeLoadOptions = {}): Promise<true> {
  const nat = loadNativeAddon();
  if (opts.threads !== undefined && opts.threads > 0) nat.setNumThreads(opts.threads);
  if (tf.findBackendFactory(NATIVE_BACKEND_NAME)) return true;
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory) throw new BackendUnavailable("tfjs's cpu backend is not registered");
  const cpuKernels = tf.getKernelsForBackend('cpu');
  if (cpuKernels.length === 0) throw new BackendUnavailable("tfjs's cpu backend has no kernels");
  const cpu = new Map(cpuKernels.map((k) => [k.kernelName, k]));
  const pool = process.env.TUDUI_NATIVE_RECYCLE === '0' ? undefined : new ArrayPool();
  let fellBack = false;
  const kernels = makeKernels(makeContext(tf, nat, cpu, pool, () => { fellBack = true; }));
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

/** The 'tudui-native' provider's loader (src/backends/index.ts). */
export async function loadNativeProvider({ tf, threads }: ProviderContext): Promise<LoadedBackend> {
  await loadNativeBackend(tf, threads === undefined ? {} : { threads });
  await activate(tf, NATIVE_BACKEND_NAME);
  const info = nativeInfo();
  return { backend: NATIVE_BACKEND_NAME, description: `tudui-native (oneDNN addon)${info ? `: ${info}` : ''}` };
}
