/**
 * Checkpoints: `checkpoints/epoch-NNNN/` holding the model in the standard tfjs layers format (`model.json` +
 * `weights.bin`, loadable with tf.loadLayersModel) plus what an exact resume needs (optimizer slots, counters, best
 * metric, config hash). Each checkpoint directory appears atomically; `last` and `best` are symlinks to one.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { removeStaleTemps, symlinkAtomic, writeDirAtomic } from '../fs/atomic.js';
import { BEST, checkpointName, LAST, linkTarget } from './layout.js';
import { CHECKSUMS, checkCheckpoint, readJson, readState, sha256, type Checksums, type InferenceMetadata, type TrainingState } from './checkpoint-files.js';

export { CHECKSUMS, checkCheckpoint, inferenceMetadata, readInferenceMetadata, readState, type InferenceMetadata, type TrainingState } from './checkpoint-files.js';
import type { OptimizerState } from '../train/optimizers.js';
import type { MetricPoint } from './metrics.js';

export interface LoadedCheckpoint {
  dir: string;
  /** The model's weights, in the order of `model.weights` of the model they were saved from. */
  weights: tf.Tensor[];
  optimizer: OptimizerState;
  state: TrainingState;
}

export { checkpointName };

async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!captured) throw new Error('model.save produced no artifacts');
  return captured;
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/** Write a checkpoint directory atomically and return its path; `inference` makes it self-describing. */
export async function saveCheckpoint(
  checkpointsDir: string,
  model: tf.LayersModel,
  optimizer: OptimizerState,
  state: TrainingState,
  inference?: InferenceMetadata,
): Promise<string> {
  const artifacts = await modelArtifacts(model);
  const opt = await tf.io.encodeWeights(optimizer.slots);
  const name = checkpointName(state.epoch, state.batch_in_epoch);
  const dir = join(checkpointsDir, name);
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { tudui: { epoch: state.epoch, global_step: state.global_step, metrics: state.metrics, ...inference } },
  };
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // a re-run of the same step after a resume
  const files: Record<string, string | Uint8Array> = {
    'model.json': JSON.stringify(modelJson),
    'weights.bin': toBytes(artifacts.weightData),
    'optimizer.bin': toBytes(opt.data),
    'optimizer.json': JSON.stringify({ steps: optimizer.steps, weights: opt.specs }),
    'state.json': JSON.stringify(state, null, 2),
  };
  // Sizes and checksums of every file, so a truncated or corrupted checkpoint is found before it is loaded.
  const sums: Checksums = { algorithm: 'sha256', files: {} };
  for (const [n, data] of Object.entries(files)) sums.files[n] = { size: Buffer.byteLength(data), sha256: sha256(data) };
  writeDirAtomic(dir, (tmp) => {
    for (const [n, data] of Object.entries(files)) writeFileSync(join(tmp, n), data);
    writeFileSync(join(tmp, CHECKSUMS), JSON.stringify(sums, null, 2));
  });
  symlinkAtomic(name, join(checkpointsDir, LAST));
  return dir;
}

export function markBest(checkpointsDir: string, dir: string): void {
  symlinkAtomic(dir.split('/').pop()!, join(checkpointsDir, BEST));
}

/** A checkpoint's model.json and its weight bytes, in manifest order. */
function readModelFiles(dir: string): { json: tf.io.ModelJSON; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer } {
  const json = readJson<tf.io.ModelJSON>(join(dir, 'model.json'));
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
  return { json, weightSpecs, weightData: new Uint8Array(bytes).buffer };
}

/** Read a checkpoint's model with tf.loadLayersModel from its files (for inference and inspection). */
export async function loadCheckpointModel(dir: string): Promise<tf.LayersModel> {
  const { json, weightSpecs, weightData } = readModelFiles(dir);
  const { userDefinedMetadata } = json as { userDefinedMetadata?: Record<string, unknown> };
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData, ...(userDefinedMetadata ? { userDefinedMetadata } : {}) }));
}

/** A checkpoint's weights in manifest order (the order of `model.weights` of the model they were saved from). */
export function readCheckpointWeights(dir: string): tf.Tensor[] {
  const { weightSpecs, weightData } = readModelFiles(dir);
  const named = tf.io.decodeWeights(weightData, weightSpecs);
  return weightSpecs.map((s) => named[s.name]!);
}

/** Everything needed to continue training; the caller rebuilds the model from its config and sets `weights`. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const problem = checkCheckpoint(dir);
  if (problem) throw new UserError(`checkpoint ${dir} is damaged: ${problem}`);
  const weights = readCheckpointWeights(dir);
  const optJson = readJson<{ steps: number; weights: tf.io.WeightsManifestEntry[] }>(join(dir, 'optimizer.json'));
  const optData = readFileSync(join(dir, 'optimizer.bin'));
  const slots = tf.io.decodeWeights(new Uint8Array(optData).buffer, optJson.weights);
  const state = readState(dir);
  return { dir, weights, optimizer: { steps: optJson.steps, slots }, state };
}

/** Retention: keep the newest `keepLast` checkpoints (all when null), never the ones `last` or `best` point to. */
export function pruneCheckpoints(checkpointsDir: string, keepLast: number | null | undefined): void {
  // Leftovers of a process killed mid-write (never a complete checkpoint: those are renamed into place).
  removeStaleTemps(checkpointsDir);
  if (keepLast === null || keepLast === undefined) return;
  const pinned = new Set([LAST, BEST].map((l) => linkTarget(join(checkpointsDir, l))).filter(Boolean));
  const all = readdirSync(checkpointsDir)
    .filter((n) => /^epoch-\d{4}/.test(n))
    .sort();
  for (const n of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (!pinned.has(n)) rmSync(join(checkpointsDir, n), { recursive: true, force: true });
  }
}
