/**
 * Runs that survive (issue 7), through the real CLI: kill -9 at random moments then `tudui resume`, Ctrl-C,
 * a loss that becomes NaN, a read-only or full runs directory, and resumed == uninterrupted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from './helpers/tfevents.js';
import { sleep, startTudui as startRun, tudui as tuduiWith, waitFor } from './helpers/run-dir.js';

/** The CLI, optionally under a wrapper command (`prefix`: unshare for the full-disk tests). */
const tudui = (args: string[], cwd: string, prefix: string[] = []) => tuduiWith(args, cwd, {}, prefix);


const EXPERIMENT = `
name: survivor
seed: 3
device: cpu
dataset:
  name: synthetic
  shape: [8, 8, 3]
  classes: 4
  train_size: 640
  test_size: 128
  batch_size: 32
  shuffle: true
  augment: { horizontal_flip: true }
model:
  layers:
    - conv2d: { filters: 8, kernel_size: 3, padding: 1 }
    - relu
    - maxpool2d: 2
    - flatten
    - linear: 32
    - relu
    - linear: 4
loss: cross_entropy
optimizer: { name: sgd, lr: 0.02, momentum: 0.9, weight_decay: 0.0001 }
schedule: { name: cosine }
epochs: 6
log: { train_loss_every: 5 }
`;

interface Point {
  tag: string;
  value: number;
  step: number;
}

function metrics(runDir: string): Point[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Point);
}

/** What a run logged that must not depend on interruptions: everything but timings. */
function comparable(runDir: string) {
  return metrics(runDir)
    .filter((p) => p.tag !== 'throughput')
    .map((p) => `${p.tag}@${p.step}=${p.value}`);
}

function runDirs(parent: string): string[] {
  return existsSync(parent) ? readdirSync(parent).sort().map((d) => join(parent, d)) : [];
}

