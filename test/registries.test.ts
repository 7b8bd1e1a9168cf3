/**
 * The registries of datasets, optimizers, schedules and losses (src/registry.ts): one small check per kind, the
 * lookups that list valid names, and what the schema and validation read from them.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDataset, datasetInfo, staticTrainSize } from '../src/data/index.js';
import { datasets } from '../src/data/registry.js';
import { pick, Registry } from '../src/registry.js';
import { losses } from '../src/train/loss-registry.js';
import { perExampleLoss } from '../src/train/loss.js';
import { optimizers } from '../src/train/optimizer-registry.js';
import { Optimizer } from '../src/train/optimizers.js';
import { learningRate } from '../src/train/schedule.js';
import { schedules } from '../src/train/schedule-registry.js';
import { loadExperimentText, type ResolvedExperiment } from '../src/config/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Registry', () => {
  const table = { a: { description: '{only}: a.', type: 'integer', default: 1 }, b: { description: 'b ({users}).', type: 'number', default: 0 } };
  const reg = new Registry<{ name: string; description: string; options: Record<string, never> | ReturnType<typeof pick> }>('widget', table, []);
  reg.register({ name: 'x', description: '', options: pick(table, ['a', 'b']) });
  reg.register({ name: 'y', description: '', options: pick(table, ['b'], { b: 2 }) });

  it('lists the valid names on a miss and refuses a name or an option it cannot hold', () => {
    expect(() => reg.get('z')).toThrow("unknown widget 'z'; valid widgets: x, y");
    expect(() => reg.register({ name: 'x', description: '', options: {} })).toThrow(/registered twice/);
    expect(() => reg.register({ name: 'w', description: '', options: { c: { description: 'c' } } as never })).toThrow(/not in the widget table/);
  });

  it('fills the users into descriptions, and words a default that differs between kinds', () => {
    expect(reg.properties()).toEqual({
      a: { description: 'x only: a.', type: 'integer', default: 1 },
      b: { description: 'b (x, y). Default 0; y 2.', type: 'number' },
    });
    expect(reg.defaults(reg.get('y'))).toEqual({ a: 1, b: 2 });
    expect(reg.defaults(reg.get('y'), true)).toEqual({ b: 2 });
    expect(reg.users('a')).toEqual(['x']);
  });
});

describe('datasets', () => {
  it('are the six datasets, in the schema order', () => {
    expect(datasets.names()).toEqual(['cifar10', 'mnist', 'fashion-mnist', 'digits', 'image-folder', 'synthetic']);
  });
  it.each([
    ['cifar10', [32, 32, 3, 10], 50000],
    ['mnist', [28, 28, 1, 10], 60000],
    ['fashion-mnist', [28, 28, 1, 10], 60000],
    ['digits', [8, 8, 1, 10], 1438],
    ['synthetic', [8, 8, 1, 4], 512],
  ])('%s: static shape, classes and training-set size', (name, [h, w, c, k], n) => {
    const info = datasetInfo({ name })!;
    expect([info.height, info.width, info.channels, info.classes]).toEqual([h, w, c, k]);
    expect(staticTrainSize({ name, train_limit: 100 })).toBe(Math.min(n!, 100));
  });
  it('image-folder: needs a root; values outside the schema are refused by the data layer too', () => {
    expect(checkDataset({ name: 'image-folder' })).toEqual([{ key: 'root', message: 'dataset.root is required for image-folder (a directory with train/<class>/ and test/<class>/)' }]);
    expect(() => datasetInfo({ name: 'image-folder', root: '/nowhere', channels: 2 })).toThrow('dataset.channels must be 1 or 3, got 2 for image-folder');
    expect(() => datasetInfo({ name: 'synthetic', classes: 1 })).toThrow('dataset.classes must be an integer ≥ 2 and ≤ 256, got 1 for synthetic');
  });
});

/** One step of `name` on w = [1, -2] with gradient [0.5, 0.25]. */
function step(config: Partial<ResolvedExperiment['optimizer']>): number[] {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const opt = new Optimizer({ lr: 0.1, ...config } as ResolvedExperiment['optimizer'], { inPlace: false });
  const g = tf.tensor1d([0.5, 0.25]);
  opt.step([p], [g], 0.1);
  const out = Array.from(p.dataSync());
  opt.dispose();
  tf.dispose([p, g]);
  return out;
}

