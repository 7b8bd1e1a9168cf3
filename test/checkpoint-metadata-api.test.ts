/**
 * The library's `loadModel(dir)`: classes, `preprocess` giving exactly the input the training pipeline built for
 * the same image, `classify` agreeing with the CLI, and checkpoints from before the metadata existed still loading
 * (described by their run's config.yaml).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { batches, DIGITS_INFO, loadDataset } from '../src/data/index.js';
import { loadModel } from '../src/index.js';
import { pictureValue } from '../src/infer/preprocess.js';
import { tudui } from './helpers/run-dir.js';
import { trainDigits } from './helpers/trained-runs.js';
import { runDirs } from './helpers/run-dir.js';

describe('loadModel', () => {
  let work: string;
  let run: string;
  let png: Buffer;
  let first: Float32Array;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tudui-loadmodel-'));
    run = trainDigits(work);
    const { test } = await loadDataset({ name: 'digits' });
    png = await sharp(Buffer.from(Array.from(test.images.subarray(0, 64), (v) => pictureValue(v, 16))), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
    first = [...batches(test, DIGITS_INFO, { batchSize: 1, shuffle: false, dropLast: false, seed: 0, epoch: 0, normalize: null, augment: null })][0]!.x;
  });

  it('gives the classes, and preprocess turns picture bytes into the very input training used', async () => {
    const m = await loadModel(run);
    expect(m.classes).toEqual(DIGITS_INFO.classNames);
    expect(m.checkpoint.label).toMatch(/^epoch-000\d \(best\)$/);
    const x = await m.preprocess(png);
    expect(x.shape).toEqual([1, 8, 8, 1]);
    expect(Array.from(await x.data())).toEqual(Array.from(first));
    // raw pixels (a browser ImageData is RGBA) give the same input
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const y = await m.preprocess({ data: new Uint8ClampedArray(data), width: info.width, height: info.height, channels: 4 });
    expect(Array.from(await y.data())).toEqual(Array.from(first));
    x.dispose();
    y.dispose();
    m.dispose();
  });

  it('classify agrees with tudui predict', async () => {
    writeFileSync(join(work, 'first.png'), png);
    const cli = JSON.parse(tudui(['predict', run, 'first.png', '--json'], work).stdout).predictions[0].top;
    const m = await loadModel(run);
    const [got, bad] = await m.classify([png, Buffer.from('nope')], { topK: 3, names: ['first.png', 'nope.png'] });
    expect((got as unknown[]).length).toBe(3);
    expect((got as Array<{ class: string }>).map((t) => t.class)).toEqual(cli.map((t: { class: string }) => t.class));
    expect((bad as { error: string }).error).toMatch(/^cannot decode image nope\.png: /);
    m.dispose();
  });

  it('a checkpoint from before self-describing checkpoints is described by its run config', async () => {
    const copy = join(work, 'old-run');
    cpSync(run, copy, { recursive: true });
    const dir = join(copy, 'checkpoints', 'epoch-0002');
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const { epoch, global_step, metrics } = json.userDefinedMetadata.tudui;
    json.userDefinedMetadata = { tudui: { epoch, global_step, metrics } };
    const text = JSON.stringify(json);
    writeFileSync(join(dir, 'model.json'), text);
    const sums = JSON.parse(readFileSync(join(dir, 'checksums.json'), 'utf8'));
    sums.files['model.json'] = { size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
    writeFileSync(join(dir, 'checksums.json'), JSON.stringify(sums));
    const m = await loadModel(dir);
    expect(m.metadata.input.max_value).toBe(16);
    expect(m.classes).toEqual(DIGITS_INFO.classNames);
    const x = await m.preprocess(png);
    expect(Array.from(await x.data())).toEqual(Array.from(first));
    x.dispose();
    m.dispose();
  });

  it('a model with blocks, repeat and a residual loads from its checkpoint alone, and eval matches the log', async () => {
    writeFileSync(
      join(work, 'res.yaml'),
      `name: res
seed: 1
device: cpu
dataset: { name: digits, batch_size: 32 }
model:
  blocks:
    cr:
      params: { f: required }
      layers: [ { conv2d: { filters: $f, kernel_size: 3, padding: 1 } }, relu ]
  layers:
    - cr: { f: 6 }
    - residual: [ { cr: { f: 6 } }, { conv2d: { filters: 6, kernel_size: 3, padding: 1, repeat: 2 } } ]
    - maxpool2d: 2
    - flatten
    - linear: 10
optimizer: { name: adam, lr: 0.01 }
epochs: 1
`,
    );
    expect(tudui(['run', 'res.yaml', '--runs-dir', 'runs', '-q'], work).code).toBe(0);
    const res = runDirs(join(work, 'runs', 'res')).at(-1)!;
    const meta = JSON.parse(readFileSync(join(res, 'checkpoints', 'last', 'model.json'), 'utf8')).userDefinedMetadata.tudui;
    expect(meta.experiment.model.blocks.cr.params).toEqual({ f: 'required' });
    expect(meta.experiment.model.layers[1].kind).toBe('residual');
    const m = await loadModel(join(res, 'checkpoints', 'last'));
    const x = await m.preprocess(png);
    expect(x.shape).toEqual([1, 8, 8, 1]);
    x.dispose();
    m.dispose();
    const ev = JSON.parse(tudui(['eval', res, '--json'], work).stdout);
    const logged = JSON.parse(readFileSync(join(res, 'summary.json'), 'utf8')).history[0];
    expect([ev.loss, ev.accuracy]).toEqual([logged.test_loss, logged.test_accuracy]);
  });
});
