/** The GPU providers' error reporting, without a GPU: dlopen parsing, library search, reasons. */
import { describe, expect, it } from 'vitest';
import { parseDlopenError, findSharedLibrary, cudaPreflight, CUDA_LIBRARIES } from '../src/backends/cuda.js';
import { PROVIDERS } from '../src/backends/index.js';

const cudaProvider = PROVIDERS.find((p) => p.name === 'tfjs-node-gpu')!;

describe('cuda provider', () => {
  it('names the missing library from a dlopen error', () => {
    expect(parseDlopenError('libcudnn.so.8: cannot open shared object file: No such file or directory').library).toBe('libcudnn.so.8');
    expect(
      parseDlopenError(
        "2024-01-01 W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file",
      ).library,
    ).toBe('libcudart.so.11.0');
    expect(
      parseDlopenError('Error: libtensorflow.so.2: cannot open shared object file: No such file or directory\n    at Module._extensions..node').library,
    ).toBe('libtensorflow.so.2');
    expect(parseDlopenError("/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.29' not found (required by /x/tfjs_binding.node)").symbolVersion).toBe(
      'GLIBCXX_3.4.29',
    );
  });

  it('finds libraries the way dlopen does', () => {
    expect(findSharedLibrary('libc.so.6')).toBeTruthy();
    expect(findSharedLibrary('libdoes-not-exist.so.42')).toBeUndefined();
  });

  it('lists the CUDA 11.2 / cuDNN 8.1 libraries that are missing here', () => {
    const p = cudaPreflight();
    const names = CUDA_LIBRARIES.map((l) => l.soname);
    for (const m of p.missing) expect(names).toContain(m.soname);
    if (process.platform === 'linux' && !findSharedLibrary('libcudnn.so.8')) expect(p.missing.map((m) => m.soname)).toContain('libcudnn.so.8');
  });

  it('gives a reason instead of running on the CPU', async () => {
    const tf = await import('@tensorflow/tfjs');
    const r = await cudaProvider.load({ tf });
    if (!r.ok) expect(r.reason).toMatch(/tfjs-node-gpu|NVIDIA|missing/);
    else expect(r.description).toContain('CUDA');
  });
});
