/**
 * CIFAR-10, official binary version (https://www.cs.toronto.edu/~kriz/cifar.html): `data_batch_1..5.bin` and
 * `test_batch.bin`, each a sequence of 3073-byte records (1 label byte, then 1024 R, 1024 G, 1024 B bytes of a 32×32
 * image, row-major). Looked for in `<root>/cifar-10-batches-bin/` (the tarball's layout) and in `<root>` itself.
 * Records are converted from planar CHW to NHWC bytes.
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { downloadVerified, extractTarGz, tempNameFor } from './io.js';
import type { DatasetInfo, ImageSplit, LoadOptions, RemoteFile } from './types.js';

export const CIFAR10_REMOTE: RemoteFile = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
};
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR10_INFO: DatasetInfo = { height: 32, width: 32, channels: 3, classes: 10, classNames: CIFAR10_CLASSES, maxValue: 255 };

const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
const TEST_FILES = ['test_batch.bin'];
const RECORD = 3073;
const PIXELS = 1024;

function findDir(root: string): string | undefined {
  const need = [...TRAIN_FILES, ...TEST_FILES];
  return [path.join(root, 'cifar-10-batches-bin'), root].find((d) => need.every((f) => existsSync(path.join(d, f))));
}

function howToGet(root: string, remote: RemoteFile, triedDownload = false): string {
  return (
    `expected ${TRAIN_FILES.join(', ')} and ${TEST_FILES[0]} in ${path.join(root, 'cifar-10-batches-bin')} or ${root}; ` +
    `download ${remote.url} manually and extract it into ${root}` +
    (triedDownload ? ' (or retry when the network is reachable)' : ', or set dataset.download: true')
  );
}

/** Why loading would fail before reading a byte (files absent and no download), or undefined. */
export function cifar10Missing(root: string, download: boolean, remote: RemoteFile = CIFAR10_REMOTE): string | undefined {
  if (findDir(root) || download) return undefined;
  return `CIFAR-10 not found: ${howToGet(root, remote)}`;
}

export async function loadCifar10(
  root: string,
  download: boolean,
  opts: LoadOptions,
): Promise<{ info: DatasetInfo; train: ImageSplit; test: ImageSplit; source: string }> {
  const remote = opts.remote?.['cifar10'] ?? CIFAR10_REMOTE;
  let dir = findDir(root);
  if (!dir) {
    if (!download) throw new UserError(cifar10Missing(root, download, remote)!);
    try {
      await downloadCifar10(root, remote, opts.log);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new UserError(`CIFAR-10 not found and the download failed (${msg}); ${howToGet(root, remote, true)}`);
    }
    dir = findDir(root);
    if (!dir) throw new UserError(`CIFAR-10 archive from ${remote.url} did not contain the expected files: ${howToGet(root, remote, true)}`);
  }
  const classNames = await readClassNames(dir);
  const info: DatasetInfo = { ...CIFAR10_INFO, classNames, classes: classNames.length };
  const train = await readBatches(dir, TRAIN_FILES, info.classes);
  const test = await readBatches(dir, TEST_FILES, info.classes);
  return { info, train: { ...train, split: 'train' }, test: { ...test, split: 'test' }, source: dir };
}

async function readClassNames(dir: string): Promise<string[]> {
  const meta = path.join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = (await fsp.readFile(meta, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  if (names.length !== 10) throw new UserError(`${meta}: expected 10 class names, found ${names.length}`);
  return names;
}

async function readBatches(dir: string, files: string[], classes: number): Promise<Omit<ImageSplit, 'split'>> {
  const bufs: Buffer[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const buf = await fsp.readFile(file);
    if (buf.length === 0 || buf.length % RECORD !== 0) {
      throw new UserError(
        `${file}: size ${buf.length} bytes is not a whole number of 3073-byte CIFAR-10 records` +
          ` (an official batch is ${10000 * RECORD} bytes); the file is truncated or not CIFAR-10 binary`,
      );
    }
    bufs.push(buf);
  }
  const count = bufs.reduce((n, b) => n + b.length / RECORD, 0);
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Uint8Array(count);
  let n = 0;
  for (let k = 0; k < bufs.length; k++) {
    const buf = bufs[k]!;
    const u = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    const recs = buf.length / RECORD;
    for (let r = 0; r < recs; r++, n++) {
      const base = r * RECORD;
      const label = u[base]!;
      if (label >= classes) throw new UserError(`${path.join(dir, files[k]!)}: record ${r} has label ${label}, expected 0..${classes - 1}`);
      labels[n] = label;
      planarToInterleaved(u, base + 1, images, n * 3 * PIXELS);
    }
  }
  return { images, labels, count };
}

/** One record's planes R, G, B (1024 bytes each) → 1024 interleaved RGB pixels. */
function planarToInterleaved(src: Uint8Array, off: number, dst: Uint8Array, o: number): void {
  for (let c = 0; c < 3; c++) {
    const s0 = off + c * PIXELS;
    for (let p = 0, q = o + c; p < PIXELS; p++, q += 3) dst[q] = src[s0 + p]!;
  }
}

/** Download the tarball (md5-checked while streaming) and extract `cifar-10-batches-bin/` into `root` atomically. */
async function downloadCifar10(root: string, remote: RemoteFile, log?: (line: string) => void): Promise<void> {
  await fsp.mkdir(root, { recursive: true });
  const archive = tempNameFor(path.join(root, 'cifar-10-binary.tar.gz'));
  const staging = tempNameFor(path.join(root, 'cifar-10-extract'));
  try {
    await downloadVerified(remote, archive, log);
    log?.(`extracting into ${root}`);
    await extractTarGz(archive, staging);
    const inner = path.join(staging, 'cifar-10-batches-bin');
    const target = path.join(root, 'cifar-10-batches-bin');
    if (existsSync(inner)) {
      if (existsSync(target)) await fsp.rm(target, { recursive: true, force: true }); // an incomplete earlier copy
      await fsp.rename(inner, target);
    } else {
      // archive without the top directory: move the files themselves
      for (const f of await fsp.readdir(staging)) await fsp.rename(path.join(staging, f), path.join(root, f));
    }
  } finally {
    await fsp.rm(archive, { force: true });
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

