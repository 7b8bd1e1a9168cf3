/**
 * The WebAssembly backend (XNNPACK) in Node, with SIMD and real multi-threading, plus our training kernels.
 *
 * Why this file re-registers the 'wasm' backend instead of calling `tf.setBackend('wasm')` on the package's own
 * factory: the package's `init()` disables threads in Node (`WASM_HAS_MULTITHREAD_SUPPORT` is hard-wired to false
 * there, tfjs#3830) and, if forced on, hands Emscripten two `blob:` URLs (the pthread worker script and the main
 * script) that Node's `worker_threads.Worker` cannot open. We drive the same Emscripten factory
 * (`wasm-out/tfjs-backend-wasm-threaded-simd.js`) ourselves with file paths instead:
 *   - the worker script (`wasmWorkerContents`) is written once to a file in the OS temp directory
 *     (its `"\n"` escapes must be re-escaped, as the package does before making its Blob);
 *   - `mainScriptUrlOrBlob` is the glue file's own path (the worker `importScripts`es it with fs + eval);
 *   - the `.wasm` binary comes from the package's dist directory (resolved with createRequire).
 * The C++ side caps the pool at `emscripten_num_logical_cores() / 2` (hyper-threading guess), evaluated in a static
 * initialiser; Emscripten answers that from `os.cpus().length`, so while the module instantiates we make `os.cpus`
 * report at least 2 × the requested thread count (restored right after). The glue pre-spawns 8 workers, which is
 * also the C++ maximum, so up to 8 threads work.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type * as TF from '@tensorflow/tfjs';
import { activate, type LoadedBackend, type ProviderContext } from './provider.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

type Tf = typeof TF;
const require = createRequire(import.meta.url);

export interface WasmLoadOptions {
  /** XNNPACK threads; default: logical cores (max 8). 1 uses the plain SIMD build without workers. */
  threads?: number;
}

export interface WasmInfo {
  threads: number;
  simd: boolean;
  build: string;
}

let loaded: WasmInfo | undefined;

/** Default thread count: every logical core (the package's default halves it), capped at the 8 pre-spawned workers. */
export function defaultWasmThreads(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, n));
}

function wasmDistDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

function threadedWorkerFile(contents: string): string {
  const text = contents.replace(/\n/g, '\\n');
  const hash = createHash('sha1').update(text).digest('hex').slice(0, 12);
  const file = path.join(os.tmpdir(), `tudui-tfjs-wasm-worker-${hash}.cjs`);
  try {
    if (fs.readFileSync(file, 'utf8') === text) return file;
  } catch {
    // not there yet
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return file;
}

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  tfjs?: Record<string, unknown>;
  [k: string]: unknown;
}

async function instantiateThreaded(threads: number): Promise<EmscriptenModule> {
  const gluePath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  const factory = require(gluePath) as (cfg: Record<string, unknown>) => Promise<EmscriptenModule>;
  const workerFile = threadedWorkerFile(wasmWorkerContents);
  const wasmFile = path.join(wasmDistDir(), 'tfjs-backend-wasm-threaded-simd.wasm');
  const realCpus = os.cpus;
  const fakeCount = 2 * threads;
  os.cpus = () => {
    const c = realCpus.call(os);
    if (c.length >= fakeCount || c.length === 0) return c;
    return Array.from({ length: fakeCount }, (_, i) => c[i % c.length]!);
  };
  let mod: EmscriptenModule;
  try {
    mod = await factory({
      locateFile: (p: string, prefix: string) =>
        p.endsWith('.worker.js') ? workerFile : p.endsWith('.wasm') ? wasmFile : prefix + p,
      mainScriptUrlOrBlob: gluePath,
    });
  } finally {
    os.cpus = realCpus;
  }
  mod.tfjs = {
    init: mod.cwrap('init', null, []),
    initWithThreadsCount: mod.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: mod.cwrap('get_threads_count', 'number', []),
    registerTensor: mod.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: mod.cwrap('dispose_data', null, ['number']),
    dispose: mod.cwrap('dispose', null, []),
  };
  return mod;
}

/**
 * Registers (once per process) the 'wasm' backend configured for Node and our training kernels, and makes it the
 * active backend; BackendUnavailable when it does not initialise. The thread count is fixed by the first call:
 * XNNPACK's pool cannot be resized in-process.
 */
export async function loadWasmBackend(tf: Tf, opts: WasmLoadOptions = {}): Promise<WasmInfo> {
  if (loaded && tf.findBackend('wasm')) {
    await activate(tf, 'wasm');
    return loaded;
  }
  const wasmPkg = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const requested = Math.max(1, Math.min(8, Math.floor(opts.threads ?? defaultWasmThreads())));
  const threaded = requested > 1 && simd && typeof SharedArrayBuffer === 'function';
  wasmPkg.setWasmPaths(wasmDistDir() + path.sep);
  wasmPkg.setThreadsCount(threaded ? requested : 1);
  if (threaded) {
    // The package's flag says "no threads in Node"; we do provide them, so say so for anyone who asks.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    const BackendWasm = wasmPkg.BackendWasm as unknown as new (m: EmscriptenModule) => TF.KernelBackend;
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', async () => new BackendWasm(await instantiateThreaded(requested)), 2);
  }
  registerWasmTrainingKernels(tf);
  await activate(tf, 'wasm');
  if (threaded) {
    // XNNPACK's pool threads live in worker_threads that Emscripten ref()s while they run; they would keep Node
    // alive forever after training ends. They only ever wait for work from us, so let the process exit.
    const pthread = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers: Array<{ unref?(): void }>; unusedWorkers: Array<{ unref?(): void }> } } })
      .wasm?.PThread;
    for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref?.();
  }
  const threads = wasmPkg.getThreadsCount();
  loaded = {
    threads,
    simd,
    build: threaded ? 'threaded-simd' : simd ? 'simd' : 'plain',
  };
  return loaded;
}

/** The 'wasm' provider's loader (src/backends/index.ts). */
export async function loadWasmProvider({ tf, threads }: ProviderContext): Promise<LoadedBackend> {
  const info = await loadWasmBackend(tf, threads === undefined ? {} : { threads });
  return {
    backend: 'wasm',
    description: `WebAssembly/XNNPACK (${info.build}, ${info.threads} thread${info.threads === 1 ? '' : 's'}) with tudui training kernels`,
  };
}
