/**
 * A run directory that never lies (issue 12), through the real CLI on real files: every failing command leaves the
 * run directory byte-for-byte as it was; config changes are recorded; statuses and messages say what happened.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readEvents, readScalars } from './helpers/tfevents.js';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { runDirs, sleep, snapshot, startTudui, summaryOf, tudui, waitFor } from './helpers/run-dir.js';

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

/** TensorBoard `config` texts of a run directory, oldest first. */
function configTexts(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('events.out.tfevents.'))
    .sort()
    .flatMap((f) => readEvents(join(dir, f)))
    .flatMap((e) => e.values.filter((v) => v.tag === 'config'))
    .map((v) => Buffer.from((v as unknown as { tensor: { stringVal: Uint8Array[] } }).tensor.stringVal[0]!).toString('utf8'));
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

  it('importing the library (which checks run directories) does not load TensorFlow', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(import.meta.dirname, '..', 'dist', 'index.js'))}); process.stdout.write(typeof globalThis._tfengine);`], { encoding: 'utf8' });
    expect(r.stdout, r.stderr).toBe('undefined');
  });

  it('a fresh run keeps its original config beside config.yaml, and TensorBoard gets it as YAML', () => {
    expect(readFileSync(join(pristine, 'config.original.yaml'), 'utf8')).toBe(readFileSync(join(pristine, 'config.yaml'), 'utf8'));
    expect(existsSync(join(pristine, 'config-history.jsonl'))).toBe(false);
    expect(existsSync(join(pristine, 'tudui.lock'))).toBe(false);
    const texts = configTexts(pristine);
    expect(texts).toHaveLength(1);
    const text = texts[0]!;
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
    // TensorBoard's config text says what changed, and when.
    const texts = configTexts(dir);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toMatch(/^changed when resuming after epoch 2 \(backend: [^)]+\):\n\n```\n {2}- optimizer\.lr: 0\.05\n {2}\+ optimizer\.lr: 0\.01\n {2}- epochs: 2\n {2}\+ epochs: 3\n```/);
    expect(texts[1]).toMatch(/epochs: 3\n/);
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
    // A device this machine does not have: refused after all the checks, still before anything is written.
    const before = snapshot(dir);
    const gpu = tudui(['resume', dir, '--allow-changed', '--device', 'gpu', '--set', 'epochs=3'], work);
    if (gpu.code !== 0) {
      expect(gpu.code).toBe(1);
      expect(snapshot(dir)).toEqual(before);
    }
  });

  // --- Honest statuses and true messages (cases 4, 5) -----------------------------------------------------------

  it('case 4: on_nan: skip with a learning rate that blows up at once gives up after on_nan_patience skips: diverged, counted', () => {
    // 20 batches an epoch; an lr of 1e20 makes every loss after the first step NaN.
    const blowup = ['--set', 'dataset.train_size=320', '--set', 'optimizer.lr=1e20', '--set', 'optimizer.momentum=0'];
    const r = tudui(['run', 'exp.yaml', '--runs-dir', 'blowup', '--set', 'on_nan=skip', ...blowup], work);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/batch skipped/g)).toHaveLength(1); // one warning, not one per batch
    expect(r.stderr).toMatch(/the run diverged: loss was not finite for 10 batches in a row \(on_nan_patience 10\)/);
    expect(r.stderr).toMatch(/no checkpoint had been written yet/);
    expect(r.stderr).not.toMatch(/tudui resume/);
    expect(r.stderr).toMatch(/hint: lower the learning rate and start again: tudui run .*config\.yaml --set optimizer\.lr=1e\+19\n/);
    const dir = runDirs(join(work, 'blowup', 'honest'))[0]!;
    const s = summaryOf(dir);
    expect(s).toMatchObject({ status: 'diverged', skipped_batches: 10, final: null });
    expect(s.reason).toMatch(/gave up with 10 batches skipped/);
    expect(s.stopped_at).toEqual({ epoch: 1, global_step: 11 });
    // The same, with a patience of 3.
    const r3 = tudui(['run', 'exp.yaml', '--runs-dir', 'blowup3', '--quiet', '--set', 'on_nan=skip', '--set', 'on_nan_patience=3', ...blowup], work);
    expect(r3.code).toBe(1);
    expect(summaryOf(runDirs(join(work, 'blowup3', 'honest'))[0]!)).toMatchObject({ status: 'diverged', skipped_batches: 3 });
  });

  it('case 5: a NaN before the first checkpoint names no checkpoint and suggests no resume; resume says why it cannot', () => {
    const r = tudui(['run', 'exp.yaml', '--runs-dir', 'nan-early', '--set', 'optimizer.lr=1e20', '--set', 'optimizer.momentum=0'], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/loss became (NaN|Infinity|-Infinity) at step 2 \(epoch 1\); the run was stopped and no checkpoint had been written yet/);
    expect(r.stderr).not.toMatch(/last good checkpoint|tudui resume/);
    const dir = runDirs(join(work, 'nan-early', 'honest'))[0]!;
    expect(summaryOf(dir)).toMatchObject({ status: 'diverged', stopped_at: { epoch: 1 } });
    const again = failsUnchanged(dir, ['resume', dir]);
    expect(again.stderr).toMatch(/has no checkpoint to resume from: it stopped before its first checkpoint/);
    expect(again.stderr).toMatch(/hint: start it again with: tudui run .*config\.yaml/);
  });

  const canMount = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /tmp'], { encoding: 'utf8' }).status === 0;

  it.skipIf(!canMount)('a read-only run directory: resume says so and suggests what works (not --runs-dir)', () => {
    const dir = copy();
    const before = snapshot(dir);
    const r = tudui(['resume', dir, '--allow-changed', '--set', 'epochs=3'], work, {}, ['unshare', '-rm', 'sh', '-c', `mount --bind ${dir} ${dir} && mount -o remount,ro,bind ${dir} && exec "$@"`, 'sh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write .*tudui\.lock: read-only file system\n {2}hint: make .* writable, or copy it somewhere writable and resume the copy/);
    expect(r.stderr).not.toMatch(/--runs-dir/);
    expect(snapshot(dir)).toEqual(before);
  });

  it.skipIf(!canMount)('case 5: a full disk during the first checkpoint suggests starting again, not resuming', () => {
    const mnt = join(work, 'full-first');
    spawnSync('mkdir', ['-p', mnt]);
    // Room for the config files and the summary, not for the first checkpoint (~80 KB of weights and slots).
    const script = `mount -t tmpfs -o size=40k tmpfs ${mnt} && "$@"; s=$?; cp -a ${mnt} ${mnt}-copy; exit $s`;
    const r = tudui(['run', 'exp.yaml', '--runs-dir', mnt, '--set', 'model.layers[0].conv2d.filters=64'], work, {}, ['unshare', '-rm', 'sh', '-c', script, 'sh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no space left on device/);
    expect(r.stderr).not.toMatch(/tudui resume/);
    expect(r.stderr).toMatch(/hint: free some disk space, then start again with: tudui run /);
    const dir = runDirs(join(`${mnt}-copy`, 'honest'))[0]!;
    expect(summaryOf(dir).status).toBe('failed');
    expect(existsSync(join(dir, 'tudui.lock'))).toBe(false);
  });

  it('case 5: a double Ctrl-C leaves summary.json interrupted, not running; a killed run reads as interrupted', async () => {
    // Steps slow enough (~0.05 s) that both signals arrive before the loop next yields (every 8 steps).
    const slow = ['--set', 'dataset.shape=[32, 32, 3]', '--set', 'dataset.batch_size=256', '--set', 'dataset.train_size=1024', '--set', 'model.layers[0].conv2d.filters=32', '--set', 'epochs=400'];
    // Timing decides whether the second signal lands before the first finished its checkpoint: whichever way, the
    // summary must never be left `running`; retried until one attempt took the exit-at-once path.
    let atOnce = false;
    for (let attempt = 0; attempt < 4 && !atOnce; attempt++) {
      const run = startTudui(['run', 'exp.yaml', '--runs-dir', `ctrlc2-${attempt}`, ...slow], work);
      const parent = join(work, `ctrlc2-${attempt}`, 'honest');
      await waitFor(() => runDirs(parent).length > 0 && existsSync(join(runDirs(parent)[0]!, 'checkpoints', 'last')), 60_000);
      run.child.kill('SIGINT');
      await sleep(5); // not at once: the kernel would merge two pending signals into one
      run.child.kill('SIGINT');
      const r = await run.done;
      const dir = runDirs(parent)[0]!;
      const s = summaryOf(dir);
      // (a CI run once found `running` here; the exit status and stderr say how the process ended)
      expect(s.status, `exit ${r.code} signal ${r.signal}; stderr: ${r.stderr.slice(-2000)}`).toBe('interrupted');
      expect(existsSync(join(dir, 'tudui.lock'))).toBe(false);
      if (/second interrupt/.test(s.reason)) {
        expect(s.reason).toMatch(/the last checkpoint \(epoch-\d{4}\) is intact/);
        expect(r.code).toBe(130);
        expect(r.stderr).toMatch(/SIGINT again: exiting now/);
        atOnce = true;
      }
    }
    expect(atOnce).toBe(true);

    // kill -9: summary.json still says running, but whoever reads it next knows better.
    const killed = startTudui(['run', 'exp.yaml', '--runs-dir', 'killed', '--set', 'epochs=400'], work);
    const kparent = join(work, 'killed', 'honest');
    await waitFor(() => runDirs(kparent).length > 0 && existsSync(join(runDirs(kparent)[0]!, 'checkpoints', 'last')), 60_000);
    const kdir = runDirs(kparent)[0]!;
    const { readStatus } = await import('../dist/index.js');
    expect(readStatus(kdir)).toBe('running');
    killed.child.kill('SIGKILL');
    await killed.done;
    expect(summaryOf(kdir).status).toBe('running');
    expect(readStatus(kdir)).toBe('interrupted');
  });

  // --- One writer per run directory (case 3) ------------------------------------------------------------------

  it('case 3: two resumes at once: one runs, the other is refused naming the first; nothing is duplicated', async () => {
    const dir = copy();
    const a = startTudui(['resume', dir, '--allow-changed', '--set', 'epochs=30', '--quiet'], work);
    const b = startTudui(['resume', dir, '--allow-changed', '--set', 'epochs=30', '--quiet'], work);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const codes = [ra.code, rb.code].sort();
    expect(codes, ra.stderr + rb.stderr).toEqual([0, 1]);
    const loser = ra.code === 1 ? ra : rb;
    const winner = ra.code === 1 ? b : a;
    expect(loser.stderr).toMatch(new RegExp(`is in use by pid ${winner.child.pid} on ${hostname()} since \\d{4}-`));
    const seen = metrics(dir).map((p) => `${p.tag}@${p.step}`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'))).toHaveLength(2);
    expect(readFileSync(join(dir, 'config-history.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(summaryOf(dir)).toMatchObject({ status: 'completed', epochs_completed: 30 });
  });

  it('case 3: a lock held by a live process is refused and nothing changes; a stale one is taken over with a warning', async () => {
    const dir = copy();
    writeFileSync(join(dir, 'tudui.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started_at: '2026-01-02T03:04:05.000Z', command: 'run exp.yaml' }) + '\n');
    const r = failsUnchanged(dir, ['resume', dir, '--allow-changed', '--set', 'epochs=3']);
    expect(r.stderr).toMatch(new RegExp(`in use by pid ${process.pid} on ${hostname()} since 2026-01-02T03:04:05.000Z \\(run exp\\.yaml\\)`));
    expect(r.stderr).toMatch(/if that process is gone, delete .*tudui\.lock/);
    // Another host's lock is never judged stale.
    writeFileSync(join(dir, 'tudui.lock'), JSON.stringify({ pid: 1, host: 'elsewhere', started_at: '2026-01-02T03:04:05.000Z', command: '' }) + '\n');
    failsUnchanged(dir, ['resume', dir, '--allow-changed', '--set', 'epochs=3']);
    // A dead pid on this host: taken over.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'tudui.lock'), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started_at: '2026-01-02T03:04:05.000Z', command: 'run exp.yaml' }) + '\n');
    await sleep(10);
    const ok = tudui(['resume', dir, '--allow-changed', '--set', 'epochs=3'], work);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`warning: taking over the stale lock of run directory .* \\(held by pid ${dead.stdout} .*no longer running\\)`));
    expect(existsSync(join(dir, 'tudui.lock'))).toBe(false);
    expect(summaryOf(dir).status).toBe('completed');
  });

  // --- Damaged checkpoints, --from, --trace (case 8) ------------------------------------------------------------

  it('case 8: a truncated weights.bin is found and named, resume offers the newest intact checkpoint, and that works', () => {
    const dir = copy();
    const weights = join(dir, 'checkpoints', 'epoch-0002', 'weights.bin');
    const bytes = readFileSync(weights);
    writeFileSync(weights, bytes.subarray(0, bytes.length - 100));
    const r = failsUnchanged(dir, ['resume', dir, '--allow-changed', '--set', 'epochs=3']);
    expect(r.stderr).toContain(`checkpoint ${join(dir, 'checkpoints', 'epoch-0002')} is damaged: weights.bin is ${bytes.length - 100} bytes, ${bytes.length} were written (truncated)`);
    expect(r.stderr).toContain(`hint: resume from the newest intact checkpoint: tudui resume ${dir} --from epoch-0001`);
    const ok = tudui(['resume', dir, '--from', 'epoch-0001', '--quiet'], work);
    expect(ok.code, ok.stderr).toBe(0);
    // Epoch 2 trained again from epoch 1: the same numbers as the first time, logged once.
    const want = metrics(pristine).filter((p) => p.tag !== 'throughput').map((p) => `${p.tag}@${p.step}=${p.value}`);
    expect(metrics(dir).filter((p) => p.tag !== 'throughput').map((p) => `${p.tag}@${p.step}=${p.value}`)).toEqual(want);
    // ... and in the TensorBoard event files too: the points epoch 2 logged the first time are gone from them.
    const scalars = (d: string) => [...readScalars(d)].filter(([tag]) => tag !== 'throughput').map(([tag, ps]) => [tag, ps.map((p) => `${p.step}=${p.value}`)]);
    expect(scalars(dir)).toEqual(scalars(pristine));
    expect(summaryOf(dir)).toMatchObject({ status: 'completed', epochs_completed: 2 });
    expect(summaryOf(dir).history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
    // epoch-0002 was written again, whole: the run now reads as completed, with nothing to do.
    const again = tudui(['resume', dir], work);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
  });

  it('case 8: a corrupt state.json is named (checksum; not valid JSON without one), also with --from', () => {
    const dir = copy();
    const state = join(dir, 'checkpoints', 'epoch-0002', 'state.json');
    const text = readFileSync(state, 'utf8');
    writeFileSync(state, text.replace(/"epoch": 2/, '"epoch": 7'));
    const r = failsUnchanged(dir, ['resume', dir]);
    expect(r.stderr).toMatch(/epoch-0002 is damaged: state\.json does not match the checksum recorded when it was saved \(corrupted\)/);
    // A checkpoint from before checksums were recorded: still named.
    const old = join(dir, 'checkpoints', 'epoch-0001');
    spawnSync('rm', [join(old, 'checksums.json')]);
    writeFileSync(join(old, 'state.json'), '{"epoch": 1, ');
    const r1 = failsUnchanged(dir, ['resume', dir, '--from', 'epoch-0001']);
    expect(r1.stderr).toMatch(/epoch-0001 is damaged: state\.json is not valid JSON/);
    expect(r1.stderr).toMatch(/no intact checkpoint is left; start again with: tudui run /);
  });

  it('case 8: --from names only kept checkpoints; a bad name is refused before anything happens', () => {
    const dir = copy();
    const r = failsUnchanged(dir, ['resume', dir, '--from', 'epoch-0009']);
    expect(r.stderr).toMatch(/has no checkpoint epoch-0009\n {2}hint: kept checkpoints: epoch-0001, epoch-0002/);
    const bad = failsUnchanged(dir, ['resume', dir, '--from', '../../etc']);
    expect(bad.stderr).toMatch(/--from expects a checkpoint name such as epoch-0003/);
    // A path to the checkpoint works as its name.
    const ok = tudui(['resume', dir, '--from', join(dir, 'checkpoints', 'epoch-0001') + '/', '--quiet'], work);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('--trace prints the stack of errors raised inside run and resume', () => {
    const dir = copy();
    writeFileSync(join(dir, 'checkpoints', 'epoch-0002', 'weights.bin'), 'x');
    const plain = failsUnchanged(dir, ['resume', dir]);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    // Every command: a sweep that cannot be resumed, with and without --trace.
    const sweepPlain = tudui(['sweep', '--resume', join(work, 'no-such-sweep')], work);
    expect(sweepPlain.code).toBe(1);
    expect(sweepPlain.stderr).not.toMatch(/\n\s+at /);
    const sweepTraced = tudui(['sweep', '--resume', join(work, 'no-such-sweep'), '--trace'], work);
    expect(sweepTraced.code).toBe(1);
    expect(sweepTraced.stderr).toMatch(/\n\s+at .*(manifest|layout)\.js/);
    const traced = tudui(['resume', dir, '--trace'], work);
    expect(traced.code).toBe(1);
    expect(traced.stderr).toMatch(/is damaged: weights\.bin/);
    expect(traced.stderr).toMatch(/\n\s+at .*checkpoint|\n\s+at .*run-experiment/);
    // An error only training finds (an image that does not decode).
    for (const split of ['train', 'test']) for (const c of ['a', 'b']) {
      spawnSync('mkdir', ['-p', join(work, 'garbage', split, c)]);
      writeFileSync(join(work, 'garbage', split, c, '1.png'), 'not an image');
    }
    const args = ['run', 'exp.yaml', '--runs-dir', 'trace', '--set', 'dataset={name: image-folder, root: garbage, image_size: [6, 6], channels: 1}', '--set', 'model.layers[3].linear.units=2'];
    const quiet = tudui(args, work);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toMatch(/cannot decode image .*1\.png/);
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    const run = tudui([...args, '--trace'], work);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot decode image .*1\.png/);
    expect(run.stderr).toMatch(/\n\s+at .*image-folder\.js/);
  });

  // --- Ctrl-C before training starts (case 7) --------------------------------------------------------------------

  it('case 7: Ctrl-C while an image folder is still decoding stops at once: interrupted, no checkpoint, nothing trained', async () => {
    const { default: sharp } = await import('sharp');
    const n = 384;
    const px = Buffer.alloc(n * n * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 13 & 255;
    const png = await sharp(px, { raw: { width: n, height: n, channels: 3 } }).png().toBuffer();
    for (const split of ['train', 'test']) for (const c of ['a', 'b']) {
      const d = join(work, 'many', split, c);
      spawnSync('mkdir', ['-p', d]);
      for (let i = 0; i < (split === 'train' ? 1500 : 20); i++) writeFileSync(join(d, `${i}.png`), png);
    }
    const run = startTudui(['run', 'exp.yaml', '--runs-dir', 'loading', '--set', 'dataset={name: image-folder, root: many, image_size: [6, 6], channels: 1}', '--set', 'model.layers[3].linear.units=2'], work);
    await waitFor(() => /^run: /m.test(run.output()), 30_000);
    await sleep(200);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(Date.now() - t0).toBeLessThan(1500); // decoding all 3,000 images takes several seconds here
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping now: training has not started, no checkpoint will be written/);
    expect(r.stdout).toMatch(/interrupted while loading the dataset, before training started; no checkpoint was written, so there is nothing to resume: start again with tudui run /);
    expect(r.stdout).not.toMatch(/^epoch /m);
    const dir = runDirs(join(work, 'loading', 'honest'))[0]!;
    expect(existsSync(join(dir, 'checkpoints'))).toBe(false);
    expect(existsSync(join(dir, 'metrics.jsonl'))).toBe(false);
    expect(summaryOf(dir)).toMatchObject({ status: 'interrupted', epochs_completed: 0, global_step: 0, reason: 'interrupted while loading the dataset, before training started' });
    expect(existsSync(join(dir, 'tudui.lock'))).toBe(false);
  });

  it('case 7: Ctrl-C while a resume is still loading its data changes nothing', async () => {
    // A run on a small image folder; then the folder grows (same classes and size) so that loading takes a while.
    const { default: sharp } = await import('sharp');
    const png = await sharp(Buffer.alloc(6 * 6 * 3, 128), { raw: { width: 6, height: 6, channels: 3 } }).png().toBuffer();
    for (const split of ['train', 'test']) for (const c of ['a', 'b']) {
      spawnSync('mkdir', ['-p', join(work, 'grows', split, c)]);
      writeFileSync(join(work, 'grows', split, c, '0.png'), png);
    }
    const args = ['--set', 'dataset={name: image-folder, root: grows, image_size: [6, 6], channels: 1}', '--set', 'model.layers[3].linear.units=2', '--set', 'epochs=1'];
    const first = tudui(['run', 'exp.yaml', '--runs-dir', 'grows-runs', '--quiet', ...args], work);
    expect(first.code, first.stderr).toBe(0);
    const dir = runDirs(join(work, 'grows-runs', 'honest'))[0]!;
    spawnSync('rm', ['-r', join(work, 'grows')]);
    spawnSync('cp', ['-r', join(work, 'many'), join(work, 'grows')]);
    const before = snapshot(dir);
    const run = startTudui(['resume', dir, '--allow-changed', '--set', 'epochs=2'], work);
    await waitFor(() => /^run: /m.test(run.output()), 30_000);
    await sleep(200);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/interrupted before training started; .* is unchanged/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('case 3: a sweep directory is locked too: a second --resume is refused naming the holder, nothing changes', () => {
    const r = tudui(['sweep', 'exp.yaml', '--runs-dir', 'sweeps', '--name', 'locked', '--in-process', '--quiet', '--set', 'epochs=1'], work);
    expect(r.code, r.stderr).toBe(0);
    const sweepDir = runDirs(join(work, 'sweeps', 'locked'))[0]!;
    expect(existsSync(join(sweepDir, 'tudui.lock'))).toBe(false);
    writeFileSync(join(sweepDir, 'tudui.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started_at: '2026-01-02T03:04:05.000Z', command: 'sweep exp.yaml' }) + '\n');
    const before = snapshot(sweepDir);
    const again = tudui(['sweep', '--resume', sweepDir, '--quiet'], work);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`sweep directory .* is in use by pid ${process.pid} on ${hostname()} since 2026-01-02T03:04:05.000Z \\(sweep exp\\.yaml\\)`));
    expect(snapshot(sweepDir)).toEqual(before);
  });
});
