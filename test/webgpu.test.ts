/**
 * WebGPU backend (Dawn through the `webgpu` package) against the pure-JS cpu backend, kernel by kernel, forward and
 * backward. Runs when Dawn finds an adapter: a real GPU, or Mesa's lavapipe (software Vulkan, Mesa >= 23:
 * `bash scripts/gpu-check.sh lavapipe` installs one under /opt/tudui-lavapipe, which this test uses when
 * VK_DRIVER_FILES is not set). Skips visibly otherwise, with the reason in the test name.
 * TUDUI_WEBGPU_HEAVY=1 adds the larger shapes (slow on lavapipe: shader compilation).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { compareBackends } from './helpers/gradcheck.js';

const LAVAPIPE_ICD = '/opt/tudui-lavapipe/lvp.json';
if (!process.env.VK_DRIVER_FILES && !process.env.VK_ICD_FILENAMES && fs.existsSync(LAVAPIPE_ICD)) {
  process.env.VK_DRIVER_FILES = LAVAPIPE_ICD;
}

type Tf = typeof TF;
const tf = (await import('@tensorflow/tfjs')) as Tf;
const { loadWebgpuBackend } = await import('../src/backends/webgpu.js');
const { kernelCases, caseInputs, setFlag } = await import('./helpers/webgpu-check.js');

let available = false;
let reason = '';
let adapter = '';
try {
  const info = await loadWebgpuBackend(tf, { allowSoftware: true });
  available = true;
  adapter = info.adapter;
} catch (e) {
  reason = e instanceof Error ? e.message : String(e);
}
setFlag(tf, 'WEBGPU_CPU_FORWARD', false);
const heavy = process.env.TUDUI_WEBGPU_HEAVY === '1';

describe(`webgpu kernels vs cpu${available ? ` on ${adapter}` : ` (skipped: ${reason})`}`, () => {
  let seed = 5000;
  for (const c of kernelCases()) {
    seed += 10;
    const s = seed;
    it.skipIf(!available || (c.heavy && !heavy))(c.name, async () => {
      const inputs = caseInputs(c, s);
      const r = await compareBackends(tf, (t, ...xs) => c.run(t, ...xs), inputs, ['webgpu', 'cpu'], { rtol: c.rtol ?? 1e-3 });
      expect(r.ok, r.message).toBe(true);
    });
  }

  it.skipIf(!available)('MaxPoolGrad is ours and routes ties to the first maximum', async () => {
    // One 2x2 window of equal values: the whole gradient goes to the top-left element (cpu, TF and PyTorch agree).
    await tf.setBackend('webgpu');
    const x = tf.tensor4d([1, 1, 1, 1], [1, 2, 2, 1]);
    const g = tf.grad((a: TF.Tensor) => tf.sum(tf.maxPool(a as TF.Tensor4D, 2, 2, 'valid')))(x);
    expect(Array.from(await g.data())).toEqual([1, 0, 0, 0]);
    tf.dispose([x, g]);
  });

  it.skipIf(!available)('the provider names the adapter it runs on', async () => {
    const { PROVIDERS } = await import('../src/backends/index.js');
    const r = await PROVIDERS.find((p) => p.name === 'webgpu')!.load({ tf });
    // Already loaded in this process with allowSoftware, so the provider reuses it: it must say what it runs on.
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.description).toContain(adapter);
  });
});
