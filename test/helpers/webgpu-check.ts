/**
 * Backend kernel checks: runs the forward and backward kernels that training uses on a target backend and on the
 * pure-JS 'cpu' backend (the reference) with the same inputs, and compares. Small shapes, plus the cases that broke
 * other backends: all-negative max-pool windows, ties, stride 2, padding same/valid/explicit, sizes that are not
 * multiples of the tile sizes.
 *
 * Used by test/webgpu.test.ts and by scripts/gpu-check.sh (through scripts/gpu-check-main.ts, bundled by
 * scripts/bundle.mjs). The target backend must already be registered; this switches backends with tf.setBackend
 * and leaves `target` active.
 */
import type * as TF from '@tensorflow/tfjs';
import { mulberry32 } from '../../src/data/prng.js';

type Tf = typeof TF;
type Tensor = TF.Tensor;

export interface KernelCheckResult {
  name: string;
  ok: boolean;
  /** Largest |target - cpu| over all outputs, and the largest |cpu| (scale). */
  maxAbsDiff: number;
  scale: number;
  ms: number;
  error?: string;
}

export interface KernelCase {
  name: string;
  /** Input tensors' shapes and how to fill them. */
  inputs: Array<{ shape: number[]; fill?: 'normal' | 'negative' | 'ties' | 'positive' }>;
  /** Returns the outputs to compare (forward and gradients). */
  run: (tf: Tf, ...xs: Tensor[]) => Tensor[];
  /** Relative tolerance (default 1e-3; sums over many terms accumulate float32 error differently). */
  rtol?: number;
  /** Larger shapes: slow on a software adapter (shader compilation), so the tests leave them to scripts/gpu-check.sh. */
  heavy?: boolean;
}

/** Deterministic pseudo-random numbers: the data pipeline's mulberry32 (Box-Muller below). */
const rng = mulberry32;

export function fillData(n: number, fill: string, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    if (fill === 'negative') out[i] = -1 - Math.abs(g) * 3; // every value < -1: a max starting at 0 or +tiny is wrong
    else if (fill === 'ties') out[i] = Math.round(g * 1.5) / 2; // few distinct values: many equal maxima
    else if (fill === 'positive') out[i] = 0.5 + Math.abs(g);
    else out[i] = g;
  }
  return out;
}

