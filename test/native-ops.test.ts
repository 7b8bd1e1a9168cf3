/**
 * The 'tudui-native' element-wise, normalisation and data-movement kernels (src/backends/native-ops.ts) and the
 * fused layer kernels (src/backends/fused-kernels.ts) against tfjs's pure-JS 'cpu' backend: values and gradients
 * (odd sizes, batch 1, broadcasting); strided convolutions with every padding mode; and every network of the bench
 * zoo trains without one kernel call leaving the backend, with a flat tensor count. Skipped when the addon is not
 * built.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadNativeBackend, NATIVE_BACKEND_NAME, nativeKernelStats, resetNativeKernelStats } from '../src/backends/native.js';
import { loadExperiment } from '../src/config/index.js';
import { datasetInfo } from '../src/data/index.js';
import { buildModel } from '../src/model/compile.js';
import { fastActivation } from '../src/model/layers/activation-layer.js';
import { fusedBatchNorm } from '../src/model/layers/batchnorm-layer.js';
import type { FusedActivation } from '../src/backends/fused-kernels.js';
import { perExampleLoss } from '../src/train/loss.js';
import { trainStep } from '../src/train/loop.js';
import { Optimizer } from '../src/train/optimizers.js';
import { compare, nativeUnavailable, on, randArray, size, valueAndGrads } from './helpers/backend-compare.js';
import { seededDropout } from '../src/model/layers/custom.js';

const reason = nativeUnavailable();
const suiteName = reason ? `tudui-native element-wise kernels (SKIPPED: ${reason})` : 'tudui-native element-wise kernels';
const ODD = [3, 5, 7, 2];
const BATCH1 = [1, 4, 4, 3];

describe(suiteName, () => {
  beforeAll(async () => {
    if (reason) return;
    const r = await loadNativeBackend(tf);
    expect(r).toBe(true);
  });

  const activations: [FusedActivation, number][] = [
    ['relu', 0], ['leaky_relu', 0.1], ['gelu', 0], ['sigmoid', 0], ['tanh', 0], ['elu', 0],
  ];
  for (const [activation, alpha] of activations) {
    for (const shape of [ODD, BATCH1, [5, 3]]) {
      it.skipIf(!!reason)(`fused ${activation} ${shape.join('x')}: value and gradient equal the stock layer's`, async () => {
        // On 'cpu' the layer runs tfjs's stock activation; on tudui-native the fused kernel and its gradient kernel.
        const layer = fastActivation(tf)({ activation, alpha, name: `a_${activation}` });
        await compare(activation, valueAndGrads([shape], 11, (x) => layer.apply(x) as tf.Tensor), 2e-5);
      });
    }
  }

  it.skipIf(!!reason)('activation layers serialise as the stock layers', () => {
    const gelu = fastActivation(tf)({ activation: 'gelu', name: 'g' });
    const leaky = fastActivation(tf)({ activation: 'leaky_relu', alpha: 0.2, name: 'l' });
    expect(gelu.getClassName()).toBe('Activation');
    expect(gelu.getConfig().activation).toBe('gelu');
    expect(leaky.getClassName()).toBe('LeakyReLU');
    expect(leaky.getConfig().alpha).toBe(0.2);
  });

  const positive = (x: tf.Tensor) => tf.add(tf.abs(x), 0.5);
  const unaryOps: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ['sigmoid', tf.sigmoid], ['tanh', tf.tanh], ['exp', tf.exp], ['log', (x) => tf.log(positive(x))], ['neg', tf.neg],
    ['sqrt', (x) => tf.sqrt(positive(x))], ['square', tf.square], ['abs', tf.abs], ['elu', tf.elu],
    ['leakyRelu', (x) => tf.leakyRelu(x, 0.3)], ['relu6', (x) => tf.relu6(tf.mul(x, 8))], ['softplus', tf.softplus],
    ['erf', tf.erf], ['reciprocal', (x) => tf.reciprocal(positive(x))], ['floor', (x) => tf.floor(tf.mul(x, 3))],
    ['ceil', (x) => tf.ceil(tf.mul(x, 3))],
  ];
  for (const [name, f] of unaryOps) {
    it.skipIf(!!reason)(`${name} ${ODD.join('x')}: value and gradient`, async () => {
      await compare(name, valueAndGrads([ODD], 21, f), 2e-5);
    });
  }

  const broadcasts: [number[], number[]][] = [
    [[2, 3, 5, 4], [2, 3, 5, 4]], [[2, 1, 1, 4], [2, 3, 5, 4]], [[2, 3, 5, 4], [4]], [[3, 1], [1, 4]],
    [[2, 3, 1, 1], [1, 1, 5, 1]], [[], [3, 2]], [[7, 1], [7, 6]], [[1], [1]],
  ];
  const binaryOps: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
    ['maximum', tf.maximum], ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference],
  ];
  for (const [name, f] of binaryOps) {
    for (const [sa, sb] of broadcasts) {
      // tfjs's own gradients of maximum/minimum/squaredDifference do not reduce over broadcast axes (they throw on
      // every backend): there only the values are compared.
      const gradients = sa.join() === sb.join() || ['add', 'sub', 'mul', 'div'].includes(name);
      it.skipIf(!!reason)(`${name} [${sa}] with [${sb}]: broadcasting value${gradients ? ' and gradients' : ''}`, async () => {
        const values = (shapes: number[][], seed: number) => () => {
          const [a, b] = shapes.map((sh, i) => tf.tensor(randArray(size(sh), seed + i), sh));
          return f(a!, b!);
        };
        await compare(name, gradients ? valueAndGrads([sa, sb], 31, f) : values([sa, sb], 31), 1e-5);
        await compare(`${name} swapped`, gradients ? valueAndGrads([sb, sa], 41, f) : values([sb, sa], 41), 1e-5);
      });
    }
  }

  it.skipIf(!!reason)('argMax over the last axis (ties: first), equal, sums of int32 and bool', async () => {
    const xs = Float32Array.from([1, 3, 3, 0, -1, -1, 2, 7, 7, 7, 0, 5]);
    await compare('argMax', () => [tf.argMax(tf.tensor2d(xs, [4, 3]), -1).toFloat(), tf.argMax(tf.tensor3d(xs, [2, 2, 3]), 2).toFloat()]);
    await compare('equal', () => [
      tf.equal(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([1, 0, 3, 0], 'int32')).toFloat(),
      tf.equal(tf.tensor1d([0.5, NaN, 2]), tf.tensor1d([0.5, NaN, 3])).toFloat(),
    ]);
    await compare('int sums', () => [
      tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32')).toFloat(),
      tf.sum(tf.tensor1d([1, 0, 1], 'bool')).toFloat(),
      tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [0, 1], true).toFloat(),
    ]);
  });

  it.skipIf(!!reason)('addN, cast and oneHot', async () => {
    await compare('addN', valueAndGrads([[3, 4], [3, 4], [3, 4]], 51, (a, b, c) => tf.addN([a!, b!, c!])), 1e-6);
    await compare('cast', () => [tf.cast(tf.tensor1d([1.7, -2.2, 0, 3.9]), 'int32').toFloat(), tf.cast(tf.tensor1d([0, 2, 0]), 'bool').toFloat()]);
    await compare('oneHot', () => tf.oneHot(tf.tensor1d([0, 3, 2, 9, 1], 'int32'), 4).toFloat());
  });

  for (const shape of [[4, 7], [2, 3, 10], [1, 5]]) {
    it.skipIf(!!reason)(`softmax over the last axis ${shape.join('x')}: value and gradient`, async () => {
      await compare('softmax', valueAndGrads([shape], 61, (x) => tf.softmax(tf.mul(x, 4))), 1e-5);
    });
  }

  for (const smoothing of [0, 0.1]) {
    it.skipIf(!!reason)(`softmax cross-entropy (label smoothing ${smoothing}): per-example loss and gradient`, async () => {
      const labels = Int32Array.from([3, 0, 9, 4, 4, 1, 7]);
      const loss = { name: 'cross_entropy' as const, label_smoothing: smoothing };
      await compare('cross-entropy', valueAndGrads([[7, 10]], 71, (x) => perExampleLoss(loss, tf.mul(x, 5) as tf.Tensor2D, tf.tensor1d(labels, 'int32'), 10)), 1e-5);
    });
  }

  for (const shape of [[2, 5, 3, 4], [1, 3, 3, 2], [7, 6], [3, 2, 2, 32]]) {
    it.skipIf(!!reason)(`batch norm ${shape.join('x')}: training value, gradients, running statistics and inference`, async () => {
      const c = shape[shape.length - 1]!;
      const xs = randArray(size(shape), 81, -2, 3);
      const run = () => {
        const layer = fusedBatchNorm(tf)({ momentum: 0.1, eps: 1e-5, name: 'bn' });
        const x = tf.tensor(xs, shape);
        layer.apply(x); // build
        layer.setWeights([tf.tensor1d(randArray(c, 82, 0.5, 2)), tf.tensor1d(randArray(c, 83)), tf.zeros([c]), tf.ones([c])]);
        const r = tf.tensor(randArray(size(shape), 84), shape);
        const f = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, r));
        const { value, grads } = tf.variableGrads(() => f(x) as tf.Scalar, layer.trainableWeights.map((w) => w.read() as tf.Variable));
        const dx = tf.grad((xx: tf.Tensor) => f(xx))(x);
        const y = layer.apply(x, { training: true }) as tf.Tensor;
        const inference = layer.apply(x, { training: false }) as tf.Tensor;
        return [y, value, dx, ...Object.values(grads), ...layer.getWeights().slice(2), inference];
      };
      await compare('batch norm', run, 5e-5);
    });
  }

  // Strides 1 and 2, every padding mode (integer padding is an explicit pad layer + 'valid' conv, as conv2d builds
  // it), odd sizes, batch 1: in particular 'valid' with stride 2, where the window never reads the last rows.
  const convCases: { x: number[]; k: number; s: number; pad: 'valid' | 'same' | number; c: number }[] = [
    { x: [2, 10, 10, 4], k: 3, s: 2, pad: 'valid', c: 5 },
    { x: [1, 9, 7, 3], k: 3, s: 2, pad: 'valid', c: 4 },
    { x: [2, 8, 8, 3], k: 3, s: 2, pad: 1, c: 6 },
    { x: [1, 7, 9, 2], k: 3, s: 2, pad: 'same', c: 3 },
    { x: [2, 7, 7, 3], k: 5, s: 1, pad: 2, c: 4 },
    { x: [1, 6, 5, 3], k: 2, s: 1, pad: 'valid', c: 2 },
    { x: [2, 11, 11, 2], k: 4, s: 3, pad: 1, c: 3 },
  ];
  for (const c of convCases) {
    it.skipIf(!!reason)(`conv x${c.x} k${c.k} s${c.s} pad ${c.pad}: value and gradients (with bias)`, async () => {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
        const xp = typeof c.pad === 'number' ? tf.pad(x, [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]]) : x;
        return tf.fused.conv2d({ x: xp as tf.Tensor4D, filter: w as tf.Tensor4D, strides: c.s, pad: typeof c.pad === 'number' ? 'valid' : c.pad, bias: b });
      };
      await compare('conv', valueAndGrads([c.x, [c.k, c.k, c.x[3]!, c.c], [c.c]], 91, f), 1e-4);
    });
  }

  for (const [rate, shape] of [[0.3, [4, 7, 5, 3]], [0.5, [9, 13]], [0.1, [1, 3]]] as const) {
    it.skipIf(!!reason)(`dropout ${rate} ${shape.join('x')}: the same mask as tf.dropout, bit for bit, and its gradient`, async () => {
      const layer = seededDropout(tf)({ rate, seed: 1234567, name: 'd' });
      const f = (x: tf.Tensor) => layer.apply(x, { training: true, step: 41 }) as tf.Tensor;
      const want = await on('cpu', valueAndGrads([[...shape]], 111, f));
      const got = await on(NATIVE_BACKEND_NAME, valueAndGrads([[...shape]], 111, f));
      got.forEach((g, i) => expect(Array.from(g), `output ${i}`).toEqual(Array.from(want[i]!)));
    });
  }

  it.skipIf(!!reason)('pad and slice of rank 2-4: value and gradient', async () => {
    await compare('pad', valueAndGrads([[3, 4]], 101, (x) => tf.pad(x, [[1, 2], [0, 3]], 0.5)), 1e-6);
    await compare('pad4', valueAndGrads([[2, 3, 4, 5]], 102, (x) => tf.pad(x, [[0, 0], [2, 1], [1, 1], [0, 0]])), 1e-6);
    await compare('slice', valueAndGrads([[4, 5, 6]], 103, (x) => tf.slice(x, [1, 0, 2], [2, -1, 3])), 1e-6);
  });

  // Every network of `npm run bench` (scripts/bench.mjs), at a small batch: the same kernels as at full size.
  const zoo = ['experiments/cifar10-sgd.yaml', 'experiments/cifar10-adamw-augment.yaml', 'bench/zoo/resnet9-noskip.yaml',
    'experiments/cifar10-resnet.yaml', 'experiments/fashion-mnist-cnn.yaml', 'experiments/mnist-mlp.yaml', 'experiments/digits-cnn.yaml'];
  it.skipIf(!!reason)('evaluation after a training step sees the updated weights (the reorder cache is invalidated)', async () => {
    await tf.setBackend(NATIVE_BACKEND_NAME);
    const r = loadExperiment('experiments/cifar10-sgd.yaml', { overrides: ['dataset.batch_size=4', 'dataset.root=.'] });
    const exp = r.experiment!;
    const shape = [32, 32, 3];
    const model = buildModel(tf, exp, shape);
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const opt = new Optimizer({ ...exp.optimizer, lr: 0.5 });
    const batch = { x: randArray(4 * size(shape), 5), y: Int32Array.from([0, 1, 2, 3]), size: 4 };
    const evalOut = () => tf.tidy(() => Float32Array.from((model.apply(tf.tensor(batch.x, [4, ...shape]), { training: false }) as tf.Tensor).dataSync()));
    const before = evalOut();
    expect(Array.from(evalOut())).toEqual(Array.from(before)); // cached reorders: same result
    await trainStep(model, params, opt, exp, batch, shape, 10, 0.5);
    const after = evalOut();
    // The same weights on the pure-JS cpu backend.
    const weights = model.getWeights().map((w) => ({ shape: w.shape, data: Float32Array.from(w.dataSync()) }));
    await tf.setBackend('cpu');
    const ref = buildModel(tf, exp, shape);
    ref.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
    const want = tf.tidy(() => Float32Array.from((ref.apply(tf.tensor(batch.x, [4, ...shape]), { training: false }) as tf.Tensor).dataSync()));
    expect(Array.from(after)).not.toEqual(Array.from(before));
    for (let i = 0; i < want.length; i++) expect(Math.abs(after[i]! - want[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[i]!)));
    ref.dispose();
    await tf.setBackend(NATIVE_BACKEND_NAME);
    model.dispose();
    opt.dispose();
  });

  // Every layer kind and option the zoo leaves out: sigmoid, tanh, softmax, elu-free activations after linear,
  // avg and max pooling with 'same' and integer padding, stride-2 convs without bias in every padding mode.
  const allKinds = join(mkdtempSync(join(tmpdir(), 'tudui-kinds-')), 'all-kinds.yaml');
  writeFileSync(allKinds, [
    'name: all-kinds', 'dataset: { name: synthetic, shape: [12, 12, 3], classes: 5, train_size: 8, test_size: 4 }',
    'model:', '  layers:',
    '    - conv2d: { filters: 6, kernel_size: 3, stride: 2, padding: valid, bias: false }',
    '    - sigmoid',
    '    - conv2d: { filters: 6, kernel_size: 3, stride: 2, padding: same }',
    '    - tanh',
    '    - conv2d: { filters: 8, kernel_size: 3, stride: 1, padding: 1, bias: false }',
    '    - batchnorm',
    '    - leaky_relu: 0.2',
    '    - avgpool2d: { pool_size: 2, stride: 1, padding: same }',
    '    - maxpool2d: { pool_size: 3, stride: 2, padding: 1 }',
    '    - gelu',
    '    - global_avgpool2d',
    '    - linear: { units: 7, bias: false }',
    '    - batchnorm',
    '    - relu',
    '    - dropout: 0.2',
    '    - linear: 5',
    '    - softmax',
    'loss: { name: cross_entropy, label_smoothing: 0.05 }',
    'optimizer: { name: rmsprop, lr: 0.01, momentum: 0.9, weight_decay: 0.001 }',
    'epochs: 1', '',
  ].join('\n'));
  for (const file of [...zoo, allKinds]) {
    it.skipIf(!!reason)(`${file === allKinds ? 'every layer kind' : file}: a training step never leaves the native kernels, tensors stay flat`, async () => {
      await tf.setBackend(NATIVE_BACKEND_NAME);
      // The data files are not read (synthetic batches); digits keeps its shipped root, which validation checks.
      const r = loadExperiment(file, { overrides: ['dataset.batch_size=4', ...(file.includes('digits') ? [] : ['dataset.root=.'])] });
      expect(r.errors).toEqual([]);
      const exp = r.experiment!;
      const info = datasetInfo(exp.dataset)!;
      const shape = [info.height, info.width, info.channels];
      const model = buildModel(tf, exp, shape);
      const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const opt = new Optimizer(exp.optimizer);
      const batch = { x: randArray(4 * size(shape), 7), y: Int32Array.from([0, 1, 2, 3]), size: 4 };
      const step = () => trainStep(model, params, opt, exp, batch, shape, info.classes, exp.optimizer.lr);
      await step();
      const before = tf.memory().numTensors;
      resetNativeKernelStats();
      for (let i = 0; i < 3; i++) expect(Number.isFinite(await step())).toBe(true);
      const stats = nativeKernelStats();
      expect(stats.fallback, 'kernel calls that ran tfjs cpu code').toEqual({});
      expect(Object.keys(stats.native).length).toBeGreaterThan(3);
      expect(tf.memory().numTensors).toBe(before);
      // Evaluation as the loop's evaluate() computes it: loss sum and correct count, on native kernels too.
      resetNativeKernelStats();
      tf.tidy(() => {
        const x = tf.tensor(batch.x, [4, ...shape]), y = tf.tensor1d(batch.y, 'int32');
        const logits = model.apply(x, { training: false }) as tf.Tensor2D;
        return [perExampleLoss(exp.loss, logits, y, info.classes).sum().dataSync(), logits.argMax(1).equal(y).sum().dataSync()];
      });
      expect(nativeKernelStats().fallback, 'evaluation kernel calls that ran tfjs cpu code').toEqual({});
      model.dispose();
      opt.dispose();
    });
  }
});
