/**
 * A checkpoint is self-describing: plain @tensorflow/tfjs in Node loads it with the README's few lines (no
 * tfjs-node: model.json and weights.bin read from disk into tf.io.fromMemory) and, following only the metadata in
 * model.json, preprocesses a picture and predicts what `tudui predict` predicts. This file imports nothing of
 * tudui's sources: the run is made by the CLI.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { tudui } from './helpers/run-dir.js';
import { COLOURS, colourPixels, trainColours, trainDigits } from './helpers/trained-runs.js';

// --- The README's snippet ("Using a trained model"), verbatim -----------------------------------------------------
async function loadCheckpoint(dir: string) {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const weightData = new Uint8Array(Buffer.concat(json.weightsManifest.flatMap((g: any) => g.paths.map((p: string) => readFileSync(join(dir, p)))))).buffer;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: any) => g.weights), weightData }),
  );
  return { model, meta: json.userDefinedMetadata.tudui };
}

/** pixels: h×w×c 8-bit values, already resized to meta.input.shape (e.g. with sharp). */
function classify(model: tf.LayersModel, meta: any, pixels: Uint8Array) {
  const { shape, max_value, value_scale, normalize } = meta.input;
  return tf.tidy(() => {
    let x = tf.tensor3d(pixels, shape, 'float32').mul(max_value / 255).round().mul(value_scale);
    if (normalize) x = x.sub(normalize.mean).div(normalize.std);
    const out = model.predict(x.expandDims(0)) as tf.Tensor;
    const probs = (meta.output === 'logits' ? tf.softmax(out) : out).dataSync();
    return Array.from(probs, (p, i) => ({ class: meta.classes[i], p })).sort((a, b) => b.p - a.p);
  });
}
// -----------------------------------------------------------------------------------------------------------------

describe('a checkpoint in plain tfjs', () => {
  let work: string;
  let digits: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tudui-meta-'));
    digits = trainDigits(work);
  });

  it('model.json carries what inference needs', () => {
    const json = JSON.parse(readFileSync(join(digits, 'checkpoints', 'best', 'model.json'), 'utf8'));
    const meta = json.userDefinedMetadata.tudui;
    const state = JSON.parse(readFileSync(join(digits, 'checkpoints', 'best', 'state.json'), 'utf8'));
    expect(meta.input).toEqual({ shape: [8, 8, 1], layout: 'NHWC', channels: 1, max_value: 16, value_scale: 1 / 16, normalize: null, resize: 'fill', colour: 'luma' });
    expect(meta.output).toBe('logits');
    expect(meta.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(meta.dataset.name).toBe('digits');
    expect(meta.dataset.source).toMatch(/digits\.csv\.gz$/);
    expect(meta.config_hash).toBe(state.config_hash);
    expect(meta.config_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(meta.experiment.model.layers.map((l: { kind: string }) => l.kind)).toEqual(['conv2d', 'relu', 'maxpool2d', 'flatten', 'linear']);
    expect(meta.experiment.dataset.eval_batch_size).toBe(50);
    expect(meta.epoch).toBe(state.epoch);
  });

  it('loads with tf.io.fromMemory and classifies a digit picture as tudui predict does', async () => {
    // one picture per class from the shipped data, through the CLI's predict as the reference
    const csv = (await import('node:zlib')).gunzipSync(readFileSync(join(import.meta.dirname, '..', 'data', 'digits', 'digits.csv.gz'))).toString().trim().split('\n');
    const files: string[] = [];
    for (let i = 0; i < 10; i++) {
      const v = csv[i * 37]!.split(',').map(Number);
      const file = join(work, `digit-${i}.png`);
      await sharp(Buffer.from(v.slice(0, 64).map((x) => Math.round((x * 255) / 16))), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(file);
      files.push(file);
    }
    const r = tudui(['predict', digits, ...files, '--json', '--top-k', '10'], work);
    expect(r.code).toBe(0);
    const want = JSON.parse(r.stdout).predictions;
    const { model, meta } = await loadCheckpoint(join(digits, 'checkpoints', 'best'));
    for (let i = 0; i < files.length; i++) {
      const { data } = await sharp(files[i]!).resize(8, 8, { fit: 'fill' }).greyscale().raw().toBuffer({ resolveWithObject: true });
      const got = classify(model, meta, new Uint8Array(data));
      expect(got[0]!.class).toBe(want[i].top[0].class);
      for (const t of want[i].top) expect(got.find((g) => g.class === t.class)!.p).toBeCloseTo(t.probability, 5);
    }
    model.dispose();
  });

  it('an image-folder checkpoint carries its class names and normalisation', async () => {
    const run = await trainColours(work);
    const { model, meta } = await loadCheckpoint(join(run, 'checkpoints', 'last'));
    expect(meta.classes).toEqual(['blue', 'green leaf', 'red']);
    expect(meta.input).toMatchObject({ shape: [8, 8, 3], max_value: 255, value_scale: 1 / 255, normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, colour: 'srgb' });
    const file = join(work, 'red.png');
    await sharp(Buffer.from(colourPixels(COLOURS.red!, 99, 8, 8)), { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(file);
    const want = JSON.parse(tudui(['predict', join(run, 'checkpoints', 'last'), file, '--json'], work).stdout).predictions[0].top;
    const { data } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const got = classify(model, meta, new Uint8Array(data));
    expect(got[0]!.class).toBe(want[0].class);
    expect(got[0]!.p).toBeCloseTo(want[0].probability, 5);
    model.dispose();
  });
});
