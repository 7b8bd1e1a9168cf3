/**
 * `image-folder`: `<root>/train/<class>/*.png|jpg|jpeg` and `<root>/test/<class>/...` (torchvision ImageFolder
 * layout). Classes are the sub-directories of `train`, sorted by name (code-point order, like ImageFolder); label i is
 * the i-th class. Files within a class are sorted by name too, so the order is deterministic; `train_limit` / `test_limit`
 * keep a stratified share of each class (the first files of each by name, see `stratifiedLimit`). Every image is decoded with sharp, resized to `image_size` [h, w] (aspect ratio not kept, like
 * `Resize((h, w))`), converted to sRGB with alpha dropped, then for `channels: 1` to luma exactly like PIL's
 * `convert('L')` (R·299 + G·587 + B·114)/1000, and stored as NHWC bytes.
 * Decodes run concurrently, at most `concurrency` at a time.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { decodeImage } from './decode-image.js';
import { mixSeed, mulberry32, shuffleInPlace, STREAM } from './prng.js';
import type { DatasetInfo, ImageSplit, LoadOptions } from './types.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

interface FileEntry {
  file: string;
  label: number;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function dirsIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isDirectory() || (e.isSymbolicLink() && isDir(path.join(dir, e.name)))) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** What `loadImageFolder` will read, found by listing directories only (no decoding). */
export interface ImageFolderScan {
  classNames: string[];
  train: FileEntry[];
  test: FileEntry[];
  /** The dataset's own validation files (`dataset.validation: { from: files }`): root/val (or valid, validation). */
  val?: FileEntry[];
  /** Files skipped because they are not .png/.jpg/.jpeg, per split directory. */
  skipped: Array<{ dir: string; count: number }>;
}

/** Names accepted for an image folder's own validation directory, in the order they are looked for. */
export const VALIDATION_DIRS = ['val', 'valid', 'validation'] as const;

/** How the validation split is made: from root/val (`files`), held out of train (`fraction`), or none. */
export type ValidationSource = 'files' | 'fraction' | undefined;

/** The validation directory of an image folder: one line when there is none, or several. */
function validationDir(root: string, want: ValidationSource): string | { error: string } | undefined {
  const found = VALIDATION_DIRS.map((d) => path.join(root, d)).filter(isDir);
  if (want === 'fraction' && found.length) {
    return { error: `image-folder: ${found[0]} exists and dataset.validation.fraction is set; use one of them (dataset.validation: { from: files } validates on ${found[0]})` };
  }
  if (want !== 'files') return undefined;
  if (found.length > 1) return { error: `image-folder: ${found.join(' and ')} both exist; keep one validation directory` };
  if (!found.length) return { error: `image-folder: dataset.validation.from is files but ${root} has no ${VALIDATION_DIRS.join('/')} directory (expected ${root}/val/<class>/*.png|jpg, or use validation: { fraction: 0.1 })` };
  return found[0];
}

/** A validation directory that nothing reads (`dataset.validation` unset), to warn about; undefined when none. */
export function unreadValidationDir(root: string): string | undefined {
  return VALIDATION_DIRS.map((d) => path.join(root, d)).find(isDir);
}

/**
 * Lists an image folder and checks its structure: root and root/train exist, every class directory of train holds
 * at least one image, test (when `needTest`) exists and names only classes of train, the validation directory (with
 * `validation: 'files'`) has exactly train's classes. Returns the problem as one line instead of throwing, so
 * `tudui validate` and the loader report exactly the same thing.
 */
