/**
 * The files of a checkpoint directory, without TensorFlow: its training state, and the check that every file is
 * whole (sizes and sha256 recorded in `checksums.json` at save time). `resume` runs these before loading tfjs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
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

export const CHECKSUMS = 'checksums.json';

export interface Checksums {
  algorithm: 'sha256';
  files: Record<string, { size: number; sha256: string }>;
}

export function sha256(data: string | Uint8Array): string {
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

export function readJson<T>(path: string): T {
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

