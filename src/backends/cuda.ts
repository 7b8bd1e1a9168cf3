/**
 * `device: gpu` through CUDA: @tensorflow/tfjs-node-gpu (libtensorflow 2.9.1 built against CUDA 11.2 + cuDNN 8.1).
 *
 * tfjs-node-gpu has two silent failure modes that this provider turns into one-line reasons:
 *   1. its binding cannot be loaded at all (libtensorflow.so.2 missing because the install script never downloaded
 *      it, or a DT_NEEDED library missing): we parse the dlopen error and name the library;
 *   2. it loads, but libtensorflow cannot dlopen the CUDA runtime libraries (they are not DT_NEEDED: TensorFlow opens
 *      them lazily), logs "Could not load dynamic library 'libcudart.so.11.0'" on stderr and quietly runs on the CPU.
 *      We check the libraries ourselves *before* importing (the same search dlopen does: LD_LIBRARY_PATH, the
 *      ld.so cache, the default directories) and, after importing, ask the backend whether it really created a GPU
 *      device (`isUsingGpuDevice`, set by the binding from the TFE context's device list).
 * It never falls back to the CPU: a provider that is not on a GPU throws BackendUnavailable (src/backends/provider.ts).
 */
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BackendUnavailable, firstLine, type LoadedBackend, type ProviderContext } from './provider.js';

const require = createRequire(import.meta.url);
const SPEC = '@tensorflow/tfjs-node-gpu';

/** What libtensorflow 2.9.1 (tfjs-node-gpu 4.x) dlopens for its GPU device, with what provides each. */
export const CUDA_LIBRARIES: ReadonlyArray<{ soname: string; from: string }> = [
  { soname: 'libcuda.so.1', from: 'the NVIDIA driver' },
  { soname: 'libcudart.so.11.0', from: 'CUDA 11.x runtime (cuda-cudart-11-2)' },
  { soname: 'libcublas.so.11', from: 'cuBLAS for CUDA 11 (libcublas-11-2)' },
  { soname: 'libcublasLt.so.11', from: 'cuBLAS for CUDA 11 (libcublas-11-2)' },
  { soname: 'libcufft.so.10', from: 'cuFFT for CUDA 11 (libcufft-11-2)' },
  { soname: 'libcurand.so.10', from: 'cuRAND for CUDA 11 (libcurand-11-2)' },
  { soname: 'libcusolver.so.11', from: 'cuSOLVER for CUDA 11 (libcusolver-11-2)' },
  { soname: 'libcusparse.so.11', from: 'cuSPARSE for CUDA 11 (libcusparse-11-2)' },
  { soname: 'libcudnn.so.8', from: 'cuDNN 8.1 for CUDA 11.2 (libcudnn8)' },
];

const INSTALL_HINT = 'tfjs-node-gpu 4.x needs Linux x64, an NVIDIA driver, CUDA 11.2 and cuDNN 8.1 on the library path';

/**
 * Turns a dlopen / require error into "which library is missing". Handles the glibc wording
 * ("libcudnn.so.8: cannot open shared object file: No such file or directory"), the TensorFlow log wording
 * ("Could not load dynamic library 'libcudart.so.11.0'; dlerror: ...") and missing versioned symbols
 * ("version `GLIBCXX_3.4.29' not found (required by ...)").
 */
