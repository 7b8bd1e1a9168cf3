// One (net, backend, round) of `npm run bench`, in its own process: prints one JSON line with per-step times.
//
// The net is a tudui experiment file compiled by our compiler (loadExperiment + datasetInfo + buildModel) and
// trained with the training loop's own step (src/train/loop.ts trainStep: variableGrads over our loss, our
// PyTorch-exact optimizer, loss read back every step) on one synthetic batch of the right shape; evaluation is
// model.predict + argMax read back at dataset.eval_batch_size.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function distModule(root, rel) {
  const file = path.join(root, 'dist', rel);
  if (!fs.existsSync(file)) throw new Error(`${path.join('dist', rel)} missing: run \`npm run build\` first`);
  return import(pathToFileURL(file).href);
}

/** Activates the backend; returns its description and, for tudui-native, the kernel-stats hooks (if exported). */
async function activate(tf, backend, o, root) {
  switch (backend) {
    case 'tudui-native': {
      const m = await distModule(root, 'backends/native.js');
      await m.loadNativeBackend(tf, o.threads ? { threads: o.threads } : {});
      if (!(await tf.setBackend('tudui-native'))) throw new Error('tudui-native failed to initialise');
      const stats = typeof m.nativeKernelStats === 'function' && typeof m.resetNativeKernelStats === 'function'
        ? { read: m.nativeKernelStats, reset: m.resetNativeKernelStats }
        : undefined;
      return { description: m.nativeInfo(), stats };
    }
    case 'wasm': {
      const m = await distModule(root, 'backends/wasm.js');
      const info = await m.loadWasmBackend(tf, o.threads ? { threads: o.threads } : {});
      return { description: `XNNPACK, ${info.threads} threads, simd ${info.simd}` };
    }
    case 'tensorflow': {
      await import('@tensorflow/tfjs-node');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node failed to initialise');
      return { description: 'libtensorflow (tfjs-node)' };
    }
    case 'cpu':
      await tf.setBackend('cpu');
      return { description: 'pure JS' };
    default:
      throw new Error(`unknown backend '${backend}' (tudui-native, wasm, tensorflow, cpu, torch, torch-cl)`);
  }
}

/**
 * Input pipeline: synthetic uint8 bytes of the net's image shape -> the real batch assembly (src/data batches():
 * shuffle, the experiment's augmentation, normalisation) -> tensors. ms per training batch.
 */
async function pipelineMs(tf, root, exp, info) {
  const { batches, batchOptionsFor } = await distModule(root, 'data/index.js');
  const batch = exp.dataset.batch_size;
  const nb = 20;
  const count = batch * nb;
  const hwc = info.height * info.width * info.channels;
  const images = new Uint8Array(count * hwc);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  const labels = new Uint8Array(count).map((_, i) => i % info.classes);
  const opts = { ...batchOptionsFor(exp.dataset, 'train', 1, 0), dropLast: true };
  const t0 = performance.now();
  let n = 0;
  for (const b of batches({ images, labels, count, split: 'train' }, info, opts)) {
    const x = tf.tensor4d(b.x, [b.size, info.height, info.width, info.channels]);
    const y = tf.oneHot(tf.tensor1d(b.y, 'int32'), info.classes);
    tf.dispose([x, y]);
    n++;
  }
  return (performance.now() - t0) / n;
}

