/**
 * Issue 17 through the CLI on real files: a block + residual experiment trains, checkpoints, resumes to the same
 * metrics as an uninterrupted run, and its checkpoint loads with plain tf.loadLayersModel; a sweep over a block
 * option runs. Tiny synthetic data (needs `npx tsc -p .` first; `npm test` does it).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readMetrics } from '../src/index.js';
import { runDirs, summaryOf, tudui } from './helpers/run-dir.js';

const EXP = [
  'name: tiny-res',
  'seed: 1',
  'dataset: { name: synthetic, shape: [8, 8, 3], classes: 3, train_size: 48, test_size: 12, batch_size: 16 }',
  'model:',
  '  blocks:',
  '    cbr: { params: { f: required, stride: 1 }, layers: [ { conv2d: { filters: $f, kernel_size: 3, stride: $stride, padding: same, bias: false } }, batchnorm, relu ] }',
  '  layers:',
  '    - cbr: { f: 4 }',
  '    - residual: [ { cbr: { f: 4 } }, { cbr: { f: 4 } } ]',
  '    - residual: { shortcut: conv, layers: [ { cbr: { f: 8, stride: 2 } } ] }',
  '    - cbr: { f: 8, repeat: 2 }',
  '    - global_avgpool2d',
  '    - linear: 3',
  'loss: { name: cross_entropy, label_smoothing: 0.1 }',
  'optimizer: { name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.0005 }',
  'epochs: 2',
  '',
].join('\n');

function work(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tudui-resrun-'));
  writeFileSync(join(dir, 'exp.yaml'), EXP);
  return dir;
}

const finals = (run: string) => readMetrics(join(run, 'metrics.jsonl')).filter((p) => p.tag === 'test_loss' || p.tag === 'test_accuracy').map((p) => [p.tag, p.epoch, p.value]);

describe('residual and block experiments through the CLI', () => {
  it('train, resume to the same metrics as an uninterrupted run, and reload the checkpoint with tf.loadLayersModel', async () => {
    const dir = work();
    const full = tudui(['run', 'exp.yaml', '--runs-dir', 'full', '-q'], dir);
    expect(full.stderr).toBe('');
    expect(full.code).toBe(0);
    const [fullRun] = runDirs(join(dir, 'full', 'tiny-res'));
    expect(summaryOf(fullRun!).status).toBe('completed');

    const first = tudui(['run', 'exp.yaml', '--runs-dir', 'split', '-q', '--set', 'epochs=1'], dir);
    expect(first.code, first.stderr).toBe(0);
    const [run] = runDirs(join(dir, 'split', 'tiny-res'));
    expect(readFileSync(join(run!, 'config.yaml'), 'utf8')).toContain('- residual: { shortcut: conv, layers: [ { cbr: { f: 8, stride: 2 } } ] }');
    const resumed = tudui(['resume', run!, '--allow-changed', '--set', 'epochs=2'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summaryOf(run!).status).toBe('completed');
    expect(finals(run!)).toEqual(finals(fullRun!));

    // The checkpoint in the standard layers format: plain tfjs reads the functional topology and the weights.
    await tf.setBackend('cpu');
    const ckpt = join(run!, 'checkpoints', 'last');
    const json = JSON.parse(readFileSync(join(ckpt, 'model.json'), 'utf8'));
    expect(json.modelTopology.class_name).toBe('Model');
    const bytes = readFileSync(join(ckpt, 'weights.bin'));
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) }));
    expect(model.layers.filter((l) => l.getClassName() === 'Add')).toHaveLength(2);
    const y = model.predict(tf.zeros([2, 8, 8, 3])) as tf.Tensor;
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('a sweep over a block option and a repeat count', () => {
    const dir = work();
    writeFileSync(join(dir, 'exp.yaml'), EXP.replace('epochs: 2\n', 'epochs: 1\nsweep:\n  model.layers[3].cbr.f: [6, 8]\n  model.layers[3].cbr.repeat: [1, 2]\n'));
    const v = tudui(['validate', 'exp.yaml'], dir);
    expect(v.stderr).toBe('');
    const r = tudui(['sweep', 'exp.yaml', '--runs-dir', 'sw', '--in-process'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [sweepDir] = runDirs(join(dir, 'sw', 'tiny-res'));
    const summary = JSON.parse(readFileSync(join(sweepDir!, 'summary.json'), 'utf8'));
    expect(JSON.stringify(summary)).toContain('completed');
  });
});
