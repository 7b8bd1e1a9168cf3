/**
 * Cross-backend comparison harness: run the same computation on two tfjs backends and check the results agree.
 *
 * Typical use (reference = the pure-JS 'cpu' backend):
 *
 *   const tf = await import('@tensorflow/tfjs');
 *   await loadWasmBackend(tf, { threads: 2 });         // or register your backend
 *   const x = randomHost([2, 9, 9, 3], rng);           // host data, uploaded to each backend in turn
 *   const w = randomHost([3, 3, 3, 4], rng);
 *   const r = await compareBackends(tf,
 *     (tf, x, w) => tf.grads((a, b) => tf.conv2d(a, b, 2, 'same').sum())([x, w]),
 *     [x, w], ['wasm', 'cpu'], { rtol: 1e-4 });
 *   expect(r.ok, r.message).toBe(true);
 *
 * `fn` gets the tfjs namespace and the inputs as tensors on the backend under test, and returns a tensor, an array
 * of tensors, or a record of named tensors; every returned tensor is compared element-wise with
 * |a - b| <= atol + rtol * |b|, where atol defaults to rtol × max|b| over that output (sums of many float32 terms
 * cancel, so elements near zero are compared at the output's scale). The active backend is restored afterwards.
 */
import type * as TF from '@tensorflow/tfjs';

type Tf = typeof TF;

export interface HostTensor {
  shape: number[];
  data: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}

export interface Tolerance {
  rtol?: number;
  /** absolute slack; default rtol × max|reference| per output */
  atol?: number;
}

export interface OutputComparison {
  name: string;
  shape: number[];
  maxAbsDiff: number;
  /** max |a-b| / (atol + rtol|b|): ≤ 1 means within tolerance */
  worstRatio: number;
  worstIndex: number;
  a: number;
  b: number;
  ok: boolean;
}

export interface Comparison {
  ok: boolean;
  outputs: OutputComparison[];
  /** one line per output that failed (or "ok") — use as the assertion message */
  message: string;
}

type FnResult = TF.Tensor | TF.Tensor[] | Record<string, TF.Tensor>;

function flatten(r: FnResult): Array<[string, TF.Tensor]> {
  if (Array.isArray(r)) return r.map((t, i) => [String(i), t]);
  if ((r as TF.Tensor).dataId !== undefined && (r as TF.Tensor).shape !== undefined) return [['0', r as TF.Tensor]];
  return Object.entries(r as Record<string, TF.Tensor>);
}

/** Runs `fn` on `backend` and downloads the results. */
export async function runOn(
  tf: Tf,
  backend: string,
  fn: (tf: Tf, ...inputs: TF.Tensor[]) => FnResult,
  inputs: HostTensor[],
): Promise<Array<{ name: string; shape: number[]; data: Float32Array | Int32Array | Uint8Array }>> {
  const previous = tf.getBackend();
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  try {
    const ins = inputs.map((h) => tf.tensor(h.data, h.shape, h.dtype ?? (h.data instanceof Int32Array ? 'int32' : 'float32')));
    try {
      const outs = flatten(fn(tf, ...ins));
      const res = [];
      for (const [name, t] of outs) {
        res.push({ name, shape: t.shape.slice(), data: (await t.data()) as Float32Array | Int32Array | Uint8Array });
        t.dispose();
      }
      return res;
    } finally {
      tf.dispose(ins);
    }
  } finally {
    if (previous) await tf.setBackend(previous);
  }
}

/** Compares `fn` on backends[0] (under test) with backends[1] (reference). */
export async function compareBackends(
  tf: Tf,
  fn: (tf: Tf, ...inputs: TF.Tensor[]) => FnResult,
  inputs: HostTensor[],
  backends: [string, string],
  tol: Tolerance = {},
): Promise<Comparison> {
  const rtol = tol.rtol ?? 1e-4;
  const A = await runOn(tf, backends[0], fn, inputs);
  const B = await runOn(tf, backends[1], fn, inputs);
  if (A.length !== B.length) throw new Error(`output count differs: ${A.length} vs ${B.length}`);
  const outputs: OutputComparison[] = [];
  for (let k = 0; k < A.length; k++) {
    const a = A[k]!;
    const b = B[k]!;
    const shapeOk = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
    let maxRef = 0;
    for (let i = 0; i < b.data.length; i++) maxRef = Math.max(maxRef, Math.abs(b.data[i]!));
    const atol = tol.atol ?? rtol * maxRef;
    let maxAbsDiff = 0;
    let worstRatio = shapeOk ? 0 : Infinity;
    let worstIndex = -1;
    if (shapeOk) {
      for (let i = 0; i < b.data.length; i++) {
        const d = Math.abs(a.data[i]! - b.data[i]!);
        const ratio = Number.isNaN(d) ? (Number.isNaN(a.data[i]!) && Number.isNaN(b.data[i]!) ? 0 : Infinity) : d / (atol + rtol * Math.abs(b.data[i]!) || 1e-30);
        if (d > maxAbsDiff) maxAbsDiff = d;
        if (ratio > worstRatio) {
          worstRatio = ratio;
          worstIndex = i;
        }
      }
    }
    outputs.push({
      name: a.name,
      shape: a.shape,
      maxAbsDiff,
      worstRatio,
      worstIndex,
      a: worstIndex >= 0 ? a.data[worstIndex]! : NaN,
      b: worstIndex >= 0 ? b.data[worstIndex]! : NaN,
      ok: shapeOk && worstRatio <= 1,
    });
  }
  const bad = outputs.filter((o) => !o.ok);
  const message = bad.length
    ? bad
        .map((o) => `output ${o.name} [${o.shape}]: ${backends[0]}=${o.a} vs ${backends[1]}=${o.b} at ${o.worstIndex} (max |diff| ${o.maxAbsDiff.toExponential(2)}, ${o.worstRatio.toFixed(1)}× tolerance)`)
        .join('\n')
    : 'ok';
  return { ok: bad.length === 0, outputs, message };
}

/** Deterministic PRNG for reproducible test inputs: the data pipeline's mulberry32. */
export { mulberry32 as rng } from '../../src/data/prng.js';

/** Host tensor with values uniform in [lo, hi). */
export function randomHost(shape: number[], rand: () => number, lo = -1, hi = 1): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rand();
  return { shape, data };
}
