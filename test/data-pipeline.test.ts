import { describe, expect, it } from 'vitest';
import {
  augmentPlan, batchCount, batches, batchOptionsFor, normalizationTable, type Batch, type BatchOptions,
  type DatasetInfo, type ImageSplit,
} from '../src/data/index.js';

const CIFAR_NORM = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

function makeSplit(count: number, info: DatasetInfo, split: 'train' | 'test' = 'train'): ImageSplit {
  const size = info.height * info.width * info.channels;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < images.length; i++) images[i] = (i * 31 + (i >> 7)) & 255;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % info.classes);
  return { images, labels, count, split };
}

const info32: DatasetInfo = { height: 32, width: 32, channels: 3, classes: 10, classNames: [], maxValue: 255 };
const small: DatasetInfo = { height: 5, width: 4, channels: 3, classes: 10, classNames: [], maxValue: 255 };

const base: BatchOptions = { batchSize: 4, shuffle: true, dropLast: false, seed: 7, epoch: 0, normalize: null, augment: null };

function all(split: ImageSplit, info: DatasetInfo, o: Partial<BatchOptions>): Batch[] {
  return [...batches(split, info, { ...base, ...o })];
}

/** Recover each example's index from its label + first-pixel signature (unique in makeSplit data). */
function order(bs: Batch[], split: ImageSplit, info: DatasetInfo): number[] {
  const size = info.height * info.width * info.channels;
  const lut = normalizationTable(info, null);
  const out: number[] = [];
  for (const b of bs) {
    for (let k = 0; k < b.size; k++) {
      const found = Array.from({ length: split.count }, (_, i) => i).find((i) => {
        for (let j = 0; j < size; j++) if (lut[(j % info.channels) * 256 + split.images[i * size + j]!] !== b.x[k * size + j]) return false;
        return true;
      });
      out.push(found ?? -1);
    }
  }
  return out;
}

describe('normalisation', () => {
  it('matches ToTensor() + Normalize(mean, std) computed by hand', () => {
    const split = makeSplit(3, info32);
    const [b] = all(split, info32, { batchSize: 3, shuffle: false, normalize: CIFAR_NORM });
    expect(b!.x.length).toBe(3 * 3072);
    expect(b!.x).toBeInstanceOf(Float32Array);
    for (const [n, y, x, c] of [[0, 0, 0, 0], [1, 10, 20, 1], [2, 31, 31, 2], [2, 5, 6, 0]] as const) {
      const k = n * 3072 + (y * 32 + x) * 3 + c;
      const raw = split.images[k]!;
      const hand = (raw / 255 - CIFAR_NORM.mean[c]!) / CIFAR_NORM.std[c]!;
      expect(b!.x[k]).toBeCloseTo(hand, 5);
    }
    // 0 and 255 in channel 0
    const lut = normalizationTable(info32, CIFAR_NORM);
    expect(lut[0]).toBeCloseTo(-0.4914 / 0.247, 6);
    expect(lut[255]).toBeCloseTo((1 - 0.4914) / 0.247, 6);
    // bit-exact float32 ToTensor + Normalize
    const f = Math.fround;
    expect(lut[256 + 128]).toBe(f(f(f(128 / 255) - f(0.4822)) / f(0.2435)));
  });

  it('null normalize is x / maxValue (255, or 16 for digits)', () => {
    const split = makeSplit(2, small);
    const [b] = all(split, small, { batchSize: 2, shuffle: false });
    expect(b!.x[5]).toBeCloseTo(split.images[5]! / 255, 7);
    const digits: DatasetInfo = { height: 8, width: 8, channels: 1, classes: 10, classNames: [], maxValue: 16 };
    const d: ImageSplit = { images: Uint8Array.from({ length: 64 }, (_, i) => i % 17), labels: new Uint8Array([3]), count: 1 };
    const [db] = all(d, digits, { batchSize: 8, normalize: { mean: [0.5], std: [0.5] } });
    expect(db!.x[16]).toBeCloseTo(1, 7);
    expect(db!.x[8]).toBeCloseTo((8 / 16 - 0.5) / 0.5, 7);
    expect([...db!.y]).toEqual([3]);
  });

  it('a mean/std with the wrong number of channels is a UserError', () => {
    expect(() => normalizationTable(info32, { mean: [0.5, 0.5], std: [0.5, 0.5] })).toThrow(/mean has 2 values but the images have 3/);
  });
});