export function scanImageFolderSync(root: string, testFraction?: number | null, validation?: ValidationSource): ImageFolderScan | { error: string } {
  const split = testFraction != null;
  const needTest = !split;
  if (!existsSync(root)) return { error: `image-folder: directory ${root} does not exist` };
  if (!isDir(root)) return { error: `image-folder: ${root} is not a directory` };
  const trainDir = path.join(root, 'train');
  const testDir = path.join(root, 'test');
  const layout = `expected ${root}/{train,test}/<class>/*.png|jpg`;
  if (!isDir(trainDir)) return { error: `image-folder: missing train directory ${trainDir} (${layout})` };
  if (needTest && !isDir(testDir)) return { error: `image-folder: missing test directory ${testDir} (${layout}, or set dataset.test_fraction to split train)` };
  if (split && existsSync(testDir)) return { error: `image-folder: ${testDir} exists and dataset.test_fraction is set; use one of them (remove test_fraction to test on ${testDir})` };
  try {
    const classNames = dirsIn(trainDir);
    if (classNames.length === 0) return { error: `image-folder: ${trainDir} has no class sub-directories (expected ${trainDir}/<class>/*.png|jpg)` };
    if (classNames.length > 256) return { error: `image-folder: ${classNames.length} classes in ${trainDir}; at most 256 are supported` };
    const classIndex = new Map(classNames.map((n, i) => [n, i]));
    const skipped: ImageFolderScan['skipped'] = [];
    const list = (dir: string, splitName: string): FileEntry[] | { error: string } => {
      const out: FileEntry[] = [];
      let skip = 0;
      for (const cls of dirsIn(dir)) {
        const label = classIndex.get(cls);
        if (label === undefined) {
          return { error: `image-folder: ${path.join(dir, cls)}: class "${cls}" is in the ${splitName} split but not in train (${classNames.join(', ')}); add it to train or remove it` };
        }
        const names = readdirSync(path.join(dir, cls), { withFileTypes: true })
          .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'))
          .map((e) => e.name)
          .sort(byCodePoint);
        let n = 0;
        for (const f of names) {
          if (IMAGE_EXT.test(f)) {
            out.push({ file: path.join(dir, cls, f), label });
            n++;
          } else skip++;
        }
        if (n === 0 && splitName === 'train') {
          return { error: `image-folder: class directory ${path.join(dir, cls)} holds no .png/.jpg/.jpeg images; remove it or add images (an empty class cannot be learned)` };
        }
      }
      if (skip) skipped.push({ dir, count: skip });
      return out;
    };
    const train = list(trainDir, 'train');
    if ('error' in train) return train;
    const valDir = validationDir(root, validation);
    if (typeof valDir === 'object') return valDir;
    let val: FileEntry[] | undefined;
    if (valDir) {
      const names = dirsIn(valDir);
      if (names.join('\n') !== classNames.join('\n')) {
        const missing = classNames.filter((n) => !names.includes(n));
        const extra = names.filter((n) => !classIndex.has(n));
        const diff = [missing.length ? `lacks ${missing.join(', ')}` : '', extra.length ? `has ${extra.join(', ')} that train has not` : ''].filter(Boolean).join(' and ');
        return { error: `image-folder: ${valDir}: its classes must be train's (${classNames.join(', ')}); it ${diff}` };
      }
      const v = list(valDir, 'validation');
      if ('error' in v) return v;
      val = v;
    }
    const withVal = val ? { val } : {};
    if (split) {
      const { train: tr, test: te } = splitFiles(train, classNames.length, testFraction!);
      return { classNames, train: tr, test: te, ...withVal, skipped };
    }
    const test = list(testDir, 'test');
    if ('error' in test) return test;
    return { classNames, train, test, ...withVal, skipped };
  } catch (e) {
    return { error: `image-folder: cannot list ${root}: ${(e as Error).message}` };
  }
}

/** Fixed seed of the image-folder train/test split (like digits: the same test images whatever the experiment seed). */
export const IMAGE_FOLDER_SPLIT_SEED = 20261201;

/**
 * `test_fraction`: per class, shuffle its files (name order) with mulberry32(mixSeed(IMAGE_FOLDER_SPLIT_SEED,
 * STREAM.split, class)) and move the first round(n × fraction) to test, keeping at least one in train; both splits
 * stay in class and name order.
 */
export function splitFiles(files: FileEntry[], classes: number, fraction: number): { train: FileEntry[]; test: FileEntry[] } {
  const isTest = new Uint8Array(files.length);
  for (let c = 0; c < classes; c++) {
    const idx: number[] = [];
    files.forEach((f, i) => f.label === c && idx.push(i));
    shuffleInPlace(idx, mulberry32(mixSeed(IMAGE_FOLDER_SPLIT_SEED, STREAM.split, c)));
    const k = Math.min(Math.round(idx.length * fraction), idx.length - 1);
    for (let j = 0; j < k; j++) isTest[idx[j]!] = 1;
  }
  return { train: files.filter((_, i) => !isTest[i]), test: files.filter((_, i) => isTest[i]) };
}

/**
 * The first `n` files of a split, stratified: each class keeps a share proportional to its size (largest remainders
 * get the rounding, ties in class order), files in name order within a class; the result stays in class order.
 */
export function stratifiedLimit(files: FileEntry[], n: number | null | undefined): FileEntry[] {
  if (n == null || n >= files.length) return files;
  const byClass = new Map<number, FileEntry[]>();
  for (const f of files) {
    const l = byClass.get(f.label) ?? [];
    l.push(f);
    byClass.set(f.label, l);
  }
  const groups = [...byClass.entries()].sort((a, b) => a[0] - b[0]);
  const exact = groups.map(([, g]) => (n * g.length) / files.length);
  const quota = exact.map(Math.floor);
  let left = n - quota.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    quota[i]!++;
    left--;
  }
  return groups.flatMap(([, g], i) => g.slice(0, quota[i]));
}

