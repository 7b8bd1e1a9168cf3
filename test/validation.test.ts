/**
 * A validation split, early stopping, the plateau schedule and gradient clipping, through the CLI on real digits
 * runs: model selection never looks at the test split (it is evaluated once, at the end, on the best checkpoint),
 * and every piece of state resumes exactly.
 */
import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/index.js';
import { holdOutValidation } from '../src/data/validation.js';
import { clipGradNorm } from '../src/train/clip.js';
import { plateauStep } from '../src/train/schedules/plateau.js';
import { runDirs, snapshot, summaryOf, tudui } from './helpers/run-dir.js';

const EXPERIMENT = (name: string, extra: string, epochs = 6) => `name: ${name}
seed: 4
device: cpu
dataset: { name: digits, batch_size: 64, validation: { fraction: 0.2 } }
model:
  layers:
    - conv2d: { filters: 6, kernel_size: 3, padding: 1 }
    - relu
    - maxpool2d: 2
    - flatten
    - linear: 10
optimizer: { name: sgd, lr: 0.2, momentum: 0.9, clip_grad_norm: 2.0 }
log: { train_loss_every: 5 }
epochs: ${epochs}
${extra}`;

const points = (run: string) => readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const state = (run: string, link = 'last') => JSON.parse(readFileSync(join(run, 'checkpoints', link, 'state.json'), 'utf8'));

function train(work: string, name: string, extra: string, epochs?: number): string {
  writeFileSync(join(work, `${name}.yaml`), EXPERIMENT(name, extra, epochs));
  const r = tudui(['run', `${name}.yaml`, '--runs-dir', 'runs'], work);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return runDirs(join(work, 'runs', name)).at(-1)!;
}

describe('dataset.validation', () => {
  let work: string;
  let run: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tudui-val-'));
    run = train(work, 'val', 'schedule: { name: plateau, factor: 0.5, patience: 0 }\n');
  });

  it('holds out a stratified, fixed split of train, disjoint from it', async () => {
    const ds = await loadDataset({ name: 'digits' });
    const a = holdOutValidation(ds.train, ds.info, 0.2);
    const b = holdOutValidation(ds.train, ds.info, 0.2);
    expect(a.val.count + a.train.count).toBe(ds.train.count);
    expect(Buffer.from(a.val.images).equals(Buffer.from(b.val.images))).toBe(true);
    for (let c = 0; c < 10; c++) {
      const inTrain = ds.train.labels.filter((l) => l === c).length;
      expect(a.val.labels.filter((l) => l === c).length).toBe(Math.round(inTrain * 0.2));
    }
    const key = (s: typeof ds.train, i: number) => Buffer.from(s.images.subarray(i * 64, i * 64 + 64)).toString('hex') + s.labels[i];
    const count = (s: typeof ds.train) => { const m = new Map<string, number>(); for (let i = 0; i < s.count; i++) m.set(key(s, i), (m.get(key(s, i)) ?? 0) + 1); return m; };
    // every training example lands in exactly one part (as a multiset: digits has duplicate images)
    const whole = count(ds.train);
    const parts = count(a.train);
    for (const [k, n] of count(a.val)) parts.set(k, (parts.get(k) ?? 0) + n);
    expect(parts).toEqual(whole);
  });

  it('logs val_loss / val_accuracy per epoch, and the test split once, at the end, on the best checkpoint', () => {
    const ps = points(run);
    const tags = (t: string) => ps.filter((p) => p.tag === t);
    expect(tags('val_loss').map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tags('val_accuracy')).toHaveLength(6);
    const best = readlinkSync(join(run, 'checkpoints', 'best'));
    const bestEpoch = Number(best.slice(6));
    expect(tags('test_loss').map((p) => p.step)).toEqual([bestEpoch]);
    expect(tags('test_accuracy').map((p) => p.step)).toEqual([bestEpoch]);
    const s = summaryOf(run);
    expect(s.best.metric).toBe('val_accuracy'); // checkpoint.monitor test_accuracy, read on the validation split
    expect(s.best.epoch).toBe(bestEpoch);
    expect(s.best.value).toBe(Math.max(...tags('val_accuracy').map((p) => p.value)));
    expect(s.test).toEqual({ loss: tags('test_loss')[0].value, accuracy: tags('test_accuracy')[0].value, epoch: bestEpoch, checkpoint: best });
    expect(s.final.test_accuracy).toBe(s.test.accuracy);
    expect(s.history.every((h: Record<string, unknown>) => h.test_loss === undefined && typeof h.val_loss === 'number')).toBe(true);
    expect(s.dataset.train).toBe(1151);
  });

  it('tudui eval --split val / test reproduces the logged validation and test numbers', () => {
    const val = JSON.parse(tudui(['eval', run, '--split', 'val', '--json'], work).stdout);
    const st = state(run, 'best');
    expect(val.count).toBe(287);
    expect([val.loss, val.accuracy]).toEqual([st.metrics.val_loss, st.metrics.val_accuracy]);
    expect(val.logged).toEqual({ loss: st.metrics.val_loss, accuracy: st.metrics.val_accuracy, epoch: st.epoch });
    const test = JSON.parse(tudui(['eval', run, '--split', 'test', '--json'], work).stdout);
    expect([test.loss, test.accuracy]).toEqual([summaryOf(run).test.loss, summaryOf(run).test.accuracy]);
  });

  it('the plateau schedule lowers the rate after an epoch without improvement, as ReduceLROnPlateau', () => {
    const ps = points(run);
    const val = ps.filter((p) => p.tag === 'val_accuracy').map((p) => p.value);
    // replay ReduceLROnPlateau(mode='max', factor=0.5, patience=0, threshold=1e-4) on the logged metric
    let lr = 0.2;
    let best = -Infinity;
    const want = [lr];
    for (const v of val.slice(0, -1)) {
      if (v > best * (1 + 1e-4)) best = v;
      else lr *= 0.5;
      want.push(lr);
    }
    const lrOfEpoch = (e: number) => ps.find((p) => p.tag === 'lr' && p.epoch === e).value;
    expect([1, 2, 3, 4, 5, 6].map(lrOfEpoch)).toEqual(want);
    expect(state(run).plateau.lr).toBe(val.at(-1)! > best * (1 + 1e-4) ? lr : lr * 0.5);
  });
});

