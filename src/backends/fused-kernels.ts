/**
 * Fused kernels: one kernel per layer where tfjs would run a chain of element-wise ops (GELU is five ops forward and
 * about ten backward; batch norm about twenty-five). A backend that implements them registers kernels under these
 * names (today 'tudui-native', see native-ops.ts); the layers call `fused*` below, which return undefined when the
 * active backend lacks the kernel, and then compose stock tf ops as before. Gradients are registered once per
 * tf namespace by `registerFusedGradients` (kernel names are ours, so stock gradients are untouched).
 *
 * No tfjs import at run time: `tf` is passed in.
 */
import type * as TF from '@tensorflow/tfjs';

type Tf = typeof TF;

export const FUSED = {
  activation: 'TuduiActivation',
  activationGrad: 'TuduiActivationGrad',
  batchNorm: 'TuduiBatchNorm',
  batchNormGrad: 'TuduiBatchNormGrad',
  softmaxXent: 'TuduiSoftmaxXent',
  softmaxXentGrad: 'TuduiSoftmaxXentGrad',
  dropoutMask: 'TuduiDropoutMask',
} as const;

/** Activations the fused kernel computes (`alpha`: leaky_relu's negative slope). */
export type FusedActivation = 'relu' | 'leaky_relu' | 'gelu' | 'sigmoid' | 'tanh' | 'elu';

function available(tf: Tf, kernel: string): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

/** f(x) in one kernel (and f'(x)·dy in one on the way back), or undefined when the backend lacks it. */
export function fusedActivation(tf: Tf, x: TF.Tensor, activation: FusedActivation, alpha = 0): TF.Tensor | undefined {
  if (x.dtype !== 'float32' || !available(tf, FUSED.activation)) return undefined;
  return tf.engine().runKernel(FUSED.activation, { x }, { activation, alpha } as unknown as TF.NamedAttrMap) as TF.Tensor;
}

/**
 * Training-mode batch norm over the last axis: y, and the batch's mean and biased variance (for the running
 * statistics; no gradient flows through them). Undefined when the backend lacks the kernel.
 */
export function fusedBatchNorm(
  tf: Tf, x: TF.Tensor, gamma: TF.Tensor, beta: TF.Tensor, eps: number,
): { y: TF.Tensor; mean: TF.Tensor; variance: TF.Tensor } | undefined {
  if (x.dtype !== 'float32' || (x.rank !== 2 && x.rank !== 4) || !available(tf, FUSED.batchNorm)) return undefined;
  const [y, mean, variance] = tf.engine().runKernel(FUSED.batchNorm, { x, gamma, beta }, { eps } as unknown as TF.NamedAttrMap) as TF.Tensor[];
  return { y: y!, mean: mean!, variance: variance! };
}

/**
 * Per-example softmax cross-entropy of logits [batch, classes] against int32 labels, with PyTorch's label
 * smoothing; undefined when the backend lacks the kernel.
 */
export function fusedSoftmaxCrossEntropy(tf: Tf, logits: TF.Tensor2D, labels: TF.Tensor1D, smoothing: number): TF.Tensor1D | undefined {
  if (logits.dtype !== 'float32' || labels.dtype !== 'int32' || !available(tf, FUSED.softmaxXent)) return undefined;
  const [loss] = tf.engine().runKernel(FUSED.softmaxXent, { logits, labels }, { smoothing } as unknown as TF.NamedAttrMap) as TF.Tensor[];
  return loss as TF.Tensor1D;
}

/**
 * tf.dropout's multiplier for `shape` (floor(u + keep) / keep, u from tf.randomUniform with `seed`), bit for bit, in
 * one kernel without inputs (so it is no node of the gradient tape); undefined when the backend lacks it.
 */
export function fusedDropoutMask(tf: Tf, shape: number[], rate: number, seed: number): TF.Tensor | undefined {
  if (!available(tf, FUSED.dropoutMask)) return undefined;
  return tf.engine().runKernel(FUSED.dropoutMask, {}, { shape, rate, seed } as unknown as TF.NamedAttrMap) as TF.Tensor;
}

const registered = new WeakSet<object>();
/** Batch-norm gradient parts computed but not yet handed to the tape (see registerFusedGradients). */
const untaken = new Set<TF.Tensor>();

/** The gradients of the fused kernels, each itself one kernel (idempotent per tf namespace). */
export function registerFusedGradients(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  const run = (name: string, inputs: TF.NamedTensorMap, attrs: TF.NamedAttrMap) => tf.engine().runKernel(name, inputs, attrs);
  tf.registerGradient({
    kernelName: FUSED.activation,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [TF.Tensor, TF.Tensor];
      return { x: () => run(FUSED.activationGrad, { dy: dy as TF.Tensor, x, y }, attrs) as TF.Tensor };
    },
  });
  tf.registerGradient({
    kernelName: FUSED.batchNorm,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, gamma, mean, variance] = saved as [TF.Tensor, TF.Tensor, TF.Tensor, TF.Tensor];
      const dy = (dys as TF.Tensor[])[0]!;
      // One kernel computes all three. The tape runs each input's thunk in its own tidy, so the parts the first
      // thunk does not return are kept for the others; parts no thunk took (an input that needs no gradient) are
      // disposed when the next batch-norm gradient is computed.
      let parts: TF.Tensor[] | undefined;
      const get = (i: number) => () => {
        if (!parts) {
          for (const t of untaken) t.dispose();
          untaken.clear();
          parts = run(FUSED.batchNormGrad, { dy, x, gamma, mean, variance }, attrs) as TF.Tensor[];
          parts.forEach((t, j) => { if (j !== i) untaken.add(tf.keep(t)); });
          return parts[i]!;
        }
        // A kept tensor escapes every tidy: hand out a clone in this scope and drop the kept one.
        const t = parts[i]!;
        const r = tf.clone(t);
        untaken.delete(t);
        t.dispose();
        return r;
      };
      return { x: get(0), gamma: get(1), beta: get(2) };
    },
  });
  tf.registerGradient({
    kernelName: FUSED.softmaxXent,
    inputsToSave: ['labels'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [labels, probs] = saved as [TF.Tensor, TF.Tensor];
      const dy = (dys as TF.Tensor[])[0]!;
      return {
        logits: () => run(FUSED.softmaxXentGrad, { dy, probs, labels }, attrs) as TF.Tensor,
        labels: () => tf.zerosLike(labels),
      };
    },
  });
}
