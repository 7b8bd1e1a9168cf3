import { describe, expect, it, beforeAll } from 'vitest';
import type * as tfjs from '@tensorflow/tfjs';
import { getLayer, layerNames, findLayer, registerLayer } from '../src/model/registry.js';
import type { Shape } from '../src/model/layer-kind.js';

let tf: typeof tfjs;
beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
});

type L = [string, Record<string, unknown>];

function defaults(kind: string, given: Record<string, unknown>): Record<string, unknown> {
  const k = getLayer(kind);
  const o: Record<string, unknown> = {};
  for (const [n, s] of Object.entries(k.options)) if ('default' in s) o[n] = s.default;
  return { ...o, ...given };
}

/** Infers shapes and params with the registry, then builds the same net with tfjs and compares. */
function check(input: Shape, layers: L[], init: 'torch' | 'glorot' | 'he' = 'torch') {
  let shape = input;
  let params = 0;
  const built: tfjs.layers.Layer[] = [];
  layers.forEach(([kind, given], i) => {
    const k = getLayer(kind);
    const o = defaults(kind, given);
    const r = k.outputShape(shape, o);
    expect(r.error).toBeUndefined();
    params += k.parameters(shape, o);
    built.push(...k.build(tf, o, { init, inputShape: shape, seed: 42 + i, name: `l${i}_${k.name}` }));
    shape = r.shape!;
  });
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: input }));
  for (const l of built) model.add(l);
  const trainable = model.trainableWeights.reduce((a, w) => a + w.shape.reduce((x, y) => x * (y ?? 1), 1), 0);
  expect(trainable).toBe(params);
  expect(model.outputs[0]!.shape.slice(1)).toEqual(shape);
  const y = model.predict(tf.zeros([2, ...input])) as tfjs.Tensor;
  expect(y.shape).toEqual([2, ...shape]);
  return { model, shape, params };
}

describe('layer registry', () => {
  it('registers every kind, aliases resolve, misses list the valid names', () => {
    expect(layerNames()).toEqual([
      'conv2d', 'maxpool2d', 'avgpool2d', 'global_avgpool2d', 'flatten', 'linear', 'relu', 'leaky_relu', 'gelu',
      'sigmoid', 'tanh', 'softmax', 'dropout', 'batchnorm', 'scale',
    ]);
    expect(getLayer('dense')).toBe(getLayer('linear'));
    expect(findLayer('conv3d')).toBeUndefined();
    expect(() => getLayer('conv3d')).toThrow(/unknown layer 'conv3d'; valid kinds: conv2d, .*dense/);
    expect(() => registerLayer(getLayer('relu'))).toThrow(/twice/);
  });

  it('every option has a description', () => {
    for (const n of layerNames()) {
      const k = getLayer(n);
      expect(k.description.length).toBeGreaterThan(10);
      for (const s of Object.values(k.options)) expect(s.description.length).toBeGreaterThan(5);
    }
  });
});

