/** Helpers for comparing a backend's kernels with tfjs's pure-JS 'cpu' backend (values and gradients). */
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon, NATIVE_BACKEND_NAME } from '../../src/backends/native.js';
import { mulberry32 } from '../../src/data/prng.js';

/** Why the tudui-native addon cannot be used here ('' when it can): the native suites skip with it in their name. */
export function nativeUnavailable(): string {
  try {
    loadNativeAddon();
    return '';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Deterministic pseudo-random numbers: the data pipeline's mulberry32. */
export const rng = mulberry32;
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}
export const size = (s: number[]) => s.reduce((p, q) => p * q, 1);

/** Runs `f` on a backend; returns its outputs as arrays. Inputs are made inside, from plain arrays. */
export async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const data = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return data;
}

export function expectClose(actual: Float32Array, expected: Float32Array, what: string, rtol = 1e-4): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 0;
  for (const v of expected) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!, a = actual[i]!;
    const d = Object.is(e, a) ? 0 : Math.abs(a - e);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  const tol = rtol * (1 + scale);
  expect(worst <= tol, `${what}: max |diff| ${worst} at ${at} (expected ${expected[at]}, got ${actual[at]}), tol ${tol}`).toBe(true);
}

/** Same function on both backends; every output compared. */
export async function compare(what: string, f: () => tf.Tensor | tf.Tensor[], rtol = 1e-4): Promise<void> {
  const want = await on('cpu', f);
  const got = await on(NATIVE_BACKEND_NAME, f);
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expectClose(got[i]!, w, `${what} [output ${i}]`, rtol));
}

/** Value of f(xs) · R and its gradients w.r.t. every input: checks a kernel and its gradient kernels at once. */
export function valueAndGrads(
  shapes: number[][], seed: number, f: (...xs: tf.Tensor[]) => tf.Tensor,
): () => tf.Tensor[] {
  const arrays = shapes.map((s, i) => randArray(size(s), seed + i));
  return () => {
    const xs = shapes.map((s, i) => tf.tensor(arrays[i]!, s));
    const y = f(...xs);
    const r = tf.tensor(randArray(y.size, seed + 99), y.shape);
    const g = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), r)));
    return [y, ...g(xs)];
  };
}

