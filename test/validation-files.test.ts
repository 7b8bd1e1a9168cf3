/**
 * `dataset.validation: { from: files }`: an image folder's own val/ (valid/, validation/) directory is the validation
 * split, checked statically by `tudui validate` and read by `tudui eval --split val`; and the batch-size check counts
 * only the training examples left after a validation fraction is held out. Through the CLI on folders made here.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeRawPng } from './helpers/dataset-files.js';
import { runDirs, snapshot, summaryOf, tudui } from './helpers/run-dir.js';
import { COLOURS, colourPixels, writeColourFolder } from './helpers/trained-runs.js';

const ENV = { TUDUI_CACHE_DIR: 'off' };

const FOLDER = 'name: image-folder, root: colours, image_size: [8, 8]';
const EXPERIMENT = (name: string, dataset: string, head = FOLDER, classes = head === FOLDER ? 3 : 10) => `name: ${name}
seed: 1
device: cpu
dataset: { ${head}, ${dataset.includes('batch_size') ? '' : 'batch_size: 6, '}${dataset} }
model:
  layers:
    - conv2d: { filters: 4, kernel_size: 3, padding: 1 }
    - relu
    - global_avgpool2d
    - linear: ${classes}
optimizer: { name: adam, lr: 0.05 }
epochs: 2
`;

/** The colour folder (train 10, test 4 per class) with `dir`/<class>/ holding 3 more pictures per class. */
async function folderWithVal(work: string, dir = 'val'): Promise<string> {
  const root = join(work, 'colours');
  await writeColourFolder(root);
  for (const [name, rgb] of Object.entries(COLOURS)) {
    for (let n = 20; n < 23; n++) await writeRawPng(join(root, dir, name, `v-${n}.png`), 8, 8, colourPixels(rgb, n, 8, 8));
  }
  return root;
}

function validate(work: string, name: string, dataset: string) {
  writeFileSync(join(work, `${name}.yaml`), EXPERIMENT(name, dataset));
  return tudui(['validate', `${name}.yaml`], work, ENV);
}

describe('dataset.validation: { from: files }', () => {
  let work: string;
  let run: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tudui-valfiles-'));
    await folderWithVal(work);
    writeFileSync(join(work, 'vf.yaml'), EXPERIMENT('vf', 'validation: { from: files }'));
    const r = tudui(['run', 'vf.yaml', '--runs-dir', 'runs', '-q'], work, ENV);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    run = runDirs(join(work, 'runs', 'vf')).at(-1)!;
  });

  it('trains on all of train/, validates on val/ each epoch, tests once at the end', () => {
    const points = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(points.filter((p) => p.tag === 'val_accuracy').map((p) => p.epoch)).toEqual([1, 2]);
    expect(points.filter((p) => p.tag === 'test_accuracy')).toHaveLength(1);
    const s = summaryOf(run);
    expect(s.best.metric).toBe('val_accuracy');
    expect(s.test.epoch).toBe(s.best.epoch);
  });

  it('tudui eval --split val reads val/ and gives the logged numbers', () => {
    const r = tudui(['eval', run, '--split', 'val', '--json'], work, ENV);
    expect(r.stderr).toBe('');
    const val = JSON.parse(r.stdout);
    const st = JSON.parse(readFileSync(join(run, 'checkpoints', 'best', 'state.json'), 'utf8'));
    expect(val.count).toBe(9);
    expect([val.loss, val.accuracy]).toEqual([st.metrics.val_loss, st.metrics.val_accuracy]);
    const train = JSON.parse(tudui(['eval', run, '--split', 'train', '--json'], work, ENV).stdout);
    expect(train.count).toBe(30); // nothing of train/ was held out
  });

  it('--data without a val/ directory: the test split still evaluates, --split val names what is missing', () => {
    cpSync(join(work, 'colours'), join(work, 'noval'), { recursive: true });
    rmSync(join(work, 'noval', 'val'), { recursive: true });
    const here = JSON.parse(tudui(['eval', run, '--split', 'test', '--json'], work, ENV).stdout);
    const there = tudui(['eval', run, '--split', 'test', '--data', 'noval', '--json'], work, ENV);
    expect(there.stderr).toBe('');
    expect(JSON.parse(there.stdout).accuracy).toBe(here.accuracy);
    const val = tudui(['eval', run, '--split', 'val', '--data', 'noval'], work, ENV);
    expect(val.code).not.toBe(0);
    expect(val.stderr).toMatch(/^tudui: error: --data noval: image-folder: dataset\.validation\.from is files but .*noval has no val\/valid\/validation directory/m);
  });

  it('valid/ and validation/ are accepted too; without validation set, val/ is not read', async () => {
    for (const dir of ['valid', 'validation']) {
      const w = mkdtempSync(join(tmpdir(), 'tudui-valfiles-name-'));
      await folderWithVal(w, dir);
      const r = validate(w, 'n', 'validation: { from: files }');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const none = validate(work, 'none', 'test_limit: 3');
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/^none\.yaml:\d+:\d+: warning: dataset: validation: .*colours\/val is not read: dataset\.validation is not set \(validation: \{ from: files \} validates on it; unset, the test split decides every epoch\)$/m);
  });
});

