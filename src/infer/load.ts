/**
 * `loadModel(path)`: a trained model ready to classify pictures. The model is rebuilt from the resolved experiment
 * the checkpoint carries (the layers tudui trained, with their fused kernels) and given the saved weights, so its
 * outputs are exactly the ones training and `tudui eval` computed; `preprocess` turns a picture into its input as
 * the metadata says. Uses whichever tfjs backend is active (the CLI selects one first).
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../config/index.js';
import type { DatasetInfo } from '../data/index.js';
import { UserError } from '../errors.js';
import { buildModel } from '../model/compile.js';
import { readCheckpointWeights } from '../run/checkpoint.js';
import type { InferenceMetadata, TrainingState } from '../run/checkpoint-files.js';
import { locateCheckpoint } from './locate.js';
import { inputTable, preprocessPicture, type ImageInput } from './preprocess.js';

export interface ClassScore {
  class: string;
  index: number;
  probability: number;
}

export interface LoadedModel {
  model: tf.LayersModel;
  classes: string[];
  metadata: InferenceMetadata;
  experiment: ResolvedExperiment;
  /** The dataset's shape, classes and value range, as the data layer describes a dataset. */
  info: DatasetInfo;
  /** The checkpoint directory, its name (`epoch-0003 (best)`), its run directory and training state. */
  checkpoint: { dir: string; label: string; runDir?: string; state: TrainingState };
  /** A picture (file path, encoded bytes, or raw pixels) → the model's input, shape [1, h, w, c]. */
  preprocess(input: ImageInput): Promise<tf.Tensor4D>;
  /** The k most probable classes of each picture, best first; a picture that cannot be decoded gives its error. */
  classify(inputs: ImageInput[], opts?: { topK?: number; names?: string[] }): Promise<Array<ClassScore[] | { error: string }>>;
  dispose(): void;
}

export async function loadModel(path: string, opts: { cwd?: string } = {}): Promise<LoadedModel> {
  const found = locateCheckpoint(path, opts.cwd);
  const meta = found.metadata;
  const exp = meta.experiment;
  const [height, width, channels] = meta.input.shape;
  const info: DatasetInfo = { height, width, channels, classes: meta.classes.length, classNames: meta.classes, maxValue: meta.input.max_value };
  const model = buildModel(tf, exp, [height, width, channels]);
  const weights = readCheckpointWeights(found.dir);
  try {
    const want = model.weights.map((w) => w.shape.join('x')).join(',');
    if (want !== weights.map((w) => w.shape.join('x')).join(',')) {
      model.dispose();
      throw new UserError(`checkpoint ${found.dir}: its weights do not fit the model its metadata describes (weight shapes differ)`);
    }
    model.setWeights(weights);
  } finally {
    tf.dispose(weights);
  }
  const table = inputTable(meta);
  const size = height * width * channels;
  const batchSize = exp.dataset.eval_batch_size;

  const classify: LoadedModel['classify'] = async (inputs, o = {}) => {
    const k = Math.max(1, Math.min(o.topK ?? 3, meta.classes.length));
    const results: Array<ClassScore[] | { error: string }> = new Array(inputs.length);
    // Pictures are decoded a batch at a time (errors are per picture) and run in batches of eval_batch_size.
    for (let from = 0; from < inputs.length; from += batchSize) {
      const chunk: Array<{ i: number; x: Float32Array }> = [];
      for (let i = from; i < Math.min(inputs.length, from + batchSize); i++) {
        try {
          chunk.push({ i, x: await preprocessPicture(inputs[i]!, meta, table, o.names?.[i]) });
        } catch (e) {
          results[i] = { error: (e as Error).message };
        }
      }
      if (!chunk.length) continue;
      const x = new Float32Array(chunk.length * size);
      chunk.forEach((g, j) => x.set(g.x, j * size));
      const { values, indices } = tf.tidy(() => {
        const out = model.apply(tf.tensor4d(x, [chunk.length, height, width, channels]), { training: false }) as tf.Tensor2D;
        return tf.topk(meta.output === 'logits' ? tf.softmax(out) : out, k);
      });
      const [v, ix] = [await values.data(), await indices.data()];
      tf.dispose([values, indices]);
      chunk.forEach((g, j) => {
        results[g.i] = Array.from({ length: k }, (_, r) => ({ class: meta.classes[ix[j * k + r]!]!, index: ix[j * k + r]!, probability: v[j * k + r]! }));
      });
    }
    return results;
  };

  return {
    model,
    classes: meta.classes,
    metadata: meta,
    experiment: exp,
    info,
    checkpoint: { dir: found.dir, label: found.label, ...(found.runDir ? { runDir: found.runDir } : {}), state: found.state },
    async preprocess(input) {
      return tf.tensor4d(await preprocessPicture(input, meta, table), [1, height, width, channels]);
    },
    classify,
    dispose: () => model.dispose(),
  };
}