describe('validation.test_every_epoch', () => {
  it('also logs the test split each epoch; selection still reads validation', () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-val-every-'));
    writeFileSync(join(work, 'every.yaml'), EXPERIMENT('every', '', 3).replace('validation: { fraction: 0.2 }', 'validation: { fraction: 0.2, test_every_epoch: true }'));
    const r = tudui(['run', 'every.yaml', '--runs-dir', 'runs', '-q'], work);
    expect(r.code).toBe(0);
    const run = runDirs(join(work, 'runs', 'every')).at(-1)!;
    const ps = points(run);
    expect(ps.filter((p) => p.tag === 'test_loss').map((p) => p.epoch)).toEqual([1, 2, 3]);
    expect(ps.filter((p) => p.tag === 'val_loss').map((p) => p.epoch)).toEqual([1, 2, 3]);
    const s = summaryOf(run);
    expect(s.best.metric).toBe('val_accuracy');
    const atBest = s.history.find((h: { epoch: number }) => h.epoch === s.best.epoch);
    expect(s.test).toMatchObject({ loss: atBest.test_loss, accuracy: atBest.test_accuracy, epoch: s.best.epoch });
  });
});

describe('early stopping', () => {
  it('stops when the monitor has not improved for patience epochs; the run completes, and resume trains nothing more', () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-es-'));
    // min_delta 1 on val_loss: no epoch after the first counts as an improvement
    const run = train(work, 'es', 'early_stopping: { monitor: val_loss, patience: 2, min_delta: 1 }\n', 20);
    const s = summaryOf(run);
    expect(s.status).toBe('completed');
    expect(s.epochs_completed).toBe(3);
    expect(s.reason).toBe(`early stopping after epoch 3: val_loss has not improved by more than 1 for 2 epochs (best ${s.history[0].val_loss.toPrecision(5)} at epoch 1)`);
    expect(state(run).early_stopping).toMatchObject({ best_epoch: 1, bad_epochs: 2 });
    expect(s.test.epoch).toBe(s.best.epoch);
    // a resume that trains nothing writes nothing: no new event file, no summary rewrite, byte for byte
    const before = snapshot(run);
    const r = tudui(['resume', run], work);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/already completed 3 of 20 epochs \(early stopping after epoch 3: .*\); nothing to do \(to train longer: .* --set early_stopping\.patience=3\)/);
    expect(snapshot(run)).toEqual(before);
    // more patience: training continues from the saved early-stopping state
    const more = tudui(['resume', run, '--allow-changed', '--set', 'early_stopping.patience=3'], work);
    expect(more.code).toBe(0);
    expect(summaryOf(run).epochs_completed).toBe(4);
  });

  it('config errors: a val_ metric without a validation split, the test split with one', () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-es-cfg-'));
    writeFileSync(join(work, 'a.yaml'), EXPERIMENT('a', 'early_stopping: { monitor: test_loss }\n'));
    writeFileSync(join(work, 'b.yaml'), EXPERIMENT('b', 'checkpoint: { monitor: val_loss }\n').replace(', validation: { fraction: 0.2 }', ''));
    const r = tudui(['validate', 'a.yaml', 'b.yaml'], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^a\.yaml:\d+:\d+: error: early_stopping\.monitor: with dataset\.validation the test split is only evaluated at the end; use val_loss$/m);
    expect(r.stderr).toMatch(/^b\.yaml:\d+:\d+: error: checkpoint\.monitor: val_loss needs a validation split: add dataset\.validation: \{ fraction: 0\.1 \}/m);
    const bad = tudui(['validate', 'a.yaml', '--set', 'dataset.validation.fraction=1'], work);
    expect(bad.stderr).toMatch(/dataset\.validation\.fraction/);
  });
});