describe('batching', () => {
  it('shuffles deterministically per (seed, epoch), covering every example once', () => {
    const split = makeSplit(23, small);
    const a = order(all(split, small, { epoch: 0 }), split, small);
    const b = order(all(split, small, { epoch: 0 }), split, small);
    const c = order(all(split, small, { epoch: 1 }), split, small);
    const d = order(all(split, small, { epoch: 0, seed: 8 }), split, small);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect(d).not.toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(order(all(split, small, { shuffle: false }), split, small)).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('labels follow the examples', () => {
    const split = makeSplit(23, small);
    const bs = all(split, small, { epoch: 3 });
    const idx = order(bs, split, small);
    expect(bs.flatMap((b) => [...b.y])).toEqual(idx.map((i) => split.labels[i]!));
  });

  it('drop_last drops the final partial batch; otherwise it is kept', () => {
    const split = makeSplit(10, small);
    const kept = all(split, small, { batchSize: 4 });
    expect(kept.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(kept.map((b) => b.index)).toEqual([0, 1, 2]);
    expect(kept[2]!.x.length).toBe(2 * 60);
    const dropped = all(split, small, { batchSize: 4, dropLast: true });
    expect(dropped.map((b) => b.size)).toEqual([4, 4]);
    expect(batchCount(10, 4, true)).toBe(2);
    expect(batchCount(10, 4, false)).toBe(3);
    expect(batchCount(8, 4, false)).toBe(2);
  });

  it('startBatch resumes mid-epoch with exactly the remaining batches (order and augmentation)', () => {
    const split = makeSplit(19, small);
    const o = { epoch: 2, augment: { random_crop: { padding: 2 }, horizontal_flip: true } };
    const full = all(split, small, o);
    const tail = all(split, small, { ...o, startBatch: 2 });
    expect(tail.map((b) => b.index)).toEqual([2, 3, 4]);
    tail.forEach((b, i) => {
      expect(b.x).toEqual(full[i + 2]!.x);
      expect(b.y).toEqual(full[i + 2]!.y);
    });
  });

  it('batchOptionsFor: test split uses eval_batch_size, no shuffle, no drop, no augment', () => {
    const cfg = { name: 'cifar10', batch_size: 32, eval_batch_size: 100, shuffle: true, drop_last: true, normalize: CIFAR_NORM, augment: { random_crop: { padding: 4 }, horizontal_flip: true } };
    expect(batchOptionsFor(cfg, 'test', 1, 2)).toMatchObject({ batchSize: 100, shuffle: false, dropLast: false, augment: null, seed: 1, epoch: 2 });
    expect(batchOptionsFor(cfg, 'train', 1, 2, 5)).toMatchObject({ batchSize: 32, shuffle: true, dropLast: true, augment: cfg.augment, startBatch: 5 });
  });
});

describe('augmentation', () => {
  const aug = { random_crop: { padding: 2 }, horizontal_flip: true };

  /** Naive reference: zero-pad by p, crop at (dy, dx), optionally flip; raw bytes → x/255. */
  function reference(split: ImageSplit, info: DatasetInfo, n: number, p: number, dy: number, dx: number, flip: boolean): Float32Array {
    const { height: H, width: W, channels: C } = info;
    const out = new Float32Array(H * W * C);
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const jj = flip ? W - 1 - j : j;
        const sy = i + dy - p;
        const sx = jj + dx - p;
        for (let c = 0; c < C; c++) {
          const v = sy >= 0 && sy < H && sx >= 0 && sx < W ? split.images[n * H * W * C + (sy * W + sx) * C + c]! : 0;
          out[(i * W + j) * C + c] = Math.fround(v / 255);
        }
      }
    }
    return out;
  }

  it('each augmented image is some zero-padded crop (+ optional flip) of its source, and varies', () => {
    const split = makeSplit(40, small);
    const plain = all(split, small, { shuffle: false, batchSize: 40 })[0]!;
    const bs = all(split, small, { shuffle: false, batchSize: 40, augment: aug })[0]!;
    const size = 60;
    const seen = new Set<string>();
    for (let n = 0; n < 40; n++) {
      const got = bs.x.subarray(n * size, (n + 1) * size);
      let match: string | undefined;
      for (let dy = 0; dy <= 4 && !match; dy++) {
        for (let dx = 0; dx <= 4 && !match; dx++) {
          for (const flip of [false, true]) {
            if (reference(split, small, n, 2, dy, dx, flip).every((v, k) => v === got[k])) {
              match = `${dy},${dx},${flip}`;
              break;
            }
          }
        }
      }
      expect(match, `example ${n}`).toBeDefined();
      seen.add(match!);
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(bs.x).not.toEqual(plain.x);
  });

  it('padding is raw 0, i.e. normalised to -mean/std', () => {
    const split = makeSplit(30, small);
    const norm = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] };
    const plan = augmentPlan(30, aug, 7, 0)!;
    const n = Array.from({ length: 30 }, (_, i) => i).find((i) => plan.dy[i] === 0)!; // shifted down by 2: top rows padded
    const [b] = all(split, small, { shuffle: false, batchSize: 30, augment: aug, normalize: norm });
    expect(b!.x[n * 60 + 0]).toBeCloseTo(-0.5 / 0.2, 6);
    expect(b!.x[n * 60 + 1]).toBeCloseTo(-0.4 / 0.2, 6);
    expect(b!.x[n * 60 + 2]).toBeCloseTo(-0.3 / 0.2, 6);
  });

  it('is a pure function of (seed, epoch)', () => {
    const split = makeSplit(30, small);
    const a = all(split, small, { augment: aug, epoch: 4 });
    const b = all(split, small, { augment: aug, epoch: 4 });
    const c = all(split, small, { augment: aug, epoch: 5 });
    expect(a.map((x) => [...x.x])).toEqual(b.map((x) => [...x.x]));
    expect(a.map((x) => [...x.x])).not.toEqual(c.map((x) => [...x.x]));
  });

  it('flip only mirrors columns', () => {
    const split = makeSplit(20, small);
    const [b] = all(split, small, { shuffle: false, batchSize: 20, augment: { horizontal_flip: true } });
    const plan = augmentPlan(20, { horizontal_flip: true }, 7, 0)!;
    for (let n = 0; n < 20; n++) {
      expect([...b!.x.subarray(n * 60, n * 60 + 60)]).toEqual([...reference(split, small, n, 0, 0, 0, plan.flip[n] === 1)]);
    }
    expect(plan.flip.reduce((s, v) => s + v, 0)).toBeGreaterThan(3);
  });

  it('the test split is never augmented', () => {
    const split = makeSplit(12, small, 'test');
    const plain = all(split, small, { shuffle: false });
    const augmented = all(split, small, { shuffle: false, augment: aug });
    expect(augmented.map((b) => [...b.x])).toEqual(plain.map((b) => [...b.x]));
  });
});
