/** Small real runs for the eval / predict / checkpoint tests: trained through the CLI on digits and on an image folder. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { writeRawPng } from './dataset-files.js';
import { runDirs, tudui } from './run-dir.js';

/** A small CNN on the shipped digits, 2 epochs on the cpu device; returns the run directory. */
export function trainDigits(work: string, extra = ''): string {
  writeFileSync(
    join(work, 'digits.yaml'),
    `name: dg
seed: 3
device: cpu
dataset: { name: digits, batch_size: 32, eval_batch_size: 50 }
model:
  layers:
    - conv2d: { filters: 8, kernel_size: 3, padding: 1 }
    - relu
    - maxpool2d: 2
    - flatten
    - linear: 10
optimizer: { name: adam, lr: 0.01 }
epochs: 2
${extra}`,
  );
  const r = tudui(['run', 'digits.yaml', '--runs-dir', 'runs', '-q'], work, { TUDUI_CACHE_DIR: 'off' });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return runDirs(join(work, 'runs', 'dg')).at(-1)!;
}

export const COLOURS: Record<string, [number, number, number]> = { blue: [30, 40, 220], 'green leaf': [40, 200, 50], red: [220, 30, 40] };

/** Deterministic noisy picture of a colour class (w×h RGB). */
export function colourPixels(rgb: [number, number, number], n: number, w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h * 3; i++) d[i] = Math.max(0, Math.min(255, rgb[i % 3]! + ((((n + 1) * 2654435761 + i * 40503) >>> 0) % 81) - 40));
  return d;
}

/** An image folder of three colour classes (train 10 each, test 4 each), 8×8 PNGs; one class name has a space. */
export async function writeColourFolder(root: string): Promise<void> {
  for (const [name, rgb] of Object.entries(COLOURS)) {
    for (let n = 0; n < 14; n++) {
      const split = n < 10 ? 'train' : 'test';
      await writeRawPng(join(root, split, name, `img-${String(n).padStart(2, '0')}.png`), 8, 8, colourPixels(rgb, n, 8, 8));
    }
  }
}

/** A run on the colour folder (image_size 8×8, RGB); returns the run directory. */
export async function trainColours(work: string, channels: 1 | 3 = 3): Promise<string> {
  await writeColourFolder(join(work, 'colours'));
  writeFileSync(
    join(work, 'colours.yaml'),
    `name: colours
seed: 1
device: cpu
dataset: { name: image-folder, root: colours, image_size: [8, 8], channels: ${channels}, batch_size: 6, normalize: { mean: [${Array(channels).fill(0.5)}], std: [${Array(channels).fill(0.25)}] } }
model:
  layers:
    - conv2d: { filters: 4, kernel_size: 3, padding: 1 }
    - relu
    - global_avgpool2d
    - linear: 3
optimizer: { name: adam, lr: 0.05 }
epochs: 3
`,
  );
  const r = tudui(['run', 'colours.yaml', '--runs-dir', 'runs', '-q'], work, { TUDUI_CACHE_DIR: 'off' });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return runDirs(join(work, 'runs', 'colours')).at(-1)!;
}
