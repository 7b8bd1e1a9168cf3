// One (backend, round) of `npm run bench`, in its own process: prints one JSON line with per-step times.
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

async function activate(tf, backend, o, root) {
  switch (backend) {
    case 'tudui-native': {
      const m = await distModule(root, 'backends/native.js');
      const r = await m.loadNativeBackend(tf, o.threads ? { threads: o.threads } : {});
      if (r !== true) throw new Error(r);
      if (!(await tf.setBackend('tudui-native'))) throw new Error('tudui-native failed to initialise');
      return m.nativeInfo();
    }
    case 'wasm': {
      const m = await distModule(root, 'backends/wasm.js');
      const info = await m.loadWasmBackend(tf, o.threads ? { threads: o.threads } : {});
      return `XNNPACK, ${info.threads} threads, simd ${info.simd}`;
    }
    case 'tensorflow': {
      await import('@tensorflow/tfjs-node');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node failed to initialise');
      return 'libtensorflow (tfjs-node)';
    }
    case 'cpu':
      await tf.setBackend('cpu');
      return 'pure JS';
    default:
      throw new Error(`unknown backend '${backend}' (tudui-native, wasm, tensorflow, cpu, torch)`);
  }
}

/** Input pipeline: uint8 NHWC bytes -> normalised float32 batch (src/data batches()) -> tensors. ms per batch. */
async function pipelineMs(tf, root, batch) {
  let batches;
  try {
    ({ batches } = await distModule(root, 'data/index.js'));
  } catch {
    batches = undefined;
  }
  const nb = 40;
  const count = batch * nb;
  const hwc = 32 * 32 * 3;
  const images = new Uint8Array(count * hwc);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  const labels = new Uint8Array(count).map((_, i) => i % 10);
  const info = { height: 32, width: 32, channels: 3, classes: 10, classNames: [], maxValue: 255 };
  const normalize = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261] };
  const local = function* () {
    // Local equivalent when src/data is absent: shuffled order, normalised NHWC float32.
    const order = Array.from({ length: count }, (_, i) => i).sort(() => 0.5 - Math.random());
    for (let b = 0; b < nb; b++) {
      const x = new Float32Array(batch * hwc), y = new Int32Array(batch);
      for (let i = 0; i < batch; i++) {
        const src = order[b * batch + i] * hwc;
        for (let j = 0; j < hwc; j++) x[i * hwc + j] = (images[src + j] / 255 - normalize.mean[j % 3]) / normalize.std[j % 3];
        y[i] = labels[order[b * batch + i]];
      }
      yield { x, y, size: batch, index: b };
    }
  };
  const iter = batches
    ? batches({ images, labels, count, split: 'train' }, info, { batchSize: batch, shuffle: true, dropLast: true, seed: 1, epoch: 0, normalize })
    : local();
  const t0 = performance.now();
  let n = 0;
  for (const b of iter) {
    const x = tf.tensor4d(b.x, [b.size, 32, 32, 3]);
    const y = tf.oneHot(tf.tensor1d(b.y, 'int32'), 10);
    tf.dispose([x, y]);
    n++;
  }
  return (performance.now() - t0) / n;
}

export async function childMain(o, root) {
  const tf = await import('@tensorflow/tfjs');
  const description = await activate(tf, o.child, o, root);
  // The seed net from experiments/cifar10-sgd.yaml through our compiler, and the training loop's own step
  // (src/train/loop.ts trainStep: variableGrads over our cross-entropy, our PyTorch-exact SGD, loss read back).
  const { seedExperiment, buildSeedNet, SEED_INPUT_SHAPE, SEED_CLASSES } = await distModule(root, 'model/seed-net.js');
  const { trainStep } = await distModule(root, 'train/loop.js');
  const { Optimizer } = await distModule(root, 'train/optimizers.js');
  const exp = seedExperiment([`dataset.batch_size=${o.batch}`]);
  const model = buildSeedNet(tf, exp);
  const params = model.trainableWeights.map((w) => w.read());
  const opt = new Optimizer(exp.optimizer);
  const hwc = SEED_INPUT_SHAPE[0] * SEED_INPUT_SHAPE[1] * SEED_INPUT_SHAPE[2];
  const batch = { x: Float32Array.from({ length: o.batch * hwc }, (_, i) => Math.sin(i * 12.9898) * 1.5), y: Int32Array.from({ length: o.batch }, (_, i) => (i * 7) % SEED_CLASSES), size: o.batch };
  const xe = tf.randomNormal([o.evalBatch, ...SEED_INPUT_SHAPE]);
  const step = () => trainStep(model, params, opt, exp, batch, SEED_INPUT_SHAPE, SEED_CLASSES, exp.optimizer.lr);
  const evalStep = () => tf.tidy(() => model.predict(xe).argMax(-1).dataSync());
  const trainMs = [], evalMs = [];
  for (let i = 0; i < o.warmup; i++) await step();
  for (let i = 0; i < o.steps; i++) {
    const t = performance.now();
    const loss = await step();
    trainMs.push(performance.now() - t);
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
  }
  for (let i = 0; i < o.warmup; i++) evalStep();
  for (let i = 0; i < o.steps; i++) {
    const t = performance.now();
    evalStep();
    evalMs.push(performance.now() - t);
  }
  const pipe = o.child === 'cpu' ? undefined : await pipelineMs(tf, root, o.batch);
  const out = {
    backend: o.child, description, trainMs, evalMs, pipelineMs: pipe,
    trainMedianMs: median(trainMs), evalMedianMs: median(evalMs),
    maxRssKB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
