/**
 * `tudui run` end to end, through the real CLI on real files: the run directory's events decode with the
 * independent decoder, checkpoints reload with tf.loadLayersModel and reproduce the logged accuracy, and
 * summary.json, metrics.jsonl and the events agree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readScalars } from './helpers/tfevents.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'tudui.js');

function tudui(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TUDUI_TRACE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const EXPERIMENT = `
name: tiny-synthetic
seed: 7
device: cpu
dataset:
  name: synthetic
  shape: [8, 8, 3]
  classes: 3
  train_size: 96
  test_size: 48
  batch_size: 16
  shuffle: true
  normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }
model:
  layers:
    - conv2d: { filters: 4, kernel_size: 3, padding: 1 }
    - relu
    - maxpool2d: 2
    - flatten
    - linear: 3
loss: cross_entropy
optimizer: { name: sgd, lr: 0.05, momentum: 0.9 }
epochs: 3
log: { train_loss_every: 2 }
`;

interface Metric {
  tag: string;
  value: number;
  step: number;
  epoch: number;
}

function findRunDirs(runsDir: string, name: string): string[] {
  const parent = join(runsDir, name);
  return existsSync(parent) ? readdirSync(parent).sort().map((d) => join(parent, d)) : [];
}

describe('tudui run', () => {
  let work: string;
  let runDir: string;
  let result: ReturnType<typeof tudui>;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tudui-run-'));
    writeFileSync(join(work, 'tiny.yaml'), EXPERIMENT);
    result = tudui(['run', 'tiny.yaml', '--runs-dir', 'out'], work);
    runDir = findRunDirs(join(work, 'out'), 'tiny-synthetic')[0]!;
  });

  it('exits 0, prints the summary table, the backend and one line per epoch', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/total trainable parameters: 307/);
    expect(result.stdout).toMatch(/^device cpu: (tudui-native|wasm|tfjs-node|tensorflow|cpu) \(/m); // the short device line (full: --verbose)
    expect(result.stdout.match(/^epoch \d\/3 /gm)).toHaveLength(3);
  });

  it('writes the resolved config, which validates on its own', () => {
    const config = join(runDir, 'config.yaml');
    expect(existsSync(config)).toBe(true);
    const text = readFileSync(config, 'utf8');
    expect(text).toMatch(/batch_size: 16/);
    expect(text).toMatch(/eval_batch_size/); // defaults are filled in
    const v = tudui(['validate', config], work);
    expect(v.code, v.stderr).toBe(0);
  });

  it('logs train_loss every 2 global steps and test metrics each epoch, identically in events and metrics.jsonl', () => {
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Metric);
    const scalars = readScalars(runDir);
    const stepsPerEpoch = 96 / 16;
    const trainSteps = metrics.filter((m) => m.tag === 'train_loss').map((m) => m.step);
    expect(trainSteps).toEqual(Array.from({ length: (3 * stepsPerEpoch) / 2 }, (_, i) => 2 * (i + 1)));
    for (const tag of ['train_loss', 'test_loss', 'test_accuracy', 'lr', 'throughput']) {
      const fromMetrics = metrics.filter((m) => m.tag === tag);
      const fromEvents = scalars.get(tag) ?? [];
      expect(fromEvents.map((e) => e.step), tag).toEqual(fromMetrics.map((m) => m.step));
      // Events hold float32 (simple_value), metrics.jsonl the double it came from.
      fromEvents.forEach((e, i) => expect(e.value).toBe(Math.fround(fromMetrics[i]!.value)));
    }
    expect(scalars.get('test_accuracy')!.map((e) => e.step)).toEqual([1, 2, 3]);
  });

  it('learns: the synthetic signal is picked up within 3 epochs', () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('completed');
    expect(summary.final.test_accuracy).toBeGreaterThan(0.6);
    expect(summary.history[2].train_loss).toBeLessThan(summary.history[0].train_loss);
  });

  it('summary.json agrees with the metrics and records backend, seed and versions', () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Metric);
    const acc = metrics.filter((m) => m.tag === 'test_accuracy');
    expect(summary.final.test_accuracy).toBe(acc[acc.length - 1]!.value);
    expect(summary.best.value).toBe(Math.max(...acc.map((m) => m.value)));
    expect(summary.epochs_completed).toBe(3);
    expect(summary.global_step).toBe(18);
    expect(summary.seed).toBe(7);
    expect(summary.backend).toMatch(/\S/);
    expect(summary.versions.tfjs).toMatch(/^\d+\.\d+/);
    expect(summary.durations.epochs_s).toHaveLength(3);
    // No tensor leaks: the count is the same after every epoch.
    expect(new Set(summary.tensors_after_epoch).size).toBe(1);
  });

  it('writes one checkpoint per epoch with last/best pointers, reloadable with tf.loadLayersModel', async () => {
    const ckpts = join(runDir, 'checkpoints');
    expect(readdirSync(ckpts).filter((n) => n.startsWith('epoch-')).sort()).toEqual(['epoch-0001', 'epoch-0002', 'epoch-0003']);
    expect(readlinkSync(join(ckpts, 'last'))).toBe('epoch-0003');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(readlinkSync(join(ckpts, 'best'))).toBe(`epoch-${String(summary.best.epoch).padStart(4, '0')}`);

    // Reload the last checkpoint from its files, exactly as a tfjs user would, and re-evaluate on the test split.
    await tf.setBackend('cpu');
    const dir = join(ckpts, 'last');
    const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(modelJson.format).toBe('layers-model');
    const weightSpecs = modelJson.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
    const weightData = new Uint8Array(readFileSync(join(dir, modelJson.weightsManifest[0].paths[0]))).buffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));

    const { loadDataset, batches } = await import('../src/data/index.js');
    const { loadExperiment } = await import('../src/config/index.js');
    const { experiment } = loadExperiment(join(runDir, 'config.yaml'), { cwd: work });
    const data = await loadDataset(experiment.dataset, { cwd: work, seed: experiment.seed });
    let correct = 0;
    for (const b of batches(data.test, data.info, {
      batchSize: 48,
      shuffle: false,
      dropLast: false,
      seed: 0,
      epoch: 0,
      normalize: experiment.dataset.normalize,
      augment: null,
    })) {
      const logits = model.predict(tf.tensor4d(b.x, [b.size, 8, 8, 3])) as tf.Tensor;
      const pred = logits.argMax(1).dataSync();
      b.y.forEach((y, i) => (correct += pred[i] === y ? 1 : 0));
    }
    // The library's own loader gives the same model.
    const { loadCheckpointModel } = await import('../src/index.js');
    const viaApi = await loadCheckpointModel(dir);
    const probe = tf.ones([2, 8, 8, 3]);
    expect(Array.from((viaApi.predict(probe) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(probe) as tf.Tensor).dataSync()));
    expect(correct / data.test.count).toBeCloseTo(summary.final.test_accuracy, 1);
    expect(Math.abs(correct - summary.final.test_accuracy * data.test.count)).toBeLessThanOrEqual(1);
  });

  it('is repeatable: the same file gives the same losses, in a second run directory with a suffix if needed', () => {
    const again = tudui(['run', 'tiny.yaml', '--runs-dir', 'out', '--quiet'], work);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^run: .*out\/tiny-synthetic\/\d{8}-\d{6}(-\d+)?\n$/); // -q: only where the run is
    const dirs = findRunDirs(join(work, 'out'), 'tiny-synthetic');
    expect(dirs).toHaveLength(2);
    const losses = (d: string) =>
      readFileSync(join(d, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Metric)
        .filter((m) => m.tag === 'train_loss' || m.tag === 'test_loss')
        .map((m) => m.value);
    expect(losses(dirs[1]!)).toEqual(losses(dirs[0]!));
  });

  it('refuses an unavailable GPU with a message saying what is missing, and never falls back', () => {
    const r = tudui(['run', 'tiny.yaml', '--runs-dir', 'out-gpu', '--device', 'gpu', '--quiet'], work);
    if (r.code === 0) return; // a machine with a working GPU backend
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gpu/i);
    expect(r.stderr).toMatch(/tfjs-node-gpu|webgpu/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('rejects an invalid file before creating anything', () => {
    writeFileSync(join(work, 'bad.yaml'), EXPERIMENT.replace('epochs: 3', 'epochs: -1'));
    const r = tudui(['run', 'bad.yaml', '--runs-dir', 'out-bad'], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: error: epochs/);
    expect(existsSync(join(work, 'out-bad'))).toBe(false);
  });
});
