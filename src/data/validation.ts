/**
 * `dataset.validation: { fraction }`: a validation split held out of the training split (after `train_limit`).
 * Stratified with a fixed seed, like the digits and image-folder test splits, so runs that differ only in `seed` are
 * validated (and their best checkpoints chosen) on the same examples: per class c, its indices in order are
 * shuffled with mulberry32(mixSeed(VALIDATION_SPLIT_SEED, STREAM.split, c)) and the first round(n_c × fraction) go
 * to validation, keeping at least one in train; both parts stay in their original order. No tfjs.
 */
import { mixSeed, mulberry32, shuffleInPlace, STREAM } from './prng.js';
import type { DatasetConfig, DatasetInfo, ImageSplit } from './types.js';

export const VALIDATION_SPLIT_SEED = 20260117;

export function holdOutValidation(train: ImageSplit, info: DatasetInfo, fraction: number): { train: ImageSplit; val: ImageSplit } {
  const isVal = new Uint8Array(train.count);
  for (let c = 0; c < info.classes; c++) {
    const idx: number[] = [];
    for (let i = 0; i < train.count; i++) if (train.labels[i] === c) idx.push(i);
    shuffleInPlace(idx, mulberry32(mixSeed(VALIDATION_SPLIT_SEED, STREAM.split, c)));
    const k = Math.min(Math.round(idx.length * fraction), idx.length - 1);
    for (let j = 0; j < k; j++) isVal[idx[j]!] = 1;
  }
  const size = info.height * info.width * info.channels;
  const take = (want: number, split: 'train' | 'test'): ImageSplit => {
    let n = 0;
    for (let i = 0; i < train.count; i++) if (isVal[i] === want) n++;
    const images = new Uint8Array(n * size);
    const labels = new Uint8Array(n);
    for (let i = 0, j = 0; i < train.count; i++) {
      if (isVal[i] !== want) continue;
      images.set(train.images.subarray(i * size, (i + 1) * size), j * size);
      labels[j++] = train.labels[i]!;
    }
    return { images, labels, count: n, split };
  };
  // the validation part is never augmented: marked as a held-out split
  return { train: take(0, 'train'), val: take(1, 'test') };
}

/** Where a config's validation split comes from: the dataset's own files, held out of train, or none. */
export function validationSource(c: DatasetConfig): 'files' | 'fraction' | undefined {
  const v = c.validation;
  return !v ? undefined : v.from === 'files' ? 'files' : 'fraction';
}

/**
 * Most training examples left of `n` after holding out `fraction` of each class: per class k = min(round(n_c·f),
 * n_c − 1) ≥ n_c·f − 1, so at most n·(1 − f) + classes remain, and exactly that many when the per-class counts are known.
 */
export function trainLeftAfterHoldOut(n: number, fraction: number, perClass?: readonly number[], classes?: number): number {
  if (perClass) return perClass.reduce((t, nc) => t + nc - Math.max(0, Math.min(Math.round(nc * fraction), nc - 1)), 0);
  return Math.min(n, Math.floor(n * (1 - fraction) + (classes ?? n)));
}