export async function loadImageFolder(
  root: string,
  image_size: readonly number[],
  channels: number,
  limits: { train?: number | null; test?: number | null; testFraction?: number | null; validation?: ValidationSource },
  opts: LoadOptions,
): Promise<{ info: DatasetInfo; train: ImageSplit; test: ImageSplit; val?: ImageSplit; source: string }> {
  const [h, w] = image_size as [number, number];
  const c = channels;
  const scan = scanImageFolderSync(root, limits.testFraction, limits.validation);
  if ('error' in scan) throw new UserError(scan.error);
  for (const s of scan.skipped) opts.log?.(`${s.dir}: skipped ${s.count} file(s) that are not .png/.jpg/.jpeg`);
  const { classNames } = scan;
  const trainFiles = stratifiedLimit(scan.train, limits.train);
  const testFiles = stratifiedLimit(scan.test, limits.test);
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const load = async (files: FileEntry[], split: string): Promise<Omit<ImageSplit, 'split'>> => {
    const cache = cacheFile(files, h, w, c);
    const hit = cache && readCache(cache, files.length, h * w * c);
    if (hit) return hit;
    const t0 = Date.now();
    let last = t0;
    const progress = (done: number) => {
      const now = Date.now();
      if (now - last < 2000 || done === files.length) return;
      last = now;
      opts.log?.(`image-folder: decoding ${split} images: ${done}/${files.length}`);
    };
    const decoded = await decodeAll(files, h, w, c, concurrency, opts.signal, progress);
    if (cache) {
      writeCache(cache, decoded);
      if (Date.now() - t0 > 2000) opts.log?.(`image-folder: ${split} images decoded in ${((Date.now() - t0) / 1000).toFixed(1)} s; cached in ${cache}`);
    }
    return decoded;
  };
  const train = await load(trainFiles, 'train');
  const test = await load(testFiles, 'test');
  // the validation files are read whole (train_limit / test_limit do not cut them) and never augmented
  const val = scan.val && { ...(await load(scan.val, 'validation')), split: 'test' as const };
  const info: DatasetInfo = { height: h, width: w, channels: c, classes: classNames.length, classNames, maxValue: 255 };
  return { info, train: { ...train, split: 'train' }, test: { ...test, split: 'test' }, ...(val ? { val } : {}), source: root };
}

/**
 * Decoded images are cached (they take long to decode and are the same every run): one file per split in
 * `$TUDUI_CACHE_DIR` (default `$XDG_CACHE_HOME/tudui` or `~/.cache/tudui`; `TUDUI_CACHE_DIR=off` disables it),
 * named by a hash of the image size and of every file's path, label, size and modification time, so a changed,
 * added or removed image means a new decode. Content: the labels, then the NHWC bytes.
 */
function cacheFile(files: FileEntry[], h: number, w: number, c: number): string | undefined {
  const env = process.env.TUDUI_CACHE_DIR;
  if (env === 'off' || files.length === 0) return undefined;
  const dir = path.join(env || process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), ...(env ? [] : ['tudui']), 'image-folder');
  const hash = createHash('sha256');
  hash.update(`v1 ${h}x${w}x${c}\n`);
  try {
    for (const f of files) {
      const st = statSync(f.file);
      hash.update(`${f.file}\0${f.label}\0${st.size}\0${st.mtimeMs}\n`);
    }
  } catch {
    return undefined;
  }
  return path.join(dir, `${hash.digest('hex').slice(0, 32)}.bin`);
}

function readCache(file: string, count: number, size: number): Omit<ImageSplit, 'split'> | undefined {
  try {
    const buf = readFileSync(file);
    if (buf.length !== count * (1 + size)) return undefined;
    return { labels: new Uint8Array(buf.subarray(0, count)), images: new Uint8Array(buf.subarray(count)), count };
  } catch {
    return undefined;
  }
}

/** Best effort: a cache that cannot be written only costs the next run a decode. */
function writeCache(file: string, split: Omit<ImageSplit, 'split'>): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      for (const b of [split.labels, split.images]) for (let o = 0; o < b.length; ) o += writeSync(fd, b, o, b.length - o);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing to clean
    }
  }
}

async function decodeAll(
  files: FileEntry[], h: number, w: number, c: number, concurrency: number, signal?: AbortSignal, progress?: (done: number) => void,
): Promise<Omit<ImageSplit, 'split'>> {
  const size = h * w * c;
  const images = new Uint8Array(files.length * size);
  const labels = new Uint8Array(files.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= files.length) return;
      // Aborted (Ctrl-C): stop decoding; the caller has stopped waiting and discards what was decoded.
      if (signal?.aborted) throw new Error('image decoding aborted');
      const { file, label } = files[i]!;
      images.set(await decodeImage(file, h, w, c), i * size);
      labels[i] = label;
      progress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return { images, labels, count: files.length };
}

/** Class names without decoding anything (sync directory listing), for `datasetInfo`; undefined if unreadable. */
export function imageFolderClassesSync(root: string): string[] | undefined {
  try {
    const names = dirsIn(path.join(root, 'train'));
    return names.length ? names : undefined;
  } catch {
    return undefined;
  }
}
