/**
 * The GPU check machine's entry for scripts/gpu-check.sh: `node .gpu/app/tudui.mjs __gpu <what>` in the bundle that
 * scripts/bundle.mjs makes runs `gpuCheckMain`:
 *   kernels [--heavy] [--json FILE]          webgpu kernels vs cpu (test/helpers/webgpu-check.ts); exit 1 when one differs
 *   bench --backend webgpu|cuda|wasm|cpu [--batch N] [--steps N] [--warmup N]   one JSON line
 * Software adapters are accepted when TUDUI_WEBGPU_ALLOW_SOFTWARE=1 (the dry run on lavapipe).
 */
import type * as TF from '@tensorflow/tfjs';
import { buildSeedNet } from '../src/model/seed-net.js';
import { checkBackendKernels, fillData, formatKernelResults } from '../test/helpers/webgpu-check.js';

type Tf = typeof TF;

/** The seed network, from experiments/cifar10-sgd.yaml through our compiler (src/model/seed-net.ts), as in the bench. */
function seedNet(tf: Tf): TF.Sequential {
  return buildSeedNet(tf);
}

export interface StepBench {
  backend: string;
  description: string;
  batch: number;
  steps: number;
  trainMsPerStep: number;
  trainImagesPerSec: number;
  evalMsPerBatch: number;
  firstStepMs: number;
  finalLoss: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** SGD training steps of the seed net on synthetic CIFAR-shaped data on the active backend; loss read back each step. */
export async function benchSeedNet(tf: Tf, opts: { batch?: number; steps?: number; warmup?: number; description?: string } = {}): Promise<StepBench> {
  const batch = opts.batch ?? 64;
  const steps = opts.steps ?? 20;
  const warmup = opts.warmup ?? 3;
  const model = seedNet(tf);
  const optimizer = tf.train.sgd(0.01);
  const x = tf.tensor4d(fillData(batch * 32 * 32 * 3, 'normal', 1), [batch, 32, 32, 3]);
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const times: number[] = [];
  let firstStepMs = 0;
  let finalLoss = Number.NaN;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.predict(x) as TF.Tensor) as TF.Scalar, true);
    finalLoss = (await loss!.data())[0]!;
    loss!.dispose();
    const dt = performance.now() - t0;
    if (i === 0) firstStepMs = dt;
    if (i >= warmup) times.push(dt);
  }
  const evalTimes: number[] = [];
  for (let i = 0; i < Math.max(3, Math.min(steps, 10)); i++) {
    const t0 = performance.now();
    const p = model.predict(x) as TF.Tensor;
    await p.data();
    p.dispose();
    evalTimes.push(performance.now() - t0);
  }
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  const train = median(times);
  return {
    backend: tf.getBackend(),
    description: opts.description ?? tf.getBackend(),
    batch,
    steps,
    trainMsPerStep: train,
    trainImagesPerSec: (batch * 1000) / train,
    evalMsPerBatch: median(evalTimes),
    firstStepMs,
    finalLoss,
  };
}

/** `__gpu <what>`: see the top of this file. */
export async function gpuCheckMain(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  const opt = (name: string): string | undefined => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const tf = (await import('@tensorflow/tfjs')) as Tf;
  const { loadWebgpuBackend } = await import('../src/backends/webgpu.js');
  if (what === 'kernels') {
    const info = await loadWebgpuBackend(tf);
    process.stdout.write(`webgpu on ${info.adapter} via ${info.via}; tudui kernels: ${info.kernels.join(', ') || 'none'}\n`);
    const results = await checkBackendKernels(tf, 'webgpu', { heavy: rest.includes('--heavy'), log: (r) => process.stdout.write(formatKernelResults([r]) + '\n') });
    const failed = results.filter((r) => !r.ok);
    process.stdout.write(`kernel checks: ${results.length - failed.length} passed, ${failed.length} failed\n`);
    const json = opt('--json');
    if (json) (await import('node:fs')).writeFileSync(json, JSON.stringify({ adapter: info.adapter, results }, null, 1));
    return failed.length ? 1 : 0;
  }
  if (what === 'bench') {
    const backend = opt('--backend') ?? 'webgpu';
    let description = backend;
    if (backend === 'webgpu') {
      const info = await loadWebgpuBackend(tf);
      description = `webgpu on ${info.adapter}`;
    } else if (backend === 'cuda') {
      const { loadCudaProvider } = await import('../src/backends/cuda.js');
      description = (await loadCudaProvider({ tf })).description;
    } else if (backend === 'wasm') {
      const { loadWasmBackend } = await import('../src/backends/wasm.js');
      const info = await loadWasmBackend(tf);
      description = `wasm ${info.threads} threads`;
    } else if (!(await tf.setBackend(backend))) {
      throw new Error(`backend ${backend} did not initialise`);
    }
    const num = (k: string, d: number) => (opt(k) === undefined ? d : Number(opt(k)));
    const r = await benchSeedNet(tf, { batch: num('--batch', 64), steps: num('--steps', 20), warmup: num('--warmup', 3), description });
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  }
  process.stderr.write('usage: __gpu kernels [--heavy] [--json FILE] | __gpu bench --backend webgpu|cuda|wasm|cpu [--batch N] [--steps N]\n');
  return 2;
}
