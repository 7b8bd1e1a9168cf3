/**
 * The files of a checkpoint directory, without TensorFlow: its training state, and the check that every file is
 * whole (sizes and sha256 recorded in `checksums.json` at save time). `resume` runs these before loading tfjs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../config/types.js';
import { stripLocs } from '../config/blocks.js';
import type { DatasetInfo } from '../data/types.js';
import { CHECKPOINT_FILES, readJson, readState, type Checksums, type TrainingState } from './layout.js';

// The types and readers of a checkpoint's files are the run directory's (layout.ts); re-exported for the writers.
export { readJson, readState, type Checksums, type TrainingState };
export const CHECKSUMS = CHECKPOINT_FILES.checksums;

/**
 * What inference needs, saved in each checkpoint's `model.json` as `userDefinedMetadata.tudui` (tfjs keeps it:
 * `model.getUserDefinedMetadata()` after `tf.loadLayersModel`). An input picture of 8-bit values p becomes the
 * model's input x (NHWC, `input.shape`) as: resize to [h, w] (`resize`), convert colour (`colour`), then per value
 * raw = round(p · max_value / 255) (the dataset's own levels: 0..16 for digits) and
 * x = (raw · value_scale − mean[c]) / std[c] (no mean/std when `normalize` is null), in float32.
 */
export interface InferenceMetadata {
  format: 1;
  input: {
    shape: [number, number, number];
    layout: 'NHWC';
    channels: number;
    max_value: number;
    /** 1 / max_value: 1/16 for digits, 1/255 for 8-bit images. */
    value_scale: number;
    normalize: { mean: number[]; std: number[] } | null;
    resize: 'fill';
    colour: 'luma' | 'srgb';
  };
  /** What the last layer gives: logits (softmax them for probabilities) or probabilities (a softmax layer). */
  output: 'logits' | 'probabilities';
  classes: string[];
  /** The dataset it was trained on; `root` is the absolute directory it was read from. */
  dataset: { name: string; root: string; source: string };
  config_hash: string;
  tudui_version: string;
  /** The resolved experiment (without source positions): the model rebuilds from it exactly. */
  experiment: ResolvedExperiment;
}

export function inferenceMetadata(
  exp: ResolvedExperiment,
  info: DatasetInfo,
  data: { root: string; source: string },
  configHash: string,
  version: string,
): InferenceMetadata {
  const layers = stripLocs(exp.model.layers) as ResolvedExperiment['model']['layers'];
  return {
    format: 1,
    input: {
      shape: [info.height, info.width, info.channels],
      layout: 'NHWC',
      channels: info.channels,
      max_value: info.maxValue,
      value_scale: 1 / info.maxValue,
      normalize: exp.dataset.normalize,
      resize: 'fill',
      colour: info.channels === 1 ? 'luma' : 'srgb',
    },
    output: layers[layers.length - 1]?.kind === 'softmax' ? 'probabilities' : 'logits',
    classes: [...info.classNames],
    dataset: { name: exp.dataset.name, root: data.root, source: data.source },
    config_hash: configHash,
    tudui_version: version,
    experiment: structuredClone({ ...exp, model: { ...exp.model, layers } }),
  };
}

/** The inference metadata of a checkpoint's model.json; undefined for checkpoints written before it existed. */
export function readInferenceMetadata(dir: string): InferenceMetadata | undefined {
  const json = readJson<{ userDefinedMetadata?: { tudui?: Partial<InferenceMetadata> } }>(join(dir, 'model.json'));
  const meta = json.userDefinedMetadata?.tudui;
  return meta?.format === 1 && meta.input && meta.experiment ? (meta as InferenceMetadata) : undefined;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const { model, weights, optimizer, optimizerSpec, state } = CHECKPOINT_FILES;
const REQUIRED = [model, weights, optimizer, optimizerSpec, state];

/**
 * What is wrong with a checkpoint directory, or undefined when it is whole: every file present with the size and
 * checksum recorded when it was saved (checkpoints from before checksums: present, JSON parses, weight sizes).
 */
export function checkCheckpoint(dir: string): string | undefined {
  let sums: Checksums | undefined;
  if (existsSync(join(dir, CHECKSUMS))) {
    try {
      sums = JSON.parse(readFileSync(join(dir, CHECKSUMS), 'utf8')) as Checksums;
    } catch {
      return `${CHECKSUMS} is not valid JSON`;
    }
  }
  for (const n of REQUIRED) {
    const path = join(dir, n);
    if (!existsSync(path)) return `${n} is missing`;
    const want = sums?.files[n];
    if (!want) continue;
    const size = statSync(path).size;
    if (size !== want.size) return `${n} is ${size} bytes, ${want.size} were written${size < want.size ? ' (truncated)' : ''}`;
    if (sha256(readFileSync(path)) !== want.sha256) return `${n} does not match the checksum recorded when it was saved (corrupted)`;
  }
  if (sums) return undefined;
  for (const n of ['model.json', 'optimizer.json', 'state.json']) {
    try {
      JSON.parse(readFileSync(join(dir, n), 'utf8'));
    } catch {
      return `${n} is not valid JSON`;
    }
  }
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const want = json.weightsManifest.flatMap((g) => g.weights).reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  const size = statSync(join(dir, 'weights.bin')).size;
  if (size !== want) return `weights.bin is ${size} bytes, the model needs ${want}`;
  return undefined;
}
