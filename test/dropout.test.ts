/** SeededDropout: fresh masks each step, reproducible per (seed, step), inactive at inference, stock-loadable. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededDropout } from '../src/model/layers/custom.js';

describe('dropout layer', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const mask = (layer: tf.layers.Layer, step: number) => {
    const y = layer.apply(tf.ones([1, 256]), { training: true, step }) as tf.Tensor;
    return Array.from(y.dataSync()).map((v) => (v === 0 ? 0 : 1));
  };

  it('draws a different mask at every step, the same one for the same seed and step', () => {
    const make = seededDropout(tf);
    const a = make({ rate: 0.5, seed: 11, name: 'd_a' });
    const b = make({ rate: 0.5, seed: 11, name: 'd_b' });
    expect(mask(a, 1)).not.toEqual(mask(a, 2));
    expect(mask(a, 5)).toEqual(mask(b, 5));
    const kept = mask(a, 3).reduce((s, v) => s + v, 0);
    expect(kept).toBeGreaterThan(90);
    expect(kept).toBeLessThan(166);
  });

  it('scales kept values by 1/(1-rate) in training and is the identity at inference', () => {
    const layer = seededDropout(tf)({ rate: 0.25, seed: 1, name: 'd_c' });
    const y = Array.from((layer.apply(tf.ones([1, 64]), { training: true, step: 0 }) as tf.Tensor).dataSync());
    expect(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    const z = Array.from((layer.apply(tf.ones([1, 64])) as tf.Tensor).dataSync());
    expect(z.every((v) => v === 1)).toBe(true);
  });

  it('serialises as a stock Dropout, so tf.loadLayersModel reloads a model that uses it', async () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 4, inputShape: [3] }));
    model.add(seededDropout(tf)({ rate: 0.5, seed: 2, name: 'drop' }));
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(reloaded.layers[1]!.getClassName()).toBe('Dropout');
    const x = tf.tensor2d([[1, 2, 3]]);
    expect(Array.from((reloaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });
});
