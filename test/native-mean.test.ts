/** The native Mean and Tile kernels (batch-norm moments and gradient, global average pooling) against tfjs's cpu backend. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeBackend, NATIVE_BACKEND_NAME } from '../src/backends/native.js';
import { nativeUnavailable } from './helpers/backend-compare.js';

const reason = nativeUnavailable();

function run(backend: string, shape: number[], axes: number[], keepDims: boolean) {
  tf.setBackend(backend);
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37) * 3 - 0.5);
  const x = tf.tensor(values, shape);
  const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => tf.mean(t, axes, keepDims).square().sum())([x]);
  const m = tf.mean(x, axes, keepDims);
  return { mean: Array.from(m.dataSync()), shape: m.shape, loss: value.dataSync()[0]!, grad: Array.from(grads[0]!.dataSync()) };
}

describe(`native Mean${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(async () => {
    if (!reason) expect(await loadNativeBackend(tf)).toBe(true);
  });
  const cases: Array<[number[], number[], boolean]> = [
    [[4, 5, 6, 3], [0, 1, 2], false], // batch-norm moments
    [[4, 5, 6, 3], [0, 1, 2], true],
    [[4, 5, 6, 3], [1, 2], false], // global average pooling
    [[7, 9], [0], false],
    [[7, 9], [1], true],
    [[3, 4, 5], [1], false],
    [[2, 3, 4, 5], [0, 2], false], // not contiguous: falls back to the cpu kernel
  ];
  for (const [shape, axes, keepDims] of cases) {
    it.skipIf(!!reason)(`mean of ${shape.join('x')} over [${axes}] keepDims ${keepDims}`, () => {
      const want = run('cpu', shape, axes, keepDims);
      const got = run(NATIVE_BACKEND_NAME, shape, axes, keepDims);
      expect(got.shape).toEqual(want.shape);
      got.mean.forEach((v, i) => expect(v).toBeCloseTo(want.mean[i]!, 5));
      expect(got.loss).toBeCloseTo(want.loss, 4);
      got.grad.forEach((v, i) => expect(v).toBeCloseTo(want.grad[i]!, 5));
    });
  }

  const tiles: Array<[number[], number[]]> = [
    [[1, 1, 1, 3], [4, 5, 6, 1]], // batch-norm gradient
    [[1, 7], [3, 1]],
    [[2, 3], [2, 2]], // general: falls back to the cpu kernel
  ];
  for (const [shape, reps] of tiles) {
    it.skipIf(!!reason)(`tile ${shape.join('x')} by ${reps.join('x')}`, () => {
      const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.5 - 1);
      const out = (backend: string) => {
        tf.setBackend(backend);
        const t = tf.tile(tf.tensor(values, shape), reps);
        return { shape: t.shape, values: Array.from(t.dataSync()) };
      };
      expect(out(NATIVE_BACKEND_NAME)).toEqual(out('cpu'));
    });
  }
});