describe('runs that survive', () => {
  let work: string;
  let reference: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tudui-resume-'));
    writeFileSync(join(work, 'exp.yaml'), EXPERIMENT);
    const r = tudui(['run', 'exp.yaml', '--runs-dir', 'ref', '--quiet'], work);
    expect(r.code, r.stderr).toBe(0);
    reference = runDirs(join(work, 'ref', 'survivor'))[0]!;
  });

  it('resumes after kill -9 at random moments and ends with exactly the uninterrupted metrics', async () => {
    const want = comparable(reference);
    // Bounded: a few kills per run, a few runs; each kill lands somewhere in the training.
    for (let trial = 0; trial < 3; trial++) {
      const runsDir = `kill-${trial}`;
      const first = startRun(['run', 'exp.yaml', '--runs-dir', runsDir, '--quiet'], work);
      const parent = join(work, runsDir, 'survivor');
      await waitFor(() => runDirs(parent).length > 0 && existsSync(join(runDirs(parent)[0]!, 'checkpoints', 'last')), 60_000);
      await sleep(Math.random() * 1500);
      first.child.kill('SIGKILL');
      await first.done;
      const dir = runDirs(parent)[0]!;
      // Kill the resumed run too, once, at another random moment.
      const second = startRun(['resume', dir, '--quiet'], work);
      await sleep(1500 + Math.random() * 1500);
      second.child.kill('SIGKILL');
      await second.done;
      const last = tudui(['resume', dir, '--quiet'], work);
      expect(last.code, last.stderr).toBe(0);
      expect(comparable(dir)).toEqual(want);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      expect(summary.status).toBe('completed');
      // TensorBoard sees each (tag, step) once, across all event files of the run directory.
      const seen = new Map<string, number>();
      for (const f of readdirSync(dir).filter((n) => n.startsWith('events.out.tfevents.'))) {
        for (const e of readEvents(join(dir, f))) for (const v of e.values) if (v.simpleValue !== undefined) seen.set(`${v.tag}@${e.step}`, (seen.get(`${v.tag}@${e.step}`) ?? 0) + 1);
      }
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(seen.size).toBe(metrics(dir).length);
    }
  });

  it('on Ctrl-C writes a checkpoint, says how to resume, and the resumed run equals the uninterrupted one', async () => {
    const run = startRun(['run', 'exp.yaml', '--runs-dir', 'sigint'], work);
    const parent = join(work, 'sigint', 'survivor');
    await waitFor(() => runDirs(parent).length > 0 && existsSync(join(runDirs(parent)[0]!, 'checkpoints', 'last')), 60_000);
    await sleep(300);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: finishing the current step/);
    expect(r.stdout).toMatch(/tudui resume /);
    const dir = runDirs(parent)[0]!;
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('interrupted');
    const resumed = tudui(['resume', dir, '--quiet'], work);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(comparable(dir)).toEqual(comparable(reference));
  });

  it('refuses to resume with a changed config and shows the diff, unless --allow-changed', () => {
    const dir = join(work, 'changed');
    const r0 = tudui(['run', 'exp.yaml', '--runs-dir', 'changed-runs', '--quiet', '--set', 'epochs=1'], work);
    expect(r0.code, r0.stderr).toBe(0);
    const run = runDirs(join(work, 'changed-runs', 'survivor'))[0]!;
    const refused = tudui(['resume', run, '--set', 'epochs=2'], work);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/- epochs: 1/);
    expect(refused.stderr).toMatch(/\+ epochs: 2/);
    const allowed = tudui(['resume', run, '--set', 'epochs=2', '--allow-changed', '--quiet'], work);
    expect(allowed.code, allowed.stderr).toBe(0);
    const acc = metrics(run).filter((p) => p.tag === 'test_accuracy');
    expect(acc.map((p) => p.step)).toEqual([1, 2]);
    expect(dir).toBeTruthy();
  });

  it('stops on a loss that becomes NaN, naming the step, and keeps the last good checkpoint', () => {
    // lr grows a million-fold after the first epoch: a real overflow, not an injected one.
    const r = tudui(
      ['run', 'exp.yaml', '--runs-dir', 'nan', '--quiet', '--set', 'schedule={name: step, step_size: 1, gamma: 1000000}', '--set', 'optimizer.momentum=0'],
      work,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/loss became (NaN|Infinity|-Infinity) at step (\d+) \(epoch 2\)/);
    const dir = runDirs(join(work, 'nan', 'survivor'))[0]!;
    expect(r.stderr).toMatch(/the last good checkpoint \(epoch-0001\) is kept/);
    expect(r.stderr).toMatch(/hint: .*tudui resume .* --allow-changed --set optimizer\.lr=/);
    expect(readlinkSync(join(dir, 'checkpoints', 'last'))).toBe('epoch-0001');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('diverged');
    expect(summary.reason).toMatch(/loss became/);
    expect(summary.stopped_at.epoch).toBe(2);
  });

  it('with on_nan: skip, skips such batches, counts them, and never calls a NaN model completed', () => {
    const r = tudui(
      ['run', 'exp.yaml', '--runs-dir', 'nan-skip', '--set', 'on_nan=skip', '--set', 'on_nan_patience=1000', '--set', 'epochs=2', '--set', 'schedule={name: step, step_size: 1, gamma: 1000000}', '--set', 'optimizer.momentum=0'],
      work,
    );
    expect(r.stdout.match(/batch skipped \(on_nan: skip/g)).toHaveLength(1); // one warning, then a count per epoch
    expect(r.stdout).toMatch(/warning: (\d+) batches skipped in epoch 2/);
    const dir = runDirs(join(work, 'nan-skip', 'survivor'))[0]!;
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.skipped_batches).toBeGreaterThan(1);
    // Every batch after the blow-up was skipped: the test loss is NaN, and the run says so instead of 'completed'.
    expect(r.code).toBe(1);
    expect(summary.status).toBe('diverged');
    expect(summary.reason).toMatch(/test loss became NaN after epoch 2/);
  });

  const canMount = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /tmp'], { encoding: 'utf8' }).status === 0;

  it.skipIf(!canMount)('a read-only runs directory: a clear one-line error, nothing half-written', () => {
    const mnt = join(work, 'ro');
    mkdirSync(mnt);
    const r = tudui(['run', 'exp.yaml', '--runs-dir', mnt], work, ['unshare', '-rm', 'sh', '-c', `mount -t tmpfs -o ro,size=1m tmpfs ${mnt} && exec "$@"`, 'sh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write .*ro.*(permission denied|EROFS)|read-only/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.skipIf(!canMount)('a disk that fills up mid-run: a clear error, earlier checkpoints intact and loadable', () => {
    const mnt = join(work, 'full');
    mkdirSync(mnt);
    // Big enough for the config and a few checkpoints (~30 KB each), too small for all six epochs' worth.
    const script = `mount -t tmpfs -o size=100k tmpfs ${mnt} && "$@"; s=$?; cp -r ${mnt} ${mnt}-copy; exit $s`;
    const r = tudui(['run', 'exp.yaml', '--runs-dir', mnt, '--quiet', '--set', 'model.layers[4].linear.units=256'], work, ['unshare', '-rm', 'sh', '-c', script, 'sh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no space left on device/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const dir = runDirs(join(`${mnt}-copy`, 'survivor'))[0]!;
    const ckpts = readdirSync(join(dir, 'checkpoints')).filter((n) => n.startsWith('epoch-'));
    for (const c of ckpts) {
      const p = join(dir, 'checkpoints', c);
      const json = JSON.parse(readFileSync(join(p, 'model.json'), 'utf8'));
      const bytes = json.weightsManifest[0].weights.reduce((s: number, w: { shape: number[] }) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
      expect(readFileSync(join(p, 'weights.bin')).length).toBe(bytes);
    }
  });
});
