/**
 * MNIST and Fashion-MNIST in the official IDX format: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw or gzipped (`.gz`; detected by its magic bytes).
 * Looked for in `<root>`, `<root>/raw` and torchvision's `<root>/<MNIST|FashionMNIST>/raw`.
 * IDX: big-endian magic (2051 = 0x00000803 for uint8 3-d images, 2049 = 0x00000801 for uint8 1-d labels), the
 * dimensions as uint32, then the bytes. Sizes must match the header exactly.
 */
import path from 'node:path';
import { UserError } from '../errors.js';
import { downloadVerified, firstExisting, readMaybeGzip } from './io.js';
import type { DatasetInfo, ImageSplit, LoadOptions, RemoteFile } from './types.js';

type IdxName = 'mnist' | 'fashion-mnist';

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const IDX_REMOTE: Record<IdxName, { base: string; md5: Record<string, string> }> = {
  mnist: {
    base: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    md5: {
      [FILES.trainImages]: 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      [FILES.trainLabels]: 'd53e105ee54ea40749a09fcbcd1e9432',
      [FILES.testImages]: '9fb629c4189551a2d022fa330f9573f3',
      [FILES.testLabels]: 'ec29112dd5afa0611ce80d1b7f02629c',
    },
  },
  'fashion-mnist': {
    base: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    md5: {
      [FILES.trainImages]: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      [FILES.trainLabels]: '25c81989df183df01b3e8a0aad5dffbe',
      [FILES.testImages]: 'bef4ecab320f06d8554ea6380940ec79',
      [FILES.testLabels]: 'bb300cfdad3c16e7a12a480ee83cd310',
    },
  },
};

export const MNIST_INFO: DatasetInfo = {
  height: 28, width: 28, channels: 1, classes: 10, maxValue: 255,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};
export const FASHION_MNIST_INFO: DatasetInfo = {
  height: 28, width: 28, channels: 1, classes: 10, maxValue: 255,
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

function remoteFor(name: IdxName, file: string, opts: LoadOptions): RemoteFile {
  const override = opts.remote?.[`${name}/${file}.gz`];
  if (override) return override;
  const r = IDX_REMOTE[name];
  return { url: `${r.base}${file}.gz`, md5: r.md5[file]! };
}

function candidateDirs(name: IdxName, root: string): string[] {
  const torch = name === 'mnist' ? 'MNIST' : 'FashionMNIST';
  return [root, path.join(root, 'raw'), path.join(root, torch, 'raw')];
}

function locate(name: IdxName, root: string, file: string): string | undefined {
  return firstExisting(candidateDirs(name, root).flatMap((d) => [path.join(d, file), path.join(d, `${file}.gz`)]));
}

/** Why loading would fail before reading a byte (files absent and no download), or undefined. */
export function idxMissing(name: IdxName, root: string, download: boolean): string | undefined {
  if (download) return undefined;
  const missing = Object.values(FILES).filter((f) => !locate(name, root, f));
  if (!missing.length) return undefined;
  const pretty = name === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  const urls = missing.map((f) => remoteFor(name, f, {}).url);
  return `${pretty} not found: expected ${missing.map((f) => `${f}[.gz]`).join(', ')} in ${candidateDirs(name, root).join(', ')}; download ${urls.join(' ')} into ${root}, or set dataset.download: true`;
}

export async function loadIdxDataset(
  name: IdxName,
  root: string,
  download: boolean,
  opts: LoadOptions,
): Promise<{ info: DatasetInfo; train: ImageSplit; test: ImageSplit; source: string }> {
  const pretty = name === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  const all = Object.values(FILES);
  const paths: Record<string, string> = {};
  const missing: string[] = [];
  for (const f of all) {
    const p = locate(name, root, f);
    if (p) paths[f] = p;
    else missing.push(f);
  }
  if (missing.length) {
    const where = candidateDirs(name, root).join(', ');
    const urls = missing.map((f) => remoteFor(name, f, opts).url);
    const how = `expected ${missing.map((f) => `${f}[.gz]`).join(', ')} in ${where}; download ${urls.join(' ')} into ${root}`;
    if (!download) throw new UserError(`${pretty} not found: ${how}, or set dataset.download: true`);
    for (const f of missing) {
      const dest = path.join(root, `${f}.gz`);
      try {
        await downloadVerified(remoteFor(name, f, opts), dest, opts.log);
      } catch (e) {
        throw new UserError(`${pretty} not found and the download failed (${(e as Error).message}); ${how} (or retry when the network is reachable)`);
      }
      paths[f] = dest;
    }
  }
  const info = name === 'mnist' ? MNIST_INFO : FASHION_MNIST_INFO;
  const train = await readPair(paths[FILES.trainImages]!, paths[FILES.trainLabels]!, info);
  const test = await readPair(paths[FILES.testImages]!, paths[FILES.testLabels]!, info);
  return { info, train: { ...train, split: 'train' }, test: { ...test, split: 'test' }, source: path.dirname(paths[FILES.trainImages]!) };
}

async function readPair(imagesFile: string, labelsFile: string, info: DatasetInfo): Promise<Omit<ImageSplit, 'split'>> {
  const [ib, lb] = await Promise.all([readMaybeGzip(imagesFile), readMaybeGzip(labelsFile)]);
  const images = parseIdx(imagesFile, ib, 2051, 3);
  const labels = parseIdx(labelsFile, lb, 2049, 1);
  const [n, h, w] = images.dims as [number, number, number];
  if (h !== info.height || w !== info.width) throw new UserError(`${imagesFile}: images are ${h}×${w}, expected ${info.height}×${info.width}`);
  if (labels.dims[0] !== n) throw new UserError(`${labelsFile} has ${labels.dims[0]} labels but ${imagesFile} has ${n} images`);
  for (let i = 0; i < n; i++) {
    if (labels.data[i]! >= info.classes) throw new UserError(`${labelsFile}: label ${labels.data[i]} at index ${i} is outside 0..${info.classes - 1}`);
  }
  return { images: images.data, labels: labels.data, count: n };
}

export function parseIdx(file: string, buf: Buffer, magic: number, ndim: number): { dims: number[]; data: Uint8Array } {
  const header = 4 + 4 * ndim;
  if (buf.length < 4) throw new UserError(`${file}: only ${buf.length} bytes, too short for an IDX header; the file is truncated`);
  const got = buf.readUInt32BE(0);
  if (got !== magic) {
    throw new UserError(
      `${file}: wrong magic number ${got} (0x${got.toString(16).padStart(8, '0')}), expected ${magic} (${magic === 2051 ? 'IDX images' : 'IDX labels'}); ` +
        (got === 2049 || got === 2051 ? 'images and labels files swapped?' : 'not an IDX file of this kind'),
    );
  }
  if (buf.length < header) throw new UserError(`${file}: only ${buf.length} bytes, too short for an IDX header; the file is truncated`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const expected = header + dims.reduce((a, b) => a * b, 1);
  if (buf.length !== expected) {
    throw new UserError(
      `${file}: size ${buf.length} bytes does not match its header (${dims.join('×')} → ${expected} bytes); the file is ${buf.length < expected ? 'truncated' : 'corrupt (trailing data)'}`,
    );
  }
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + header, expected - header) };
}
