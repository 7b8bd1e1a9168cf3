/** The fused batch-norm layer: values and gradients against tf ops, PyTorch running statistics, stock reloading. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedBatchNorm } from '../src/model/layers/batchnorm-layer.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(tol * Math.max(1, Math.abs(b[i]!)));
};

describe('batchnorm layer', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const shape = [3, 4, 5, 6];
  const xValues = Array.from({ length: 360 }, (_, i) => Math.sin(i * 1.7) * 2 + (i % 6) * 0.3 - 1);
  const dyValues = Array.from({ length: 360 }, (_, i) => Math.cos(i * 0.9));

  it('matches the batch-norm formula, forward and backward, in training mode', () => {
    const layer = fusedBatchNorm(tf)({ momentum: 0.1, eps: 1e-5, name: 'bn_a' });
    layer.build(shape);
    const [gammaVar, betaVar] = layer.trainableWeights.map((w) => w.read());
    gammaVar!.assign(tf.tensor1d([0.5, 1, 1.5, 2, -1, 0.25]));
    betaVar!.assign(tf.tensor1d([0, 0.1, -0.2, 0.3, 1, -1]));
    const x = tf.tensor(xValues, shape);
    const dy = tf.tensor(dyValues, shape);

    const lossOf = (f: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(xs, g, b).mul(dy).sum();
    const ours = tf.grads(lossOf((xs) => layer.apply(xs, { training: true }) as tf.Tensor));
    const reference = tf.grads(
      lossOf((xs, g, b) => {
        const { mean, variance } = tf.moments(xs, [0, 1, 2]);
        return tf.batchNorm(xs, mean, variance, b, g, 1e-5);
      }),
    );
    // Ours differentiates x only through the layer (gamma/beta are its own variables): compare dx here.
    const [dxOurs] = ours([x, gammaVar!, betaVar!]);
    const [dxRef, dgRef, dbRef] = reference([x, gammaVar!, betaVar!]);
    close(dxOurs!.dataSync(), dxRef!.dataSync());
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    close(y.dataSync(), tf.batchNorm(x, mean, variance, betaVar!, gammaVar!, 1e-5).dataSync());
    // dgamma and dbeta through the trainable variables, as training computes them.
    const { grads } = tf.variableGrads(() => (layer.apply(x, { training: true }) as tf.Tensor).mul(dy).sum() as tf.Scalar, [gammaVar as tf.Variable, betaVar as tf.Variable]);
    close(grads[gammaVar!.name]!.dataSync(), dgRef!.dataSync());
    close(grads[betaVar!.name]!.dataSync(), dbRef!.dataSync());
  });

  it('updates running statistics as PyTorch does (momentum 0.1, unbiased variance)', () => {
    const layer = fusedBatchNorm(tf)({ momentum: 0.1, eps: 1e-5, name: 'bn_b' });
    const x = tf.tensor(xValues, shape);
    layer.apply(x, { training: true });
    const [, , movingMean, movingVar] = layer.getWeights();
    const rows = 3 * 4 * 5;
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    close(movingMean!.dataSync(), mean.mul(0.1).dataSync());
    close(movingVar!.dataSync(), variance.mul(rows / (rows - 1)).mul(0.1).add(0.9).dataSync());
    // Inference uses the running statistics.
    const y = layer.apply(x) as tf.Tensor;
    close(y.dataSync(), tf.batchNorm(x, movingMean!, movingVar!, undefined, undefined, 1e-5).dataSync());
  });

  it('serialises as a stock BatchNormalization that reloads with the same weights and predictions', async () => {
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape: [4, 5, 6] }));
    model.add(fusedBatchNorm(tf)({ momentum: 0.1, eps: 1e-3, name: 'bn_c' }));
    const x = tf.tensor(xValues, shape);
    model.apply(x, { training: true }); // move the running statistics away from their initial values
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(reloaded.layers.map((l) => l.getClassName())).toContain('BatchNormalization');
    close((reloaded.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync(), 1e-5);
  });
});
