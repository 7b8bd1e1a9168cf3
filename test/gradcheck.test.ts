/**
 * Gradients on the wasm backend (with src/backends/wasm-kernels.ts) against the pure-JS 'cpu' backend.
 * Sizes are small: the cpu backend is slow.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { compareBackends, randomHost, rng, type HostTensor } from './helpers/gradcheck.js';
import { loadWasmBackend } from '../src/backends/wasm.js';

type Tf = typeof TF;
let tf: Tf;
const pair: [string, string] = ['wasm', 'cpu'];

beforeAll(async () => {
  tf = (await import('@tensorflow/tfjs')) as Tf;
  await loadWasmBackend(tf, { threads: 2 });
});

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Sum of f(...) weighted by a fixed random tensor, so every output element gets a distinct upstream gradient. */
function weighted(t: Tf, y: TF.Tensor, w: TF.Tensor): TF.Scalar {
  return t.sum(t.mul(y, w));
}

describe('conv2d gradients (Conv2DBackpropFilter / Conv2DBackpropInput)', () => {
  const cases: Array<{ x: [number, number, number, number]; k: [number, number]; co: number; s: number | [number, number]; pad: Pad }> = [
    { x: [2, 7, 7, 3], k: [3, 3], co: 4, s: 1, pad: 'same' },
    { x: [2, 7, 7, 3], k: [3, 3], co: 4, s: 1, pad: 'valid' },
    { x: [3, 9, 8, 2], k: [3, 3], co: 5, s: 2, pad: 'same' },
    { x: [3, 9, 8, 2], k: [3, 3], co: 5, s: 2, pad: 'valid' },
    { x: [2, 10, 10, 1], k: [4, 4], co: 3, s: 2, pad: 'same' },
    { x: [2, 11, 9, 3], k: [5, 5], co: 8, s: 1, pad: 2 },
    { x: [2, 11, 9, 3], k: [3, 2], co: 2, s: [2, 3], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { x: [1, 6, 6, 4], k: [3, 3], co: 2, s: 3, pad: [[0, 0], [3, 0], [0, 3], [0, 0]] },
    { x: [4, 8, 8, 16], k: [5, 5], co: 8, s: 1, pad: 'same' },
  ];
  for (const [i, c] of cases.entries()) {
    it(`x ${c.x} k ${c.k}×${c.co} stride ${c.s} pad ${JSON.stringify(c.pad)}`, async () => {
      const r = rng(100 + i);
      const x = randomHost(c.x, r);
      const w = randomHost([...c.k, c.x[3], c.co], r);
      const yShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as TF.Tensor4D, tf.zeros([...c.k, c.x[3], c.co]) as TF.Tensor4D, c.s, c.pad).shape);
      const up = randomHost(yShape, r);
      const res = await compareBackends(
        tf,
        (t, xx, ww, uu) => {
          const y = t.tidy(() => t.conv2d(xx as TF.Tensor4D, ww as TF.Tensor4D, c.s, c.pad));
          const g = t.grads((a: TF.Tensor, b: TF.Tensor) => weighted(t, t.conv2d(a as TF.Tensor4D, b as TF.Tensor4D, c.s, c.pad), uu!))([xx!, ww!]);
          return { y, dx: g[0]!, dw: g[1]! };
        },
        [x, w, up],
        pair,
      );
      expect(res.ok, res.message).toBe(true);
    });
  }

  it('fused conv2d with bias and relu (the tf.layers path)', async () => {
    const r = rng(7);
    const x = randomHost([2, 8, 8, 3], r);
    const w = randomHost([5, 5, 3, 6], r);
    const b = randomHost([6], r);
    const up = randomHost([2, 8, 8, 6], r);
    const res = await compareBackends(
      tf,
      (t, xx, ww, bb, uu) =>
        t.grads((a: TF.Tensor, f: TF.Tensor, bias: TF.Tensor) =>
          weighted(t, t.fused.conv2d({ x: a as TF.Tensor4D, filter: f as TF.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu' }), uu!),
        )([xx!, ww!, bb!]),
      [x, w, b, up],
      pair,
    );
    expect(res.ok, res.message).toBe(true);
  });
});

describe('pooling gradients', () => {
  const cases: Array<{ name: string; x: [number, number, number, number]; f: number | [number, number]; s: number; pad: Pad; lo?: number; hi?: number }> = [
    { name: 'all-negative 2×2/2 valid', x: [2, 8, 8, 3], f: 2, s: 2, pad: 'valid', lo: -5, hi: -0.5 },
    { name: 'mixed sign 2×2/2 valid', x: [3, 6, 6, 4], f: 2, s: 2, pad: 'valid' },
    { name: 'odd size 3×3/2 same', x: [2, 7, 9, 2], f: 3, s: 2, pad: 'same', lo: -3, hi: -1 },
    { name: 'odd size 3×3/2 valid', x: [2, 7, 9, 5], f: 3, s: 2, pad: 'valid' },
    { name: 'overlapping 3×3/1 same', x: [1, 5, 5, 3], f: 3, s: 1, pad: 'same' },
    { name: '2×3 window stride 2, odd input, same', x: [2, 5, 7, 1], f: [2, 3], s: 2, pad: 'same' },
  ];
  for (const [i, c] of cases.entries()) {
    it(`maxPool ${c.name}`, async () => {
      const r = rng(200 + i);
      const x = randomHost(c.x, r, c.lo ?? -1, c.hi ?? 1);
      const yShape = tf.tidy(() => tf.maxPool(tf.zeros(c.x) as TF.Tensor4D, c.f, c.s, c.pad as 'same').shape);
      const up = randomHost(yShape, r);
      const res = await compareBackends(
        tf,
        (t, xx, uu) => ({
          y: t.maxPool(xx as TF.Tensor4D, c.f, c.s, c.pad as 'same'),
          dx: t.grad((a: TF.Tensor) => weighted(t, t.maxPool(a as TF.Tensor4D, c.f, c.s, c.pad as 'same'), uu!))(xx!),
        }),
        [x, up],
        pair,
      );
      expect(res.ok, res.message).toBe(true);
    });
  }

  it('maxPool ties go to the first maximum (like cpu)', async () => {
    const x: HostTensor = { shape: [1, 4, 4, 2], data: new Float32Array(32).map((_, i) => (i % 3 === 0 ? -1 : -2)) };
    const up = randomHost([1, 2, 2, 2], rng(3));
    const res = await compareBackends(
      tf,
      (t, xx, uu) => t.grad((a: TF.Tensor) => weighted(t, t.maxPool(a as TF.Tensor4D, 2, 2, 'valid'), uu!))(xx!),
      [x, up],
      pair,
    );
    expect(res.ok, res.message).toBe(true);
  });

  it('the published wasm MaxPoolGrad bug is gone: an all-negative window sends its gradient to its maximum', async () => {
    await tf.setBackend('wasm');
    const g = tf.tidy(() => {
      const x = tf.tensor4d([-3, -1, -2, -4], [1, 2, 2, 1]);
      return tf.grad((a: TF.Tensor) => tf.maxPool(a as TF.Tensor4D, 2, 2, 'valid').sum())(x);
    });
    expect(Array.from(await g.data())).toEqual([0, 1, 0, 0]);
    g.dispose();
  });

  const avgCases: Array<{ name: string; x: [number, number, number, number]; f: number; s: number; pad: 'same' | 'valid' }> = [
    { name: '2×2/2 valid', x: [2, 8, 8, 3], f: 2, s: 2, pad: 'valid' },
    { name: '3×3/2 valid odd', x: [2, 9, 7, 4], f: 3, s: 2, pad: 'valid' },
    { name: '2×2/2 same even', x: [3, 6, 6, 2], f: 2, s: 2, pad: 'same' },
  ];
  for (const [i, c] of avgCases.entries()) {
    it(`avgPool ${c.name}`, async () => {
      const r = rng(300 + i);
      const x = randomHost(c.x, r);
      const yShape = tf.tidy(() => tf.avgPool(tf.zeros(c.x) as TF.Tensor4D, c.f, c.s, c.pad).shape);
      const up = randomHost(yShape, r);
      const res = await compareBackends(
        tf,
        (t, xx, uu) => ({
          y: t.avgPool(xx as TF.Tensor4D, c.f, c.s, c.pad),
          dx: t.grad((a: TF.Tensor) => weighted(t, t.avgPool(a as TF.Tensor4D, c.f, c.s, c.pad), uu!))(xx!),
        }),
        [x, up],
        pair,
      );
      expect(res.ok, res.message).toBe(true);
    });
  }

  it('avgPool with same padding at the borders: gradient matches the forward average (finite differences)', async () => {
    // The 'cpu' backend's AvgPoolGrad divides by the full window even where its forward averaged fewer pixels, so
    // it is no reference here; check the wasm gradient against central differences of the wasm forward instead.
    await tf.setBackend('wasm');
    const r = rng(333);
    const x = randomHost([1, 5, 5, 1], r);
    const up = randomHost([1, 3, 3, 1], r);
    const f = (xs: Float32Array) =>
      tf.tidy(() => tf.sum(tf.mul(tf.avgPool(tf.tensor4d(xs, [1, 5, 5, 1]), 3, 2, 'same'), tf.tensor4d(up.data as Float32Array, [1, 3, 3, 1]))).dataSync()[0]!);
    const g = tf.tidy(() =>
      tf.grad((a: TF.Tensor) => tf.sum(tf.mul(tf.avgPool(a as TF.Tensor4D, 3, 2, 'same'), tf.tensor4d(up.data as Float32Array, [1, 3, 3, 1]))))(
        tf.tensor4d(x.data as Float32Array, [1, 5, 5, 1]),
      ).dataSync(),
    );
    const h = 1e-2;
    for (let i = 0; i < 25; i++) {
      const p = Float32Array.from(x.data as Float32Array);
      const m = Float32Array.from(x.data as Float32Array);
      p[i]! += h;
      m[i]! -= h;
      expect(g[i]).toBeCloseTo((f(p) - f(m)) / (2 * h), 3);
    }
  });
});

describe('dense, activations, normalisation, dropout, losses', () => {
  it('matMul + bias (dense) and fused matMul with relu', async () => {
    const r = rng(400);
    const x = randomHost([5, 13], r);
    const w = randomHost([13, 7], r);
    const b = randomHost([7], r);
    const up = randomHost([5, 7], r);
    const res = await compareBackends(
      tf,
      (t, xx, ww, bb, uu) => [
        ...t.grads((a: TF.Tensor, f: TF.Tensor, c: TF.Tensor) => weighted(t, t.add(t.matMul(a as TF.Tensor2D, f as TF.Tensor2D), c), uu!))([xx!, ww!, bb!]),
        ...t.grads((a: TF.Tensor, f: TF.Tensor, c: TF.Tensor) =>
          weighted(t, t.fused.matMul({ a: a as TF.Tensor2D, b: f as TF.Tensor2D, bias: c, activation: 'relu' }), uu!),
        )([xx!, ww!, bb!]),
      ],
      [x, w, b, up],
      pair,
    );
    expect(res.ok, res.message).toBe(true);
  });

  it('tf.layers dense, relu, gelu, batchnorm (training), leakyRelu, sigmoid, tanh, softmax', async () => {
    const r = rng(401);
    const x = randomHost([6, 4, 4, 3], r, -2, 2);
    const up = randomHost([6, 4, 4, 3], r);
    const res = await compareBackends(
      tf,
      (t, xx, uu) => {
        const fns: Array<(a: TF.Tensor) => TF.Tensor> = [
          (a) => t.relu(a),
          (a) => t.layers.activation({ activation: 'gelu' }).apply(a) as TF.Tensor,
          (a) => t.leakyRelu(a, 0.1),
          (a) => t.sigmoid(a),
          (a) => t.tanh(a),
          (a) => t.softmax(a),
          (a) => t.logSoftmax(a),
          (a) => {
            const { mean, variance } = t.moments(a, [0, 1, 2]);
            return t.batchNorm(a, mean, variance, t.tensor1d([0.1, -0.2, 0.3]), t.tensor1d([1.5, 0.5, 1]), 1e-5);
          },
          (a) => (t.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }).apply(a, { training: true }) as TF.Tensor),
          (a) => t.mean(a, [1, 2]),
          (a) => t.dropout(a, 0.5, undefined, 1234),
        ];
        return fns.map((fn) => t.grad((a: TF.Tensor) => weighted(t, fn(a), fn(a).shape.length === 4 ? uu! : t.slice(uu!, [0, 0, 0, 0], [6, 1, 1, 3]).reshape([6, 3])))(xx!));
      },
      [x, up],
      pair,
    );
    expect(res.ok, res.message).toBe(true);
  });

  it('softmax cross-entropy (logSoftmax · one-hot, mean over the batch) and tf.losses.softmaxCrossEntropy', async () => {
    const r = rng(402);
    const logits = randomHost([8, 10], r, -3, 3);
    const labels: HostTensor = { shape: [8], data: Int32Array.from({ length: 8 }, (_, i) => (i * 7) % 10), dtype: 'int32' };
    const res = await compareBackends(
      tf,
      (t, z, y) => {
        const onehot = t.oneHot(y as TF.Tensor1D, 10).toFloat();
        return [
          t.grad((a: TF.Tensor) => t.mean(t.neg(t.sum(t.mul(t.logSoftmax(a), onehot), 1))))(z!),
          t.grad((a: TF.Tensor) => t.losses.softmaxCrossEntropy(onehot, a))(z!),
        ];
      },
      [logits, labels],
      pair,
    );
    expect(res.ok, res.message).toBe(true);
  });
});

