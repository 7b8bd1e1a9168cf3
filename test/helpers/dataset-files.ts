/** Builders for small dataset files in the real on-disk formats, for the data tests. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { expect } from 'vitest';

export function tempDir(prefix = 'tudui-data-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function md5(b: Uint8Array): string {
  return createHash('md5').update(b).digest('hex');
}

/** Deterministic pixel value of example n at (y, x, c): lets tests check layout conversions exactly. */
export function pixel(n: number, y: number, x: number, c: number): number {
  return (n * 7 + y * 3 + x * 5 + c * 11) & 255;
}

/** CIFAR-10 binary records (label byte + R, G, B planes of 32×32) for examples first..first+labels.length-1. */
export function cifarRecords(labels: number[], first = 0): Buffer {
  const buf = Buffer.alloc(labels.length * 3073);
  labels.forEach((label, r) => {
    const base = r * 3073;
    buf[base] = label;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) buf[base + 1 + c * 1024 + y * 32 + x] = pixel(first + r, y, x, c);
  });
  return buf;
}

export const CIFAR_META = 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n';

/** Labels of the small CIFAR set: 5 train batches of 3 records (15 examples), test 4 records. */
export const CIFAR_TRAIN_LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4];
export const CIFAR_TEST_LABELS = [9, 8, 7, 6];

/** Files of a small CIFAR-10 binary set: name → bytes. Train example n has pixel(n, ...), test example n pixel(100 + n, ...). */
export function cifarFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let k = 0; k < 5; k++) files[`data_batch_${k + 1}.bin`] = cifarRecords(CIFAR_TRAIN_LABELS.slice(3 * k, 3 * k + 3), 3 * k);
  files['test_batch.bin'] = cifarRecords(CIFAR_TEST_LABELS, 100);
  files['batches.meta.txt'] = Buffer.from(CIFAR_META);
  return files;
}

export function writeFiles(dir: string, files: Record<string, Uint8Array>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
}

/** IDX file bytes (uint8 data). */
export function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A small MNIST-format set: n 28×28 images with pixel(n, y, x, 0) (test: offset 100) and labels n % 10. */
export function idxFiles(trainN: number, testN: number, gz: { train?: boolean; test?: boolean } = {}): Record<string, Buffer> {
  const images = (n: number, first: number) => {
    const d = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) d[i * 784 + y * 28 + x] = pixel(first + i, y, x, 0);
    return idx(2051, [n, 28, 28], d);
  };
  const labels = (n: number, first: number) => idx(2049, [n], Uint8Array.from({ length: n }, (_, i) => (first + i) % 10));
  const out: Record<string, Buffer> = {};
  const put = (name: string, b: Buffer, z?: boolean) => (out[z ? `${name}.gz` : name] = z ? gzipSync(b) : b);
  put('train-images-idx3-ubyte', images(trainN, 0), gz.train);
  put('train-labels-idx1-ubyte', labels(trainN, 0), gz.train);
  put('t10k-images-idx3-ubyte', images(testN, 100), gz.test);
  put('t10k-labels-idx1-ubyte', labels(testN, 100), gz.test);
  return out;
}

/** A ustar archive (gzipped) of the given entries; a name ending in '/' is a directory. */
export function tarGz(entries: Array<[string, Uint8Array | null]>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write(data ? '0000644\0' : '0000755\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${(data?.length ?? 0).toString(8).padStart(11, '0')}\0`, 124);
    h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
    h.write('        ', 148);
    h.write(data ? '0' : '5', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    if (data) {
      blocks.push(Buffer.from(data));
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The official tarball's layout with the small CIFAR set. */
export function cifarTarGz(): Buffer {
  return tarGz([
    ['cifar-10-batches-bin/', null],
    ...Object.entries(cifarFiles()).map(([n, d]) => [`cifar-10-batches-bin/${n}`, d] as [string, Buffer]),
  ]);
}

/** Write an RGB image of solid colour (w×h) as PNG or JPEG. */
export async function writeSolidImage(file: string, w: number, h: number, rgb: [number, number, number], format: 'png' | 'jpeg'): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  await (format === 'png' ? img.png() : img.jpeg({ quality: 100 })).toFile(file);
}

/** Write raw RGB pixels (w×h×3) as a lossless PNG. */
export async function writeRawPng(file: string, w: number, h: number, data: Uint8Array): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

/** Await `p` and return the UserError it rejects with; fail if it resolves or rejects with anything else. */
export async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).name).toBe('UserError');
    return e as Error;
  }
  throw new Error('expected a UserError');
}
