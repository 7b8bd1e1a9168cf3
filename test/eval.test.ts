/**
 * `tudui eval` through the CLI on real runs: the numbers equal what the run logged for that checkpoint and split,
 * the per-class report follows from the confusion matrix, the PNG is written beside the checkpoint, and bad
 * arguments get one line and change nothing.
 */
import { existsSync, mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { snapshot, summaryOf, tudui } from './helpers/run-dir.js';
import { trainColours, trainDigits } from './helpers/trained-runs.js';

const evalJson = (args: string[], cwd: string) => {
  const r = tudui(['eval', ...args, '--json'], cwd);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

describe('tudui eval on digits', () => {
  let work: string;
  let run: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tudui-eval-'));
    run = trainDigits(work);
  });

  it('reports the loss and accuracy the run logged for its best checkpoint, exactly', () => {
    const r = evalJson([run], work);
    const best = readlinkSync(join(run, 'checkpoints', 'best'));
    expect(r.label).toBe(`${best} (best)`);
    const summary = summaryOf(run);
    const epoch = summary.history.find((h: { epoch: number }) => `epoch-${String(h.epoch).padStart(4, '0')}` === best);
    expect(r.split).toBe('test');
    expect(r.count).toBe(359);
    expect(r.loss).toBe(epoch.test_loss);
    expect(r.accuracy).toBe(epoch.test_accuracy);
    expect(r.logged).toEqual({ loss: epoch.test_loss, accuracy: epoch.test_accuracy, epoch: epoch.epoch });
  });

  it('an earlier checkpoint matches metrics.jsonl for its epoch', () => {
    const r = evalJson([join(run, 'checkpoints', 'epoch-0001')], work);
    const points = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const logged = (tag: string) => points.find((p) => p.tag === tag && p.epoch === 1).value;
    expect(r.loss).toBe(logged('test_loss'));
    expect(r.accuracy).toBe(logged('test_accuracy'));
  });

  it('top-k, per-class precision/recall/F1 and the confusion matrix agree with each other', () => {
    const r = evalJson([run, '--top-k', '3'], work);
    const m: number[][] = r.confusion;
    expect(m).toHaveLength(10);
    expect(m.flat().reduce((a, b) => a + b, 0)).toBe(359);
    const trace = m.reduce((a, row, i) => a + row[i]!, 0);
    expect(trace / 359).toBe(r.accuracy);
    expect(r.top_k.k).toBe(3);
    expect(r.top_k.accuracy).toBeGreaterThanOrEqual(r.accuracy);
    for (let c = 0; c < 10; c++) {
      const s = r.classes[c];
      const col = m.reduce((a, row) => a + row[c]!, 0);
      expect(s.name).toBe(String(c));
      expect(s.support).toBe(m[c]!.reduce((a, b) => a + b, 0));
      expect(s.recall).toBeCloseTo(m[c]![c]! / s.support, 12);
      expect(s.precision).toBeCloseTo(col ? m[c]![c]! / col : 0, 12);
      expect(s.f1).toBeCloseTo(s.precision + s.recall ? (2 * s.precision * s.recall) / (s.precision + s.recall) : 0, 12);
    }
  });

  it('prints a table and writes the confusion matrix PNG next to the checkpoint', async () => {
    const r = tudui(['eval', run], work);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^loss \d\.\d{4}  accuracy \d+\.\d\d%  top-5 \d+\.\d\d%  \(logged at epoch \d/m);
    expect(r.stdout).toMatch(/^class +precision +recall +f1 +support$/m);
    expect(r.stdout).toMatch(/^macro avg /m);
    expect(r.stdout).toContain('confusion matrix (rows: true class, columns: predicted)');
    const png = join(run, 'checkpoints', readlinkSync(join(run, 'checkpoints', 'best')), 'confusion-test.png');
    expect(r.stdout).toContain(`confusion matrix PNG: ${png}`);
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(200);
    // the top-left cell (true 0, predicted 0) is shaded: digits' zeros are nearly all right
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const blueish = [...Array(info.width * info.height).keys()].filter((p) => data[p * info.channels + 2]! > 150 && data[p * info.channels]! < 80).length;
    expect(blueish).toBeGreaterThan(1000);
  });

  it('--split train evaluates the training split', () => {
    const r = evalJson([run, '--split', 'train'], work);
    expect(r.count).toBe(1438);
    expect(r.logged).toBeNull();
    expect(existsSync(join(r.checkpoint, 'confusion-train.png'))).toBe(true);
  });

  it('bad arguments: one line, exit 1, nothing written', () => {
    const before = snapshot(run);
    const cases: Array<[string[], RegExp]> = [
      [[join(work, 'nope')], /^tudui: error: .*nope: no such run directory or checkpoint$/],
      [[work], /is neither a run directory \(config.yaml, checkpoints\/\) nor a checkpoint \(model.json\)$/],
      [[run, '--split', 'dev'], /^tudui: error: --split expects one of test, val, train, received 'dev'$/],
      [[run, '--split', 'val'], /^tudui: error: --split val: this run has no validation split/],
      [[run, '--top-k', '0'], /^tudui: error: --top-k expects a whole number ≥ 1, received 0$/],
      [[run, '--data', join(work, 'missing')], /^tudui: error: --data .*missing: digits data not found/],
    ];
    for (const [args, want] of cases) {
      const r = tudui(['eval', ...args], work);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('device ')).join('\n')).toMatch(want);
    }
    expect(snapshot(run)).toEqual(before);
  });

  it('a damaged checkpoint is named', async () => {
    const { cpSync, writeFileSync } = await import('node:fs');
    const copy = join(work, 'damaged');
    cpSync(join(run, 'checkpoints', 'epoch-0001'), copy, { recursive: true });
    writeFileSync(join(copy, 'weights.bin'), 'x');
    const r = tudui(['eval', copy], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tudui: error: checkpoint .*damaged is damaged: weights\.bin is 1 bytes, \d+ were written \(truncated\)\n$/);
  });
});

describe('tudui eval on an image folder', () => {
  it('uses the folder class names and matches the logged numbers', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-eval-folder-'));
    const run = await trainColours(work);
    const r = evalJson([run], work);
    expect(r.classes.map((c: { name: string }) => c.name)).toEqual(['blue', 'green leaf', 'red']);
    expect(r.count).toBe(12);
    const best = summaryOf(run).best;
    const logged = summaryOf(run).history.find((h: { epoch: number }) => h.epoch === best.epoch);
    expect([r.loss, r.accuracy]).toEqual([logged.test_loss, logged.test_accuracy]);
    // --data with other class names is refused, naming both lists; with the same ones it is read
    const { cpSync, renameSync } = await import('node:fs');
    cpSync(join(work, 'colours'), join(work, 'renamed'), { recursive: true });
    for (const split of ['train', 'test']) renameSync(join(work, 'renamed', split, 'red'), join(work, 'renamed', split, 'rouge'));
    const bad = tudui(['eval', run, '--data', 'renamed'], work);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tudui: error: dataset .*renamed has the classes blue, green leaf, rouge; checkpoint .* was trained on blue, green leaf, red$/m);
    expect(evalJson([run, '--data', 'colours'], work).accuracy).toBe(r.accuracy);
    // from another working directory, the data is found where training read it
    const elsewhere = mkdtempSync(join(tmpdir(), 'tudui-eval-cwd-'));
    expect(evalJson([run], elsewhere).accuracy).toBe(r.accuracy);
  });
});
