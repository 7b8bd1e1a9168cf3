/**
 * `tudui predict` through the CLI: test images written to PNG files are classified exactly as `tudui eval`
 * classifies them (digits and an image folder), pictures of any size and format are accepted, and bad files get
 * one line each without stopping the rest.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/index.js';
import { pictureValue } from '../src/infer/preprocess.js';
import { tudui } from './helpers/run-dir.js';
import { trainColours, trainDigits } from './helpers/trained-runs.js';

interface Prediction {
  file: string;
  top?: Array<{ class: string; index: number; probability: number }>;
  error?: string;
}

function predictJson(args: string[], cwd: string): { code: number | null; predictions: Prediction[]; stderr: string } {
  const r = tudui(['predict', ...args, '--json'], cwd);
  return { code: r.code, predictions: JSON.parse(r.stdout).predictions, stderr: r.stderr };
}

function evalConfusion(run: string, cwd: string): number[][] {
  const r = tudui(['eval', run, '--json'], cwd);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).confusion;
}

/** confusion[true][predicted] from predictions of files named <label>/<anything>. */
function confusionOf(predictions: Prediction[], classes: string[]): number[][] {
  const m = classes.map(() => classes.map(() => 0));
  for (const p of predictions) {
    expect(p.error).toBeUndefined();
    const label = classes.indexOf(p.file.split('/').at(-2)!);
    m[label]![p.top![0]!.index]! += 1;
  }
  return m;
}

describe('tudui predict on digits', () => {
  let work: string;
  let run: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tudui-predict-'));
    run = trainDigits(work);
    // The test split as pictures: 8×8 PNGs, the 0..16 values mapped onto 0..255 (greyscale, and as RGB).
    const { test } = await loadDataset({ name: 'digits' });
    for (let i = 0; i < test.count; i++) {
      const grey = Buffer.from(Array.from(test.images.subarray(i * 64, i * 64 + 64), (v) => pictureValue(v, 16)));
      const name = `${String(i).padStart(3, '0')}.png`;
      mkdirSync(join(work, 'grey', String(test.labels[i])), { recursive: true });
      mkdirSync(join(work, 'rgb', String(test.labels[i])), { recursive: true });
      await sharp(grey, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(join(work, 'grey', String(test.labels[i]), name));
      const rgb = Buffer.alloc(64 * 3);
      for (let p = 0; p < 64; p++) rgb.fill(grey[p]!, 3 * p, 3 * p + 3);
      await sharp(rgb, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(join(work, 'rgb', String(test.labels[i]), name));
    }
  });

  it('classifies the test images written to PNG files exactly as eval does', () => {
    const want = evalConfusion(run, work);
    const classes = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    const grey = predictJson([run, 'grey'], work);
    expect(grey.code).toBe(0);
    expect(grey.predictions).toHaveLength(359);
    expect(confusionOf(grey.predictions, classes)).toEqual(want);
    // RGB pictures of the same images are converted to greyscale first: the same answers, the same probabilities
    const rgb = predictJson([run, 'rgb'], work);
    expect(rgb.predictions.map((p) => p.top)).toEqual(grey.predictions.map((p) => p.top));
  });

  it('prints one line per file with the top classes; --top-k', () => {
    const r = tudui(['predict', run, 'grey/3/', '--top-k', '2'], work);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(30);
    for (const l of lines) expect(l).toMatch(/^grey\/3\/\d{3}\.png: \d \d+\.\d%, \d \d+\.\d%$/);
  });

  it('accepts pictures of any size and format (JPEG, WebP, PNG with alpha)', async () => {
    const src = join(work, 'grey', '0', (await import('node:fs')).readdirSync(join(work, 'grey', '0'))[0]!);
    const big = sharp(src).resize(120, 90, { kernel: 'nearest' });
    await big.clone().jpeg().toFile(join(work, 'big.jpg'));
    await big.clone().webp().toFile(join(work, 'big.webp'));
    await big.clone().ensureAlpha().png().toFile(join(work, 'alpha.png'));
    const r = predictJson([run, 'big.jpg', 'big.webp', 'alpha.png', '--top-k', '3'], work);
    expect(r.code).toBe(0);
    expect(r.predictions.map((p) => p.file)).toEqual(['big.jpg', 'big.webp', 'alpha.png']);
    for (const p of r.predictions) {
      expect(p.top).toHaveLength(3);
      const probs = p.top!.map((t) => t.probability);
      expect([...probs].sort((a, b) => b - a)).toEqual(probs);
      expect(probs.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  it('bad files get one clear line each and do not stop the rest', () => {
    mkdirSync(join(work, 'mixed'), { recursive: true });
    writeFileSync(join(work, 'mixed', 'a-text.png'), 'not an image');
    writeFileSync(join(work, 'mixed', 'b-empty.jpg'), '');
    writeFileSync(join(work, 'mixed', 'notes.txt'), 'skipped: not a picture name');
    const r = tudui(['predict', run, 'mixed', 'grey/1/', 'missing.png'], work);
    expect(r.code).toBe(1);
    const errors = r.stderr.trim().split('\n').filter((l) => !l.startsWith('device '));
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/^tudui: error: cannot decode image mixed\/a-text\.png: .+$/);
    expect(errors[1]).toMatch(/^tudui: error: cannot decode image mixed\/b-empty\.jpg: .+$/);
    expect(errors[2]).toBe('tudui: error: missing.png: no such file or directory');
    expect(errors[3]).toMatch(/^3 of \d+ files could not be classified$/);
    expect(r.stdout.trim().split('\n').every((l) => /^grey\/1\/\d{3}\.png: /.test(l))).toBe(true);
    expect(r.stdout).not.toContain('notes.txt');
  });

  it('usage errors: one line', () => {
    expect(tudui(['predict', run], work).stderr).toMatch(/^tudui: error: tudui predict expects a run directory or checkpoint, then pictures/);
    expect(tudui(['predict', join(work, 'grey'), 'x.png'], work).stderr).toMatch(/is neither a run directory .* nor a checkpoint/);
    mkdirSync(join(work, 'empty'), { recursive: true });
    expect(tudui(['predict', run, 'empty'], work).stderr).toMatch(/^tudui: error: no pictures found in empty /);
  });
});

describe('tudui predict on an image folder', () => {
  it('classifies the folder test images as eval does, with the folder class names', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-predict-folder-'));
    const run = await trainColours(work);
    const r = predictJson([run, join('colours', 'test')], work);
    expect(r.code).toBe(0);
    expect(r.predictions).toHaveLength(12);
    const classes = ['blue', 'green leaf', 'red'];
    for (const p of r.predictions) expect(classes).toContain(p.top![0]!.class);
    expect(confusionOf(r.predictions, classes)).toEqual(evalConfusion(run, work));
  });
});
