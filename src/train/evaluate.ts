/**
 * Evaluation of a model on a split: the training loop's per-epoch numbers (mean per-example loss, accuracy) and,
 * for `tudui eval`, top-k accuracy and the confusion matrix, from the same batches and the same reductions, so
 * the two always agree.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../config/index.js';
import { batches, batchOptionsFor, type DatasetInfo, type ImageSplit } from '../data/index.js';
import { perExampleLoss } from './loss.js';

export interface SplitEvaluation {
  count: number;
  loss: number;
  accuracy: number;
  /** Fraction of examples whose label is among the k highest outputs (when asked for). */
  topK?: { k: number; accuracy: number };
  /** confusion[true][predicted] counts (when asked for). */
  confusion?: number[][];
}

export async function evaluateSplit(
  model: tf.LayersModel,
  exp: ResolvedExperiment,
  split: ImageSplit,
  info: DatasetInfo,
  opts: { topK?: number; confusion?: boolean } = {},
): Promise<SplitEvaluation> {
  const classes = info.classes;
  const k = opts.topK === undefined ? 0 : Math.min(opts.topK, classes);
  const confusion = opts.confusion ? Array.from({ length: classes }, () => new Array<number>(classes).fill(0)) : undefined;
  let lossSum = 0;
  let correct = 0;
  let inTopK = 0;
  for (const batch of batches(split, info, batchOptionsFor(exp.dataset, 'test', exp.seed, 0))) {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.size, info.height, info.width, info.channels]);
      const y = tf.tensor1d(batch.y, 'int32');
      const logits = model.apply(x, { training: false }) as tf.Tensor2D;
      const predicted = logits.argMax(1);
      return {
        loss: perExampleLoss(exp.loss, logits, y, classes).sum(),
        hits: predicted.equal(y).sum(),
        ...(confusion ? { predicted } : {}),
        ...(k ? { top: tf.topk(logits, k).indices } : {}),
      };
    });
    lossSum += (await out.loss.data())[0]!;
    correct += (await out.hits.data())[0]!;
    if (out.predicted) {
      const p = await out.predicted.data();
      for (let i = 0; i < batch.size; i++) confusion![batch.y[i]!]![p[i]!]! += 1;
    }
    if (out.top) {
      const t = await out.top.data();
      for (let i = 0; i < batch.size; i++) for (let j = 0; j < k; j++) if (t[i * k + j] === batch.y[i]) inTopK += 1;
    }
    tf.dispose(Object.values(out));
  }
  return {
    count: split.count,
    loss: lossSum / split.count,
    accuracy: correct / split.count,
    ...(k ? { topK: { k, accuracy: inTopK / split.count } } : {}),
    ...(confusion ? { confusion } : {}),
  };
}