describe('resuming is exact', () => {
  it('validation, plateau, early stopping and clipping: 3 epochs then 3 more equal 6 in one go, bit for bit', () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-val-resume-'));
    const extra = 'schedule: { name: plateau, factor: 0.5, patience: 0 }\nearly_stopping: { patience: 4, min_delta: 0.0001 }\n';
    const whole = train(work, 'whole', extra, 6);
    const part = train(work, 'part', extra, 3);
    const r = tudui(['resume', part, '--allow-changed', '--set', 'epochs=6'], work);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // (the first run of 3 epochs completed, so it evaluated the test split at its end, once more after the resume)
    const strip = (ps: Array<{ tag: string; value: number; step: number }>) => ps.filter((p) => p.tag !== 'throughput' && !p.tag.startsWith('test_')).map((p) => `${p.tag}@${p.step}=${p.value}`);
    expect(strip(points(part))).toEqual(strip(points(whole)));
    expect(points(part).filter((p) => p.tag === 'test_loss')).toHaveLength(2);
    const [a, b] = [state(whole), state(part)];
    expect([b.plateau, b.early_stopping, b.metrics]).toEqual([a.plateau, a.early_stopping, a.metrics]);
    expect(summaryOf(part).test).toEqual(summaryOf(whole).test);
    expect(new Set(summaryOf(whole).tensors_after_epoch).size).toBe(1); // no tensor leaks across epochs (clipping included)
  });
});

describe('a sweep of validated runs', () => {
  it('ranks members by their one test evaluation (summary.test)', () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-val-sweep-'));
    writeFileSync(join(work, 'sw.yaml'), EXPERIMENT('sw', 'sweep: { seed: [1, 2] }\n', 1).replace(/    - conv2d.*\n    - relu\n    - maxpool2d: 2\n/, ''));
    const r = tudui(['sweep', 'sw.yaml', '--runs-dir', 'runs'], work);
    expect(r.code).toBe(0);
    const dir = runDirs(join(work, 'runs', 'sw')).at(-1)!;
    const { members } = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(members).toHaveLength(2);
    for (const row of members) {
      const member = summaryOf(join(dir, row.run_dir));
      expect(row.best_test_accuracy).toBe(member.test.accuracy);
      expect(row.test_loss).toBe(member.test.loss);
    }
  });
});

describe('clip_grad_norm', () => {
  it('scales every gradient by max_norm / (total norm + 1e-6) when that is below 1, as torch.nn.utils.clip_grad_norm_', () => {
    const g = [tf.tensor([3, 4]), tf.tensor([[12]])]; // total norm 13
    const clipped = clipGradNorm(g, 1.3).map((t) => Array.from(t.dataSync()));
    const coef = Math.fround(1.3 / (13 + 1e-6));
    expect(clipped[0]![0]).toBeCloseTo(3 * coef, 6);
    expect(clipped[1]![0]).toBeCloseTo(12 * coef, 6);
    expect(clipGradNorm(g, 100).map((t) => Array.from(t.dataSync()))).toEqual([[3, 4], [12]]);
  });

  it('plateauStep follows ReduceLROnPlateau: more than patience bad epochs, min_lr floor, improvement resets', () => {
    let s = { lr: 1, best: null as number | null, bad_epochs: 0 };
    const o = { factor: 0.1, patience: 1, min_lr: 0.05 };
    s = plateauStep(s, 1.0, 'min', o);
    s = plateauStep(s, 1.0, 'min', o); // bad 1 (≤ patience)
    expect(s.lr).toBe(1);
    s = plateauStep(s, 0.99995, 'min', o); // within the 1e-4 relative threshold: still bad, 2 > patience
    expect(s).toEqual({ lr: 0.1, best: 1, bad_epochs: 0 });
    s = plateauStep(plateauStep(s, 2, 'min', o), 2, 'min', o);
    expect(s.lr).toBe(0.05);
  });
});
