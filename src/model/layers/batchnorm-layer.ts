/**
 * Batch normalisation over the last axis with PyTorch's semantics and a fused training kernel: oneDNN's batch
 * normalisation forward and backward where the backend has the fused kernel ('tudui-native', fused-kernels.ts),
 * else the JS loops below on the pure-JS 'cpu' backend, else composed tf ops.
 *
 * tf.layers.batchNormalization trains through ~25 full-size elementwise ops per layer and step (moments, then
 * tfjs's batch-norm gradient with its Tile), which dominated a step on the CPU backends. On the backends whose
 * tensors are plain JS arrays ('cpu', 'tudui-native') this layer computes the batch statistics, the normalisation
 * and, in its custom gradient, dx, dgamma and dbeta in four passes over the data. Elsewhere (wasm, WebGPU,
 * libtensorflow) it composes the same formulas from tf ops, which those backends run fast and differentiate.
 *
 * Running statistics follow PyTorch: running = (1 - momentum)·running + momentum·batch, with the unbiased batch
 * variance. The layer serialises as a stock `BatchNormalization` with the same weights (gamma, beta, moving_mean,
 * moving_variance), so checkpoints load in plain tfjs and infer identically.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { fusedBatchNorm as fusedBatchNormKernel } from '../../backends/fused-kernels.js';
import { isJsArrayBackend } from '../../backends/js-array-backends.js';

export interface BatchNormArgs {
  /** PyTorch convention (0.1 by default). */
  momentum: number;
  eps: number;
  name: string;
}

type Factory = (args: BatchNormArgs) => tfjs.layers.Layer;
const factories = new WeakMap<object, Factory>();

/** Fused forward on JS arrays: y, plus the per-channel mean and biased variance of the batch. */
function forward(x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, eps: number) {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const sq = new Float64Array(channels);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const v = x[i]!;
      mean[c] = mean[c]! + v;
      sq[c] = sq[c]! + v * v;
    }
  }
  const invstd = new Float32Array(channels);
  const variance = new Float32Array(channels);
  const meanF = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = mean[c]! / rows;
    const v = Math.max(0, sq[c]! / rows - m * m);
    meanF[c] = m;
    variance[c] = v;
    invstd[c] = 1 / Math.sqrt(v + eps);
  }
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = invstd[c]! * gamma[c]!;
    shift[c] = beta[c]! - meanF[c]! * scale[c]!;
  }
  const y = new Float32Array(x.length);
  for (let r = 0, i = 0; r < rows; r++) for (let c = 0; c < channels; c++, i++) y[i] = x[i]! * scale[c]! + shift[c]!;
  return { y, mean: meanF, variance, invstd };
}

/** Fused backward: dx = invstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)), dgamma = Σ dy·xhat, dbeta = Σ dy. */
function backward(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, invstd: Float32Array, channels: number) {
  const rows = x.length / channels;
  const sumDy = new Float64Array(channels);
  const sumDyXhat = new Float64Array(channels);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const g = dy[i]!;
      sumDy[c] = sumDy[c]! + g;
      sumDyXhat[c] = sumDyXhat[c]! + g * (x[i]! - mean[c]!) * invstd[c]!;
    }
  }
  const dgamma = new Float32Array(channels);
  const dbeta = new Float32Array(channels);
  const a = new Float32Array(channels); // coefficient of dy
  const b = new Float32Array(channels); // coefficient of xhat
  const k = new Float32Array(channels); // constant
  for (let c = 0; c < channels; c++) {
    dgamma[c] = sumDyXhat[c]!;
    dbeta[c] = sumDy[c]!;
    const gi = gamma[c]! * invstd[c]!;
    a[c] = gi;
    b[c] = (-gi * sumDyXhat[c]!) / rows;
    k[c] = (-gi * sumDy[c]!) / rows;
  }
  const dx = new Float32Array(x.length);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, i++) {
      const xhat = (x[i]! - mean[c]!) * invstd[c]!;
      dx[i] = a[c]! * dy[i]! + b[c]! * xhat + k[c]!;
    }
  }
  return { dx, dgamma, dbeta };
}

