/**
 * Issue 13: the experiment language and CLI, through the real CLI on real files (`node bin/tudui.js`; needs
 * `npx tsc -p .` first, `npm test` does it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { expandRoot } from '../src/data/index.js';
import { stratifiedLimit } from '../src/data/image-folder.js';
import { loadDataset } from '../src/data/index.js';
import { writeSolidImage } from './helpers/dataset-files.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/tudui.js');

function tudui(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TUDUI_TRACE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tudui-lang-'));
}

/** Writes files (path → text) under a new temporary directory and returns it. */
function files(tree: Record<string, string>): string {
  const dir = tmp();
  for (const [p, text] of Object.entries(tree)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

const SYNTH = (name: string, extra = '') => `name: ${name}
dataset: { name: synthetic, shape: [4, 4, 1], classes: 2, train_size: 8, test_size: 4, batch_size: 4 }
model:
  layers: [flatten, { linear: 2 }]
optimizer: { name: sgd, lr: 0.1 }
epochs: 1
${extra}`;

describe('globs and directories (validate and sweep share the expansion)', () => {
  const dir = files({ 'experiments/a.yaml': SYNTH('a'), 'experiments/b.yml': SYNTH('b'), 'experiments/notes.txt': 'x' });

  it('validate accepts a directory', () => {
    const r = tudui(['validate', 'experiments'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('experiments/a.yaml: ok\nexperiments/b.yml: ok\n');
    expect(r.code).toBe(0);
  });

  it('validate accepts a relative glob', () => {
    const r = tudui(['validate', 'experiments/*.yaml'], dir);
    expect(r.stdout).toBe('experiments/a.yaml: ok\n');
    expect(r.code).toBe(0);
  });

  it('validate and sweep accept an absolute glob', () => {
    const v = tudui(['validate', `${dir}/experiments/*.y*ml`], dir);
    expect(v.stdout).toBe('experiments/a.yaml: ok\nexperiments/b.yml: ok\n');
    const s = tudui(['sweep', `${dir}/experiments/*.yaml`, '--set', 'epochs=0'], dir);
    expect(s.out).not.toContain('no experiment files match');
    expect(s.stderr).toContain('epochs: expected a positive integer, received 0');
  });

  it('a glob that matches nothing and a missing file are one line each', () => {
    const r = tudui(['validate', 'nothing/*.yaml', 'missing.yaml', 'experiments/a.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('experiments/a.yaml: ok\n');
    expect(r.stderr).toContain('nothing/*.yaml: error: no experiment files match this pattern\n');
    expect(r.stderr).toContain('missing.yaml: error: no such file\n');
  });
});

const FOLDER = (root: string, extra = '') => `name: folder
dataset: { name: image-folder, root: ${root}, image_size: [4, 4], channels: 1, batch_size: 2${extra} }
model:
  layers: [flatten, { linear: 2 }]
optimizer: { name: sgd, lr: 0.1 }
epochs: 1
`;

describe('validate reports what run would hit, located (one shared set of checks)', () => {
  it('a missing image-folder root, a missing test/, a test class not in train, an empty class', () => {
    const dir = files({
      'nope.yaml': FOLDER('imgs-missing'),
      'notest.yaml': FOLDER('imgs-notest'),
      'imgs-notest/train/a/1.png': 'x',
      'imgs-notest/train/b/1.png': 'x',
      'extra.yaml': FOLDER('imgs-extra'),
      'imgs-extra/train/a/1.png': 'x',
      'imgs-extra/train/b/1.png': 'x',
      'imgs-extra/test/a/1.png': 'x',
      'imgs-extra/test/c/1.png': 'x',
      'empty.yaml': FOLDER('imgs-empty'),
      'imgs-empty/train/a/1.png': 'x',
      'imgs-empty/train/b/notes.txt': 'x',
      'imgs-empty/test/a/1.png': 'x',
      'good.yaml': FOLDER('imgs-good'),
      'imgs-good/train/a/1.png': 'x',
      'imgs-good/train/b/1.png': 'x',
      'imgs-good/test/a/1.png': 'x',
    });
    const r = tudui(['validate', 'nope.yaml', 'notest.yaml', 'extra.yaml', 'empty.yaml', 'good.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('good.yaml: ok\n');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`nope.yaml:2:38: error: dataset.root: image-folder: directory ${join(dir, 'imgs-missing')} does not exist`);
    expect(lines[1]).toMatch(/^notest\.yaml:2:38: error: dataset\.root: image-folder: missing test directory .*imgs-notest\/test/);
    expect(lines[2]).toMatch(/^extra\.yaml:2:38: error: dataset\.root: image-folder: .*class "c" is in the test split but not in train \(a, b\)/);
    expect(lines[3]).toMatch(/^empty\.yaml:2:38: error: dataset\.root: image-folder: class directory .*imgs-empty\/train\/b holds no \.png\/\.jpg\/\.jpeg images/);
    expect(lines[4]).toBe('4 errors in 4 of 5 files');
  });

  it('run reports the same located error before training', () => {
    const dir = files({ 'nope.yaml': FOLDER('imgs-missing') });
    const r = tudui(['run', 'nope.yaml', '--runs-dir', join(dir, 'runs')], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nope.yaml:2:38: error: dataset.root: image-folder: directory ${join(dir, 'imgs-missing')} does not exist`);
  });

  it('synthetic classes out of range: located, and the other files are still reported', () => {
    const dir = files({
      'ok.yaml': SYNTH('ok'),
      'bad.yaml': `name: bad\ndataset: { name: synthetic, classes: 300 }\nmodel: { layers: [flatten, { linear: 300 }] }\noptimizer: { name: sgd, lr: 0.1 }\nepochs: 1\n`,
    });
    const r = tudui(['validate', 'ok.yaml', 'bad.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('ok.yaml: ok\n');
    expect(r.stderr).toBe('bad.yaml:2:38: error: dataset.classes: expected an integer ≥ 2 and ≤ 256, received 300\n1 error in 1 of 2 files\n');
  });

  it('batch_size larger than a statically known train set with drop_last', () => {
    const dir = files({ 'big.yaml': SYNTH('big').replace('batch_size: 4 }', 'batch_size: 16, drop_last: true }') });
    const r = tudui(['validate', 'big.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('big.yaml:2:100: error: dataset.batch_size: 16 is larger than the 8 training examples, and drop_last: true would leave no batch\n');
  });

  it('cifar10 with download: false and no files', () => {
    const dir = files({ 'c.yaml': 'name: c\ndataset: { name: cifar10, root: nowhere, download: false }\nmodel: { layers: [flatten, { linear: 10 }] }\noptimizer: { name: sgd, lr: 0.1 }\nepochs: 1\n' });
    const r = tudui(['validate', 'c.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^c\.yaml:2:33: error: dataset\.root: CIFAR-10 not found: expected /);
  });
});

describe('dataset details', () => {
  it('train_limit / test_limit on an image folder keep a stratified share of each class', () => {
    const files = [
      ...Array.from({ length: 6 }, (_, i) => ({ file: `a/${i}.png`, label: 0 })),
      ...Array.from({ length: 3 }, (_, i) => ({ file: `b/${i}.png`, label: 1 })),
      ...Array.from({ length: 3 }, (_, i) => ({ file: `c/${i}.png`, label: 2 })),
    ];
    expect(stratifiedLimit(files, 4).map((f) => f.file)).toEqual(['a/0.png', 'a/1.png', 'b/0.png', 'c/0.png']);
    expect(stratifiedLimit(files, 3).map((f) => f.label)).toEqual([0, 1, 2]);
    expect(stratifiedLimit(files, 100)).toBe(files);
  });

  it('~ in dataset.root is the home directory', () => {
    expect(expandRoot('~/data/x', '/somewhere')).toBe(join(homedir(), 'data/x'));
    expect(expandRoot('~', '/somewhere')).toBe(homedir());
    expect(expandRoot('data/~x', '/somewhere')).toBe('/somewhere/data/~x');
  });
});

describe('positions and messages', () => {
  it('an unclosed flow sequence is reported where its [ opened', () => {
    const dir = files({ 'flow.yaml': 'name: a\ndataset:\n  name: digits\n  batch_size: [64\nmodel:\n  layers: [flatten, { linear: 10 }]\n' });
    const r = tudui(['validate', 'flow.yaml'], dir);
    expect(r.stderr).toBe("flow.yaml:4:15: error: YAML syntax: this '[' is never closed: end the list with ']' on the same line (or indent its continuation lines)\n1 error in 1 of 1 file\n");
  });

  it('--set errors name the argument, enum suggestions ignore case', () => {
    const r = tudui(['validate', 'experiments/digits-cnn.yaml', '--set', 'nosuch.key=1', '--set', 'device=GPU']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^--set nosuch\.key=1: error: nosuch: unknown key; valid keys: /);
    expect(lines[1]).toBe("--set device=GPU: error: device: expected one of 'auto', 'cpu', 'gpu', received 'GPU' (did you mean 'gpu'?)");
  });

  it('grid errors are reported once at the value, never naming a valid member, and counted as printed', () => {
    const dir = files({ 'g.yaml': SYNTH('g', 'sweep:\n  optimizer.lr: [0.1, -1]\n  dataset.batch_size: [4, 0]\n') });
    const r = tudui(['sweep', 'g.yaml', '--runs-dir', 'runs'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        'g.yaml:8:23: error: optimizer.lr: expected a positive number, received -1 (with optimizer.lr = -1)',
        'g.yaml:9:27: error: dataset.batch_size: expected a positive integer, received 0 (with dataset.batch_size = 0)',
        'tudui: error: the sweep is invalid (2 errors); nothing was run',
        '',
      ].join('\n'),
    );
  });
});

describe('YAML', () => {
  it('a multi-document file and a wrong indent are one clear line each', () => {
    const dir = files({
      'multi.yaml': SYNTH('a') + '---\n' + SYNTH('b'),
      'indent.yaml': 'name: a\ndataset:\n  name: digits\n   batch_size: 3\nmodel:\n  layers: [flatten]\n',
    });
    const m = tudui(['validate', 'multi.yaml'], dir);
    expect(m.stderr).toBe("multi.yaml:7:1: error: YAML syntax: an experiment file holds one document, this one has 2: remove this '---' separator (put other experiments in their own files)\n1 error in 1 of 1 file\n");
    const i = tudui(['validate', 'indent.yaml'], dir);
    expect(i.stderr).toBe('indent.yaml:4:4: error: YAML syntax: wrong indentation: this line is indented deeper than the key above it, which already has a value; keys of one map start at the same column\n1 error in 1 of 1 file\n');
  });
});

describe('YAML anchors and merge keys', () => {
  it("merge keys work and top-level 'x-' keys hold anchors", () => {
    const dir = files({
      'merge.yaml': `name: m
x-conv: &conv { kernel_size: 3, padding: 1 }
dataset: { name: synthetic, shape: [4, 4, 1], classes: 2, train_size: 8, test_size: 4, batch_size: 4 }
model:
  layers:
    - conv2d: { <<: *conv, filters: 4 }
    - conv2d: { <<: *conv, filters: 4, strid: 2 }
    - flatten
    - linear: 2
optimizer: { name: sgd, lr: 0.1 }
epochs: 1
`,
    });
    const r = tudui(['validate', 'merge.yaml'], dir);
    expect(r.stderr).toBe("merge.yaml:7:40: error: model.layers[1].conv2d.strid: unknown key (did you mean 'stride'?)\n1 error in 1 of 1 file\n");
    const ok = tudui(['validate', 'merge.yaml', '--set', 'model.layers[1].conv2d={filters: 4, kernel_size: 3}'], dir);
    expect(ok.stdout).toBe('merge.yaml: ok\n');
  });

  it('model.layers: [] says what a layer list looks like', () => {
    const dir = files({ 'empty.yaml': 'name: a\ndataset: { name: digits }\nmodel:\n  layers: []\noptimizer: { name: sgd, lr: 0.1 }\nepochs: 1\n' });
    const r = tudui(['validate', 'empty.yaml'], dir);
    expect(r.stderr).toBe("empty.yaml:4:11: error: model.layers: expected a non-empty list of layers ('- kind' or '- kind: { options }'), received []\n1 error in 1 of 1 file\n");
  });
});

describe('key paths', () => {
  it("'layers.0' is the same as 'layers[0]' in --set and in grids", () => {
    const r = tudui(['validate', 'experiments/digits-cnn.yaml', '--set', 'model.layers.0.conv2d.filters=0']);
    expect(r.stderr).toContain('--set model.layers.0.conv2d.filters=0: error: model.layers[0].conv2d.filters: expected a positive integer, received 0\n');
    const dir = files({ 's.yaml': SYNTH('s', 'sweep:\n  model.layers.1.linear.units: [2, 3]\n') });
    const s = tudui(['validate', 's.yaml'], dir);
    expect(s.stderr).toMatch(/^s\.yaml:8:36: error: model\.layers\[1\]\.linear\.units: the model outputs 3 values but synthetic has 2 classes/);
  });
});

describe('CLI', () => {
  it('tudui help run prints the help of run', () => {
    const r = tudui(['help', 'run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tudui run <experiment\.yaml>/);
    expect(r.stdout).toContain('--runs-dir');
  });

  it('--epochs 2 suggests --set epochs=2', () => {
    const r = tudui(['run', 'experiments/digits-cnn.yaml', '--epochs', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tudui: error: unknown option --epochs (to override a config value: --set epochs=2)\n');
    const v = tudui(['validate', 'experiments/digits-cnn.yaml', '--optimizer.lr=0.1']);
    expect(v.stderr).toBe('tudui: error: unknown option --optimizer.lr (to override a config value: --set optimizer.lr=0.1)\n');
  });

  it('--runs-dir that is a file is one line, for run and sweep', () => {
    const dir = files({ 'a.yaml': SYNTH('a'), 'afile': 'x' });
    expect(tudui(['run', 'a.yaml', '--runs-dir', 'afile'], dir).stderr).toBe('tudui: error: --runs-dir afile: is a file, not a directory\n');
    expect(tudui(['run', 'a.yaml', '--runs-dir', 'afile/runs'], dir).stderr).toBe(`tudui: error: --runs-dir afile/runs: cannot be created: ${join(dir, 'afile')} is a file, not a directory\n`);
    expect(tudui(['sweep', 'a.yaml', '--runs-dir', 'afile'], dir).stderr).toBe('tudui: error: --runs-dir afile: is a file, not a directory\n');
  });

  it('tudui run on a file with a sweep: grid refuses instead of training the base config', () => {
    const dir = files({ 'g.yaml': SYNTH('g', 'sweep:\n  optimizer.lr: [0.1, 0.2]\n') });
    const r = tudui(['run', 'g.yaml', '--runs-dir', 'runs'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "tudui: error: g.yaml defines a sweep: grid of 2 members, and tudui run trains one configuration\n  hint: run the grid with 'tudui sweep g.yaml', or train the base configuration with --set sweep=null\n",
    );
  });

  it('run -q prints only the run directory', () => {
    const dir = files({ 'g.yaml': SYNTH('g', 'device: cpu\nsweep:\n  optimizer.lr: [0.1, 0.2]\n') });
    const r = tudui(['run', 'g.yaml', '-q', '--runs-dir', 'runs', '--set', 'sweep=null'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^run: ${join(dir, 'runs', 'g')}/\\d{8}-\\d{6}\\n$`));
  });
});

describe('silent acceptance ends', () => {
  const W = `name: w
dataset: { name: synthetic, shape: [4, 4, 1], classes: 2, train_size: 8, test_size: 4, batch_size: 100000 }
model:
  layers: [flatten, { linear: 2 }, softmax]
optimizer: { name: sgd, lr: 0.1 }
epochs: 1
device: cpu
`;
  it('a seed beyond 2^53 is an error, not a rounded number', () => {
    const dir = files({ 's.yaml': SYNTH('s', 'seed: 99999999999999999999\n') });
    const r = tudui(['validate', 's.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^s\.yaml:7:7: error: seed: expected at most 2\^53 - 1 = 9007199254740991 \(larger integers are not exact\), received 100000000000000000000$/m);
  });

  it('batch_size above the train size and softmax before cross_entropy are warnings in validate and run', () => {
    const dir = files({ 'w.yaml': W });
    const want =
      'w.yaml:2:100: warning: dataset.batch_size: 100000 is larger than the 8 training examples: every epoch is a single batch of 8\n' +
      "w.yaml:4:36: warning: model.layers[2]: cross_entropy applies softmax itself (like PyTorch's CrossEntropyLoss); a final softmax layer squashes the logits twice and slows learning: remove it\n";
    const v = tudui(['validate', 'w.yaml'], dir);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe('w.yaml: ok\n');
    expect(v.stderr).toBe(want);
    const r = tudui(['run', 'w.yaml', '-q', '--runs-dir', 'runs'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(want);
  });
});

describe('grids: a list of members beside the cross product', () => {
  const M = SYNTH('lists', 'device: cpu\nsweep:\n  optimizer.lr: [0.1, 0.01]\n  members:\n    - { optimizer.name: sgd, optimizer.momentum: 0.9 }\n    - { optimizer.name: adam }\n');

  it('members combine with the axes; the sweep directory is named after name:; members keep no grid', () => {
    const dir = files({ 'file-stem.yaml': M.replace('name: lists', 'name: lists') });
    expect(tudui(['validate', 'file-stem.yaml'], dir).stdout).toBe('file-stem.yaml: ok\n');
    const r = tudui(['sweep', 'file-stem.yaml', '--runs-dir', 'runs', '--in-process', '--quiet'], dir);
    expect(r.code, r.stderr).toBe(0);
    const parents = readdirSync(join(dir, 'runs'));
    expect(parents).toEqual(['lists']);
    const sweepDir = join(dir, 'runs', 'lists', readdirSync(join(dir, 'runs', 'lists'))[0]!);
    const manifest = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8'));
    expect(manifest.members.map((m: { label: string }) => m.label)).toEqual([
      'optimizer.lr=0.1,optimizer.name=sgd,optimizer.momentum=0.9',
      'optimizer.lr=0.1,optimizer.name=adam',
      'optimizer.lr=0.01,optimizer.name=sgd,optimizer.momentum=0.9',
      'optimizer.lr=0.01,optimizer.name=adam',
    ]);
    const member = join(sweepDir, manifest.members[0].run_dir, 'config.yaml');
    const config = readFileSync(member, 'utf8');
    expect(config).not.toMatch(/^sweep:/m);
    expect(config).toMatch(/momentum: 0\.9/);
  });

  it('a sweep that is a list: each member validated as a whole, errors at the member', () => {
    const dir = files({
      'l.yaml': SYNTH('l', 'sweep:\n  - { optimizer.name: adam, optimizer.momentum: 0.9 }\n  - { optimizer.name: sgd, optimizer.lrr: 3 }\n  - { optimizer.name: sgd, optimizer.momentum: 0.9 }\n'),
    });
    const r = tudui(['validate', 'l.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        "l.yaml:8:5: error: optimizer.momentum: not used by adam (only sgd, rmsprop) (with optimizer.name = 'adam', optimizer.momentum = 0.9)",
        "l.yaml:9:28: error: sweep[1].optimizer.lrr: unknown key 'optimizer.lrr' (did you mean 'lr'?)",
        '2 errors in 1 of 1 file',
        '',
      ].join('\n'),
    );
  });
});

describe('image-folder test_fraction', () => {
  it('splits train/ per class with a fixed seed when there is no test/; both validate and load agree', async () => {
    const dir = files({ 'f.yaml': FOLDER('imgs', ', test_fraction: 0.34') });
    for (const cls of ['a', 'b']) for (let i = 0; i < 3; i++) await writeSolidImage(join(dir, 'imgs/train', cls, `${i}.png`), 4, 4, [i * 40, 0, 0], 'png');
    const v = tudui(['validate', 'f.yaml'], dir);
    expect(v.stdout + v.stderr).toBe('f.yaml: ok\n');
    const cfg = { name: 'image-folder', root: join(dir, 'imgs'), image_size: [4, 4], channels: 1, test_fraction: 0.34 } as const;
    const ds = await loadDataset(cfg);
    expect([ds.train.count, ds.test.count]).toEqual([4, 2]);
    expect([...ds.test.labels]).toEqual([0, 1]);
    const again = await loadDataset(cfg);
    expect(Buffer.from(again.test.images).equals(Buffer.from(ds.test.images))).toBe(true);
    mkdirSync(join(dir, 'imgs/test/a'), { recursive: true });
    const both = tudui(['validate', 'f.yaml'], dir);
    expect(both.stderr).toMatch(/^f\.yaml:2:38: error: dataset\.root: image-folder: .*imgs\/test exists and dataset\.test_fraction is set; use one of them/);
  });
});

describe('image-folder decode cache', () => {
  it('a second load reads the cache; a changed file means a new decode', async () => {
    const dir = files({});
    for (const cls of ['a', 'b']) for (let i = 0; i < 2; i++) await writeSolidImage(join(dir, 'imgs', 'train', cls, `${i}.png`), 4, 4, [100, 100, 100], 'png');
    for (const cls of ['a', 'b']) await writeSolidImage(join(dir, 'imgs', 'test', cls, '0.png'), 4, 4, [100, 100, 100], 'png');
    const cacheDir = join(dir, 'cache');
    const before = process.env.TUDUI_CACHE_DIR;
    process.env.TUDUI_CACHE_DIR = cacheDir;
    try {
      const cfg = { name: 'image-folder', root: join(dir, 'imgs'), image_size: [4, 4], channels: 1 } as const;
      const first = await loadDataset(cfg);
      expect(first.train.images[0]).toBe(100);
      const cached = readdirSync(join(cacheDir, 'image-folder'));
      expect(cached).toHaveLength(2);
      // mark the cached bytes: the next load must return them without decoding
      for (const f of cached) {
        const p = join(cacheDir, 'image-folder', f);
        const b = readFileSync(p);
        b.fill(7, b.length / 17); // after the labels (count bytes), into the images
        writeFileSync(p, b);
      }
      const second = await loadDataset(cfg);
      expect(second.train.images.at(-1)).toBe(7);
      utimesSync(join(dir, 'imgs', 'train', 'a', '0.png'), new Date(), new Date(Date.now() - 100000));
      const third = await loadDataset(cfg);
      expect(third.train.images.at(-1)).toBe(100);
    } finally {
      if (before === undefined) delete process.env.TUDUI_CACHE_DIR;
      else process.env.TUDUI_CACHE_DIR = before;
    }
  });
});

describe('a diverged loss that never became NaN', () => {
  it('is a warning after the run', async () => {
    const { lossWarning } = await import('../src/cli/commands/run.js');
    const summary = (train_loss: number) => ({ final: { train_loss, test_loss: 1, test_accuracy: 0.5 } }) as never;
    expect(lossWarning({ status: 'completed', summary: summary(1e29) })).toBe(
      'the final train_loss is 1.00e+29: training diverged without a NaN (try a smaller optimizer.lr)',
    );
    expect(lossWarning({ status: 'completed', summary: summary(0.3) })).toBeUndefined();
    expect(lossWarning({ status: 'failed', summary: summary(1e29) })).toBeUndefined();
  });
});

describe('grids: a key both an axis and set by members', () => {
  it('is an error in validate and sweep', () => {
    const dir = files({ 'o.yaml': SYNTH('o', 'sweep:\n  optimizer.lr: [0.1, 0.2]\n  members:\n    - { optimizer.lr: 0.3 }\n') });
    const v = tudui(['validate', 'o.yaml'], dir);
    expect(v.stderr).toBe('o.yaml:10:9: error: sweep.members[0].optimizer.lr: optimizer.lr is both an axis of the sweep and set by this member; set it in one place\n1 error in 1 of 1 file\n');
    const s = tudui(['sweep', 'o.yaml', '--runs-dir', 'runs'], dir);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('o.yaml:10:9: error: sweep.members[0].optimizer.lr: optimizer.lr is both an axis of the sweep and set by this member; set it in one place\n');
  });
});

describe('validate --json', () => {
  it('reports warnings with their text', () => {
    const dir = files({ 'w.yaml': SYNTH('w').replace('batch_size: 4 }', 'batch_size: 64 }') });
    const r = tudui(['validate', 'w.yaml', '--json'], dir);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.reports[0].warnings[0].text).toBe('w.yaml:2:100: warning: dataset.batch_size: 64 is larger than the 8 training examples: every epoch is a single batch of 8');
  });
});

describe('the device line', () => {
  it('is one short line by default; --verbose keeps the full one', async () => {
    const { shortDeviceLine } = await import('../src/cli/output.js');
    const full =
      'device auto: using tudui-native: tudui-native (oneDNN addon): oneDNN 2.6.3, 2 OpenMP threads, cpu isa 231 (skipped: tfjs-node-gpu: @tensorflow/tfjs-node-gpu is not installed; webgpu: Dawn (webgpu 0.6.2) found no WebGPU adapter; the Vulkan loader libvulkan.so.1 is missing (apt-get install libvulkan1); tfjs-node: @tensorflow/tfjs-node is not installed)\n';
    expect(shortDeviceLine(full)).toBe('device auto: tudui-native (oneDNN 2.6.3, 2 OpenMP threads, cpu isa 231); unavailable: tfjs-node-gpu, webgpu, tfjs-node (tudui devices says why)\n');
    expect(shortDeviceLine('device cpu: using wasm: WebAssembly/XNNPACK (simd, 2 threads) with tudui training kernels\n')).toBe(
      'device cpu: wasm (WebAssembly/XNNPACK (simd, 2 threads) with tudui training kernels)\n',
    );
    expect(shortDeviceLine('dataset digits: 1438 train\n')).toBe('dataset digits: 1438 train\n');
  });

  it('through tudui run', () => {
    const dir = files({ 'a.yaml': SYNTH('a', 'device: cpu\n') });
    const r = tudui(['run', 'a.yaml', '--runs-dir', 'runs'], dir);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('device '))!;
    expect(line).not.toMatch(/skipped:/);
    expect(line.length).toBeLessThan(160);
    const v = tudui(['run', 'a.yaml', '--runs-dir', 'runs', '--verbose'], dir);
    expect(v.stdout).toMatch(/^device cpu: using /m);
  });
});

describe('--backend and --threads', () => {
  it('run on exactly the named backend with the given threads; an unknown or mismatched one changes nothing', () => {
    const dir = files({ 'a.yaml': SYNTH('a') });
    const r = tudui(['run', 'a.yaml', '--runs-dir', 'runs', '--backend', 'wasm', '--threads', '1', '--verbose'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/using wasm: .*1 thread/);
    const bad = tudui(['run', 'a.yaml', '--runs-dir', 'other', '--backend', 'nosuch'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown backend 'nosuch' \(expected one of tfjs-node-gpu, webgpu, tfjs-node, tudui-native, wasm, cpu\)/);
    const mismatch = tudui(['run', 'a.yaml', '--runs-dir', 'other', '--backend', 'wasm', '--device', 'gpu'], dir);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/backend wasm is a cpu backend, but device gpu was asked for/);
    const threads = tudui(['run', 'a.yaml', '--runs-dir', 'other', '--threads', '0'], dir);
    expect(threads.code).toBe(1);
    expect(threads.stderr).toMatch(/--threads expects a whole number ≥ 1, received 0/);
    expect(existsSync(join(dir, 'other'))).toBe(false);
  });
});
