/**
 * Batching: shuffle order, train-time augmentation and per-batch normalisation.
 *
 * Stored data stays as bytes; each batch is normalised into a fresh Float32Array (never the whole split).
 * Normalisation is exactly torchvision's `ToTensor()` then `Normalize(mean, std)` in float32:
 *   t = f32(v / maxValue); x = f32(f32(t - f32(mean_c)) / f32(std_c))
 * precomputed as a per-channel lookup table of 256 entries (all byte values), so the inner loop is one table read
 * per value and results are bit-identical to PyTorch's float32 arithmetic.
 *
 * Randomness is a pure function of (seed, epoch): the order comes from mulberry32(mixSeed(seed, epoch, shuffle)),
 * augmentation parameters for every position of the epoch from mulberry32(mixSeed(seed, epoch, augment)), drawn up
 * front in epoch order (crop dy, crop dx, flip per example). Starting at `startBatch` therefore yields exactly the
 * batches a full pass would have yielded from there on.
 *
 * Augmentation (train split only; a split marked `split: 'test'` is never augmented):
 * - random_crop {padding p}: like torchvision RandomCrop(size, padding=p): zero-pad by p on every side (raw value 0,
 *   i.e. before normalisation), then crop an H×W window at offsets dy, dx uniform in 0..2p.
 * - horizontal_flip: like RandomHorizontalFlip(0.5), applied after the crop.
 */
import { UserError } from '../errors.js';
import { mixSeed, mulberry32, randInt, shuffleInPlace, STREAM } from './prng.js';
import type { AugmentConfig, Batch, BatchOptions, DatasetInfo, ImageSplit, NormalizeConfig } from './types.js';

/** Per-channel lookup table: lut[c * 256 + v] is the normalised value of raw byte v in channel c. */
export function normalizationTable(info: DatasetInfo, normalize: NormalizeConfig | null | undefined): Float32Array {
  const C = info.channels;
  if (normalize) {
    const { mean, std } = normalize;
    if (mean.length !== C && mean.length !== 1) throw new UserError(`dataset.normalize.mean has ${mean.length} values but the images have ${C} channel(s)`);
    if (std.length !== C && std.length !== 1) throw new UserError(`dataset.normalize.std has ${std.length} values but the images have ${C} channel(s)`);
    if (std.some((s) => !(s > 0))) throw new UserError(`dataset.normalize.std values must be > 0, got [${std.join(', ')}]`);
  }
  const lut = new Float32Array(C * 256);
  const f = Math.fround;
  for (let c = 0; c < C; c++) {
    const m = normalize ? f(normalize.mean[normalize.mean.length === 1 ? 0 : c]!) : 0;
    const s = normalize ? f(normalize.std[normalize.std.length === 1 ? 0 : c]!) : 1;
    for (let v = 0; v < 256; v++) {
      const t = f(v / info.maxValue);
      lut[c * 256 + v] = normalize ? f(f(t - m) / s) : t;
    }
  }
  return lut;
}

/** Normalise one value the slow, obvious way (for tests and documentation). */
export function normalizeValue(v: number, c: number, info: DatasetInfo, normalize: NormalizeConfig | null | undefined): number {
  const t = v / info.maxValue;
  if (!normalize) return t;
  const m = normalize.mean[normalize.mean.length === 1 ? 0 : c]!;
  const s = normalize.std[normalize.std.length === 1 ? 0 : c]!;
  return (t - m) / s;
}

export function batchCount(count: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** Example order for an epoch: identity, or a seeded Fisher–Yates permutation. */
export function epochOrder(count: number, shuffle: boolean, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (shuffle) shuffleInPlace(order, mulberry32(mixSeed(seed, epoch, STREAM.shuffle)));
  return order;
}

/** Augmentation parameters per epoch position: crop offsets in 0..2p and a flip flag. */
export interface AugmentPlan {
  padding: number;
  dy: Uint8Array | Uint16Array;
  dx: Uint8Array | Uint16Array;
  flip: Uint8Array;
}

export function augmentPlan(count: number, augment: AugmentConfig | null | undefined, seed: number, epoch: number): AugmentPlan | undefined {
  const padding = augment?.random_crop?.padding ?? 0;
  const hflip = augment?.horizontal_flip ?? false;
  if (!Number.isInteger(padding) || padding < 0) throw new UserError(`dataset.augment.random_crop.padding must be a non-negative integer, got ${padding}`);
  if (padding === 0 && !hflip) return undefined;
  const rng = mulberry32(mixSeed(seed, epoch, STREAM.augment));
  const Arr = 2 * padding + 1 <= 256 ? Uint8Array : Uint16Array;
  const dy = new Arr(count);
  const dx = new Arr(count);
  const flip = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    // fixed draw order per example (dy, dx, flip) whatever is enabled, so enabling one does not reshuffle the other
    const y = randInt(rng, 2 * padding + 1);
    const x = randInt(rng, 2 * padding + 1);
    const f = rng() < 0.5 ? 1 : 0;
    dy[i] = y;
    dx[i] = x;
    flip[i] = hflip ? f : 0;
  }
  return { padding, dy, dx, flip };
}

