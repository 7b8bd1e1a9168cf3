import { copyFileSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { datasetInfo, DIGITS_DEFAULT_ROOT, loadDataset } from '../src/data/index.js';
import {
  CIFAR_TEST_LABELS, CIFAR_TRAIN_LABELS, cifarFiles, idx, idxFiles, pixel, rejects, tempDir, writeFiles, writeRawPng, writeSolidImage,
} from './helpers/dataset-files.js';


describe('cifar10 (official binary format)', () => {
  it('reads cifar-10-batches-bin/ and converts planar records to NHWC', async () => {
    const root = tempDir();
    writeFiles(path.join(root, 'cifar-10-batches-bin'), cifarFiles());
    const ds = await loadDataset({ name: 'cifar10', root, download: false });
    expect(ds.info).toMatchObject({ height: 32, width: 32, channels: 3, classes: 10, maxValue: 255 });
    expect(ds.info.classNames[0]).toBe('airplane');
    expect(ds.train.count).toBe(15);
    expect(ds.test.count).toBe(4);
    expect([...ds.train.labels]).toEqual(CIFAR_TRAIN_LABELS);
    expect([...ds.test.labels]).toEqual(CIFAR_TEST_LABELS);
    expect(ds.train.images.length).toBe(15 * 3072);
    for (const [n, y, x, c] of [[0, 0, 0, 0], [4, 5, 7, 1], [14, 31, 31, 2], [7, 12, 30, 0]] as const) {
      expect(ds.train.images[n * 3072 + (y * 32 + x) * 3 + c]).toBe(pixel(n, y, x, c));
    }
    expect(ds.test.images[2 * 3072 + (3 * 32 + 4) * 3 + 2]).toBe(pixel(102, 3, 4, 2));
    expect(ds.source).toBe(path.join(root, 'cifar-10-batches-bin'));
  });

  it('accepts the files directly in root, and relative roots resolve against cwd', async () => {
    const cwd = tempDir();
    writeFiles(path.join(cwd, 'c10'), cifarFiles());
    const ds = await loadDataset({ name: 'cifar10', root: 'c10', download: false }, { cwd });
    expect(ds.train.count).toBe(15);
    expect(ds.source).toBe(path.join(cwd, 'c10'));
  });

  it('train_limit / test_limit take the first N examples', async () => {
    const root = tempDir();
    writeFiles(root, cifarFiles());
    const ds = await loadDataset({ name: 'cifar10', root, download: false, train_limit: 4, test_limit: 1 });
    expect(ds.train.count).toBe(4);
    expect(ds.train.images.length).toBe(4 * 3072);
    expect([...ds.train.labels]).toEqual(CIFAR_TRAIN_LABELS.slice(0, 4));
    expect(ds.test.count).toBe(1);
  });

  it('a truncated batch is a UserError naming the file', async () => {
    const root = tempDir();
    writeFiles(root, cifarFiles());
    truncateSync(path.join(root, 'data_batch_3.bin'), 3073 * 2 + 100);
    const e = await rejects(loadDataset({ name: 'cifar10', root, download: false }));
    expect(e.message).toContain(path.join(root, 'data_batch_3.bin'));
    expect(e.message).toMatch(/truncated/);
  });

  it('missing files with download: false explain what, where, the URL and how', async () => {
    const root = tempDir();
    const e = await rejects(loadDataset({ name: 'cifar10', root, download: false }));
    expect(e.message).toContain('data_batch_1.bin');
    expect(e.message).toContain('test_batch.bin');
    expect(e.message).toContain(path.join(root, 'cifar-10-batches-bin'));
    expect(e.message).toContain('https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
    expect(e.message).toContain(`extract it into ${root}`);
    expect(e.message).toContain('dataset.download: true');
    expect(e.message).not.toContain('\n');
  });

  it('a label outside 0..9 is reported', async () => {
    const root = tempDir();
    const files = cifarFiles();
    files['test_batch.bin']![3073] = 12;
    writeFiles(root, files);
    const e = await rejects(loadDataset({ name: 'cifar10', root, download: false }));
    expect(e.message).toMatch(/test_batch\.bin: record 1 has label 12/);
  });
});

describe('mnist / fashion-mnist (IDX)', () => {
  it('reads raw and gzipped IDX files', async () => {
    const root = tempDir();
    writeFiles(root, idxFiles(12, 5, { test: true }));
    const ds = await loadDataset({ name: 'mnist', root, download: false });
    expect(ds.info).toMatchObject({ height: 28, width: 28, channels: 1, classes: 10, maxValue: 255 });
    expect(ds.train.count).toBe(12);
    expect(ds.test.count).toBe(5);
    expect([...ds.train.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect([...ds.test.labels]).toEqual([0, 1, 2, 3, 4]);
    expect(ds.train.images[11 * 784 + 27 * 28 + 3]).toBe(pixel(11, 27, 3, 0));
    expect(ds.test.images[4 * 784 + 10 * 28 + 20]).toBe(pixel(104, 10, 20, 0));
  });

  it('finds torchvision layout <root>/FashionMNIST/raw and uses Fashion-MNIST class names', async () => {
    const root = tempDir();
    writeFiles(path.join(root, 'FashionMNIST', 'raw'), idxFiles(3, 2, { train: true, test: true }));
    const ds = await loadDataset({ name: 'fashion-mnist', root, download: false });
    expect(ds.train.count).toBe(3);
    expect(ds.info.classNames[9]).toBe('Ankle boot');
  });

  it('wrong magic number, truncation, bad gzip and count mismatch are UserErrors naming the file', async () => {
    const root = tempDir();
    const files = idxFiles(4, 2);
    // images and labels swapped
    writeFiles(root, { ...files, 'train-images-idx3-ubyte': files['train-labels-idx1-ubyte']! });
    let e = await rejects(loadDataset({ name: 'mnist', root, download: false }));
    expect(e.message).toContain(path.join(root, 'train-images-idx3-ubyte'));
    expect(e.message).toMatch(/wrong magic number 2049.*expected 2051/);

    writeFiles(root, { ...files });
    truncateSync(path.join(root, 't10k-images-idx3-ubyte'), 16 + 784 + 10);
    e = await rejects(loadDataset({ name: 'mnist', root, download: false }));
    expect(e.message).toContain('t10k-images-idx3-ubyte');
    expect(e.message).toMatch(/truncated/);

    const root2 = tempDir();
    const gz = idxFiles(4, 2, { train: true });
    const bad = gz['train-images-idx3-ubyte.gz']!;
    writeFiles(root2, { ...gz, 'train-images-idx3-ubyte.gz': bad.subarray(0, bad.length - 20) });
    e = await rejects(loadDataset({ name: 'mnist', root: root2, download: false }));
    expect(e.message).toContain('train-images-idx3-ubyte.gz');
    expect(e.message).toMatch(/gzip/);

    const root3 = tempDir();
    writeFiles(root3, { ...files, 'train-labels-idx1-ubyte': idx(2049, [3], new Uint8Array(3)) });
    e = await rejects(loadDataset({ name: 'mnist', root: root3, download: false }));
    expect(e.message).toMatch(/has 3 labels but .* has 4 images/);
  });

  it('missing files name the files, the places searched and the URLs', async () => {
    const root = tempDir();
    const e = await rejects(loadDataset({ name: 'mnist', root, download: false }));
    expect(e.message).toContain('train-images-idx3-ubyte');
    expect(e.message).toContain(root);
    expect(e.message).toContain('https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz');
    expect(e.message).toContain('dataset.download: true');
  });
});

describe('digits (shipped UCI copy)', () => {
  it('loads the shipped copy by default with a stratified, fixed 80/20 split', async () => {
    const ds = await loadDataset({ name: 'digits' });
    expect(ds.info).toMatchObject({ height: 8, width: 8, channels: 1, classes: 10, maxValue: 16 });
    expect(ds.train.count + ds.test.count).toBe(1797);
    expect(ds.test.count).toBe(359);
    expect(ds.source).toBe(path.join(DIGITS_DEFAULT_ROOT, 'digits.csv.gz'));
    expect(Math.max(...ds.train.images)).toBe(16);
    const count = (l: Uint8Array) => l.reduce((h, v) => (h[v]++, h), new Array(10).fill(0) as number[]);
    const tr = count(ds.train.labels);
    const te = count(ds.test.labels);
    for (let c = 0; c < 10; c++) expect(te[c]).toBe(Math.round((tr[c]! + te[c]!) * 0.2));
    const again = await loadDataset({ name: 'digits', root: 'data/digits' }, { cwd: tempDir() });
    expect(again.test.images).toEqual(ds.test.images);
    const other = await loadDataset({ name: 'digits', test_fraction: 0.5 });
    expect(other.test.count).toBeGreaterThan(880);
  });

  it('the first example matches the CSV', async () => {
    const ds = await loadDataset({ name: 'digits', test_fraction: 0.2 });
    const first = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0];
    const all = [ds.train, ds.test];
    const hit = all.some((s) => Array.from({ length: s.count }, (_, i) => i).some((i) => s.labels[i] === 0 && first.every((v, k) => s.images[i * 64 + k] === v)));
    expect(hit).toBe(true);
  });

  it('a corrupted file fails its checksum', async () => {
    const root = tempDir();
    copyFileSync(path.join(DIGITS_DEFAULT_ROOT, 'digits.csv.gz'), path.join(root, 'digits.csv.gz'));
    const b = readFileSync(path.join(root, 'digits.csv.gz'));
    b[100] ^= 0xff;
    writeFileSync(path.join(root, 'digits.csv.gz'), b);
    const e = await rejects(loadDataset({ name: 'digits', root }));
    expect(e.message).toContain(path.join(root, 'digits.csv.gz'));
    expect(e.message).toMatch(/checksum mismatch/);
  });

  it('the shipped folder has the data and its README', () => {
    expect(readdirSync(DIGITS_DEFAULT_ROOT).sort()).toEqual(['README.md', 'digits.csv.gz']);
  });
});

describe('image-folder', () => {
  const colours: Record<string, [number, number, number]> = { cat: [200, 30, 10], dog: [10, 220, 40], ant: [0, 0, 255] };

  async function makeFolder(): Promise<string> {
    const root = tempDir();
    for (const [cls, rgb] of Object.entries(colours)) {
      await writeSolidImage(path.join(root, 'train', cls, 'a.png'), 10, 6, rgb, 'png');
      await writeSolidImage(path.join(root, 'train', cls, 'b.jpg'), 5, 5, rgb, 'jpeg');
      await writeSolidImage(path.join(root, 'test', cls, 'c.jpeg'), 7, 9, rgb, 'jpeg');
    }
    writeFileSync(path.join(root, 'train', 'cat', 'notes.txt'), 'not an image');
    return root;
  }

  it('decodes PNG and JPEG, sorts classes, resizes and converts channels', async () => {
    const root = await makeFolder();
    const logs: string[] = [];
    const ds = await loadDataset({ name: 'image-folder', root, image_size: [4, 3], channels: 3 }, { log: (l) => logs.push(l) });
    expect(ds.info).toMatchObject({ height: 4, width: 3, channels: 3, classes: 3, classNames: ['ant', 'cat', 'dog'], maxValue: 255 });
    expect(ds.train.count).toBe(6);
    expect(ds.test.count).toBe(3);
    expect([...ds.train.labels]).toEqual([0, 0, 1, 1, 2, 2]);
    expect(ds.train.images.length).toBe(6 * 4 * 3 * 3);
    // PNG is lossless: exact colour; JPEG: close
    const px = (s: typeof ds.train, n: number, k: number) => [...s.images.subarray(n * 36 + 3 * k, n * 36 + 3 * k + 3)];
    expect(px(ds.train, 2, 5)).toEqual([200, 30, 10]);
    px(ds.train, 5, 0).forEach((v, c) => expect(Math.abs(v - colours.dog![c]!)).toBeLessThan(8));
    expect(logs.some((l) => l.includes('skipped 1 file'))).toBe(true);

    const grey = await loadDataset({ name: 'image-folder', root, image_size: [2, 2], channels: 1 });
    expect(grey.info.channels).toBe(1);
    expect(grey.train.images.length).toBe(6 * 4);
    // PIL convert("L") luma of (200, 30, 10), exact for the lossless PNG
    expect(grey.train.images[2 * 4]).toBe((200 * 19595 + 30 * 38470 + 10 * 7471 + 0x8000) >> 16);

    expect(datasetInfo({ name: 'image-folder', root, image_size: [4, 3], channels: 3 })?.classNames).toEqual(['ant', 'cat', 'dog']);
  });

  it('keeps pixel layout (row-major HWC) for an exact PNG', async () => {
    const root = tempDir();
    const data = new Uint8Array(4 * 3 * 3).map((_, i) => i * 5);
    await writeRawPng(path.join(root, 'train', 'x', 'a.png'), 4, 3, data);
    mkdirSync(path.join(root, 'test'));
    const ds = await loadDataset({ name: 'image-folder', root, image_size: [3, 4], channels: 3 });
    expect([...ds.train.images]).toEqual([...data]);
    expect(ds.test.count).toBe(0);
  });

  it('reports an undecodable file, missing split dirs and test-only classes', async () => {
    const root = await makeFolder();
    writeFileSync(path.join(root, 'train', 'dog', 'broken.png'), Buffer.from('definitely not a png'));
    let e = await rejects(loadDataset({ name: 'image-folder', root, image_size: [4, 4], channels: 3 }));
    expect(e.message).toContain(path.join(root, 'train', 'dog', 'broken.png'));

    const r2 = await makeFolder();
    await writeSolidImage(path.join(r2, 'test', 'zebra', 'z.png'), 4, 4, [1, 2, 3], 'png');
    e = await rejects(loadDataset({ name: 'image-folder', root: r2, image_size: [4, 4], channels: 3 }));
    expect(e.message).toContain('class "zebra" is in the test split but not in train');

    const r3 = tempDir();
    await writeSolidImage(path.join(r3, 'train', 'a', 'x.png'), 4, 4, [1, 2, 3], 'png');
    e = await rejects(loadDataset({ name: 'image-folder', root: r3, image_size: [4, 4], channels: 3 }));
    expect(e.message).toContain(`missing test directory ${path.join(r3, 'test')}`);

    e = await rejects(loadDataset({ name: 'image-folder', root: r3, image_size: [4, 4], channels: 2 }));
    expect(e.message).toMatch(/channels must be 1 or 3/);
  });
});

describe('synthetic', () => {
  const cfg = { name: 'synthetic', shape: [6, 5, 2], classes: 4, train_size: 40, test_size: 12 };

  it('has the configured shape and balanced labels, deterministic from the seed', async () => {
    const a = await loadDataset(cfg, { seed: 3 });
    expect(a.info).toMatchObject({ height: 6, width: 5, channels: 2, classes: 4, maxValue: 255 });
    expect(a.train.images.length).toBe(40 * 60);
    expect(a.test.count).toBe(12);
    const hist = a.train.labels.reduce((h, v) => (h[v]++, h), [0, 0, 0, 0]);
    expect(hist).toEqual([10, 10, 10, 10]);
    const b = await loadDataset(cfg, { seed: 3 });
    expect(b.train.images).toEqual(a.train.images);
    expect(b.test.labels).toEqual(a.test.labels);
    const c = await loadDataset(cfg, { seed: 4 });
    expect(c.train.images).not.toEqual(a.train.images);
    expect(datasetInfo(cfg)).toEqual(a.info);
  });

  it('carries a learnable signal: nearest class mean classifies the test split', async () => {
    const ds = await loadDataset({ ...cfg, shape: [8, 8, 1], train_size: 200, test_size: 100 });
    const size = 64;
    const means = Array.from({ length: 4 }, () => new Float64Array(size));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < ds.train.count; i++) {
      const l = ds.train.labels[i]!;
      counts[l]!++;
      for (let k = 0; k < size; k++) means[l]![k]! += ds.train.images[i * size + k]!;
    }
    means.forEach((m, l) => m.forEach((v, k) => (m[k] = v / counts[l]!)));
    let right = 0;
    for (let i = 0; i < ds.test.count; i++) {
      const d = means.map((m) => m.reduce((s, v, k) => s + (v - ds.test.images[i * size + k]!) ** 2, 0));
      if (d.indexOf(Math.min(...d)) === ds.test.labels[i]) right++;
    }
    expect(right / ds.test.count).toBeGreaterThan(0.9);
  });
});

describe('datasetInfo and config errors', () => {
  it('is static for the built-in datasets', () => {
    expect(datasetInfo({ name: 'cifar10' })?.channels).toBe(3);
    expect(datasetInfo({ name: 'mnist' })?.height).toBe(28);
    expect(datasetInfo({ name: 'digits' })?.maxValue).toBe(16);
    expect(datasetInfo({ name: 'image-folder', image_size: [4, 4], channels: 1 })).toBeUndefined();
  });

  it('unknown datasets are UserErrors', async () => {
    const e = await rejects(loadDataset({ name: 'imagenet' }));
    expect(e.message).toMatch(/unknown dataset "imagenet"; expected one of cifar10, mnist/);
  });

  it('gzip helper files are really gzip', () => {
    expect(gzipSync(Buffer.from('x'))[0]).toBe(0x1f);
  });
});
