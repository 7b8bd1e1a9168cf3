/**
 * Checkpoints: `checkpoints/epoch-NNNN/` holding the model in the standard tfjs layers format (`model.json` +
 * `weights.bin`, loadable with tf.loadLayersModel) plus what an exact resume needs (optimizer slots, counters, best
 * metric, config hash). Each checkpoint directory appears atomically; `last` and `best` are symlinks to one.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../cli/errors.js';
import { symlinkAtomic, writeDirAtomic } from './atomic.js';
import type { OptimizerState } from '../train/optimizers.js';
import type { MetricPoint } from './metrics.js';

export interface TrainingState {
  /** Epochs fully completed. */
  epoch: number;
  /** Batches of epoch `epoch + 1` already trained (0 at an epoch boundary). */
  batch_in_epoch: number;
  global_step: number;
  best: { metric: string; value: number; epoch: number } | null;
  config_hash: string;
  backend: string;
  metrics: Record<string, number>;
  /** Running sums of a partly trained epoch (mid-epoch checkpoints only). */
  partial?: { loss_sum: number; count: number } | null;
  /** Log points this checkpoint covers that were not yet written when it was saved. */
  pending?: MetricPoint[];
  /** Batches skipped for a non-finite loss so far, and how many of the last ones in a row (`on_nan: skip`). */
  skipped_batches?: number;
  consecutive_skips?: number;
  time: string;
}

export interface LoadedCheckpoint {
  dir: string;
  /** The model's weights, in the order of `model.weights` of the model they were saved from. */
  weights: tf.Tensor[];
  optimizer: OptimizerState;
  state: TrainingState;
}

export function checkpointName(epoch: number, batchInEpoch = 0): string {
  const e = `epoch-${String(epoch).padStart(4, '0')}`;
  return batchInEpoch ? `${e}-step-${String(batchInEpoch).padStart(6, '0')}` : e;
}

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

/** Write a checkpoint directory atomically and return its path. */
export async function saveCheckpoint(
  checkpointsDir: string,
  model: tf.LayersModel,
  optimizer: OptimizerState,
  state: TrainingState,
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
    userDefinedMetadata: { tudui: { epoch: state.epoch, global_step: state.global_step, metrics: state.metrics } },
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
  symlinkAtomic(name, join(checkpointsDir, 'last'));
  return dir;
}

export const CHECKSUMS = 'checksums.json';

interface Checksums {
  algorithm: 'sha256';
  files: Record<string, { size: number; sha256: string }>;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const REQUIRED = ['model.json', 'weights.bin', 'optimizer.bin', 'optimizer.json', 'state.json'];

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

/** A checkpoint's training state; a damaged file is named. */
export function readState(dir: string): TrainingState {
  return readJson<TrainingState>(join(dir, 'state.json'));
}

function readJson<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`${path} is damaged: not valid JSON (${(e as Error).message})`);
  }
}

export function markBest(checkpointsDir: string, dir: string): void {
  symlinkAtomic(dir.split('/').pop()!, join(checkpointsDir, 'best'));
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
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}

/** Everything needed to continue training; the caller rebuilds the model from its config and sets `weights`. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const problem = checkCheckpoint(dir);
  if (problem) throw new UserError(`checkpoint ${dir} is damaged: ${problem}`);
  const { weightSpecs, weightData } = readModelFiles(dir);
  const named = tf.io.decodeWeights(weightData, weightSpecs);
  const weights = weightSpecs.map((s) => named[s.name]!);
  const optJson = readJson<{ steps: number; weights: tf.io.WeightsManifestEntry[] }>(join(dir, 'optimizer.json'));
  const optData = readFileSync(join(dir, 'optimizer.bin'));
  const slots = tf.io.decodeWeights(new Uint8Array(optData).buffer, optJson.weights);
  const state = readState(dir);
  return { dir, weights, optimizer: { steps: optJson.steps, slots }, state };
}

/** Retention: keep the newest `keepLast` checkpoints (all when null), never the ones `last` or `best` point to. */
export function pruneCheckpoints(checkpointsDir: string, keepLast: number | null | undefined): void {
  // Leftovers of a process killed mid-write (never a complete checkpoint: those are renamed into place).
  for (const n of readdirSync(checkpointsDir)) {
    if (n.startsWith('.') && n.includes('.tmp-') && !n.includes(`.tmp-${process.pid}-`)) rmSync(join(checkpointsDir, n), { recursive: true, force: true });
  }
  if (keepLast === null || keepLast === undefined) return;
  const pinned = new Set(['last', 'best'].map((l) => readLink(join(checkpointsDir, l))).filter(Boolean));
  const all = readdirSync(checkpointsDir)
    .filter((n) => /^epoch-\d{4}/.test(n))
    .sort();
  for (const n of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (!pinned.has(n)) rmSync(join(checkpointsDir, n), { recursive: true, force: true });
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
