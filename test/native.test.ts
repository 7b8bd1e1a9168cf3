/**
 * The 'tudui-native' backend (oneDNN addon) against tfjs's pure-JS 'cpu' backend: values and gradients of every
 * kernel the addon overrides, and one full SGD step of the seed network. Skipped, with the reason in the suite's
 * name, when the addon is not built (no libdnnl-dev at install).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon, loadNativeBackend, NATIVE_BACKEND_NAME } from '../src/backends/native.js';
import { buildSeedNet, seedExperiment } from '../src/model/seed-net.js';
import { trainStep } from '../src/train/loop.js';
import { Optimizer } from '../src/train/optimizers.js';
import { compare, expectClose, nativeUnavailable, on, randArray, rng, size, valueAndGrads } from './helpers/backend-compare.js';

const reason = nativeUnavailable();
const suiteName = reason ? `tudui-native backend (SKIPPED: ${reason})` : 'tudui-native backend';

describe(suiteName, () => {
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    if (!reason) expect(await loadNativeBackend(tf)).toBe(true);
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it.skipIf(!!reason)('registers every cpu kernel for tudui-native', () => {
    const cpu = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
    const nat = new Set(tf.getKernelsForBackend(NATIVE_BACKEND_NAME).map((k) => k.kernelName));
    for (const k of cpu) expect(nat.has(k), k).toBe(true);
  });

  type ConvCase = {
    x: [number, number, number, number];
    f: [number, number, number, number];
    s: number | [number, number];
    pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
    d?: number;
  };
  const convCases: ConvCase[] = [
    { x: [2, 7, 9, 3], f: [3, 3, 3, 5], s: 1, pad: 'same' },
    { x: [2, 8, 8, 4], f: [3, 3, 4, 6], s: 2, pad: 'same' },
    { x: [2, 9, 7, 4], f: [3, 3, 4, 6], s: 2, pad: 'same' },
    { x: [1, 9, 7, 2], f: [2, 3, 2, 3], s: 2, pad: 'valid' },
    { x: [2, 10, 11, 3], f: [3, 2, 3, 4], s: [2, 3], pad: 'valid' },
    { x: [2, 6, 6, 3], f: [3, 3, 3, 4], s: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
    { x: [2, 5, 5, 16], f: [5, 5, 16, 8], s: 1, pad: 2 },
    { x: [3, 12, 12, 3], f: [5, 5, 3, 32], s: 1, pad: 'same' },
    { x: [1, 6, 6, 1], f: [1, 1, 1, 1], s: 1, pad: 'valid' },
  ];
  for (const c of convCases) {
    it.skipIf(!!reason)(`conv2d x${c.x} f${c.f} stride ${c.s} pad ${JSON.stringify(c.pad)}: value and gradients`, async () => {
      await compare('conv2d', valueAndGrads([c.x, c.f], 11, (x, w) =>
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad)));
    });
  }

  it.skipIf(!!reason)('conv2d with dilations (forward)', async () => {
    const xs = randArray(size([2, 11, 10, 3]), 3), ws = randArray(size([3, 3, 3, 4]), 4);
    for (const pad of ['same', 'valid'] as const) {
      await compare(`dilated conv ${pad}`, () =>
        tf.conv2d(tf.tensor4d(xs, [2, 11, 10, 3]), tf.tensor4d(ws, [3, 3, 3, 4]), 1, pad, 'NHWC', [2, 2]));
    }
  });

  for (const activation of ['linear', 'relu', 'elu', 'leakyrelu'] as const) {
    it.skipIf(!!reason)(`fused conv2d + bias, ${activation}`, async () => {
      const xs = randArray(size([2, 8, 8, 3]), 5), ws = randArray(size([3, 3, 3, 4]), 6), bs = randArray(4, 7);
      await compare('fused conv', () =>
        tf.fused.conv2d({
          x: tf.tensor4d(xs, [2, 8, 8, 3]), filter: tf.tensor4d(ws, [3, 3, 3, 4]), strides: 1, pad: 'same',
          bias: tf.tensor1d(bs), activation, leakyreluAlpha: 0.1,
        }));
    });
  }

  it.skipIf(!!reason)('fused conv2d + bias: gradients (the tf.layers training path)', async () => {
    await compare('fused conv grads', valueAndGrads([[2, 9, 9, 3], [5, 5, 3, 8], [8]], 21, (x, w, b) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 1, pad: 'same' })));
  });

  type PoolCase = { x: [number, number, number, number]; k: number | [number, number]; s: number; pad: 'same' | 'valid' };
  const poolCases: PoolCase[] = [
    { x: [2, 8, 8, 3], k: 2, s: 2, pad: 'valid' },
    { x: [2, 7, 5, 3], k: 2, s: 2, pad: 'valid' },
    { x: [2, 7, 5, 3], k: 3, s: 2, pad: 'same' },
    { x: [1, 6, 6, 4], k: 3, s: 1, pad: 'same' },
    { x: [1, 9, 9, 2], k: [3, 2], s: 3, pad: 'valid' },
  ];
  for (const c of poolCases) {
    it.skipIf(!!reason)(`maxpool x${c.x} k${c.k} s${c.s} ${c.pad}: all-negative windows with ties`, async () => {
      const r = rng(17);
      // Small integer range below zero: many ties inside every window, and nothing non-negative.
      const xs = Float32Array.from({ length: size(c.x) }, () => -1 - Math.floor(r() * 3));
      const rs = randArray(size(c.x), 18);
      await compare('maxpool', () => {
        const x = tf.tensor4d(xs, c.x);
        const y = tf.maxPool(x, c.k, c.s, c.pad);
        const rr = tf.tensor(rs.subarray(0, y.size), y.shape);
        // Through the tape: the gradient reads the winners the forward recorded (native-pooling.ts masks) ...
        const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.k, c.s, c.pad), rr)))([x]);
        // ... and the kernel called directly on an output computed without a tape: recomputed from x.
        const dxDirect = tf.engine().runKernel('MaxPoolGrad', { dy: rr, input: x, output: y }, { filterSize: c.k, strides: c.s, pad: c.pad }) as tf.Tensor;
        return [y, dx!, dxDirect];
      });
    });
    it.skipIf(!!reason)(`avgpool x${c.x} k${c.k} s${c.s} ${c.pad}`, async () => {
      if (c.pad === 'valid') {
        await compare('avgpool', valueAndGrads([c.x], 23, (x) => tf.avgPool(x as tf.Tensor4D, c.k, c.s, c.pad)));
        return;
      }
      // 'same': forward against cpu; gradient against the exact adjoint of the forward (cpu's kernel divides by
      // the full window, which is not the gradient of its own forward; see src/backends/native.ts).
      const xs = randArray(size(c.x), 24);
      await compare('avgpool same fwd', () => tf.avgPool(tf.tensor4d(xs, c.x), c.k, c.s, c.pad));
      await tf.setBackend(NATIVE_BACKEND_NAME);
      const x = tf.tensor4d(xs, c.x);
      const y = tf.avgPool(x, c.k, c.s, c.pad);
      const rs = randArray(y.size, 25);
      const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, c.k, c.s, c.pad), tf.tensor(rs, y.shape))))([x]);
      const got = dx!.dataSync() as Float32Array;
      const [N, H, W, C] = c.x;
      const [kh, kw] = typeof c.k === 'number' ? [c.k, c.k] : c.k;
      const [, OH, OW] = y.shape as number[];
      const padT = Math.floor(Math.max(0, (OH! - 1) * c.s + kh - H) / 2);
      const padL = Math.floor(Math.max(0, (OW! - 1) * c.s + kw - W) / 2);
      const want = new Float32Array(size(c.x));
      for (let n = 0; n < N; n++) for (let oh = 0; oh < OH!; oh++) for (let ow = 0; ow < OW!; ow++) {
        const cells: number[] = [];
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
          const ih = oh * c.s - padT + i, iw = ow * c.s - padL + j;
          if (ih >= 0 && ih < H && iw >= 0 && iw < W) cells.push((n * H + ih) * W + iw);
        }
        for (let ch = 0; ch < C; ch++) {
          const g = rs[((n * OH! + oh) * OW! + ow) * C + ch]! / cells.length;
          for (const cell of cells) want[cell * C + ch]! += g;
        }
      }
      expectClose(got, want, 'avgpool same grad');
      tf.dispose([x, y, dx!]);
    });

  // Outside a tape a conv's output is deferred and a pooling that reads it first runs both at once, in chunks of
  // the batch (native-conv.ts, native-pooling.ts, the addon's convPool). Batches of 1, 13 (chunks of 4 with a
  // remainder of 1 on two threads) and 16; bias or not, fused relu; pooling with and without padding.
  type ConvPoolCase = {
    x: [number, number, number, number]; f: [number, number, number, number]; s: number; pad: 'same' | 'valid' | number;
    bias: boolean; activation: 'linear' | 'relu' | 'elu'; pool: 'max' | 'avg'; k: number; ps: number; ppad: 'same' | 'valid';
  };
  const convPoolCases: ConvPoolCase[] = [
    { x: [13, 16, 16, 3], f: [5, 5, 3, 32], s: 1, pad: 2, bias: true, activation: 'linear', pool: 'max', k: 2, ps: 2, ppad: 'valid' },
    { x: [1, 9, 7, 4], f: [3, 3, 4, 6], s: 1, pad: 'same', bias: false, activation: 'linear', pool: 'max', k: 3, ps: 2, ppad: 'same' },
    { x: [16, 11, 11, 5], f: [3, 3, 5, 8], s: 2, pad: 'valid', bias: true, activation: 'relu', pool: 'avg', k: 3, ps: 1, ppad: 'same' },
    { x: [3, 8, 10, 2], f: [2, 3, 2, 7], s: 1, pad: 'valid', bias: true, activation: 'relu', pool: 'avg', k: 2, ps: 2, ppad: 'valid' },
    // 5×5 with 16-multiple channels: the chunks' convolutions by Winograd where the core has AVX-512
    { x: [13, 12, 12, 16], f: [5, 5, 16, 32], s: 1, pad: 2, bias: true, activation: 'relu', pool: 'max', k: 2, ps: 2, ppad: 'valid' },
    // an activation the addon does not fuse: not deferred, same result
    { x: [2, 8, 8, 3], f: [3, 3, 3, 4], s: 1, pad: 'same', bias: true, activation: 'elu', pool: 'max', k: 2, ps: 2, ppad: 'valid' },
  ];
  for (const c of convPoolCases) {
    it.skipIf(!!reason)(`conv x${c.x} f${c.f} s${c.s} ${c.pad}${c.bias ? ' + bias' : ''} ${c.activation} then ${c.pool}pool k${c.k} s${c.ps} ${c.ppad}, outside a tape`, async () => {
      const xs = randArray(size(c.x), 31), ws = randArray(size(c.f), 32), bs = randArray(c.f[3], 33);
      const nat = loadNativeAddon();
      const real = nat.convPool.bind(nat);
      let fusedCalls = 0;
      nat.convPool = (...args) => ((fusedCalls += 1), real(...args));
      try {
        await compare('conv then pool', () => {
          const conv = () => tf.fused.conv2d({
            x: tf.tensor4d(xs, c.x), filter: tf.tensor4d(ws, c.f), strides: c.s, pad: c.pad,
            bias: c.bias ? tf.tensor1d(bs) : undefined, activation: c.activation,
          });
          const pool = (t: tf.Tensor4D) => (c.pool === 'max' ? tf.maxPool(t, c.k, c.ps, c.ppad) : tf.avgPool(t, c.k, c.ps, c.ppad));
          // the pool first reads a deferred conv (fused); then the conv output itself, read after (computed then)
          const a = conv();
          const pa = pool(a);
          const b = conv();
          const rb = tf.relu(b);
          const pb = pool(b);
          return [pa, a, pb, rb];
        });
      } finally {
        nat.convPool = real;
      }
      // once per case on tudui-native (the second conv is read by relu before its pool), never for elu
      expect(fusedCalls).toBe(c.activation === 'elu' ? 0 : 1);
    });
  }

  // Winograd F(2×2, 5×5) (native/src/winograd.cc), in each instruction set the core has (AVX-512, AVX2): odd sizes,
  // batch 1, every padding form, output channels in blocks of 32 and a last block of 16, bias and relu; forward and
  // input gradient.
  type WinoCase = { x: [number, number, number, number]; oc: number; pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]; bias: boolean; relu: boolean };
  const winoCases: WinoCase[] = [
    { x: [2, 9, 7, 16], oc: 32, pad: 'same', bias: true, relu: true },
    { x: [1, 6, 5, 32], oc: 16, pad: 'valid', bias: false, relu: false },
    { x: [3, 8, 8, 16], oc: 48, pad: 2, bias: true, relu: false },
    { x: [13, 7, 9, 16], oc: 16, pad: [[0, 0], [1, 3], [2, 0], [0, 0]], bias: true, relu: true },
  ];
  for (const isa of ['avx512', 'avx2'] as const) {
    for (const c of winoCases) {
      it.skipIf(!!reason)(`5×5 conv x${c.x} → ${c.oc} pad ${JSON.stringify(c.pad)}${c.bias ? ' + bias' : ''}${c.relu ? ' relu' : ''}, Winograd on ${isa} where the core has it: value and gradients`, async () => {
        const f: [number, number, number, number] = [5, 5, c.x[3], c.oc];
        const xs = randArray(size(c.x), 61), ws = randArray(size(f), 62, -0.2, 0.2), bs = randArray(c.oc, 63);
        const nat = loadNativeAddon();
        const was = nat.winogradIsa();
        try {
          nat.winogradIsa(isa);
        } catch (e) {
          console.log(`${(e as Error).message}: the direct convolution is compared`);
        }
        const on = nat.winogradIsa() === isa;
        try {
          const before = nat.winogradRuns();
          await compare('winograd conv', () => tf.fused.conv2d({
            x: tf.tensor4d(xs, c.x), filter: tf.tensor4d(ws, f), strides: 1, pad: c.pad,
            bias: c.bias ? tf.tensor1d(bs) : undefined, activation: c.relu ? 'relu' : 'linear',
          }));
          if (on) expect(nat.winogradRuns() - before).toBe(1);
          // and in training: the forward under a tape and the input gradient (a 5×5 stride-1 conv of dy)
          const mid = nat.winogradRuns();
          await compare('winograd conv grads', valueAndGrads([c.x, f], 64, (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad)));
          if (on) expect(nat.winogradRuns() - mid).toBe(3);
        } finally {
          nat.winogradIsa(was as 'off' | 'avx2' | 'avx512');
        }
      });
    }
  }

  it.skipIf(!!reason)('a deferred conv whose filter the in-place optimizer then updates: computed on the old filter', async () => {
    const xs = randArray(size([2, 6, 6, 3]), 51), ws = randArray(size([3, 3, 3, 4]), 52), gs = randArray(size([3, 3, 3, 4]), 53);
    const [want] = await on('cpu', () => tf.conv2d(tf.tensor4d(xs, [2, 6, 6, 3]), tf.tensor4d(ws, [3, 3, 3, 4]), 1, 'same'));
    await tf.setBackend(NATIVE_BACKEND_NAME);
    const w0 = tf.tensor4d(Float32Array.from(ws), [3, 3, 3, 4]); // a copy: tfjs keeps the array it is given
    const w = tf.variable(w0);
    w0.dispose(); // the variable's array its own: updated in place, not copied first
    const x = tf.tensor4d(xs, [2, 6, 6, 3]);
    const y = tf.conv2d(x, w as tf.Tensor4D, 1, 'same'); // outside a tape: deferred
    const g = tf.tensor4d(gs, [3, 3, 3, 4]);
    new Optimizer(seedExperiment().optimizer).step([w], [g], 0.5);
    expect(Array.from(w.dataSync()).some((v, i) => v !== ws[i])).toBe(true); // updated in place
    expectClose(y.dataSync() as Float32Array, want!, 'deferred conv after the update');
    tf.dispose([w, x, y, g]);
  });

  it.skipIf(!!reason)('conv then pool under a tape: nothing deferred, gradients exact', async () => {
    const nat = loadNativeAddon();
    const real = nat.convPool.bind(nat);
    let fusedCalls = 0;
    nat.convPool = (...args) => ((fusedCalls += 1), real(...args));
    try {
      await compare('conv pool grads', valueAndGrads([[3, 10, 10, 3], [5, 5, 3, 8], [8]], 41, (x, w, b) =>
        tf.maxPool(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 1, pad: 'same' }), 2, 2, 'valid')));
    } finally {
      nat.convPool = real;
    }
    // the value outside the tape is fused once; the tape's forward is not
    expect(fusedCalls).toBe(1);
  });
  }

  const mmCases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
    { a: [5, 7], b: [7, 3], ta: false, tb: false },
    { a: [7, 5], b: [7, 3], ta: true, tb: false },
    { a: [5, 7], b: [3, 7], ta: false, tb: true },
    { a: [7, 5], b: [3, 7], ta: true, tb: true },
    { a: [3, 4, 6], b: [3, 6, 2], ta: false, tb: false },
    { a: [64, 1024], b: [1024, 64], ta: false, tb: false },
  ];
  for (const c of mmCases) {
    it.skipIf(!!reason)(`matMul ${c.a}${c.ta ? 'ᵀ' : ''} x ${c.b}${c.tb ? 'ᵀ' : ''}: value and gradients`, async () => {
      await compare('matmul', valueAndGrads([c.a, c.b], 31, (a, b) => tf.matMul(a, b, c.ta, c.tb)));
    });
  }

  it.skipIf(!!reason)('batched matMul broadcasting a batch of one (forward; tfjs has no gradient for it)', async () => {
    const as = randArray(4 * 6, 35), bs = randArray(3 * 2 * 6, 36);
    await compare('matmul broadcast', () => [
      tf.matMul(tf.tensor3d(as, [1, 4, 6]), tf.tensor3d(bs, [3, 2, 6]), false, true),
      tf.matMul(tf.tensor3d(bs, [3, 6, 2]), tf.tensor3d(as, [1, 4, 6]), true, true),
    ]);
  });

  for (const activation of ['linear', 'relu', 'sigmoid'] as const) {
    it.skipIf(!!reason)(`fused matMul + bias, ${activation}`, async () => {
      const as = randArray(6 * 5, 41), bs = randArray(5 * 4, 42), cs = randArray(4, 43);
      await compare('fused matmul', () =>
        tf.fused.matMul({ a: tf.tensor2d(as, [6, 5]), b: tf.tensor2d(bs, [5, 4]), bias: tf.tensor1d(cs), activation }));
    });
  }

  it.skipIf(!!reason)('fused matMul + bias: gradients (the dense layer training path)', async () => {
    await compare('fused matmul grads', valueAndGrads([[6, 5], [5, 4], [4]], 44, (a, b, c) =>
      tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c })));
  });

  it.skipIf(!!reason)('elementwise add/sub/mul/div: same shape, scalar either side, other broadcasts', async () => {
    const as = randArray(3 * 4, 71), bs = randArray(3 * 4, 72, 0.5, 2), cs = randArray(4, 73);
    await compare('binary', () => {
      const a = tf.tensor2d(as, [3, 4]), b = tf.tensor2d(bs, [3, 4]), s = tf.scalar(0.37), r = tf.tensor1d(cs);
      return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.add(s, a), tf.sub(a, s), tf.sub(s, a),
        tf.mul(s, a), tf.div(a, s), tf.div(s, b), tf.add(a, r), tf.mul(r, a), tf.sub(r, a), tf.div(a, tf.reshape(r, [1, 4])),
        tf.add(tf.reshape(a, [3, 4, 1]), tf.reshape(r, [1, 1, 4])), tf.add(tf.reshape(a, [3, 1, 4]), tf.reshape(b, [1, 3, 4]))];
    });
  });

  it.skipIf(!!reason)('elementwise ops with one value per row ([rows, 1] against [rows, cols], as softmax makes): bit-identical', async () => {
    const as = randArray(6 * 5, 74), cs = randArray(6, 75, 0.5, 2);
    const f = () => {
      const a = tf.tensor2d(as, [6, 5]), c = tf.tensor2d(cs, [6, 1]), c3 = tf.tensor3d(cs, [2, 3, 1]), a3 = tf.reshape(a, [2, 3, 5]);
      return [tf.add(a, c), tf.sub(a, c), tf.mul(a, c), tf.div(a, c), tf.add(c, a), tf.sub(c, a), tf.mul(c, a), tf.div(c, a),
        tf.sub(a3, c3), tf.div(c3, a3), tf.mul(tf.reshape(a, [1, 6, 5]), c), tf.sub(tf.reshape(a, [2, 3, 5]), tf.tensor2d(cs.slice(0, 3), [3, 1]))];
    };
    const want = await on('cpu', f);
    const got = await on(NATIVE_BACKEND_NAME, f);
    want.forEach((w, i) => expect(Array.from(got[i]!), `output ${i}`).toEqual(Array.from(w)));
  });

  it.skipIf(!!reason)('relu and its gradient (Step), NaN included; unfused conv + bias + relu training path', async () => {
    const xs = randArray(5 * 6, 75);
    xs[3] = NaN;
    xs[4] = 0;
    await compare('relu', () => {
      const x = tf.tensor2d(xs, [5, 6]);
      return [tf.relu(x), tf.step(x), tf.step(x, 0.3), ...tf.grads((a: tf.Tensor) => tf.sum(tf.relu(a)))([x])];
    });
    await compare('conv+bias+relu grads', valueAndGrads([[2, 8, 8, 3], [3, 3, 3, 4], [4]], 76, (x, w, b) =>
      tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), b))));
  });

  it.skipIf(!!reason)('maxpool gradient with -Infinity and NaN windows', async () => {
    const xs = Float32Array.from({ length: 2 * 4 * 4 * 2 }, (_, i) => (i % 7 === 0 ? NaN : i % 3 === 0 ? -Infinity : -(i % 5)));
    for (let i = 0; i < 8; i++) xs[i] = -Infinity; // whole windows of -inf: no gradient anywhere
    const rs = randArray(2 * 2 * 2 * 2, 74);
    await compare('maxpool -inf', () => {
      const x = tf.tensor4d(xs, [2, 4, 4, 2]);
      const rr = tf.tensor4d(rs, [2, 2, 2, 2]);
      const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), rr)))([x]);
      const y = tf.maxPool(x, 2, 2, 'valid');
      const dxDirect = tf.engine().runKernel('MaxPoolGrad', { dy: rr, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor;
      return [dx!, dxDirect];
    });
  });

  it.skipIf(!!reason)('sum over leading, trailing and middle axes', async () => {
    const xs = randArray(2 * 3 * 4 * 5, 51);
    const x = () => tf.tensor4d(xs, [2, 3, 4, 5]);
    await compare('sum', () => [
      tf.sum(x(), [0, 1, 2]), tf.sum(x(), [0, 1, 2], true), tf.sum(x(), 0), tf.sum(x(), -1), tf.sum(x(), [2, 3]),
      tf.sum(x()), tf.sum(x(), 1), tf.sum(x(), [0, 2]), tf.sum(x(), [1, 0]),
    ]);
  });

  it.skipIf(!!reason)('one SGD step of the seed network (batch 4) gives the same weights', async () => {
    await tf.setBackend('cpu');
    const model = buildSeedNet(tf);
    const init = model.getWeights().map((w) => ({ shape: w.shape, data: Float32Array.from(w.dataSync()) }));
    const xs = randArray(4 * 32 * 32 * 3, 61, 0, 1);
    const labels = [3, 1, 4, 1];
    const stepOn = async (backend: string) => {
      await tf.setBackend(backend);
      model.setWeights(init.map((w) => tf.tensor(w.data, w.shape)));
      const x = tf.tensor4d(xs, [4, 32, 32, 3]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const opt = tf.train.sgd(0.1);
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor), true)!;
      const out = [Float32Array.from(loss.dataSync()), ...model.getWeights().map((w) => Float32Array.from(w.dataSync()))];
      tf.dispose([x, y, loss]);
      opt.dispose();
      return out;
    };
    const want = await stepOn('cpu');
    const got = await stepOn(NATIVE_BACKEND_NAME);
    want.forEach((w, i) => expectClose(got[i]!, w, i === 0 ? 'loss' : `weight ${i - 1}`));
    model.dispose();
  });

  it.skipIf(!!reason)('recycled output arrays: never one that was read out or sliced, and training steps stay exact', async () => {
    await tf.setBackend(NATIVE_BACKEND_NAME);
    const xs = randArray(2 * 32 * 32 * 3, 81), ws = randArray(3 * 3 * 3 * 32, 82);
    const xs2 = randArray(2 * 32 * 32 * 3, 84);
    const conv = (x = xs) => tf.tidy(() => tf.conv2d(tf.tensor4d(x, [2, 32, 32, 3]), tf.tensor4d(ws, [3, 3, 3, 32]), 1, 'same'));
    // 65536 elements: large enough to come from the pool.
    const a = conv();
    const read = a.dataSync();
    const want = Float32Array.from(read);
    a.dispose();
    let others = [conv(xs2), conv(xs2), conv(xs2)]; // would land in a's array if it were recycled
    expect(Array.from(read)).toEqual(Array.from(want));
    tf.dispose(others);
    const b = conv();
    const view = tf.slice(b, [1], [1]); // a simple slice: a view of b's array on this backend
    b.dispose();
    others = [conv(xs2), conv(xs2), conv(xs2)];
    const bWant = await on('cpu', () => tf.slice(conv(), [1], [1]));
    await tf.setBackend(NATIVE_BACKEND_NAME);
    expectClose(Float32Array.from(view.dataSync()), bWant[0]!, 'slice of a disposed tensor');
    tf.dispose([view, ...others]);

    // Three steps of the training loop's own step (batch 4) on tudui-native and on cpu: same losses and weights.
    const exp = seedExperiment(['dataset.batch_size=4']);
    const batch = { x: randArray(4 * 32 * 32 * 3, 83), y: Int32Array.from([3, 1, 4, 1]), size: 4 };
    await tf.setBackend('cpu');
    const model = buildSeedNet(tf, exp);
    const init = model.getWeights().map((w) => ({ shape: w.shape, data: Float32Array.from(w.dataSync()) }));
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      model.setWeights(init.map((w) => tf.tensor(w.data, w.shape)));
      const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const opt = new Optimizer({ ...exp.optimizer, momentum: 0.9, lr: 0.05 });
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) losses.push(await trainStep(model, params, opt, exp, batch, [32, 32, 3], 10, 0.05));
      const out = [Float32Array.from(losses), ...model.getWeights().map((w) => Float32Array.from(w.dataSync()))];
      opt.dispose();
      return out;
    };
    const wantSteps = await run('cpu');
    const got = await run(NATIVE_BACKEND_NAME);
    wantSteps.forEach((w, i) => expectClose(got[i]!, w, i === 0 ? 'losses' : `weight ${i - 1}`, 1e-3));
    model.dispose();
  });
});