/** Weighted sum so that each output element gets a different upstream gradient. */
function wsum(tf: Tf, y: Tensor, seed: number): TF.Scalar {
  const w = tf.tensor(fillData(y.size, 'normal', seed), y.shape, 'float32');
  return tf.sum(tf.mul(y, w));
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const EXPLICIT: Pad = [[0, 0], [1, 2], [2, 1], [0, 0]];

function convCase(name: string, x: number[], f: number[], stride: number | [number, number], pad: Pad, dilation = 1, heavy = false): KernelCase {
  return {
    name,
    inputs: [{ shape: x }, { shape: f }],
    run: (tf, xi, fi) => {
      const fn = (a: Tensor, b: Tensor) => tf.conv2d(a as TF.Tensor4D, b as TF.Tensor4D, stride, pad, 'NHWC', dilation);
      const y = fn(xi!, fi!);
      // tfjs has no conv2d gradient for dilation > 1 (on any backend): forward only there.
      if (dilation > 1) return [y];
      const g = tf.grads((a: Tensor, b: Tensor) => wsum(tf, fn(a, b), 7))([xi!, fi!]);
      return [y, ...g];
    },
    heavy,
  };
}

function fusedConvCase(name: string, x: number[], f: number[], stride: number, pad: 'same' | 'valid', activation: 'relu' | 'linear'): KernelCase {
  const outC = f[3]!;
  return {
    name,
    inputs: [{ shape: x }, { shape: f }, { shape: [outC] }],
    run: (tf, xi, fi, bi) => {
      const fn = (a: Tensor, b: Tensor, c: Tensor) =>
        tf.fused.conv2d({ x: a as TF.Tensor4D, filter: b as TF.Tensor4D, strides: stride, pad, bias: c, activation });
      const y = fn(xi!, fi!, bi!);
      const g = tf.grads((a: Tensor, b: Tensor, c: Tensor) => wsum(tf, fn(a, b, c), 11))([xi!, fi!, bi!]);
      return [y, ...g];
    },
  };
}

function poolCase(kind: 'max' | 'avg', name: string, x: number[], size: number | [number, number], stride: number | [number, number], pad: 'same' | 'valid' | number, fill: 'normal' | 'negative' | 'ties' | 'positive' = 'normal'): KernelCase {
  return {
    name,
    inputs: [{ shape: x, fill }],
    run: (tf, xi) => {
      const fn = (a: Tensor) =>
        kind === 'max' ? tf.maxPool(a as TF.Tensor4D, size, stride, pad) : tf.avgPool(a as TF.Tensor4D, size, stride, pad);
      const y = fn(xi!);
      const g = tf.grad((a: Tensor) => wsum(tf, fn(a), 13))(xi!);
      return [y, g];
    },
  };
}

function matMulCase(name: string, a: number[], b: number[], ta: boolean, tb: boolean, heavy = false): KernelCase {
  return {
    heavy,
    name,
    inputs: [{ shape: a }, { shape: b }],
    run: (tf, ai, bi) => {
      const fn = (x: Tensor, y: Tensor) => tf.matMul(x, y, ta, tb);
      const out = fn(ai!, bi!);
      const g = tf.grads((x: Tensor, y: Tensor) => wsum(tf, fn(x, y), 17))([ai!, bi!]);
      return [out, ...g];
    },
  };
}

function unaryCase(name: string, shape: number[], op: (tf: Tf, x: Tensor) => Tensor, fill: 'normal' | 'positive' = 'normal'): KernelCase {
  return {
    name,
    inputs: [{ shape, fill }],
    run: (tf, xi) => [op(tf, xi!), tf.grad((a: Tensor) => wsum(tf, op(tf, a), 19))(xi!)],
  };
}

/** The cases: every kernel (and its gradient) that tudui's layers, losses and optimizers run. */
export function kernelCases(): KernelCase[] {
  const cases: KernelCase[] = [
    convCase('Conv2D 3x3 s1 same', [2, 7, 7, 3], [3, 3, 3, 4], 1, 'same'),
    convCase('Conv2D 3x3 s1 valid', [2, 7, 7, 3], [3, 3, 3, 4], 1, 'valid'),
    convCase('Conv2D 3x3 s2 same', [2, 8, 8, 3], [3, 3, 3, 5], 2, 'same'),
    convCase('Conv2D 3x3 s2 same odd', [2, 7, 9, 3], [3, 3, 3, 5], 2, 'same'),
    convCase('Conv2D 3x3 s2 valid', [2, 9, 9, 2], [3, 3, 2, 3], 2, 'valid'),
    convCase('Conv2D 3x3 s1 explicit', [1, 6, 5, 2], [3, 3, 2, 3], 1, EXPLICIT),
    convCase('Conv2D 3x3 s2 explicit', [1, 7, 6, 2], [3, 3, 2, 3], 2, EXPLICIT),
    convCase('Conv2D 5x5 s1 same', [2, 9, 9, 3], [5, 5, 3, 6], 1, 'same'),
    convCase('Conv2D 2x3 s[1,2] valid', [2, 8, 9, 3], [2, 3, 3, 4], [1, 2], 'valid'),
    convCase('Conv2D 1x1 s1', [2, 5, 5, 8], [1, 1, 8, 6], 1, 'valid'),
    convCase('Conv2D 1x1 s2', [2, 6, 6, 8], [1, 1, 8, 6], 2, 'same'),
    convCase('Conv2D 3x3 dilation 2 (forward)', [1, 9, 9, 2], [3, 3, 2, 3], 1, 'same', 2),
    convCase('Conv2D 3x3 C16->32 (tiles)', [4, 16, 16, 16], [3, 3, 16, 32], 1, 'same', 1, true),
    convCase('Conv2D 3x3 C3->33 (ragged tiles)', [3, 13, 11, 3], [3, 3, 3, 33], 1, 'same', 1, true),
    convCase('Conv2D 5x5 C3->64 s1 valid 32x32', [2, 32, 32, 3], [5, 5, 3, 64], 1, 'valid', 1, true),
    fusedConvCase('FusedConv2D bias+relu same', [2, 8, 8, 3], [3, 3, 3, 8], 1, 'same', 'relu'),
    fusedConvCase('FusedConv2D bias linear s2 valid', [2, 9, 9, 3], [3, 3, 3, 8], 2, 'valid', 'linear'),

    poolCase('max', 'MaxPool 2x2 s2 valid', [2, 8, 8, 3], 2, 2, 'valid'),
    poolCase('max', 'MaxPool 2x2 s2 valid all-negative', [2, 8, 8, 3], 2, 2, 'valid', 'negative'),
    poolCase('max', 'MaxPool 2x2 s2 valid ties', [2, 8, 8, 3], 2, 2, 'valid', 'ties'),
    poolCase('max', 'MaxPool 3x3 s2 same', [2, 9, 9, 3], 3, 2, 'same'),
    poolCase('max', 'MaxPool 3x3 s2 same all-negative', [2, 9, 9, 3], 3, 2, 'same', 'negative'),
    poolCase('max', 'MaxPool 3x3 s2 same ties', [2, 9, 9, 3], 3, 2, 'same', 'ties'),
    poolCase('max', 'MaxPool 3x3 s1 same ties (overlap)', [1, 6, 6, 2], 3, 1, 'same', 'ties'),
    poolCase('max', 'MaxPool 2x2 s2 same odd', [2, 7, 7, 2], 2, 2, 'same'),
    poolCase('max', 'MaxPool 2x2 s2 same odd all-negative', [2, 7, 7, 2], 2, 2, 'same', 'negative'),
    poolCase('max', 'MaxPool 3x3 s2 explicit pad 1', [1, 8, 8, 2], 3, 2, 1, 'negative'),
    poolCase('avg', 'AvgPool 2x2 s2 valid', [2, 8, 8, 3], 2, 2, 'valid'),
    poolCase('avg', 'AvgPool 3x3 s2 same', [2, 9, 9, 3], 3, 2, 'same'),
    poolCase('avg', 'AvgPool 3x3 s1 same', [1, 6, 6, 2], 3, 1, 'same'),
    poolCase('avg', 'AvgPool 2x2 s2 same odd', [2, 7, 7, 2], 2, 2, 'same'),
    poolCase('avg', 'AvgPool 3x3 s2 explicit pad 1', [1, 8, 8, 2], 3, 2, 1),
    poolCase('avg', 'AvgPool 8x8 (global) valid', [2, 8, 8, 4], 8, 8, 'valid'),

    matMulCase('MatMul [5,7]x[7,3]', [5, 7], [7, 3], false, false),
    matMulCase('MatMul [65,130]x[130,67]', [65, 130], [130, 67], false, false, true),
    matMulCase('MatMul transposeA', [7, 5], [7, 3], true, false),
    matMulCase('MatMul transposeB', [5, 7], [3, 7], false, true),
    matMulCase('MatMul transposeA+B', [7, 5], [3, 7], true, true),
    matMulCase('BatchMatMul [3,4,6]x[3,6,5]', [3, 4, 6], [3, 6, 5], false, false),
    matMulCase('MatMul [64,576]x[576,10] (dense head)', [64, 576], [576, 10], false, false, true),
    {
      name: 'FusedMatMul bias+relu',
      inputs: [{ shape: [9, 13] }, { shape: [13, 6] }, { shape: [6] }],
      run: (tf, a, b, c) => {
        const fn = (x: Tensor, y: Tensor, z: Tensor) => tf.fused.matMul({ a: x as TF.Tensor2D, b: y as TF.Tensor2D, bias: z, activation: 'relu' });
        return [fn(a!, b!, c!), ...tf.grads((x: Tensor, y: Tensor, z: Tensor) => wsum(tf, fn(x, y, z), 23))([a!, b!, c!])];
      },
    },
    unaryCase('Relu', [4, 33], (tf, x) => tf.relu(x)),
    unaryCase('LeakyRelu 0.2', [4, 33], (tf, x) => tf.leakyRelu(x, 0.2)),
    unaryCase('Sigmoid', [4, 33], (tf, x) => tf.sigmoid(x)),
    unaryCase('Tanh', [4, 33], (tf, x) => tf.tanh(x)),
    unaryCase('Elu', [4, 33], (tf, x) => tf.elu(x)),
    unaryCase('GELU (tanh form)', [4, 33], (tf, x) =>
      tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
    ),
    unaryCase('Softmax', [6, 10], (tf, x) => tf.softmax(x)),
    unaryCase('LogSoftmax', [6, 10], (tf, x) => tf.logSoftmax(x)),
    unaryCase('Sqrt/Rsqrt (Adam)', [4, 17], (tf, x) => tf.add(tf.sqrt(x), tf.rsqrt(x)), 'positive'),
    unaryCase('Mean over H,W (global avgpool)', [3, 5, 6, 7], (tf, x) => tf.mean(x, [1, 2])),
    unaryCase('Sum axis 0 (bias grad)', [37, 9], (tf, x) => tf.sum(x, 0)),
    unaryCase('Max axis -1', [7, 11], (tf, x) => tf.max(x, -1)),
    {
      name: 'BatchNorm (moments + batchNorm, training)',
      inputs: [{ shape: [4, 5, 5, 6] }, { shape: [6] }, { shape: [6] }],
      run: (tf, x, g, b) => {
        const fn = (a: Tensor, gamma: Tensor, beta: Tensor) => {
          const m = tf.moments(a, [0, 1, 2]);
          return tf.batchNorm(a, m.mean, m.variance, beta, gamma, 1e-3);
        };
        return [fn(x!, g!, b!), ...tf.grads((a: Tensor, gamma: Tensor, beta: Tensor) => wsum(tf, fn(a, gamma, beta), 29))([x!, g!, b!])];
      },
      rtol: 3e-3,
    },
    {
      name: 'BatchNorm inference (FusedBatchNorm)',
      inputs: [{ shape: [2, 3, 3, 5] }, { shape: [5] }, { shape: [5], fill: 'positive' }, { shape: [5] }, { shape: [5] }],
      run: (tf, x, m, v, o, s) => [tf.batchNorm(x!, m!, v!, o!, s!, 1e-3)],
    },
    {
      name: 'Softmax cross-entropy loss',
      inputs: [{ shape: [8, 10] }],
      run: (tf, logits) => {
        const labels = tf.oneHot(tf.tensor1d([0, 3, 9, 1, 1, 5, 7, 2], 'int32'), 10);
        const fn = (l: Tensor) => tf.losses.softmaxCrossEntropy(labels, l);
        return [fn(logits!), tf.grad(fn)(logits!)];
      },
    },
  ];
  return cases;
}

/** The host data a case runs on (the same on every backend). */
export function caseInputs(c: KernelCase, seed: number): Array<{ shape: number[]; data: Float32Array }> {
  return c.inputs.map((s, i) => ({ shape: s.shape, data: fillData(s.shape.reduce((a, b) => a * b, 1), s.fill ?? 'normal', seed + i * 101) }));
}

export function setFlag(tf: Tf, name: string, value: boolean | number): void {
  try {
    tf.env().set(name, value);
  } catch {
    // flag not registered by this backend's package
  }
}

async function compute(tf: Tf, backend: string, c: KernelCase, seed: number): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  const inputs = caseInputs(c, seed).map((h) => tf.tensor(h.data, h.shape, 'float32'));
  try {
    const outs = tf.tidy(() => c.run(tf, ...inputs));
    const data = await Promise.all(outs.map(async (o) => new Float32Array((await o.data()) as Float32Array)));
    tf.dispose(outs);
    return data;
  } finally {
    tf.dispose(inputs);
  }
}