/**
 * Build one batch: normalise (and augment) the examples `order[from..to)` of `split` into `out` (NHWC float32).
 * This is the hot loop (`npm run bench` reports its share of a training step).
 */
export function assembleBatch(
  split: ImageSplit,
  info: DatasetInfo,
  lut: Float32Array,
  order: ArrayLike<number>,
  from: number,
  to: number,
  plan: AugmentPlan | undefined,
  out: Float32Array,
  y: Int32Array,
): void {
  const H = info.height;
  const W = info.width;
  const C = info.channels;
  const size = H * W * C;
  const src = split.images;
  for (let b = 0, pos = from; pos < to; b++, pos++) {
    const idx = order[pos]!;
    y[b] = split.labels[idx]!;
    const s0 = idx * size;
    const o0 = b * size;
    if (!plan) {
      if (C === 3) {
        for (let k = 0; k < size; k += 3) {
          out[o0 + k] = lut[src[s0 + k]!]!;
          out[o0 + k + 1] = lut[256 + src[s0 + k + 1]!]!;
          out[o0 + k + 2] = lut[512 + src[s0 + k + 2]!]!;
        }
      } else if (C === 1) {
        for (let k = 0; k < size; k++) out[o0 + k] = lut[src[s0 + k]!]!;
      } else {
        for (let k = 0; k < size; k++) out[o0 + k] = lut[(k % C) * 256 + src[s0 + k]!]!;
      }
      continue;
    }
    const oy = plan.dy[pos]! - plan.padding;
    const ox = plan.dx[pos]! - plan.padding;
    const flip = plan.flip[pos] === 1;
    // output column j reads source column sx = (flip ? W-1-j : j) + ox, valid when 0 <= sx < W, i.e. for j in [j0, j1)
    const j0 = flip ? Math.max(0, ox) : Math.max(0, -ox);
    const j1 = flip ? Math.min(W, W + ox) : Math.min(W, W - ox);
    for (let i = 0; i < H; i++) {
      const sy = i + oy;
      const orow = o0 + i * W * C;
      if (sy < 0 || sy >= H || j1 <= j0) {
        padRun(out, lut, C, orow, 0, W);
        continue;
      }
      padRun(out, lut, C, orow, 0, j0);
      padRun(out, lut, C, orow, j1, W);
      const srow = s0 + sy * W * C;
      if (C === 3) {
        // source pixel of output column j: base + step*j
        const step = flip ? -3 : 3;
        let ss = srow + ((flip ? W - 1 - j0 : j0) + ox) * 3;
        for (let oo = orow + j0 * 3, end = orow + j1 * 3; oo < end; oo += 3, ss += step) {
          out[oo] = lut[src[ss]!]!;
          out[oo + 1] = lut[256 + src[ss + 1]!]!;
          out[oo + 2] = lut[512 + src[ss + 2]!]!;
        }
      } else if (C === 1) {
        const step = flip ? -1 : 1;
        let ss = srow + (flip ? W - 1 - j0 : j0) + ox;
        for (let oo = orow + j0, end = orow + j1; oo < end; oo++, ss += step) out[oo] = lut[src[ss]!]!;
      } else {
        for (let j = j0; j < j1; j++) {
          const ss = srow + ((flip ? W - 1 - j : j) + ox) * C;
          const oo = orow + j * C;
          for (let c = 0; c < C; c++) out[oo + c] = lut[c * 256 + src[ss + c]!]!;
        }
      }
    }
  }
}

/** Fill output columns [j0, j1) of a row starting at `orow` with the padding value (raw 0, normalised). */
function padRun(out: Float32Array, lut: Float32Array, C: number, orow: number, j0: number, j1: number): void {
  for (let j = j0; j < j1; j++) for (let c = 0; c < C; c++) out[orow + j * C + c] = lut[c * 256]!;
}

/**
 * Iterate the batches of one epoch. Order and augmentation depend only on (seed, epoch) (see the file header);
 * `startBatch` skips the first batches without building them. Each batch owns fresh arrays.
 */
export function* batches(split: ImageSplit, info: DatasetInfo, opts: BatchOptions): Generator<Batch> {
  const { batchSize, shuffle, dropLast, seed, epoch } = opts;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new UserError(`batch size must be a positive integer, got ${batchSize}`);
  const lut = normalizationTable(info, opts.normalize);
  const n = split.count;
  const order = epochOrder(n, shuffle, seed, epoch);
  const plan = split.split === 'test' ? undefined : augmentPlan(n, opts.augment, seed, epoch);
  const total = batchCount(n, batchSize, dropLast);
  const size = info.height * info.width * info.channels;
  for (let b = Math.max(0, opts.startBatch ?? 0); b < total; b++) {
    const from = b * batchSize;
    const to = Math.min(n, from + batchSize);
    const count = to - from;
    const x = new Float32Array(count * size);
    const y = new Int32Array(count);
    assembleBatch(split, info, lut, order, from, to, plan, x, y);
    yield { x, y, size: count, index: b };
  }
}
