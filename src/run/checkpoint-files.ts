/**
 * The files of a checkpoint directory, without TensorFlow: its training state, and the check that every file is
 * whole (sizes and sha256 recorded in `checksums.json` at save time). `resume` runs these before loading tfjs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { CHECKPOINT_FILES, readJson, readState, type Checksums, type TrainingState } from './layout.js';

// The types and readers of a checkpoint's files are the run directory's (layout.ts); re-exported for the writers.
export { readJson, readState, type Checksums, type TrainingState };
export const CHECKSUMS = CHECKPOINT_FILES.checksums;

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
