/**
 * Device / backend selection.
 *
 * Nothing here imports TensorFlow.js at module load: every provider loads its modules inside `load()`, so the CLI
 * starts without tfjs. A provider is one way of getting a tfjs backend; `PROVIDERS` lists them best first:
 *   gpu: tfjs-node-gpu (CUDA, cuda.ts), webgpu (Dawn, webgpu.ts)
 *   cpu: tfjs-node (libtensorflow), tudui-native (our addon, src/backends/native.ts), wasm (XNNPACK + our training
 *        kernels, multi-threaded in Node, see wasm.ts), cpu (pure JS, always there)
 * To add a backend, give its module a loader that resolves with `{ backend, description }` once the backend is
 * active and throws BackendUnavailable when it cannot be used here (provider.ts), and add
 * `defineProvider(name, kind, loader)` here (or push one onto PROVIDERS before calling selectBackend).
 *
 * tfjs-node and tfjs-node-gpu register a backend named 'tensorflow' into whatever @tensorflow/tfjs-core *they*
 * resolve. We use @tensorflow/tfjs everywhere, so before loading them we check that they resolve the same
 * tfjs-core file as we do, and after loading that 'tensorflow' is registered in our engine.
 */
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { NATIVE_BACKEND_NAME } from './js-array-backends.js';
import { activate, BackendUnavailable, defineProvider, firstLine, isModuleNotFound } from './provider.js';
import type { BackendProvider, DeviceKind, LoadedBackend, ProviderContext, Tf } from './provider.js';

export type { BackendProvider, DeviceKind, ProviderContext, ProviderResult, Tf } from './provider.js';
/** The experiment's `device:` (declared once, with the CLI's --device, in src/config/devices.ts). */
import type { Device } from '../config/devices.js';

export type { Device };

export interface SelectOptions {
  /** Where to print the choice (and, for auto, why better candidates were skipped). Default: nothing printed. */
  log?: (line: string) => void;
  /** Threads for the wasm backend and the tudui-native addon (default: logical cores; wasm at most 8). */
  threads?: number;
  /** Use exactly this provider (`tudui devices` lists them): no fallback; an error says why it does not load. */
  backend?: string;
}

/** Provider names, for `--backend` (in the order `auto` tries them). */
export function backendNames(): string[] {
  return PROVIDERS.map((p) => p.name);
}

export interface SelectedBackend {
  tf: Tf;
  /** tfjs backend name now active: 'tensorflow', 'tudui-native', 'wasm', 'cpu', ... */
  name: string;
  /** One line for humans: what runs the maths, with versions/threads where known. */
  description: string;
}

const require = createRequire(import.meta.url);

/** Which tfjs-node flavour (if any) this process has loaded: both register 'tensorflow' and cannot coexist. */
let tensorflowLoadedBy: string | undefined;

async function loadTfjsNode(tf: Tf, spec: '@tensorflow/tfjs-node'): Promise<LoadedBackend> {
  const install = `npm install ${spec}`;
  let entry: string;
  try {
    entry = require.resolve(spec);
  } catch {
    throw new BackendUnavailable(`${spec} is not installed`, install);
  }
  if (!tensorflowLoadedBy && spec === '@tensorflow/tfjs-node' && (await import('./cuda.js')).tfjsNodeGpuImported()) {
    tensorflowLoadedBy = '@tensorflow/tfjs-node-gpu';
  }
  if (tensorflowLoadedBy && tensorflowLoadedBy !== spec) {
    throw new BackendUnavailable(`not probed: ${tensorflowLoadedBy} already loaded libtensorflow in this process`);
  }
  try {
    const ours = require.resolve('@tensorflow/tfjs-core');
    const theirs = createRequire(entry).resolve('@tensorflow/tfjs-core');
    if (ours !== theirs) {
      throw new BackendUnavailable(
        `${spec} resolves its own @tensorflow/tfjs-core (${theirs}) instead of ours (${ours}); install the version matching @tensorflow/tfjs ${tf.version.tfjs}`,
        `${install}@${tf.version.tfjs}`,
      );
    }
  } catch (e) {
    if (e instanceof BackendUnavailable) throw e;
    // its tfjs-core could not be resolved from its folder: the import below reports it
  }
  if (!tensorflowLoadedBy) {
    try {
      await import(spec);
    } catch (e) {
      if (isModuleNotFound(e, spec)) throw new BackendUnavailable(`${spec} is not installed`, install);
      throw new BackendUnavailable(`${spec} is installed but failed to load: ${firstLine(e)}`);
    }
    tensorflowLoadedBy = spec;
  }
  if (!tf.findBackendFactory('tensorflow')) {
    throw new BackendUnavailable(`${spec} loaded but did not register 'tensorflow' into our @tensorflow/tfjs-core (two copies of tfjs-core?)`);
  }
  await activate(tf, 'tensorflow');
  const version = (tf.version as Record<string, string>)['tfjs-node'] ?? '';
  return { backend: 'tensorflow', description: `libtensorflow via ${spec}${version ? ` ${version}` : ''}` };
}