describe('end to end: one SGD step of the seed net', () => {
  it('conv5·32 → pool → conv5·32 → pool → conv5·64 → pool → dense 64 → dense 10 gives the same weights on wasm and cpu', async () => {
    const r = rng(500);
    const build = (t: Tf) => {
      const m = t.sequential();
      m.add(t.layers.zeroPadding2d({ padding: 2, inputShape: [32, 32, 3] }));
      m.add(t.layers.conv2d({ filters: 32, kernelSize: 5, padding: 'valid' }));
      m.add(t.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      m.add(t.layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same' }));
      m.add(t.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      m.add(t.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same' }));
      m.add(t.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      m.add(t.layers.flatten());
      m.add(t.layers.dense({ units: 64 }));
      m.add(t.layers.dense({ units: 10 }));
      return m;
    };
    const shapes = tf.tidy(() => {
      const m = build(tf);
      const s = m.getWeights().map((w) => w.shape);
      m.dispose();
      return s;
    });
    // torch-like init scale so activations stay O(1)
    const weights = shapes.map((s) => {
      const fanIn = s.length === 4 ? s[0]! * s[1]! * s[2]! : s.length === 2 ? s[0]! : 64;
      const b = 1 / Math.sqrt(fanIn);
      return randomHost(s, r, -b, b);
    });
    const x = randomHost([4, 32, 32, 3], r, -1, 1);
    const y: HostTensor = { shape: [4], data: Int32Array.from([3, 1, 4, 1]), dtype: 'int32' };
    const lr = 0.1;
    const res = await compareBackends(
      tf,
      (t, xx, yy, ...ws) => {
        const m = build(t);
        m.setWeights(ws);
        const vars = m.trainableWeights.map((w) => (w as unknown as { val: TF.Variable }).val);
        const { value, grads } = t.variableGrads(() => {
          const logits = m.apply(xx!, { training: true }) as TF.Tensor2D;
          const onehot = t.oneHot(yy as TF.Tensor1D, 10).toFloat();
          return t.mean(t.neg(t.sum(t.mul(t.logSoftmax(logits), onehot), 1))) as TF.Scalar;
        }, vars);
        const out: Record<string, TF.Tensor> = { loss: value };
        for (const v of vars) {
          const g = grads[v.name]!;
          out[`grad ${v.name}`] = g;
          out[`updated ${v.name}`] = t.sub(v, t.mul(g, lr));
        }
        m.dispose();
        return out;
      },
      [x, y, ...weights],
      pair,
      { rtol: 1e-4 },
    );
    expect(res.outputs.length).toBe(1 + 2 * 10);
    expect(res.ok, res.message).toBe(true);
  });
});
