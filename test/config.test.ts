/** The real CLI on real files: `node bin/tudui.js validate ...` (needs `npx tsc -p .` first; `npm test` does it). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const fx = 'test/fixtures/config';

function tudui(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, 'bin/tudui.js', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}

const experiments = readdirSync(join(root, 'experiments')).filter((f) => f.endsWith('.yaml')).map((f) => `experiments/${f}`);

describe('tudui validate', () => {
  it('accepts every shipped experiment', () => {
    expect(experiments).toContain('experiments/cifar10-sgd.yaml');
    expect(experiments.length).toBeGreaterThanOrEqual(6);
    const r = tudui(['validate', ...experiments]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(experiments.map((f) => `${f}: ok`));
  });

  const cases: Array<[string, string[]]> = [
    ['syntax-error.yaml', ["2:10: error: YAML syntax: this '{' is never closed: end the map with '}' on the same line (or indent its continuation lines)"]],
    ['misspelled-key.yaml', [
      "2:26: error: dataset.batch_sise: unknown key (did you mean 'batch_size'?)",
      "5:34: error: optimizer.momentun: unknown key (did you mean 'momentum'?)",
    ]],
    ['wrong-type.yaml', [
      "6:24: error: model.layers[1].linear.units: expected a positive integer, received 'ten'",
      '8:9: error: epochs: expected a positive integer, received 2.5',
    ]],
    ['unknown-layer.yaml', [
      "5:7: error: model.layers[0]: unknown layer 'conv3d' (did you mean 'conv2d'?); valid kinds: conv2d, maxpool2d, avgpool2d, global_avgpool2d, flatten, linear, dense, relu, leaky_relu, gelu, sigmoid, tanh, softmax, dropout, batchnorm, scale, residual",
      "8:20: error: optimizer.name: expected one of 'sgd', 'adam', 'adamw', 'rmsprop', received 'adm' (did you mean 'adam'?)",
    ]],
    ['linear-without-flatten.yaml', ["8:7: error: model.layers[3].linear: linear expects a flat input, received shape 8×8×32; add '- flatten' before it"]],
    ['pool-below-one.yaml', ['8:7: error: model.layers[3].maxpool2d: maxpool2d 2×2 would shrink its input 1×1×1 below 1×1']],
    ['kernel-too-large.yaml', ['7:7: error: model.layers[2].conv2d: kernel 5×5 is larger than its input 3×3×8']],
    ['normalize-mismatch.yaml', ['4:22: error: dataset.normalize.mean: expected 1 value (one per channel of mnist), received 3']],
    ['last-units.yaml', ['8:24: error: model.layers[3].linear.units: the model outputs 5 values but cifar10 has 10 classes; the last layer must output 10']],
    ['negative-lr.yaml', ['5:29: error: optimizer.lr: expected a positive number, received -0.01']],
    ['sweep-bad.yaml', [
      "8:3: error: sweep.optimizer.lrr: unknown key 'optimizer.lrr' (did you mean 'lr'?)",
      '9:23: error: optimizer.lr: expected a positive number, received -1 (with optimizer.lr = -1)',
    ]],
  ];
  for (const [file, expected] of cases) {
    it(`reports ${file} at the right line and column`, () => {
      const r = tudui(['validate', `${fx}/${file}`]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines.slice(0, -1)).toEqual(expected.map((e) => `${fx}/${file}:${e}`));
      expect(lines.at(-1)).toMatch(/^\d+ errors? in 1 of 1 file$/);
    });
  }

  it('reports every error of a file with several', () => {
    const r = tudui(['validate', `${fx}/several-errors.yaml`]);
    expect(r.code).toBe(1);
    expect(r.stderr.replaceAll(`${fx}/several-errors.yaml:`, '')).toBe(
      [
        "1:7: error: name: expected a name of letters, digits, '.', '_' and '-', received 'several errors'",
        '2:7: error: seed: expected a non-negative integer, received -1',
        "3:9: error: device: expected one of 'auto', 'cpu', 'gpu', received 'gpus' (did you mean 'gpu'?)",
        '6:15: error: dataset.batch_size: expected a positive integer, received 0',
        '10:26: error: model.layers[0].conv2d.filters: expected a positive integer, received 0',
        "11:34: error: model.layers[1].maxpool2d.strid: unknown key (did you mean 'stride'?)",
        '13:24: error: model.layers[3].linear.units: expected a positive integer, received -4',
        "14:7: error: loss: expected one of 'cross_entropy', 'mse', received 'cross_entropi' (did you mean 'cross_entropy'?)",
        "15:1: error: optimizer: missing required key 'lr'",
        '16:9: error: epochs: expected a positive integer, received 0',
        '10 errors in 1 of 1 file',
        '',
      ].join('\n'),
    );
  });

  it('applies --set overrides and names the argument in errors', () => {
    const bad = tudui(['validate', 'experiments/cifar10-sgd.yaml', '--set', 'optimizer.lrr=0.1', '--set', 'model.layers[8].linear.units=-4']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n').slice(0, 2)).toEqual([
      "--set optimizer.lrr=0.1: error: optimizer.lrr: unknown key (did you mean 'lr'?)",
      '--set model.layers[8].linear.units=-4: error: model.layers[8].linear.units: expected a positive integer, received -4',
    ]);
    const classes = tudui(['validate', 'experiments/digits-cnn.yaml', '--set', 'model.layers[9].linear.units=7']);
    expect(classes.stderr).toContain('--set model.layers[9].linear.units=7: error: model.layers[9].linear.units: the model outputs 7 values but digits has 10 classes');
    const ok = tudui(['validate', 'experiments/cifar10-sgd.yaml', '--set', 'optimizer.lr=0.1', '--set=dataset.batch_size=32']);
    expect(ok.out).toBe('experiments/cifar10-sgd.yaml: ok\n');
    expect(ok.code).toBe(0);
  });

  it('missing files, directories and no arguments are clear errors', () => {
    const r = tudui(['validate', 'experiments/nope.yaml', 'test/helpers', 'experiments/cifar10-sgd.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('experiments/cifar10-sgd.yaml: ok\n');
    expect(r.stderr).toContain('experiments/nope.yaml: error: no such file\n');
    expect(r.stderr).toContain('test/helpers: error: the directory holds no *.yaml or *.yml experiment files\n');
    const none = tudui(['validate']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/validate expects at least one experiment FILE/);
  });

  it('--json gives a machine-readable report', () => {
    const r = tudui(['validate', '--json', `${fx}/negative-lr.yaml`, 'experiments/digits-cnn.yaml']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.reports[1]).toEqual({ file: 'experiments/digits-cnn.yaml', ok: true, errors: [] });
    expect(report.reports[0].errors[0]).toMatchObject({ line: 5, col: 29, path: 'optimizer.lr', message: 'expected a positive number, received -0.01' });
  });

  it('validate, --help and --version never load TensorFlow', () => {
    const log = join(mkdtempSync(join(tmpdir(), 'tudui-mods-')), 'modules.txt');
    const hook = ['--import', `./${fx}/record-modules.mjs`];
    for (const args of [['validate', ...experiments], ['--help'], ['--version'], ['validate', '--help']]) {
      const t0 = Date.now();
      const r = tudui(args, { TUDUI_MODULE_LOG: log }, hook);
      expect(r.code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000); // well under a second on an idle machine; generous for CI
    }
    const mods = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(mods.some((m) => m.includes('/dist/config/index.js'))).toBe(true); // the hook saw the config layer...
    expect(mods.filter((m) => m.includes('@tensorflow'))).toEqual([]); // ...and no TensorFlow
  });
});