/** '0', or e.g. '3.0/step: Max, Exp, Log' from the tudui-native kernel stats over `steps` training steps. */
function fallbackSummary(stats, steps) {
  const fb = Object.entries(stats.fallback ?? {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const calls = fb.reduce((s, [, n]) => s + n, 0);
  const nativeCalls = Object.values(stats.native ?? {}).reduce((s, n) => s + n, 0);
  return {
    perStep: calls / steps,
    kernels: Object.fromEntries(fb.map(([k, n]) => [k, n / steps])),
    nativePerStep: nativeCalls / steps,
    text: calls === 0 ? '0' : `${(calls / steps).toFixed(1)}/step: ${fb.map(([k]) => k).join(', ')}`,
  };
}

export async function childMain(o, root) {
  const tf = await import('@tensorflow/tfjs');
  let description, stats;
  try {
    ({ description, stats } = await activate(tf, o.child, o, root));
  } catch (e) {
    // The backend itself cannot start: the parent does not try it on the other nets.
    process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e), fatal: true })}\n`);
    return;
  }
  const { loadExperiment } = await distModule(root, 'config/index.js');
  const { datasetInfo } = await distModule(root, 'data/index.js');
  const { buildModel } = await distModule(root, 'model/compile.js');
  const { trainStep } = await distModule(root, 'train/loop.js');
  const { Optimizer } = await distModule(root, 'train/optimizers.js');
  const loaded = loadExperiment(o.file, { cwd: root });
  if (loaded.errors.length) throw new Error(`${o.file}: ${loaded.errors.map((e) => e.message).join('; ')}`);
  const exp = loaded.experiment;
  const info = datasetInfo(exp.dataset, { cwd: root });
  if (!info) throw new Error(`${o.file}: no input shape for dataset ${exp.dataset.name}`);
  const inputShape = [info.height, info.width, info.channels];
  const classes = info.classes;
  const batchSize = exp.dataset.batch_size;
  const evalBatch = exp.dataset.eval_batch_size ?? batchSize;

  const model = buildModel(tf, exp, inputShape);
  const params = model.trainableWeights.map((w) => w.read());
  const opt = new Optimizer(exp.optimizer);
  const hwc = inputShape[0] * inputShape[1] * inputShape[2];
  const batch = {
    x: Float32Array.from({ length: batchSize * hwc }, (_, i) => Math.sin(i * 12.9898) * 1.5),
    y: Int32Array.from({ length: batchSize }, (_, i) => (i * 7) % classes),
    size: batchSize,
  };
  const xe = tf.randomNormal([evalBatch, ...inputShape]);
  const step = () => trainStep(model, params, opt, exp, batch, inputShape, classes, exp.optimizer.lr);
  // As the training loop's evaluate(): one forward pass in inference mode (model.predict would split the batch
  // into tfjs's default sub-batches of 32), then the predicted classes read back.
  const evalStep = () => tf.tidy(() => model.apply(xe, { training: false }).argMax(-1).dataSync());

  // Time budget for the whole measurement (--max-seconds): warm-up until 15% of it, timed training until 60%,
  // eval warm-up until 70%, timed eval until 95%; each phase runs at least once. `capped` says it cut steps short.
  const budget = o.maxSeconds > 0 ? o.maxSeconds * 1000 : Infinity;
  const t0 = performance.now();
  const over = (frac) => performance.now() - t0 > frac * budget;
  let capped = false;
  // One phase: warm-up (--warmup steps and at least WARMUP_MS: V8's optimising compiler and oneDNN's primitive cache
  // need a few dozen steps of a small net; PyTorch's twin warms up the same way) until `warmFrac` of the budget, then
  // --steps timed steps until `timedFrac`. `check` sees each timed step's result.
  const WARMUP_MS = 1000;
  const phase = async (fn, warmFrac, timedFrac, beforeTimed = () => {}, check = () => {}) => {
    const tw = performance.now();
    for (let i = 0; i < Math.max(1, o.warmup) || performance.now() - tw < WARMUP_MS; i++) {
      if (i && over(warmFrac)) { capped ||= i < o.warmup; break; }
      await fn();
    }
    beforeTimed();
    const ms = [];
    for (let i = 0; i < o.steps; i++) {
      if (i && over(timedFrac)) { capped = true; break; }
      const t = performance.now();
      check(await fn());
      ms.push(performance.now() - t);
    }
    return ms;
  };
  const trainMs = await phase(step, 0.15, 0.6, () => stats?.reset(), (loss) => {
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
  });
  let fallback;
  if (stats) {
    try {
      fallback = fallbackSummary(stats.read(), trainMs.length);
    } catch (e) {
      fallback = { text: `n/a (${e instanceof Error ? e.message : e})` };
    }
  }
  const evalMs = await phase(evalStep, 0.7, 0.95);
  const pipe = o.child === 'cpu' ? undefined : await pipelineMs(tf, root, exp, info);
  const out = {
    backend: o.child, net: o.net, description, batch: batchSize, evalBatch,
    trainMs, evalMs, capped, pipelineMs: pipe,
    fallback: o.child === 'tudui-native' ? (fallback ?? { text: 'n/a' }) : undefined,
    trainMedianMs: median(trainMs), evalMedianMs: median(evalMs),
    maxRssKB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
