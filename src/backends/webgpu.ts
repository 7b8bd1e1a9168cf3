/**
 * `device: gpu` through WebGPU: @tensorflow/tfjs-backend-webgpu on Dawn, which the `webgpu` npm package ships as a
 * prebuilt Node addon (dist/<platform>-<arch>/dawn.node). On Linux Dawn drives Vulkan, so this path needs only the
 * GPU driver and the Vulkan loader (libvulkan.so.1), no CUDA toolkit.
 *
 * Node (20) has no navigator.gpu: we create one from Dawn (`create(flags)`), copy Dawn's WebGPU globals
 * (GPUBufferUsage, GPUMapMode, ...) onto globalThis where they are missing, and register the 'webgpu' backend
 * ourselves from the adapter we probed (so the adapter named in the description is the one that computes, and an
 * adapter that is missing or software-only gives a reason instead of a crash). The package registers its own factory
 * at import time only when navigator.gpu already exists; we replace it.
 *
 * Software adapters (lavapipe, SwiftShader: `isFallbackAdapter` or architecture 'software') are refused unless
 * `allowSoftware` / TUDUI_WEBGPU_ALLOW_SOFTWARE=1: they are CPU implementations and must not pass for `device: gpu`.
 * Options for Dawn (e.g. `backend=vulkan`, `adapter=NVIDIA`) can be given in TUDUI_DAWN_OPTIONS (comma separated).
 *
 * After activation our corrected training kernels are registered over the package's (see webgpu-kernels.ts).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import type * as TF from '@tensorflow/tfjs';
import { findSharedLibrary } from './cuda.js';
import { activate, BackendUnavailable, firstLine, isModuleNotFound, type LoadedBackend, type ProviderContext } from './provider.js';
import { registerWebgpuTrainingKernels } from './webgpu-kernels.js';

type Tf = typeof TF;
const require = createRequire(import.meta.url);
const BACKEND_SPEC = '@tensorflow/tfjs-backend-webgpu';
const DAWN_SPEC = 'webgpu';

/* Minimal structural types for the parts of WebGPU we touch (lib.dom is not in this project's tsconfig). */
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(desc?: unknown): Promise<DeviceLike>;
}
interface DeviceLike {
  destroy(): void;
  lost?: Promise<{ reason?: string; message?: string }>;
}
interface GpuLike {
  requestAdapter(opts?: unknown): Promise<AdapterLike | null>;
}

export interface WebgpuLoadOptions {
  /** Accept a software (CPU) Vulkan/WebGPU adapter such as lavapipe. Default: TUDUI_WEBGPU_ALLOW_SOFTWARE=1. */
  allowSoftware?: boolean;
  /** Options for Dawn's create(). Default: TUDUI_DAWN_OPTIONS split on commas. */
  dawnOptions?: string[];
  /** Register our corrected training kernels (default true). */
  trainingKernels?: boolean;
}

export interface WebgpuInfo {
  adapter: string;
  vendor: string;
  architecture: string;
  software: boolean;
  /** How navigator.gpu came to be: 'dawn (webgpu <version>)' or 'runtime'. */
  via: string;
  /** Kernels replaced by ours. */
  kernels: string[];
}

let loaded: WebgpuInfo | undefined;
let gpuPromise: Promise<{ gpu: GpuLike; via: string }> | undefined;

function packageVersion(spec: string): string {
  try {
    const pj = require(`${spec}/package.json`) as { version?: string };
    return pj.version ?? '?';
  } catch {
    return '?';
  }
}

