/**
 * A run directory that never lies (issue 12), through the real CLI on real files: every failing command leaves the
 * run directory byte-for-byte as it was; config changes are recorded; statuses and messages say what happened.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from './helpers/tfevents.js';
import { runDirs, snapshot, summaryOf, tudui } from './helpers/run-dir.js';

const EXPERIMENT = `
name: honest
seed: 5
device: cpu
dataset:
  name: synthetic
  shape: [6, 6, 2]
  classes: 3
  train_size: 64
  test_size: 32
  batch_size: 16
model:
  layers:
    - conv2d: { filters: 4, kernel_size: 3, padding: 1 }
    - relu
    - flatten
    - linear: 3
optimizer: { name: sgd, lr: 0.05, momentum: 0.9 }
epochs: 2
log: { train_loss_every: 2 }
`;

interface Point {
  tag: string;
  value: number;
  step: number;
}

function metrics(dir: string): Point[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Point);
}

let counter = 0;

describe('a run directory that never lies', () => {
  let work: string;
  /** A completed 2-epoch run, kept pristine: each test works on its own copy. */
  let pristine: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tudui-rundir-'));
    writeFileSync(join(work, 'exp.yaml'), EXPERIMENT);
    const r = tudui(['run', 'exp.yaml', '--runs-dir', 'base', '--quiet'], work);
    expect(r.code, r.stderr).toBe(0);
    pristine = runDirs(join(work, 'base', 'honest'))[0]!;
  });

  const copy = () => {
    const dir = join(work, `copy-${counter++}`);
    cpSync(pristine, dir, { recursive: true, verbatimSymlinks: true });
    return dir;
  };

  /** Run a command that must fail and prove the run directory did not change. */
  const failsUnchanged = (dir: string, args: string[]) => {
    const before = snapshot(dir);
    const r = tudui(args, work);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(snapshot(dir)).toEqual(before);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    return r;
  };

  it('a fresh run keeps its original config beside config.yaml, and TensorBoard gets it as YAML', () => {
    expect(readFileSync(join(pristine, 'config.original.yaml'), 'utf8')).toBe(readFileSync(join(pristine, 'config.yaml'), 'utf8'));
    expect(existsSync(join(pristine, 'config-history.jsonl'))).toBe(false);
    expect(existsSync(join(pristine, 'tudui.lock'))).toBe(false);
    const texts = readdirSync(pristine)
      .filter((f) => f.startsWith('events.out.tfevents.'))
      .flatMap((f) => readEvents(join(pristine, f)))
      .flatMap((e) => e.values.filter((v) => v.tag === 'config'));
    expect(texts).toHaveLength(1);
    const text = Buffer.from((texts[0] as unknown as { tensor: { stringVal: Uint8Array[] } }).tensor.stringVal[0]!).toString('utf8');
    expect(text).toMatch(/name: honest/);
    expect(text).toMatch(/conv2d: \{ filters: 4/);
    expect(text).not.toContain(work); // no absolute paths of this machine
    expect(text).not.toMatch(/"loc"|"kind"/); // no internal structures
  });

  it('case 1: a resume whose new config does not fit the checkpoint fails and changes nothing; a plain resume then still works', () => {
    const dir = copy();
    const r = failsUnchanged(dir, ['resume', dir, '--from', 'epoch-0001', '--allow-changed', '--set', 'model.layers[0].conv2d.filters=16']);
    expect(r.stderr).toMatch(/weight shapes differ/);
    expect(r.stderr).toMatch(/epoch-0001/);
    const plain = tudui(['resume', dir, '--from', 'epoch-0001', '--quiet'], work);
    expect(plain.code, plain.stderr).toBe(0);
    expect(summaryOf(dir).status).toBe('completed');
    expect(metrics(dir).map((p) => `${p.tag}@${p.step}`)).toEqual(metrics(pristine).map((p) => `${p.tag}@${p.step}`));
  });

  it('case 2: a hand-edited config.yaml is refused with the real diff; --allow-changed records the change', () => {
    const dir = copy();
    const original = readFileSync(join(dir, 'config.yaml'), 'utf8');
    writeFileSync(join(dir, 'config.yaml'), original.replace('lr: 0.05', 'lr: 0.01'));
    const r = failsUnchanged(dir, ['resume', dir]);
    expect(r.stderr).toMatch(/the experiment changed since this run started:\n {2}- optimizer\.lr: 0\.05\n {2}\+ optimizer\.lr: 0\.01\n/);
    const ok = tudui(['resume', dir, '--allow-changed', '--set', 'epochs=3', '--quiet'], work);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(dir, 'config.original.yaml'), 'utf8')).toBe(original);
    const history = readFileSync(join(dir, 'config-history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ epoch: 2, global_step: 8, checkpoint: 'epoch-0002' });
    expect(history[0].changes).toEqual([
      { key: 'optimizer.lr', old: 0.05, new: 0.01 },
      { key: 'epochs', old: 2, new: 3 },
    ]);
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toMatch(/^# Changed once since the run started/);
    const s = summaryOf(dir);
    expect(s).toMatchObject({ status: 'completed', epochs: 3, epochs_completed: 3, config_changes: 1 });
    // The next change is diffed against the accepted config, not the original.
    const again = failsUnchanged(dir, ['resume', dir, '--set', 'epochs=4']);
    expect(again.stderr).toMatch(/since this run last accepted a change:\n {2}- epochs: 3\n {2}\+ epochs: 4\n/);
    expect(again.stderr).not.toMatch(/optimizer\.lr/);
  });

  it('case 2b: a config.yaml edited into an invalid file is refused, nothing changes', () => {
    const dir = copy();
    writeFileSync(join(dir, 'config.yaml'), readFileSync(join(dir, 'config.yaml'), 'utf8').replace('lr: 0.05', 'lr: -1'));
    const r = failsUnchanged(dir, ['resume', dir, '--allow-changed']);
    expect(r.stderr).toMatch(/optimizer\.lr/);
  });

  it('case 6: resuming a completed run says so and writes nothing', () => {
    const dir = copy();
    const before = snapshot(dir);
    const r = tudui(['resume', dir], work);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/already completed 2 of 2 epochs; nothing to do/);
    expect(r.stdout).toMatch(/--allow-changed --set epochs=3/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('case 6: epochs can only be extended', () => {
    const dir = copy();
    const r = failsUnchanged(dir, ['resume', dir, '--allow-changed', '--set', 'epochs=1']);
    expect(r.stderr).toMatch(/epochs can only be extended: this run is planned for 2 epochs \(2 completed\), not 1/);
    const ok = tudui(['resume', dir, '--allow-changed', '--set', 'epochs=3', '--quiet'], work);
    expect(ok.code, ok.stderr).toBe(0);
    expect(summaryOf(dir)).toMatchObject({ status: 'completed', epochs: 3, epochs_completed: 3 });
    expect(metrics(dir).filter((p) => p.tag === 'test_accuracy').map((p) => p.step)).toEqual([1, 2, 3]);
  });

  it('a changed config that is refused, and unknown options, change nothing', () => {
    const dir = copy();
    failsUnchanged(dir, ['resume', dir, '--set', 'optimizer.lr=0.5']);
    failsUnchanged(dir, ['resume', dir, '--set', 'optimizer.lr=oops', '--allow-changed']);
    failsUnchanged(dir, ['resume', dir, '--bogus']);
    failsUnchanged(dir, ['resume', dir, '--device', 'tpu']);
  });
});