export function parseDlopenError(text: string): { library?: string; symbolVersion?: string; message: string } {
  const tfLog = /Could not load dynamic library '([^']+)'/.exec(text);
  if (tfLog?.[1]) return { library: tfLog[1], message: `${tfLog[1]} could not be loaded` };
  const open = /([A-Za-z0-9_.+-]+\.so(?:\.[0-9A-Za-z_.]+)?): cannot open shared object file/.exec(text);
  if (open?.[1]) return { library: open[1], message: `${open[1]} is missing (cannot open shared object file)` };
  const ver = /version `([^']+)' not found \(required by ([^)]+)\)/.exec(text);
  if (ver?.[1]) {
    return { symbolVersion: ver[1], message: `${ver[1]} not found (required by ${path.basename(ver[2] ?? '')}): the system library is too old` };
  }
  const undef = /undefined symbol: (\S+)/.exec(text);
  if (undef?.[1]) return { message: `undefined symbol ${undef[1]} (mismatched library versions)` };
  return { message: firstLine(text) };
}

let ldCache: Map<string, string> | undefined;

/** soname → path from `ldconfig -p` (the ld.so cache dlopen consults). Empty when ldconfig is not there. */
function ldconfigCache(): Map<string, string> {
  if (ldCache) return ldCache;
  ldCache = new Map();
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const out = execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      for (const line of out.split('\n')) {
        const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
        if (m?.[1] && m[3] && (m[2] ?? '').includes('x86-64') === (process.arch === 'x64') && !ldCache.has(m[1])) ldCache.set(m[1], m[3]);
      }
      break;
    } catch {
      // try the next spelling
    }
  }
  return ldCache;
}

/**
 * Where dlopen would find `soname` from this process (LD_LIBRARY_PATH, extra dirs such as a RUNPATH, the ld.so
 * cache, the default directories), or undefined.
 */
export function findSharedLibrary(soname: string, extraDirs: string[] = []): string | undefined {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...extraDirs,
  ];
  for (const d of dirs) {
    const p = path.join(d, soname);
    if (fs.existsSync(p)) return p;
  }
  const cached = ldconfigCache().get(soname);
  if (cached) return cached;
  for (const d of ['/lib64', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib']) {
    const p = path.join(d, soname);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** A copy of `soname` that dlopen would *not* find (CUDA toolkits install outside the default search path). */
function findOffPath(soname: string): string | undefined {
  const roots = ['/usr/local'];
  const candidates: string[] = [];
  for (const root of roots) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(root).filter((n) => /^cuda/.test(n) || n === 'nvidia');
    } catch {
      continue;
    }
    for (const e of entries) candidates.push(path.join(root, e, 'lib64'), path.join(root, e, 'lib'), path.join(root, e, 'targets/x86_64-linux/lib'));
  }
  return candidates.map((d) => path.join(d, soname)).find((p) => fs.existsSync(p));
}

export interface CudaPreflight {
  gpus: string[] | undefined;
  missing: Array<{ soname: string; from: string; offPath?: string }>;
}

function nvidiaGpus(): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  const dir = '/proc/driver/nvidia/gpus';
  try {
    return fs.readdirSync(dir).map((bus) => {
      try {
        const model = /Model:\s*(.+)/.exec(fs.readFileSync(`${dir}/${bus}/information`, 'utf8'))?.[1]?.trim();
        return model ? `${model} (${bus})` : bus;
      } catch {
        return bus;
      }
    });
  } catch {
    return [];
  }
}

/** Checks the driver and the CUDA libraries without loading TensorFlow. */
export function cudaPreflight(extraDirs: string[] = []): CudaPreflight {
  const gpus = nvidiaGpus();
  const missing: CudaPreflight['missing'] = [];
  if (process.platform === 'linux') {
    for (const lib of CUDA_LIBRARIES) {
      if (findSharedLibrary(lib.soname, extraDirs)) continue;
      const off = findOffPath(lib.soname);
      missing.push(off ? { ...lib, offPath: off } : { ...lib });
    }
  }
  return { gpus, missing };
}

export function describeMissing(missing: CudaPreflight['missing']): string {
  return missing
    .map((m) => `${m.soname} (${m.from})${m.offPath ? ` exists at ${m.offPath} but not on the library path: add ${path.dirname(m.offPath)} to LD_LIBRARY_PATH` : ''}`)
    .join(', ');
}

let imported = false;

/** True once this process has imported tfjs-node-gpu (then @tensorflow/tfjs-node must not be imported as well). */
export function tfjsNodeGpuImported(): boolean {
  return imported;
}

function tfjsNodeImported(): boolean {
  return Object.keys(require.cache).some((k) => /[\\/]@tensorflow[\\/]tfjs-node[\\/]/.test(k));
}

/** The 'tfjs-node-gpu' provider's loader (src/backends/index.ts): on a GPU, or BackendUnavailable saying why not. */
export async function loadCudaProvider({ tf }: ProviderContext): Promise<LoadedBackend> {
  const install = `npm install ${SPEC}@${tf.version.tfjs}`;
  let entry: string;
  try {
    entry = require.resolve(SPEC);
  } catch {
    throw new BackendUnavailable(`${SPEC} is not installed`, install);
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new BackendUnavailable(`${SPEC} supports only Linux x64 (this is ${process.platform}-${process.arch})`);
  }
  const pkgDir = path.resolve(path.dirname(entry), '..');
  try {
    const ours = require.resolve('@tensorflow/tfjs-core');
    const theirs = createRequire(entry).resolve('@tensorflow/tfjs-core');
    if (ours !== theirs) {
      throw new BackendUnavailable(`${SPEC} resolves its own @tensorflow/tfjs-core (${theirs}) instead of ours (${ours})`, install);
    }
  } catch (e) {
    if (e instanceof BackendUnavailable) throw e;
    // its tfjs-core could not be resolved: reported by the import below
  }
  if (!imported && tfjsNodeImported()) {
    throw new BackendUnavailable(`not probed: @tensorflow/tfjs-node (CPU) is already loaded in this process`);
  }
  const { gpus, missing } = cudaPreflight([path.join(pkgDir, 'deps', 'lib')]);
  if (gpus && gpus.length === 0) {
    throw new BackendUnavailable('no NVIDIA GPU/driver visible (/proc/driver/nvidia/gpus is empty or missing)');
  }
  if (missing.length) {
    // Importing now would make libtensorflow log "Could not load dynamic library" and run on the CPU.
    throw new BackendUnavailable(`${SPEC} cannot use the GPU: missing ${describeMissing(missing)} (${INSTALL_HINT})`);
  }
  const libtf = path.join(pkgDir, 'deps', 'lib', 'libtensorflow.so.2');
  if (!fs.existsSync(libtf)) {
    throw new BackendUnavailable(
      `${SPEC} is installed but its libtensorflow was never downloaded (${libtf} missing: its install script did not run)`,
      `npm rebuild ${SPEC}`,
    );
  }
  if (!imported) {
    try {
      await import(SPEC);
    } catch (e) {
      const d = parseDlopenError(e instanceof Error ? e.message : String(e));
      throw new BackendUnavailable(`${SPEC} is installed but failed to load: ${d.message}`);
    }
    imported = true;
  }
  if (!tf.findBackendFactory('tensorflow')) {
    throw new BackendUnavailable(`${SPEC} loaded but did not register 'tensorflow' into our @tensorflow/tfjs-core`);
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend('tensorflow');
  } catch (e) {
    throw new BackendUnavailable(`backend 'tensorflow' failed to initialise: ${parseDlopenError(String(e)).message}`);
  }
  if (!ok) throw new BackendUnavailable(`backend 'tensorflow' failed to initialise`);
  const backend = tf.backend() as { isUsingGpuDevice?: boolean };
  if (backend.isUsingGpuDevice !== true) {
    // Leave the process on a backend that is not silently CPU libtensorflow.
    await tf.setBackend('cpu').catch(() => false);
    throw new BackendUnavailable(
      `${SPEC} loaded but libtensorflow created no GPU device (it falls back to the CPU silently; look for ` +
        `"Could not load dynamic library" in its log above, or a driver too old for CUDA 11.2)`,
    );
  }
  const version = (tf.version as Record<string, string>)['tfjs-node'] ?? '';
  return {
    backend: 'tensorflow',
    description: `libtensorflow via ${SPEC}${version ? ` ${version}` : ''} (CUDA)${gpus?.length ? ` on ${gpus.join(', ')}` : ''}`,
  };
}
