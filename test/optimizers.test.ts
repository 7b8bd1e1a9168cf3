/**
 * The optimizers (src/train/optimizers.ts): the in-place update of the JS-array backends ('cpu', 'tudui-native')
 * against the tf-op path (bit-identical weights and slots), both against PyTorch's update rules computed by hand
 * in float64, and the in-place path's safety (a shared array is never written through, no tensors leak).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Optimizer } from '../src/train/optimizers.js';
import { mulberry32 } from '../src/data/prng.js';
import { loadNativeBackend, NATIVE_BACKEND_NAME } from '../src/backends/native.js';
import type { ResolvedExperiment } from '../src/config/index.js';

type Config = ResolvedExperiment['optimizer'];
const base: Config = { name: 'sgd', lr: 0.01, momentum: 0, nesterov: false, weight_decay: 0, betas: [0.9, 0.999], eps: 1e-8, alpha: 0.99 } as Config;

const CASES: Array<[string, Partial<Config>]> = [
  ['sgd', { name: 'sgd' }],
  ['sgd weight decay', { name: 'sgd', weight_decay: 0.05 }],
  ['sgd momentum', { name: 'sgd', momentum: 0.9 }],
  ['sgd nesterov + weight decay', { name: 'sgd', momentum: 0.9, nesterov: true, weight_decay: 1e-3 }],
  ['adam', { name: 'adam', lr: 0.003 }],
  ['adam weight decay', { name: 'adam', lr: 0.003, weight_decay: 0.01, betas: [0.8, 0.99], eps: 1e-6 }],
  ['adamw', { name: 'adamw', lr: 0.003, weight_decay: 0.01 }],
  ['rmsprop', { name: 'rmsprop', lr: 0.001 }],
  ['rmsprop momentum + weight decay', { name: 'rmsprop', lr: 0.001, momentum: 0.5, weight_decay: 0.02, alpha: 0.9 }],
];

/** Deterministic values in [-1, 1) (the data pipeline's mulberry32). */
function values(n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

const SHAPES = [[3, 4], [7], [2, 3, 2, 5]];
const STEPS = 4;
const LRS = [1, 1, 0.5, 0.25]; // a schedule: the learning rate changes between steps

/** Runs STEPS updates; returns the final weights and slots as arrays. */
function run(config: Config, inPlace: boolean): { weights: Float32Array[]; slots: Record<string, Float32Array> } {
  const params = SHAPES.map((s, i) => tf.variable(tf.tensor(values(s.reduce((p, q) => p * q, 1), 10 + i), s), true));
  const opt = new Optimizer(config, { inPlace });
  for (let k = 0; k < STEPS; k++) {
    const grads = SHAPES.map((s, i) => tf.tensor(values(s.reduce((p, q) => p * q, 1), 100 * (k + 1) + i), s));
    opt.step(params, grads, config.lr * LRS[k]!);
    tf.dispose(grads);
  }
  const weights = params.map((p) => Float32Array.from(p.dataSync()));
  const slots = Object.fromEntries(Object.entries(opt.getState().slots).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
  opt.dispose();
  tf.dispose(params);
  return { weights, slots };
}

/** PyTorch's update rules (torch.optim, foreach=False), in float64, for one scalar parameter. */
function torchReference(c: Config, p0: number, grads: number[], lrs: number[]): number {
  let p = p0;
  let buf = 0, m = 0, v = 0, sq = 0;
  const wd = c.weight_decay ?? 0;
  grads.forEach((g0, k) => {
    const t = k + 1;
    const lr = lrs[k]!;
    let g = g0;
    if (c.name === 'sgd') {
      if (wd) g += wd * p;
      const mu = c.momentum ?? 0;
      if (mu) {
        buf = t === 1 ? g : mu * buf + g;
        g = c.nesterov ? g + mu * buf : buf;
      }
      p -= lr * g;
    } else if (c.name === 'adam' || c.name === 'adamw') {
      const [b1, b2] = c.betas as [number, number];
      if (c.name === 'adamw') p *= 1 - lr * wd;
      else if (wd) g += wd * p;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const denom = Math.sqrt(v / (1 - b2 ** t)) + c.eps!;
      p -= (lr / (1 - b1 ** t)) * (m / denom);
    } else {
      const alpha = c.alpha!;
      if (wd) g += wd * p;
      sq = alpha * sq + (1 - alpha) * g * g;
      let u = g / (Math.sqrt(sq) + c.eps!);
      if (c.momentum) {
        buf = c.momentum * buf + u;
        u = buf;
      }
      p -= lr * u;
    }
  });
  return p;
}

const native = await loadNativeBackend(tf).catch(() => false); // not built here: cpu only
const backends = ['cpu', ...(native === true ? [NATIVE_BACKEND_NAME] : [])];

describe.each(backends)('optimizers on %s', (backend) => {
  it.each(CASES)('%s: the in-place update equals the tf-op path bit for bit, and PyTorch in float64', async (_, over) => {
    await tf.setBackend(backend);
    const config = { ...base, ...over } as Config;
    const fast = run(config, true);
    const slow = run(config, false);
    expect(Object.keys(fast.slots).sort()).toEqual(Object.keys(slow.slots).sort());
    fast.weights.forEach((w, i) => expect(Array.from(w), `weight ${i}`).toEqual(Array.from(slow.weights[i]!)));
    for (const k of Object.keys(slow.slots)) expect(Array.from(fast.slots[k]!), `slot ${k}`).toEqual(Array.from(slow.slots[k]!));

    // Against the float64 reference, element by element.
    SHAPES.forEach((s, i) => {
      const n = s.reduce((p, q) => p * q, 1);
      const p0 = values(n, 10 + i);
      for (let j = 0; j < n; j++) {
        const grads = Array.from({ length: STEPS }, (_, k) => values(n, 100 * (k + 1) + i)[j]!);
        const want = torchReference(config, p0[j]!, grads, LRS.map((f) => config.lr * f));
        expect(Math.abs(fast.weights[i]![j]! - want), `weight ${i}[${j}]`).toBeLessThan(2e-6 * Math.max(1, Math.abs(want)));
      }
    });
  });

  it('never writes through an array another tensor shares, and leaks no tensors', async () => {
    await tf.setBackend(backend);
    const init = tf.tensor([1, 2, 3, 4]);
    const p = tf.variable(tf.zeros([4]));
    p.assign(init); // p and init now share one array
    const opt = new Optimizer({ ...base, name: 'sgd', momentum: 0.9 } as Config);
    const g = tf.tensor([1, 1, 1, 1]);
    opt.step([p], [g], 0.5); // creates the momentum slot
    const before = tf.memory().numTensors;
    opt.step([p], [g], 0.5);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(init.dataSync())).toEqual([1, 2, 3, 4]);
    // momentum: step 1 buf = 1, p = x - 0.5; step 2 buf = 0.9 + 1 = 1.9, p -= 0.95
    expect(Array.from(p.dataSync())).toEqual([1, 2, 3, 4].map((x) => Math.fround(Math.fround(x - 0.5) - Math.fround(0.95))));
    opt.dispose();
    tf.dispose([init, p, g]);
  });
});