describe('validation files: tudui validate refuses, in one line naming the place', () => {
  let work: string;
  let root: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tudui-valfiles-bad-'));
    root = await folderWithVal(work);
  });

  const fails = (name: string, dataset: string, message: RegExp) => {
    const before = snapshot(work);
    const r = validate(work, name, dataset);
    expect(r.code).not.toBe(0);
    const errors = r.stderr.split('\n').filter((l) => l.includes('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
    rmSync(join(work, `${name}.yaml`));
    expect(snapshot(work)).toEqual(before);
  };

  it('an empty validation map names both ways to fill it', () => {
    fails('empty', 'validation: {}', /^empty\.yaml:\d+:\d+: error: dataset\.validation: missing required key: one of 'fraction', 'from'$/);
  });

  it('class names that differ from train/', () => {
    renameSync(join(root, 'val', 'red'), join(root, 'val', 'rouge'));
    try {
      fails('cls', 'validation: { from: files }', new RegExp(`dataset\\.root: image-folder: ${join(root, 'val')}: its classes must be train's \\(blue, green leaf, red\\); it lacks red and has rouge that train has not$`));
      rmSync(join(root, 'val', 'rouge'), { recursive: true });
      fails('less', 'validation: { from: files }', /val: its classes must be train's \(blue, green leaf, red\); it lacks red$/);
    } finally {
      rmSync(join(root, 'val'), { recursive: true, force: true });
    }
  });

  it('no validation directory, two of them, or a fraction beside one', async () => {
    fails('missing', 'validation: { from: files }', /dataset\.validation\.from is files but .*colours has no val\/valid\/validation directory/);
    mkdirSync(join(root, 'val', 'blue'), { recursive: true });
    mkdirSync(join(root, 'valid', 'blue'), { recursive: true });
    try {
      fails('two', 'validation: { from: files }', /colours\/val and .*colours\/valid both exist; keep one validation directory$/);
      rmSync(join(root, 'valid'), { recursive: true });
      fails('both', 'validation: { fraction: 0.2 }', /colours\/val exists and dataset\.validation\.fraction is set; use one of them/);
    } finally {
      rmSync(join(root, 'val'), { recursive: true, force: true });
      rmSync(join(root, 'valid'), { recursive: true, force: true });
    }
  });

  it('from: files on a dataset without validation files, and neither or both of fraction and from', () => {
    writeFileSync(join(work, 'dg.yaml'), EXPERIMENT('dg', 'validation: { from: files }', 'name: digits'));
    const r = tudui(['validate', 'dg.yaml'], work, ENV);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^dg\.yaml:\d+:\d+: error: dataset\.validation: digits has no validation files \(from: files is for image-folder\); use validation: \{ fraction: 0\.1 \}$/m);
    for (const v of ['{}', '{ fraction: 0.2, from: files }', '{ from: train }']) {
      const bad = validate(work, 'v', `validation: ${v}`);
      expect(bad.code, v).not.toBe(0);
      expect(bad.stderr, v).toMatch(/dataset\.validation/);
    }
  });
});

describe('batch_size against the training examples left after validation.fraction', () => {
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tudui-valfiles-batch-'));
    await writeColourFolder(join(work, 'colours'));
  });

  it('image-folder: exact per-class count (30 train, half held out: 15 left)', () => {
    const big = validate(work, 'b16', 'batch_size: 16, drop_last: true, validation: { fraction: 0.5 }');
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/error: dataset\.batch_size: 16 is larger than the 15 training examples left after holding out validation, and drop_last: true would leave no batch$/m);
    expect(validate(work, 'b15', 'batch_size: 15, drop_last: true, validation: { fraction: 0.5 }').code).toBe(0);
    expect(validate(work, 'b16n', 'batch_size: 16, drop_last: true').code).toBe(0); // all 30 train without validation
    const single = validate(work, 'b16w', 'batch_size: 16, validation: { fraction: 0.5 }');
    expect(single.code).toBe(0);
    expect(single.stderr).toMatch(/warning: dataset\.batch_size: 16 is larger than the 15 training examples left after holding out validation: every epoch is a single batch of 15$/m);
  });

  it('digits: at most n·(1 − fraction) + classes left when the per-class counts are not known', () => {
    const dg = (b: number) => {
      writeFileSync(join(work, 'dg.yaml'), EXPERIMENT('dg', `batch_size: ${b}, drop_last: true, validation: { fraction: 0.5 }`, 'name: digits'));
      return tudui(['validate', 'dg.yaml'], work, ENV);
    };
    // 1,438 train examples; half of each class held out leaves at most 719 + 10
    expect(dg(730).stderr).toMatch(/error: dataset\.batch_size: 730 is larger than the training examples left after holding out validation \(at most 729\), and drop_last: true would leave no batch$/m);
    expect(dg(729).code).toBe(0);
  });
});
