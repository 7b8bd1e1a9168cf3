/**
 * `synthetic`: generated images with a learnable signal, for tests and smoke runs without downloads.
 * Each class c has a fixed random mean image m_c (values uniform in [48, 208], drawn from the data seed); an example
 * of class c is round(clamp(m_c + N(0, 40²) per value, 0, 255)). Labels cycle 0, 1, ..., classes-1 and are then
 * shuffled, so classes are balanced. Train and test come from different streams of the same data seed, so
 * everything is a pure function of (seed, shape, classes, train_size, test_size). Per value, two class means differ
 * by about 1.6 noise standard deviations on average, so single pixels are ambiguous while whole images are linearly
 * separable: a small model learns it within an epoch or two.
 */
import { mixSeed, mulberry32, randNormal, shuffleInPlace, STREAM } from './prng.js';
import type { DatasetInfo, ImageSplit } from './types.js';

/** Static facts for a shape and a class count (checked against the schema's bounds by the dataset registry). */
export function syntheticInfo(shape: readonly number[], classes: number): DatasetInfo {
  const [h, w, c] = shape as [number, number, number];
  return { height: h, width: w, channels: c, classes, classNames: Array.from({ length: classes }, (_, i) => `class_${i}`), maxValue: 255 };
}

export function makeSynthetic(
  info: DatasetInfo,
  trainSize: number,
  testSize: number,
  seed: number,
): { info: DatasetInfo; train: ImageSplit; test: ImageSplit; source: string } {
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