export function fusedBatchNorm(tf: typeof tfjs): Factory {
  const cached = factories.get(tf);
  if (cached) return cached;

  class TuduiBatchNorm extends tf.layers.Layer {
    static className = 'BatchNormalization';
    private readonly momentum: number;
    private readonly eps: number;
    private gamma!: tfjs.LayerVariable;
    private beta!: tfjs.LayerVariable;
    private movingMean!: tfjs.LayerVariable;
    private movingVariance!: tfjs.LayerVariable;

    constructor(args: BatchNormArgs) {
      super({ name: args.name });
      this.momentum = args.momentum;
      this.eps = args.eps;
      this.supportsMasking = true;
    }

    override build(inputShape: tfjs.Shape | tfjs.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      const c = shape[shape.length - 1] as number;
      // Same names and order as tf.layers.batchNormalization, so stock tfjs maps the weights.
      this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
      this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
      this.movingMean = this.addWeight('moving_mean', [c], 'float32', tf.initializers.zeros(), undefined, false);
      this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tf.initializers.ones(), undefined, false);
      this.built = true;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[], kwargs: { training?: boolean }): tfjs.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const gamma = this.gamma.read();
      const beta = this.beta.read();
      if (!kwargs.training) {
        return tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), beta, gamma, this.eps);
      }
      const c = x.shape[x.shape.length - 1]!;
      const { y, mean, variance } =
        fusedBatchNormKernel(tf, x, gamma, beta, this.eps) ??
        (isJsArrayBackend(tf.getBackend()) ? this.trainFused(x, gamma, beta, c) : this.trainComposed(x, gamma, beta));
      // Running statistics (PyTorch: unbiased variance); not part of the loss, so no gradient flows through them.
      const rows = x.size / c;
      const m = this.momentum;
      tf.tidy(() => {
        this.movingMean.write(this.movingMean.read().mul(1 - m).add(mean.mul(m)));
        this.movingVariance.write(this.movingVariance.read().mul(1 - m).add(variance.mul((m * rows) / Math.max(1, rows - 1))));
      });
      return y;
    }

    private trainFused(x: tfjs.Tensor, gamma: tfjs.Tensor, beta: tfjs.Tensor, c: number) {
      let stats = { mean: new Float32Array(c), variance: new Float32Array(c) };
      const eps = this.eps;
      const op = tf.customGrad(((xs: tfjs.Tensor, gs: tfjs.Tensor, bs: tfjs.Tensor, save: tfjs.GradSaveFunc) => {
        const f = forward(xs.dataSync() as Float32Array, gs.dataSync() as Float32Array, bs.dataSync() as Float32Array, c, eps);
        stats = f;
        save([xs, gs, tf.tensor1d(f.mean), tf.tensor1d(f.invstd)]);
        return {
          value: tf.tensor(f.y, xs.shape),
          gradFunc: (dy: tfjs.Tensor, saved: tfjs.Tensor[]) => {
            const [sx, sg, sm, si] = saved as [tfjs.Tensor, tfjs.Tensor, tfjs.Tensor, tfjs.Tensor];
            const arr = (t: tfjs.Tensor) => t.dataSync() as Float32Array;
            const g = backward(arr(dy), arr(sx), arr(sg), arr(sm), arr(si), c);
            return [tf.tensor(g.dx, sx.shape), tf.tensor1d(g.dgamma), tf.tensor1d(g.dbeta)];
          },
        };
      }) as unknown as Parameters<typeof tf.customGrad>[0]);
      const y = op(x, gamma, beta) as tfjs.Tensor;
      return { y, mean: tf.tensor1d(stats.mean), variance: tf.tensor1d(stats.variance) };
    }

    private trainComposed(x: tfjs.Tensor, gamma: tfjs.Tensor, beta: tfjs.Tensor) {
      const axes = x.shape.slice(0, -1).map((_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      return { y: tf.batchNorm(x, mean, variance, beta, gamma, this.eps), mean, variance };
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      // Exactly what tf.layers.batchNormalization would write, so stock loadLayersModel rebuilds a plain BN layer.
      const stock = tf.layers.batchNormalization({ axis: -1, momentum: 1 - this.momentum, epsilon: this.eps }).getConfig();
      return { ...stock, ...super.getConfig() };
    }
  }

  const factory: Factory = (args) => new TuduiBatchNorm(args);
  factories.set(tf, factory);
  return factory;
}
