/** The config library API, called directly. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  applyOverrides, experimentHash, formatError, loadExperiment, loadExperimentText, parseOverride,
  resolvedToYaml, validateFiles, type ResolvedExperiment,
} from '../src/config/index.js';
import { buildSchema } from '../src/config/schema-build.js';
import { getSchema } from '../src/config/schema.js';

const root = new URL('..', import.meta.url).pathname;
const experiments = readdirSync(`${root}experiments`).filter((f) => f.endsWith('.yaml')).map((f) => `experiments/${f}`);

function stripLoc(e: ResolvedExperiment) {
  return { ...e, model: { ...e.model, layers: e.model.layers.map(({ kind, options }) => ({ kind, options })) } };
}

describe('schema and generated files', () => {
  it('the committed schema equals the one generated from the registries', () => {
    expect(getSchema()).toEqual(JSON.parse(JSON.stringify(buildSchema())));
  });
  it('schema, generated types, validator and reference are up to date (npm run schema)', () => {
    const r = spawnSync(process.execPath, ['scripts/gen-schema.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
  it('every property has a description', () => {
    const missing: string[] = [];
    const visit = (s: unknown, at: string) => {
      if (!s || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      if (o.properties) {
        for (const [k, v] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
          if (!v.description && !v.$ref) missing.push(`${at}.${k}`);
          visit(v, `${at}.${k}`);
        }
      }
      for (const k of ['anyOf', 'items', '$defs', 'additionalProperties']) if (o[k] && typeof o[k] === 'object') visit(o[k], `${at}/${k}`);
      if (Array.isArray(s)) s.forEach((x, i) => visit(x, `${at}[${i}]`));
      if (at.endsWith('/$defs')) for (const [k, v] of Object.entries(o)) visit(v, `${at}/${k}`);
    };
    visit(getSchema(), '');
    expect(missing).toEqual([]);
  });
});

describe('loadExperiment', () => {
  it('resolves the seed experiment with defaults and shorthands expanded', () => {
    const { experiment: e, errors } = loadExperiment('experiments/cifar10-sgd.yaml', { cwd: root });
    expect(errors).toEqual([]);
    expect(e.dataset).toMatchObject({ name: 'cifar10', root: 'data/cifar10', batch_size: 64, eval_batch_size: 64, shuffle: false, drop_last: false, download: true });
    expect(e.dataset.augment).toEqual({ random_crop: null, horizontal_flip: false });
    expect(e.loss).toEqual({ name: 'cross_entropy', label_smoothing: 0 });
    expect(e.optimizer).toEqual({ name: 'sgd', lr: 0.01, momentum: 0, nesterov: false, weight_decay: 0, betas: [0.9, 0.999], eps: 1e-8, alpha: 0.99 });
    expect(e.schedule).toEqual({ name: 'constant', step_size: 10, gamma: 0.1, min_lr: 0, warmup_epochs: 0 });
    expect(e.model.init).toBe('torch');
    expect(e.model.layers.map((l) => l.kind)).toEqual(['conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'flatten', 'linear', 'linear']);
    expect(e.model.layers[0]!.options).toEqual({ filters: 32, kernel_size: 5, stride: 1, padding: 2, bias: true });
    expect(e.model.layers[1]!.options).toEqual({ pool_size: 2, stride: null, padding: 0 });
    expect(e.model.layers[6]).toMatchObject({ kind: 'flatten', options: {}, loc: { line: 19, col: 7 } });
    expect(e.checkpoint).toEqual({ keep_last: null, keep_best: true, monitor: 'test_accuracy' });
    expect(e.sweep).toBeNull();
  });

  it('shorthands and aliases: dense → linear, dropout: 0.2, adamw weight decay default', () => {
    const { experiment: e } = loadExperiment('experiments/mnist-mlp.yaml', { cwd: root });
    expect(e.model.layers[3]).toMatchObject({ kind: 'dropout', options: { rate: 0.2 } });
    expect(e.model.layers[4]).toMatchObject({ kind: 'linear', options: { units: 128, bias: true } });
    const a = loadExperiment('experiments/cifar10-sgd.yaml', { cwd: root, overrides: ['optimizer={name: adamw, lr: 0.001}'] });
    expect(a.errors).toEqual([]);
    expect(a.experiment.optimizer.weight_decay).toBe(0.01);
  });

  it('overrides expand shorthands and show up in the resolved experiment', () => {
    const r = loadExperiment('experiments/digits-cnn.yaml', {
      cwd: root,
      overrides: ['optimizer.lr=0.1', 'dataset.batch_size=16', 'model.layers[7].linear.units=32', 'model.layers[1].leaky_relu.negative_slope=0.2', 'loss.label_smoothing=0.1'],
    });
    expect(r.errors.map(formatError)).toEqual(["--set model.layers[1].leaky_relu.negative_slope=0.2: error: model.layers[1] is 'relu', not a map"]);
    const ok = loadExperiment('experiments/digits-cnn.yaml', {
      cwd: root,
      overrides: ['optimizer.lr=0.1', 'dataset.batch_size=16', 'model.layers[7].linear.units=32', 'model.layers[1].relu=null', 'loss.label_smoothing=0.1'],
    });
    expect(ok.errors).toEqual([]);
    expect(ok.experiment.optimizer.lr).toBe(0.1);
    expect(ok.experiment.dataset.batch_size).toBe(16);
    expect(ok.experiment.dataset.eval_batch_size).toBe(16);
    expect(ok.experiment.model.layers[7]!.options).toEqual({ units: 32, bias: true });
    expect(ok.experiment.loss).toEqual({ name: 'cross_entropy', label_smoothing: 0.1 });
  });

  it('never throws on bad input', () => {
    for (const text of ['', '- a\n- b\n', '42', 'name: [', '\u0000\u0001', 'a: &x [*x]', 'model: { layers: [ {} ] }']) {
      const r = loadExperimentText('bad.yaml', text);
      expect(r.errors.length).toBeGreaterThan(0);
      expect(r.errors.every((e) => e.file === 'bad.yaml' && typeof e.message === 'string')).toBe(true);
    }
    expect(loadExperimentText('x.yaml', '').errors.map(formatError)).toEqual([
      'x.yaml:1:1: error: expected a map of experiment keys (name, dataset, model, ...), received null',
    ]);
    expect(loadExperiment('missing.yaml', { cwd: root }).errors.map(formatError)).toEqual(['missing.yaml: error: no such file']);
  });

  it('layer entry mistakes are explained', () => {
    const base = 'name: x\ndataset: {name: digits}\noptimizer: {name: sgd, lr: 0.1}\nepochs: 1\nmodel:\n  layers:\n';
    const msg = (layers: string) => loadExperimentText('x.yaml', base + layers).errors.map(formatError);
    expect(msg('    - conv2d\n    - flatten\n    - linear: 10\n')).toEqual([
      "x.yaml:7:7: error: model.layers[0]: conv2d needs options: filters, kernel_size (write 'conv2d: { filters: ..., kernel_size: ... }')",
    ]);
    expect(msg('    - conv2d:\n      filters: 3\n    - flatten\n    - linear: 10\n')[0]).toMatch(
      /7:7: error: model.layers\[0\]: a layer is a map with exactly one key, its kind; received keys 'conv2d', 'filters' \(are the options indented/,
    );
    expect(msg('    - flatten\n    - linear: {units: 10, bias: maybe}\n')).toEqual([
      "x.yaml:8:33: error: model.layers[1].linear.bias: expected true or false, received 'maybe'",
    ]);
    expect(msg('    - conv2d: {filters: 4, kernel_size: [3, 3, 3]}\n    - flatten\n    - linear: 10\n')).toEqual([
      'x.yaml:7:41: error: model.layers[0].conv2d.kernel_size: expected a list of 2 positive integers, received [3,3,3]',
    ]);
  });
});

describe('round trip, hash, sweep', () => {
  it('resolvedToYaml writes a valid experiment that resolves to the same thing', () => {
    for (const f of experiments) {
      const a = loadExperiment(f, { cwd: root });
      expect(a.errors).toEqual([]);
      const yaml = resolvedToYaml(a.experiment);
      const b = loadExperimentText('config.yaml', yaml, { cwd: root });
      expect(b.errors).toEqual([]);
      expect(stripLoc(b.experiment)).toEqual(stripLoc(a.experiment));
      expect(experimentHash(b.experiment)).toBe(experimentHash(a.experiment));
    }
    expect(resolvedToYaml(loadExperiment('experiments/cifar10-sgd.yaml', { cwd: root }).experiment)).toContain(
      '    - conv2d: { filters: 32, kernel_size: 5, stride: 1, padding: 2, bias: true }\n',
    );
  });

  it('experimentHash is stable and sensitive to values only', () => {
    const a = loadExperiment('experiments/cifar10-sgd.yaml', { cwd: root }).experiment;
    const h = experimentHash(a);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    const reordered = { ...a, optimizer: { ...a.optimizer }, model: { ...a.model, layers: a.model.layers.map(({ kind, options }) => ({ options, kind })) } };
    expect(experimentHash(reordered)).toBe(h);
    const b = loadExperiment('experiments/cifar10-sgd.yaml', { cwd: root, overrides: ['optimizer.lr=0.02'] }).experiment;
    expect(experimentHash(b)).not.toBe(h);
  });

});

describe('overrides', () => {
  it('parseOverride parses paths and YAML values', () => {
    expect(parseOverride('model.layers[7].linear.units=20')).toEqual({ text: 'model.layers[7].linear.units=20', path: ['model', 'layers', 7, 'linear', 'units'], value: 20 });
    expect(parseOverride('dataset.normalize={mean: [0.5], std: [0.5]}').value).toEqual({ mean: [0.5], std: [0.5] });
    expect(() => parseOverride('optimizer.lr')).toThrow(/KEY.PATH=VALUE/);
    expect(() => parseOverride('a..b=1')).toThrow(/malformed key path/);
  });
  it('applyOverrides works on plain objects and reports bad paths', () => {
    const { doc, errors } = applyOverrides({ model: { layers: ['flatten', { linear: 10 }] }, loss: 'cross_entropy' }, [
      'model.layers[1].linear.bias=false',
      'loss.label_smoothing=0.1',
      'model.layers[5].linear.units=3',
      'x.y=1',
    ]);
    expect(doc).toMatchObject({ model: { layers: ['flatten', { linear: { units: 10, bias: false } }] }, loss: { name: 'cross_entropy', label_smoothing: 0.1 }, x: { y: 1 } });
    expect(errors).toEqual([{ override: 'model.layers[5].linear.units=3', path: 'model.layers[5].linear.units', message: 'model.layers has 2 entries (indices 0 to 1)' }]);
  });
  it('validateFiles summarises', () => {
    const r = validateFiles(['experiments/cifar10-sgd.yaml', 'test/fixtures/config/negative-lr.yaml'], [], { cwd: root });
    expect(r.ok).toBe(false);
    expect(r.reports.map((x) => x.ok)).toEqual([true, false]);
  });
});