/** Each provider's loader lives with its backend and is imported only when the provider is tried. */
export const PROVIDERS: BackendProvider[] = [
  // CUDA via tfjs-node-gpu: src/backends/cuda.ts (library preflight, no silent CPU fallback).
  defineProvider('tfjs-node-gpu', 'gpu', async (ctx) => (await import('./cuda.js')).loadCudaProvider(ctx)),
  // WebGPU via Dawn: src/backends/webgpu.ts.
  defineProvider('webgpu', 'gpu', async (ctx) => (await import('./webgpu.js')).loadWebgpuProvider(ctx)),
  defineProvider('tfjs-node', 'cpu', ({ tf }) => loadTfjsNode(tf, '@tensorflow/tfjs-node')),
  // Our oneDNN addon: src/backends/native.ts.
  defineProvider(NATIVE_BACKEND_NAME, 'cpu', async (ctx) => (await import('./native.js')).loadNativeProvider(ctx)),
  // XNNPACK, multi-threaded, with our training kernels: src/backends/wasm.ts.
  defineProvider('wasm', 'cpu', async (ctx) => (await import('./wasm.js')).loadWasmProvider(ctx)),
  defineProvider('cpu', 'cpu', async ({ tf }) => {
    await activate(tf, 'cpu');
    return { backend: 'cpu', description: 'pure JavaScript (slow)' };
  }),
];

async function loadTf(): Promise<Tf> {
  return (await import('@tensorflow/tfjs')) as Tf;
}

/**
 * Activates the best backend for `device` and returns the tfjs namespace. `gpu` never falls back: when no GPU
 * provider loads it throws a UserError naming what is missing. `auto` tries GPU providers then CPU ones and logs
 * the choice and why the better candidates were skipped.
 */
export async function selectBackend(device: Device, opts: SelectOptions = {}): Promise<SelectedBackend> {
  if (device !== 'auto' && device !== 'cpu' && device !== 'gpu') {
    throw new UserError(`unknown device '${String(device)}' (expected auto, cpu or gpu)`);
  }
  const tf = await loadTf();
  const log = opts.log ?? (() => {});
  if (opts.backend !== undefined && !PROVIDERS.some((p) => p.name === opts.backend)) {
    throw new UserError(`unknown backend '${opts.backend}' (expected one of ${backendNames().join(', ')})`);
  }
  const named = PROVIDERS.find((p) => p.name === opts.backend);
  if (named && device !== 'auto' && named.kind !== device) {
    throw new UserError(`backend ${named.name} is a ${named.kind} backend, but device ${device} was asked for`, `drop --backend, or use device: ${named.kind}`);
  }
  const candidates = named ? [named] : PROVIDERS.filter((p) => device === 'auto' || p.kind === device);
  const skipped: Array<{ provider: BackendProvider; reason: string; install?: string }> = [];
  const ctx: ProviderContext = opts.threads === undefined ? { tf } : { tf, threads: opts.threads };
  for (const provider of candidates) {
    const r = await provider.load(ctx);
    if (r.ok) {
      const why = skipped.length ? ` (skipped: ${skipped.map((s) => `${s.provider.name}: ${s.reason}`).join('; ')})` : '';
      log(`device ${device}: using ${provider.name}: ${r.description}${device === 'auto' || device === 'cpu' ? why : ''}`);
      // tfjs's CPU backend (which tudui-native extends) advertises tfjs-node on first use; the choice is made.
      const active = tf.backend() as { firstUse?: boolean };
      if ('firstUse' in active) active.firstUse = false;
      return { tf, name: r.backend, description: r.description };
    }
    skipped.push({ provider, reason: r.reason, ...(r.install ? { install: r.install } : {}) });
  }
  if (named) {
    const s0 = skipped[0]!;
    throw new UserError(`backend ${named.name} does not load: ${s0.reason}`, s0.install ?? 'tudui devices lists the backends this machine offers');
  }
  if (device === 'gpu') {
    const installs = [...new Set(skipped.map((s) => s.install).filter((x): x is string => !!x))];
    throw new UserError(
      `device gpu requested but no GPU backend loads: ${skipped.map((s) => `${s.provider.name}: ${s.reason}`).join('; ')}`,
      installs.length
        ? `${installs.join(' or ')} (Linux x64 with an NVIDIA driver, CUDA 11.2 and cuDNN 8.1), or use device: cpu`
        : 'use device: cpu, or fix the GPU setup above',
    );
  }
  throw new Error(`no CPU backend could be initialised: ${skipped.map((s) => `${s.provider.name}: ${s.reason}`).join('; ')}`);
}

export interface DeviceInfo {
  name: string;
  kind: DeviceKind;
  loads: boolean;
  /** tfjs backend name when it loads. */
  backend?: string;
  description?: string;
  /** Why it does not load. */
  reason?: string;
  install?: string;
}

/**
 * Probes every provider (this loads them: call it from a process that is not going to train, e.g. `tudui devices`).
 * Leaves the last probed backend that loaded (the pure-JS cpu one) active.
 */
export async function listDevices(opts: { threads?: number } = {}): Promise<DeviceInfo[]> {
  const tf = await loadTf();
  const ctx: ProviderContext = opts.threads === undefined ? { tf } : { tf, threads: opts.threads };
  const out: DeviceInfo[] = [];
  for (const p of PROVIDERS) {
    const r = await p.load(ctx);
    out.push(
      r.ok
        ? { name: p.name, kind: p.kind, loads: true, backend: r.backend, description: r.description }
        : { name: p.name, kind: p.kind, loads: false, reason: r.reason, ...(r.install ? { install: r.install } : {}) },
    );
  }
  return out;
}
