/**
 * `image-folder`: `<root>/train/<class>/*.png|jpg|jpeg` and `<root>/test/<class>/...` (torchvision ImageFolder
 * layout). Classes are the sub-directories of `train`, sorted by name (code-point order, like ImageFolder); label i is
 * the i-th class. Files within a class are sorted by name too, so the order (and `train_limit`'s "first N") is
 * deterministic. Every image is decoded with sharp, resized to `image_size` [h, w] (aspect ratio not kept, like
 * `Resize((h, w))`), converted to sRGB with alpha dropped, then for `channels: 1` to luma exactly like PIL's
 * `convert('L')` (R·299 + G·587 + B·114)/1000, and stored as NHWC bytes.
 * Decodes run concurrently, at most `concurrency` at a time.
 */
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../cli/errors.js';
import type { DatasetInfo, ImageSplit, LoadOptions } from './types.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

interface FileEntry {
  file: string;
  label: number;
}

export function imageFolderShape(image_size: readonly number[] | null | undefined, channels: number | null | undefined): { h: number; w: number; c: number } {
  const [h, w] = image_size ?? [];
  if (!(Number.isInteger(h) && h! > 0 && Number.isInteger(w) && w! > 0)) {
    throw new UserError(`dataset.image_size must be [height, width] of positive integers for image-folder, got ${JSON.stringify(image_size ?? null)}`);
  }
  const c = channels ?? 3;
  if (c !== 1 && c !== 3) throw new UserError(`dataset.channels must be 1 or 3 for image-folder, got ${JSON.stringify(channels)}`);
  return { h: h!, w: w!, c };
}

async function listDirs(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byCodePoint);
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function listSplit(dir: string, classIndex: Map<string, number>, splitName: string, log?: (l: string) => void): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  let skipped = 0;
  for (const cls of await listDirs(dir)) {
    const label = classIndex.get(cls);
    if (label === undefined) {
      throw new UserError(
        `${path.join(dir, cls)}: class "${cls}" is in the ${splitName} split but not in train (${[...classIndex.keys()].join(', ')}); add it to train or remove it`,
      );
    }
    const files = (await fsp.readdir(path.join(dir, cls), { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort(byCodePoint);
    for (const f of files) {
      if (IMAGE_EXT.test(f)) out.push({ file: path.join(dir, cls, f), label });
      else skipped++;
    }
  }
  if (skipped) log?.(`${dir}: skipped ${skipped} file(s) that are not .png/.jpg/.jpeg`);
  return out;
}

export async function loadImageFolder(
  root: string,
  image_size: readonly number[] | null | undefined,
  channels: number | null | undefined,
  limits: { train?: number | null; test?: number | null },
  opts: LoadOptions,
): Promise<{ info: DatasetInfo; train: ImageSplit; test: ImageSplit; source: string }> {
  const { h, w, c } = imageFolderShape(image_size, channels);
  const trainDir = path.join(root, 'train');
  const testDir = path.join(root, 'test');
  for (const [d, n] of [[trainDir, 'train'], [testDir, 'test']] as const) {
    if (!existsSync(d)) throw new UserError(`image-folder: missing ${n} directory ${d} (expected ${root}/{train,test}/<class>/*.png|jpg)`);
  }
  const classNames = await listDirs(trainDir);
  if (classNames.length === 0) throw new UserError(`image-folder: ${trainDir} has no class sub-directories (expected ${trainDir}/<class>/*.png|jpg)`);
  if (classNames.length > 256) throw new UserError(`image-folder: ${classNames.length} classes in ${trainDir}; at most 256 are supported`);
  const classIndex = new Map(classNames.map((n, i) => [n, i]));
  let trainFiles = await listSplit(trainDir, classIndex, 'train', opts.log);
  let testFiles = await listSplit(testDir, classIndex, 'test', opts.log);
  if (trainFiles.length === 0) throw new UserError(`image-folder: no .png/.jpg/.jpeg images under ${trainDir}`);
  if (limits.train != null) trainFiles = trainFiles.slice(0, limits.train);
  if (limits.test != null) testFiles = testFiles.slice(0, limits.test);
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const train = await decodeAll(trainFiles, h, w, c, concurrency);
  const test = await decodeAll(testFiles, h, w, c, concurrency);
  const info: DatasetInfo = { height: h, width: w, channels: c, classes: classNames.length, classNames, maxValue: 255 };
  return { info, train: { ...train, split: 'train' }, test: { ...test, split: 'test' }, source: root };
}

async function decodeAll(files: FileEntry[], h: number, w: number, c: number, concurrency: number): Promise<Omit<ImageSplit, 'split'>> {
  const { default: sharp } = await import('sharp');
  const size = h * w * c;
  const images = new Uint8Array(files.length * size);
  const labels = new Uint8Array(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= files.length) return;
      const { file, label } = files[i]!;
      let data: Buffer;
      let got: number;
      try {
        const r = await sharp(file, { failOn: 'error' })
          .resize(w, h, { fit: 'fill' })
          .toColourspace('srgb')
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        data = r.data;
        got = r.info.channels;
        if (r.info.width !== w || r.info.height !== h) throw new Error(`decoded to ${r.info.width}×${r.info.height}`);
      } catch (e) {
        throw new UserError(`cannot decode image ${file}: ${(e as Error).message}`);
      }
      const o = i * size;
      if (got === c) images.set(data.subarray(0, size), o);
      else if (got === 1 && c === 3) for (let p = 0; p < h * w; p++) images.fill(data[p]!, o + 3 * p, o + 3 * p + 3);
      else if (got >= 3 && c === 1) {
        // PIL's convert('L') (what torchvision's Grayscale does): ITU-R 601-2 luma on the gamma-encoded values
        for (let p = 0; p < h * w; p++) {
          images[o + p] = (data[p * got]! * 19595 + data[p * got + 1]! * 38470 + data[p * got + 2]! * 7471 + 0x8000) >>> 16;
        }
      }
      else throw new Error(`${file}: sharp returned ${got} channels, wanted ${c}`);
      labels[i] = label;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return { images, labels, count: files.length };
}

/** Class names without decoding anything (sync directory listing), for `datasetInfo`; undefined if unreadable. */
export function imageFolderClassesSync(root: string): string[] | undefined {
  try {
    const names = readdirSync(path.join(root, 'train'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort(byCodePoint);
    return names.length ? names : undefined;
  } catch {
    return undefined;
  }
}