describe('layer kinds build with tfjs and agree with shape inference', () => {
  it('the seed CIFAR-10 net (PyTorch Tudui): 145,578 parameters, output 10', () => {
    const { params, shape, model } = check([32, 32, 3], [
      ['conv2d', { filters: 32, kernel_size: 5, padding: 2 }], ['maxpool2d', { pool_size: 2 }],
      ['conv2d', { filters: 32, kernel_size: 5, padding: 2 }], ['maxpool2d', { pool_size: 2 }],
      ['conv2d', { filters: 64, kernel_size: 5, padding: 2 }], ['maxpool2d', { pool_size: 2 }],
      ['flatten', {}], ['linear', { units: 64 }], ['linear', { units: 10 }],
    ]);
    // 2432 + 25632 + 51264 + 65600 + 650, as torch's sum(p.numel() for p in Tudui().parameters()).
    expect(params).toBe(145_578);
    expect(model.countParams()).toBe(145_578);
    expect(shape).toEqual([10]);
  });

  it('torch init: weights and biases within ±1/sqrt(fan_in); glorot/he zero biases', () => {
    const { model } = check([4, 4, 2], [['conv2d', { filters: 3, kernel_size: 3 }], ['flatten', {}], ['dense', { units: 5 }]]);
    const [k, b] = model.getLayer('l0_conv2d').getWeights();
    const bound = 1 / Math.sqrt(3 * 3 * 2);
    for (const t of [k!, b!]) {
      const v = t.dataSync();
      expect(Math.max(...Array.from(v, Math.abs))).toBeLessThanOrEqual(bound + 1e-6);
      expect(Math.max(...Array.from(v, Math.abs))).toBeGreaterThan(bound / 4);
    }
    for (const init of ['glorot', 'he'] as const) {
      const m = check([4, 4, 2], [['conv2d', { filters: 3, kernel_size: 3 }]], init).model;
      expect(Array.from(m.getLayer('l0_conv2d').getWeights()[1]!.dataSync())).toEqual([0, 0, 0]);
    }
  });

  it('padding, stride, pairs, same/valid', () => {
    expect(check([9, 7, 1], [['conv2d', { filters: 4, kernel_size: [3, 2], stride: 2, padding: [1, 0] }]]).shape).toEqual([5, 3, 4]);
    expect(check([9, 7, 1], [['conv2d', { filters: 4, kernel_size: 3, padding: 'same', stride: 2 }]]).shape).toEqual([5, 4, 4]);
    expect(check([9, 7, 1], [['conv2d', { filters: 4, kernel_size: 4, padding: 'valid', bias: false }]]).params).toBe(64);
    expect(check([8, 8, 2], [['maxpool2d', { pool_size: 3, stride: 1, padding: 1 }]]).shape).toEqual([8, 8, 2]);
    expect(check([7, 7, 2], [['avgpool2d', { pool_size: 2 }]]).shape).toEqual([3, 3, 2]);
    expect(check([7, 7, 2], [['avgpool2d', { pool_size: 2, padding: 'same' }]]).shape).toEqual([4, 4, 2]);
    expect(check([6, 6, 5], [['global_avgpool2d', {}]]).shape).toEqual([5]);
  });

  it('activations, dropout, batchnorm', () => {
    const { params, shape } = check([4, 4, 3], [
      ['batchnorm', {}], ['relu', {}], ['leaky_relu', { negative_slope: 0.2 }], ['gelu', {}], ['sigmoid', {}], ['tanh', {}],
      ['dropout', { rate: 0.3 }], ['flatten', {}], ['linear', { units: 6, bias: false }], ['batchnorm', {}], ['softmax', {}],
    ]);
    expect(params).toBe(6 + 48 * 6 + 12);
    expect(shape).toEqual([6]);
    const gelu = check([3], [['gelu', {}]]).model;
    const y = (gelu.predict(tf.tensor2d([[-1, 0, 1]])) as tfjs.Tensor).dataSync();
    expect(y[2]).toBeCloseTo(0.8413447, 5); // exact erf GELU, as torch.nn.GELU()
  });

  it('shape errors name the shapes', () => {
    const lin = getLayer('linear');
    expect(lin.outputShape([8, 8, 32], { units: 3, bias: true }).error).toBe(
      "linear expects a flat input, received shape 8×8×32; add '- flatten' before it",
    );
    expect(getLayer('conv2d').outputShape([3, 3, 1], defaults('conv2d', { filters: 1, kernel_size: 5 })).error).toBe(
      'kernel 5×5 is larger than its input 3×3×1',
    );
    expect(getLayer('maxpool2d').outputShape([1, 1, 64], defaults('maxpool2d', { pool_size: 2 })).error).toBe(
      'maxpool2d 2×2 would shrink its input 1×1×64 below 1×1',
    );
    expect(getLayer('conv2d').outputShape([10], defaults('conv2d', { filters: 1, kernel_size: 1 })).error).toMatch(/image input/);
  });
});
