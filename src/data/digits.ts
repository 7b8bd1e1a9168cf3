/**
 * UCI "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak 1998, CC BY 4.0): 1,797 greyscale 8×8 images
 * with values 0..16, 10 classes, shipped in the package as `data/digits/digits.csv.gz` (see data/digits/README.md).
 * Each CSV row: 64 pixel values row by row, then the label. The file's md5 is verified on every load.
 *
 * Train/test split: stratified per class, seeded with the FIXED seed `DIGITS_SPLIT_SEED`, not the experiment seed.
 * Why: the test set is part of the dataset's definition. With a fixed split, runs that differ only in `seed` (a seed
 * sweep, or two configs being compared) are evaluated on the very same test images, so their accuracies are
 * comparable and the seed's effect is not mixed up with test-set sampling noise; results are also reproducible
 * across tudui versions and machines. Procedure, for each class c in 0..9 in order: take the indices of class c in
 * file order, shuffle them with Fisher–Yates driven by mulberry32(mixSeed(DIGITS_SPLIT_SEED, STREAM.split, c)), put
 * the first round(n_c × test_fraction) into test and the rest into train. Both splits are then kept in file order
 * (batch shuffling is the loader's job). With test_fraction 0.2 this gives 1,438 train / 359 test images.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { maybeGunzip, md5, readNamed } from './io.js';
import { mixSeed, mulberry32, shuffleInPlace, STREAM } from './prng.js';
import type { DatasetInfo, ImageSplit } from './types.js';

export const DIGITS_MD5 = 'ca09b38354112f159cd554f69e213828';
export const DIGITS_FILE = 'digits.csv.gz';
export const DIGITS_SPLIT_SEED = 1797;
export const DIGITS_INFO: DatasetInfo = {
  height: 8, width: 8, channels: 1, classes: 10, maxValue: 16,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};

/** The shipped copy: `<package root>/data/digits`, from src/data or dist/data alike (never the cwd). */
export const DIGITS_DEFAULT_ROOT = fileURLToPath(new URL('../../data/digits/', import.meta.url));

export async function loadDigits(
  root: string,
  testFraction: number,
  verifyMd5 = true,
): Promise<{ info: DatasetInfo; train: ImageSplit; test: ImageSplit; source: string }> {
  const file = path.join(root, DIGITS_FILE);
  if (!existsSync(file)) throw new UserError(`digits data not found: expected ${file} (the package ships it in ${DIGITS_DEFAULT_ROOT}; leave dataset.root unset to use that copy)`);
  const bytes = await readNamed(file);
  if (verifyMd5) {
    const got = md5(bytes);
    if (got !== DIGITS_MD5) throw new UserError(`${file}: checksum mismatch (md5 ${got}, expected ${DIGITS_MD5}); the file is corrupt or not the UCI digits data`);
  }
  const raw = maybeGunzip(file, bytes);
  const rows = raw.toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const n = rows.length;
  const all = new Uint8Array(n * 64);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = rows[i]!.split(',');
    if (v.length !== 65) throw new UserError(`${file}: line ${i + 1} has ${v.length} values, expected 65`);
    for (let k = 0; k < 65; k++) {
      const x = Number(v[k]);
      if (!Number.isInteger(x) || x < 0 || x > (k < 64 ? 16 : 9)) throw new UserError(`${file}: line ${i + 1}, value ${k + 1} is ${JSON.stringify(v[k])}`);
      if (k < 64) all[i * 64 + k] = x;
      else labels[i] = x;
    }
  }
  const isTest = stratifiedTestMask(labels, DIGITS_INFO.classes, testFraction, DIGITS_SPLIT_SEED);
  const take = (want: boolean, split: 'train' | 'test'): ImageSplit => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (isTest[i] === (want ? 1 : 0)) idx.push(i);
    const images = new Uint8Array(idx.length * 64);
    const lab = new Uint8Array(idx.length);
    idx.forEach((src, j) => {
      images.set(all.subarray(src * 64, src * 64 + 64), j * 64);
      lab[j] = labels[src]!;
    });
    return { images, labels: lab, count: idx.length, split };
  };
  return { info: DIGITS_INFO, train: take(false, 'train'), test: take(true, 'test'), source: file };
}

/** 1 where example i goes to the test split; see the file header for the procedure. */
export function stratifiedTestMask(labels: Uint8Array, classes: number, fraction: number, seed: number): Uint8Array {
  const mask = new Uint8Array(labels.length);
  for (let c = 0; c < classes; c++) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) idx.push(i);
    shuffleInPlace(idx, mulberry32(mixSeed(seed, STREAM.split, c)));
    const k = Math.round(idx.length * fraction);
    for (let j = 0; j < k; j++) mask[idx[j]!] = 1;
  }
  return mask;
}
