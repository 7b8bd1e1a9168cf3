/**
 * Small seeded PRNGs and the seed mixers, for the whole package. Nothing uses Math.random: every random choice
 * (shuffle order, augmentation, synthetic images, the splits, initial weights, dropout masks) comes from here, so it
 * is a pure function of its seeds.
 *
 * - `mulberry32` (Tommy Ettinger, public domain): 32-bit state, period 2^32, passes gjrand/PractRand to well beyond
 *   the few million draws an epoch needs. Returns floats in [0, 1) with 32 bits of randomness.
 * - `mixSeed`: derives independent stream seeds from (seed, epoch, stream tag) with the murmur3 `fmix32` finaliser,
 *   so e.g. the shuffle order of epoch 3 and the augmentation of epoch 3 are unrelated streams.
 * - `deriveSeed` (initialiser seeds of a layer) and `stepSeed` (a dropout layer's mask seed at a training step): two
 *   older mixers on the same constants, kept as they are rather than expressed through `mixSeed`, because their
 *   values are the initial weights and dropout masks of every existing run; a resumed run must draw what it would
 *   have drawn. All three are fixed forever.
 */

export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3's 32-bit finaliser: a bijection on uint32 with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combine any number of non-negative integers (each may exceed 2^32) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = fmix32((h ^ lo) + 0x9e3779b9);
    h = fmix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

/** Uniform integer in [0, n) (n ≤ 2^32; bias < n / 2^32, negligible for dataset sizes). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Standard normal by Box–Muller. */
export function randNormal(rng: Rng): number {
  let u = rng();
  while (u === 0) u = rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** In-place Fisher–Yates shuffle. */
export function shuffleInPlace(a: { length: number; [i: number]: number }, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Stream tags for mixSeed, fixed forever: changing one changes every run's data order. */
export const STREAM = { shuffle: 1, augment: 2, synthetic: 3, split: 4 } as const;

/** A 32-bit mix of a seed and a salt, so kernel and bias initialisers of one layer get distinct seeds. */
export function deriveSeed(seed: number, salt: number): number {
  let x = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The mask seed of a random layer (seed `seed`) at global training step `step`. */
export function stepSeed(seed: number, step: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}