function envList(name: string): string[] {
  return (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** navigator.gpu: the runtime's own (Deno, browsers, a future Node) or one made from Dawn. */
async function getGpu(dawnOptions: string[]): Promise<{ gpu: GpuLike; via: string }> {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu) return { gpu: g.navigator.gpu, via: 'runtime navigator.gpu' };
  gpuPromise ??= (async () => {
    let mod: { create: (opts: string[]) => GpuLike; globals: Record<string, unknown> };
    try {
      mod = (await import(DAWN_SPEC)) as typeof mod;
    } catch (e) {
      if (isModuleNotFound(e, DAWN_SPEC)) throw new BackendUnavailable(`the '${DAWN_SPEC}' package (Dawn for Node) is not installed`, `npm install ${DAWN_SPEC}`);
      throw new BackendUnavailable(`the '${DAWN_SPEC}' package (Dawn) failed to load: ${firstLine(e)}`);
    }
    // Mesa's WSI layers complain on stderr when this is unset; we render nothing, any writable directory will do.
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = os.tmpdir();
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    const gpu = mod.create(dawnOptions);
    const nav = (g.navigator ??= {} as { gpu?: GpuLike });
    if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
    return { gpu, via: `Dawn (webgpu ${packageVersion(DAWN_SPEC)})` };
  })();
  try {
    return await gpuPromise;
  } catch (e) {
    gpuPromise = undefined;
    throw e;
  }
}

let probed = false;
/**
 * Ask Dawn for an adapter in a child process first. Where there is none, Dawn prints its Vulkan diagnostics (with
 * C++ source locations) straight to file descriptor 2, which a CLI must not show for a backend it merely skipped.
 * The child's stderr is captured; only where an adapter exists is Dawn loaded in this process.
 */
function probeInChild(dawnOptions: string[]): void {
  if (probed || (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) return;
  let dawnPath: string;
  try {
    dawnPath = require.resolve(DAWN_SPEC);
  } catch {
    return; // not installed (or bundled): getGpu reports it
  }
  const script = `
    const m = await import(${JSON.stringify(new URL(`file://${dawnPath}`).href)});
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = ${JSON.stringify(os.tmpdir())};
    Object.assign(globalThis, m.globals);
    const a = await m.create(${JSON.stringify(dawnOptions)}).requestAdapter({ powerPreference: 'high-performance' });
    process.stdout.write(a ? 'adapter' : 'none');
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0 && r.stdout === 'none') throw new BackendUnavailable(`Dawn (webgpu ${packageVersion(DAWN_SPEC)}) found no WebGPU adapter${vulkanHint()}`);
  probed = true; // an adapter exists, or the probe itself failed: either way, let the in-process path decide
}

function vulkanHint(): string {
  if (process.platform !== 'linux') return '';
  if (!findSharedLibrary('libvulkan.so.1')) return '; the Vulkan loader libvulkan.so.1 is missing (apt-get install libvulkan1)';
  const dirs = (process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES)
    ? [`VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES}`]
    : ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'].flatMap((d) => {
        try {
          return fs.readdirSync(d).map((f) => `${d}/${f}`);
        } catch {
          return [];
        }
      });
  if (!dirs.length) {
    return '; no Vulkan driver manifest (ICD) found: install the GPU driver\'s Vulkan part (NVIDIA: nvidia_icd.json) or point VK_DRIVER_FILES at it';
  }
  return `; Vulkan drivers seen: ${dirs.join(', ')} (Dawn needs Vulkan 1.1 with descriptor indexing: Mesa's lavapipe needs Mesa >= 23)`;
}

function describeAdapter(info: AdapterInfoLike): string {
  const parts = [info.description, info.device].filter((s): s is string => !!s && s.trim() !== '');
  const name = parts[0] ?? 'unnamed adapter';
  const extra = [info.vendor, info.architecture].filter((s) => !!s && s.trim() !== '').join('/');
  return extra ? `${name} [${extra}]` : name;
}

/**
 * Makes navigator.gpu, picks an adapter, registers and activates the 'webgpu' backend, registers our kernels.
 * Throws BackendUnavailable (message = the reason) when WebGPU cannot be used here.
 */
