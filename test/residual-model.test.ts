/**
 * Residual and block models as tfjs models: the functional build (its direct `apply` equals tfjs's own graph
 * execution), plain tf.loadLayersModel of a saved model, and gradients on tudui-native against the pure-JS cpu
 * backend. (Zero fallback kernels on tudui-native for a residual net: the recipe in test/native-ops.test.ts's zoo.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadNativeBackend, NATIVE_BACKEND_NAME } from '../src/backends/native.js';
import { loadExperimentText, type ResolvedExperiment } from '../src/config/index.js';
import { buildModel, summarize } from '../src/model/compile.js';
import { loadWasmBackend } from '../src/backends/wasm.js';
import { nativeUnavailable, randArray, size } from './helpers/backend-compare.js';

const RESNET = [
  'name: tiny-resnet',
  'seed: 3',
  'dataset: { name: synthetic, shape: [8, 8, 3], classes: 4, train_size: 16, test_size: 8, batch_size: 4 }',
  'model:',
  '  blocks:',
  '    cbr:',
  '      params: { f: required, stride: 1 }',
  '      layers: [ { conv2d: { filters: $f, kernel_size: 3, stride: $stride, padding: same, bias: false } }, batchnorm, relu ]',
  '  layers:',
  '    - cbr: { f: 6 }',
  '    - residual: [ { cbr: { f: 6 } }, { cbr: { f: 6 } } ]',
  '    - maxpool2d: 2',
  '    - residual: { shortcut: conv, repeat: 2, layers: [ { cbr: { f: 8, stride: 2 } }, { conv2d: { filters: 8, kernel_size: 3, padding: 1 } } ] }',
  '    - cbr: { f: 8, repeat: 2 }',
  '    - global_avgpool2d',
  '    - linear: 4',
  '    - scale: 0.5',
  'loss: { name: cross_entropy, label_smoothing: 0.1 }',
  'optimizer: { name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.0005 }',
  'epochs: 1',
  '',
].join('\n');

function experiment(text = RESNET): ResolvedExperiment {
  const r = loadExperimentText('tiny.yaml', text);
  expect(r.errors).toEqual([]);
  return r.experiment;
}

const SHAPE = [8, 8, 3];

describe('residual models (cpu backend)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('builds a functional model whose direct apply equals tfjs graph execution', () => {
    const exp = experiment();
    const model = buildModel(tf, exp, SHAPE);
    expect(model.getClassName()).toBe('Model');
    expect(model.layers.filter((l) => l.getClassName() === 'Add').map((l) => l.name)).toEqual(['l1_res_add', 'l3r1_res_add', 'l3r2_res_add']);
    // Copies have their own weights; the projection's 1×1 conv has the inferred stride (4×4 → 2×2, then 2×2 → 1×1).
    const conv = model.layers.filter((l) => l.name.includes('_sc_conv2d')).map((l) => (l.getConfig() as { strides: number[] }).strides);
    expect(conv).toEqual([[2, 2], [2, 2]]);
    const params = summarize(exp, SHAPE).reduce((s, r) => s + r.parameters, 0);
    expect(model.countParams() - model.nonTrainableWeights.reduce((s, w) => s + size(w.shape), 0)).toBe(params);
    const x = tf.tensor(randArray(2 * size(SHAPE), 1), [2, ...SHAPE]);
    const direct = model.apply(x, { training: false }) as tf.Tensor;
    const graph = model.predict(x) as tf.Tensor; // tfjs's own execution of the topology
    expect(direct.shape).toEqual([2, 4]);
    const [a, b] = [direct.dataSync(), graph.dataSync()];
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
    tf.dispose([x, direct, graph]);
    model.dispose();
  });

  it('a flat list builds the same Sequential as before blocks (names, order, seeds)', () => {
    const exp = experiment(RESNET.replace(/  layers:\n[\s\S]*?loss:/, '  layers:\n    - conv2d: { filters: 4, kernel_size: 3 }\n    - relu\n    - flatten\n    - linear: 4\nloss:').replace(/^  blocks:[\s\S]*?(?=^  layers:)/m, ''));
    expect(exp.model.blocks).toBeUndefined();
    const model = buildModel(tf, exp, SHAPE);
    expect(model.getClassName()).toBe('Sequential');
    expect(model.layers.map((l) => l.name).filter((n) => n !== 'input')).toEqual(['l0_conv2d', 'l1_relu', 'l2_flatten', 'l3_linear']);
    model.dispose();
  });

  it('saves as a plain functional model that tf.loadLayersModel reads back, with the same outputs', async () => {
    const exp = experiment();
    const model = buildModel(tf, exp, SHAPE);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (art) => {
      saved = art;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect((saved!.modelTopology as { class_name: string }).class_name).toBe('Model');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.tensor(randArray(3 * size(SHAPE), 2), [3, ...SHAPE]);
    const a = (model.apply(x, { training: false }) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
    model.dispose();
    loaded.dispose();
  });
});

const reason = nativeUnavailable();

describe(reason ? `residual models on wasm and tudui-native (native SKIPPED: ${reason})` : 'residual models on wasm and tudui-native', () => {
  beforeAll(async () => {
    if (!reason) expect(await loadNativeBackend(tf)).toBe(true);
  });

  /** One training step's loss and every weight gradient, computed on `backend` from the same initial weights. */
  async function stepOn(backend: string, exp: ResolvedExperiment, weights: Float32Array[] | undefined) {
    await tf.setBackend(backend);
    const model = buildModel(tf, exp, SHAPE);
    if (weights) model.setWeights(model.weights.map((w, i) => tf.tensor(weights[i]!, w.shape)));
    const x = tf.tensor(randArray(4 * size(SHAPE), 11), [4, ...SHAPE]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const init = model.weights.map((w) => Float32Array.from(w.read().dataSync()));
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), vars);
    // In the order of the model's trainable weights (variable names get suffixes that differ between models).
    const out = { loss: value.dataSync()[0]!, grads: vars.map((v) => ({ name: model.trainableWeights.find((w) => w.read() === v)!.originalName, g: Float32Array.from(grads[v.name]!.dataSync()) })) };
    tf.dispose([x, y, value, ...Object.values(grads)]);
    model.dispose();
    return { ...out, init };
  }

  it.skipIf(!!reason)("a residual model's loss and gradients match the cpu backend", async () => {
    await matchesCpu(NATIVE_BACKEND_NAME);
    await tf.setBackend(NATIVE_BACKEND_NAME);
  });

  it("on wasm too (with tudui's training kernels)", async () => {
    await loadWasmBackend(tf, { threads: 2 });
    await matchesCpu('wasm');
  });

  async function matchesCpu(backend: string) {
    const exp = experiment();
    const ref = await stepOn('cpu', exp, undefined);
    const got = await stepOn(backend, exp, ref.init);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-4 * (1 + Math.abs(ref.loss)));
    expect(got.grads.map((g) => g.name)).toEqual(ref.grads.map((g) => g.name));
    expect(ref.grads.length).toBeGreaterThan(20);
    for (const [k, { name, g }] of ref.grads.entries()) {
      const a = got.grads[k]!.g;
      const scale = Math.max(...g.map(Math.abs), 1e-6);
      for (let i = 0; i < g.length; i++) expect(Math.abs(a[i]! - g[i]!), `${name}[${i}]`).toBeLessThan(2e-4 * scale + 2e-4 * Math.abs(g[i]!) + 1e-6);
    }
  }
});
