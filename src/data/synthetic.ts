/**
 * `synthetic`: generated images with a learnable signal, for tests and smoke runs without downloads.
 * Each class c has a fixed random mean image m_c (values uniform in [48, 208], drawn from the data seed); an example
 * of class c is round(clamp(m_c + N(0, 40²) per value, 0, 255)). Labels cycle 0, 1, ..., classes-1 and are then
 * shuffled, so classes are balanced. Train and test come from different streams of the same data seed, so
 * everything is a pure function of (seed, shape, classes, train_size, test_size). Per value, two class means differ
 * by about 1.6 noise standard deviations on average, so single pixels are ambiguous while whole images are linearly
 * separable: a small model learns it within an epoch or two.
 */
import { UserError } from '../errors.js';
import { mixSeed, mulberry32, randNormal, shuffleInPlace, STREAM } from './prng.js';
import type { DatasetInfo, ImageSplit } from './types.js';

/** Defaults, as in schemas/experiment.schema.json. */
export const SYNTHETIC_DEFAULTS = { shape: [8, 8, 1], classes: 4, train_size: 512, test_size: 128 } as const;

export function syntheticInfo(shape: readonly number[] | null | undefined, classes: number | null | undefined): DatasetInfo {
  shape ??= SYNTHETIC_DEFAULTS.shape;
  const [h, w, c] = shape;
  const ok = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
  if (!(shape.length === 3 && ok(h) && ok(w) && ok(c))) throw new UserError(`dataset.shape must be [height, width, channels] of positive integers for synthetic, got ${JSON.stringify(shape)}`);
  const k = classes ?? SYNTHETIC_DEFAULTS.classes;
  if (!(ok(k) && k >= 2 && k <= 256)) throw new UserError(`dataset.classes must be an integer in 2..256 for synthetic, got ${JSON.stringify(classes)}`);
  return { height: h, width: w, channels: c, classes: k, classNames: Array.from({ length: k }, (_, i) => `class_${i}`), maxValue: 255 };
}

export function makeSynthetic(
  info: DatasetInfo,
  trainSize: number,
  testSize: number,
  seed: number,
): { info: DatasetInfo; train: ImageSplit; test: ImageSplit; source: string } {
  for (const [n, v] of [['train_size', trainSize], ['test_size', testSize]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new UserError(`dataset.${n} must be a non-negative integer for synthetic, got ${v}`);
  }
  const size = info.height * info.width * info.channels;
  const meanRng = mulberry32(mixSeed(seed, STREAM.synthetic, 0));
  const means = new Float32Array(info.classes * size);
  for (let i = 0; i < means.length; i++) means[i] = 48 + 160 * meanRng();
  const gen = (count: number, stream: number, split: 'train' | 'test'): ImageSplit => {
    const rng = mulberry32(mixSeed(seed, STREAM.synthetic, stream));
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) labels[i] = i % info.classes;
    shuffleInPlace(labels, rng);
    const images = new Uint8Array(count * size);
    for (let i = 0; i < count; i++) {
      const m = labels[i]! * size;
      const o = i * size;
      for (let k = 0; k < size; k++) {
        const v = Math.round(means[m + k]! + 40 * randNormal(rng));
        images[o + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    return { images, labels, count, split };
  };
  return {
    info,
    train: gen(trainSize, 1, 'train'),
    test: gen(testSize, 2, 'test'),
    source: `synthetic ${info.height}×${info.width}×${info.channels}, ${info.classes} classes, seed ${seed}`,
  };
}