/**
 * Runs every case on `target` and on 'cpu' and compares. `filter` keeps cases whose name matches.
 * Failures are reported in the results, not thrown (a kernel that throws gives ok: false with `error`).
 */
export async function checkBackendKernels(
  tf: Tf,
  target: string,
  opts: { filter?: RegExp; cases?: KernelCase[]; heavy?: boolean; log?: (r: KernelCheckResult) => void } = {},
): Promise<KernelCheckResult[]> {
  // The webgpu backend runs small ops on the CPU when their inputs are on the CPU: force the GPU kernels.
  setFlag(tf, 'WEBGPU_CPU_FORWARD', false);
  const results: KernelCheckResult[] = [];
  const cases = (opts.cases ?? kernelCases()).filter((c) => (!opts.filter || opts.filter.test(c.name)) && (opts.heavy !== false || !c.heavy));
  let seed = 1000;
  for (const c of cases) {
    seed += 10;
    const t0 = performance.now();
    let r: KernelCheckResult;
    try {
      const ref = await compute(tf, 'cpu', c, seed);
      const got = await compute(tf, target, c, seed);
      let maxAbsDiff = 0;
      let scale = 0;
      let ok = ref.length === got.length;
      const rtol = c.rtol ?? 1e-3;
      for (let k = 0; k < ref.length && ok; k++) {
        const a = ref[k]!;
        const b = got[k]!;
        if (a.length !== b.length) {
          ok = false;
          break;
        }
        let s = 0;
        for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]!));
        scale = Math.max(scale, s);
        const atol = rtol * Math.max(s, 1e-6);
        for (let i = 0; i < a.length; i++) {
          const d = Math.abs(a[i]! - b[i]!);
          if (!(d <= atol + rtol * Math.abs(a[i]!))) ok = false; // NaN fails too
          if (d > maxAbsDiff || Number.isNaN(d)) maxAbsDiff = Number.isNaN(d) ? Number.NaN : d;
        }
      }
      r = { name: c.name, ok, maxAbsDiff, scale, ms: performance.now() - t0 };
    } catch (e) {
      r = { name: c.name, ok: false, maxAbsDiff: Number.NaN, scale: 0, ms: performance.now() - t0, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
    }
    results.push(r);
    opts.log?.(r);
  }
  await tf.setBackend(target);
  return results;
}

export function formatKernelResults(results: KernelCheckResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 4);
  return results
    .map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(w)}  max|diff| ${Number.isNaN(r.maxAbsDiff) ? 'NaN' : r.maxAbsDiff.toExponential(2)}  scale ${r.scale.toExponential(2)}  ${r.ms.toFixed(0)} ms${r.error ? `  error: ${r.error}` : ''}`)
    .join('\n');
}