describe('optimizers', () => {
  it('are sgd, adam, adamw, rmsprop; adamw decays weights by 0.01 unless told', () => {
    expect(optimizers.names()).toEqual(['sgd', 'adam', 'adamw', 'rmsprop']);
    expect(optimizers.defaults(optimizers.get('adamw')).weight_decay).toBe(0.01);
    expect(optimizers.defaults(optimizers.get('sgd')).weight_decay).toBe(0);
  });
  it('sgd: p − lr·g; nesterov without momentum is a problem', () => {
    const [a, b] = step({ name: 'sgd' });
    expect(a).toBeCloseTo(0.95, 6);
    expect(b).toBeCloseTo(-2.025, 6);
    expect(optimizers.get('sgd').check!({ name: 'sgd', nesterov: true, momentum: 0 } as ResolvedExperiment['optimizer'])).toEqual([{ key: 'nesterov', message: 'nesterov needs momentum > 0' }]);
  });
  it('adam: the first step moves each weight by lr against the gradient sign', () => {
    const [a, b] = step({ name: 'adam' });
    expect(a).toBeCloseTo(0.9, 5);
    expect(b).toBeCloseTo(-2.1, 5);
  });
  it('adamw: the same step after decoupled decay p·(1 − lr·wd)', () => {
    const [a, b] = step({ name: 'adamw' });
    expect(a).toBeCloseTo(1 * (1 - 0.1 * 0.01) - 0.1, 5);
    expect(b).toBeCloseTo(-2 * (1 - 0.1 * 0.01) - 0.1, 5);
  });
  it('rmsprop: g / (√((1 − α)·g²) + eps)', () => {
    const [a] = step({ name: 'rmsprop' });
    expect(a).toBeCloseTo(1 - (0.1 * 0.5) / (Math.sqrt(0.01 * 0.25) + 1e-8), 4);
  });
});

describe('schedules', () => {
  const exp = (schedule: Record<string, unknown>) => ({ optimizer: { lr: 1 }, schedule, epochs: 10 }) as unknown as ResolvedExperiment;
  it('constant keeps lr; warm-up applies to every schedule', () => {
    expect(schedules.names()).toEqual(['constant', 'step', 'cosine', 'plateau']);
    expect(learningRate(exp({ name: 'constant' }), 57, 10)).toBe(1);
    expect(learningRate(exp({ name: 'constant', warmup_epochs: 1 }), 4, 10)).toBe(0.5);
    // plateau: the rate the loop has reached (its state), lr before it has one
    expect(learningRate(exp({ name: 'plateau' }), 57, 10, 0.25)).toBe(0.25);
    expect(learningRate(exp({ name: 'plateau' }), 57, 10)).toBe(1);
  });
  it('step: × gamma every step_size epochs, step_size 10 by default', () => {
    expect(learningRate(exp({ name: 'step', step_size: 2, gamma: 0.5 }), 45, 10)).toBe(0.25);
    expect(learningRate(exp({ name: 'step' }), 95, 10)).toBe(1);
    expect(schedules.defaults(schedules.get('step'))).toMatchObject({ step_size: 10, gamma: 0.1 });
  });
  it('cosine: lr at the start, min_lr at the end, halfway between in the middle', () => {
    expect(learningRate(exp({ name: 'cosine', min_lr: 0.2 }), 0, 10)).toBe(1);
    expect(learningRate(exp({ name: 'cosine', min_lr: 0.2 }), 50, 10)).toBeCloseTo(0.6, 12);
    expect(learningRate(exp({ name: 'cosine', min_lr: 0.2 }), 100, 10)).toBeCloseTo(0.2, 12);
  });
});

describe('losses', () => {
  const logits = () => tf.tensor2d([[2, 0, 0]]);
  const labels = () => tf.tensor1d([0], 'int32');
  it('cross_entropy: −log softmax of the label, with label smoothing', () => {
    expect(losses.names()).toEqual(['cross_entropy', 'mse']);
    const want = -Math.log(Math.exp(2) / (Math.exp(2) + 2));
    expect(perExampleLoss({ name: 'cross_entropy', label_smoothing: 0 }, logits(), labels(), 3).dataSync()[0]).toBeCloseTo(want, 5);
    const logp = [2, 0, 0].map((v) => v - Math.log(Math.exp(2) + 2));
    const smooth = -(logp[0]! * (0.9 + 0.1 / 3) + (logp[1]! + logp[2]!) * (0.1 / 3));
    expect(perExampleLoss({ name: 'cross_entropy', label_smoothing: 0.1 }, logits(), labels(), 3).dataSync()[0]).toBeCloseTo(smooth, 5);
  });
  it('mse: mean squared error against the one-hot label; label_smoothing is not one of its options', () => {
    expect(perExampleLoss({ name: 'mse' }, logits(), labels(), 3).dataSync()[0]).toBeCloseTo(1 / 3, 6);
    const r = loadExperimentText('x.yaml', 'name: x\ndataset: { name: synthetic }\nmodel: { layers: [flatten, { linear: 4 }] }\nloss: { name: mse, label_smoothing: 0.1 }\noptimizer: { name: sgd, lr: 0.1 }\nepochs: 1\n');
    expect(r.errors.map((e) => e.message)).toEqual(['only used by cross_entropy']);
  });
});