export async function loadWebgpuBackend(tf: Tf, opts: WebgpuLoadOptions = {}): Promise<WebgpuInfo> {
  if (loaded && tf.findBackend('webgpu')) {
    await activate(tf, 'webgpu');
    return loaded;
  }
  const allowSoftware = opts.allowSoftware ?? process.env.TUDUI_WEBGPU_ALLOW_SOFTWARE === '1';
  const dawnOptions = opts.dawnOptions ?? envList('TUDUI_DAWN_OPTIONS');
  probeInChild(dawnOptions);
  const { gpu, via } = await getGpu(dawnOptions);
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new BackendUnavailable(`requesting a WebGPU adapter failed: ${firstLine(e)}${vulkanHint()}`);
  }
  if (!adapter) throw new BackendUnavailable(`${via} found no WebGPU adapter${vulkanHint()}`);
  const info: AdapterInfoLike = adapter.info ?? {};
  const software = !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${info.description} ${info.device}`);
  const name = describeAdapter(info);
  if (software && !allowSoftware) {
    throw new BackendUnavailable(`the only WebGPU adapter is a software (CPU) one: ${name}; set TUDUI_WEBGPU_ALLOW_SOFTWARE=1 to use it anyway${vulkanHint()}`);
  }

  let mod: { WebGPUBackend: new (device: unknown, info?: unknown) => TF.KernelBackend };
  try {
    // A literal specifier (the cast keeps tsc from resolving an optional package) so that scripts/bundle.mjs bundles
    // it with the same @tensorflow/tfjs-core as everything else.
    mod = (await import('@tensorflow/tfjs-backend-webgpu' as string)) as typeof mod;
  } catch (e) {
    if (isModuleNotFound(e, BACKEND_SPEC)) throw new BackendUnavailable(`${BACKEND_SPEC} is not installed`, `npm install ${BACKEND_SPEC}@${tf.version.tfjs}`);
    throw new BackendUnavailable(`${BACKEND_SPEC} failed to load: ${firstLine(e)}`);
  }
  if (typeof mod.WebGPUBackend !== 'function') throw new BackendUnavailable(`${BACKEND_SPEC} does not export WebGPUBackend`);
  const theirVersion = packageVersion(BACKEND_SPEC);
  if (theirVersion !== '?' && theirVersion !== tf.version.tfjs) { // '?': bundled (scripts/bundle.mjs), same build
    throw new BackendUnavailable(`${BACKEND_SPEC} ${theirVersion} does not match @tensorflow/tfjs ${tf.version.tfjs}`, `npm install ${BACKEND_SPEC}@${tf.version.tfjs}`);
  }

  const chosen = adapter;
  const limits = chosen.limits;
  const pick = (k: string): Record<string, number> => (typeof limits[k] === 'number' ? { [k]: limits[k] as number } : {});
  const factory = async (): Promise<TF.KernelBackend> => {
    const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => chosen.features.has(f));
    const device = await chosen.requestDevice({
      requiredFeatures,
      requiredLimits: {
        ...pick('maxComputeWorkgroupStorageSize'),
        ...pick('maxComputeWorkgroupsPerDimension'),
        ...pick('maxStorageBufferBindingSize'),
        ...pick('maxBufferSize'),
        ...pick('maxComputeWorkgroupSizeX'),
        ...pick('maxComputeInvocationsPerWorkgroup'),
      },
    });
    return new mod.WebGPUBackend(device, info);
  };
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // the package's own factory, if it registered one
  tf.registerBackend('webgpu', factory, 0);
  await activate(tf, 'webgpu', ` on ${name}`);
  // Smoke test: one dispatch and a read back, so a broken device is reported here and not mid-training.
  try {
    const t = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3, 4]), tf.scalar(1)));
    const v = await t.data();
    t.dispose();
    if (v[0] !== 2 || v[3] !== 5) throw new Error(`1+1 gave ${v[0]}`);
  } catch (e) {
    throw new BackendUnavailable(`the WebGPU device on ${name} does not compute correctly: ${firstLine(e)}`);
  }
  const kernels = opts.trainingKernels === false ? [] : registerWebgpuTrainingKernels(tf);
  loaded = {
    adapter: name,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    software,
    via,
    kernels,
  };
  return loaded;
}

/** The 'webgpu' provider's loader (src/backends/index.ts). */
export async function loadWebgpuProvider({ tf }: ProviderContext): Promise<LoadedBackend> {
  const info = await loadWebgpuBackend(tf);
  return {
    backend: 'webgpu',
    description: `WebGPU via ${info.via} on ${info.adapter}${info.software ? ' (software adapter: CPU speed)' : ''}${info.kernels.length ? `, tudui kernels: ${info.kernels.join(', ')}` : ''}`,
  };
}
