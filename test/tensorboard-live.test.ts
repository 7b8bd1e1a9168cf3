/**
 * Sweeps as TensorBoard itself sees them, with TensorBoard 2.20's own Python backend (../shared/tensorboard:
 * `live.py` runs its reload loop while a command writes, then compares with a fresh load; `read.py` prints what
 * the dashboards get). A live TensorBoard must show what a restarted one shows: every finished member with its
 * status and end time, and one experiment definition for a logdir holding two sweeps. Skipped, saying why, when
 * Debian's Python packages for it are missing (.ci/run installs them). Build first (`npx tsc -p .`). Also: a run
 * resumed from an earlier checkpoint reads as one that never was (its event files rewound).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'tudui.js');
const TB = join(ROOT, '..', 'shared', 'tensorboard');
const PYTHON = '/usr/bin/python3'; // Debian's, whose packages TensorBoard's reader uses (not another python on PATH)

function unavailable(): string | undefined {
  if (!existsSync(join(TB, 'live.py'))) return `TensorBoard's reader is not at ${TB}`;
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
  const r = spawnSync(PYTHON, ['-c', 'import google.protobuf, absl, grpc, packaging, werkzeug, markdown, bleach, numpy'], { encoding: 'utf8' });
  if (r.status !== 0) return `Debian's Python packages for TensorBoard are missing (${(r.stderr.trim().split('\n').pop() ?? '').trim()}); see ${join(TB, 'README.md')}`;
  return undefined;
}
const why = unavailable();
if (why) console.warn(`TensorBoard reader checks skipped: ${why}`);

let work: string;
beforeAll(() => {
  if (why) return;
  work = mkdtempSync(join(tmpdir(), 'tudui-tb-live-'));
  cpSync(join(ROOT, 'test', 'fixtures', 'sweep'), join(work, 'exp'), { recursive: true });
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const sweep = (args: string, logs = 'logs') => `"${process.execPath}" "${BIN}" sweep ${args} --runs-dir ${logs} --quiet`;
const slurm = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
const noSlurm = slurm.status === 0 && /idle|mixed|allocated/.test(slurm.stdout) ? undefined : 'no Slurm cluster is up (scripts/slurm-local.sh up)';
if (!why && noSlurm) console.warn(`TensorBoard reader check of a Slurm sweep skipped: ${noSlurm}`);

/** Live TensorBoard while `cmd` writes into `logdir`: the live view must equal a fresh load; then what it shows. */
function watchLive(logdir: string, cmd: string) {
  // PYTHONHASHSEED: TensorBoard derives a string hyperparameter's domain as a Python set, whose order follows the
  // hash seed (it changes from one TensorBoard process to the next anyway) and, where two values collide, the
  // order runs were found in. The seed is pinned so that order is not what gets compared; all else is compared.
  const live = spawnSync(PYTHON, [join(TB, 'live.py'), logdir, '--', 'sh', '-c', cmd], { cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PYTHONHASHSEED: '0' } });
  expect(live.status, live.stdout + live.stderr).toBe(0);
  expect(live.stdout).toMatch(/writer exited rc=0/);
  const read = spawnSync(PYTHON, [join(TB, 'read.py'), logdir], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(read.status, read.stderr).toBe(0);
  const hp = JSON.parse(read.stdout).hparams;
  const sessions = hp.session_groups.sessionGroups.flatMap((g: { sessions: Array<{ name: string; status: string; endTimeSecs: number }> }) => g.sessions);
  return { hp, sessions };
}

describe.skipIf(why !== undefined)('TensorBoard watching sweeps live (its own reload loop)', { timeout: 300_000 }, () => {
  it('shows what a fresh load shows: two sweeps in one logdir, members that end within a second of starting', () => {
    const logdir = join(work, 'logs');
    // Tiny members: each ends in the second its event files were made, the case that used to leave a member
    // STATUS_UNKNOWN in a live TensorBoard. The second sweep has other hyperparameters and a failing member.
    const cmd = `${sweep('exp/grid.yaml -j 2')} && (${sweep('exp/ok.yaml exp/broken.yaml --name mixed')} || true)`;
    const { hp, sessions } = watchLive(logdir, cmd);
    // one definition over both sweeps, derived by TensorBoard from the sessions
    expect(hp.experiment.hparamInfos.map((h: { name: string }) => h.name).sort()).toEqual(expect.arrayContaining(['dataset.batch_size', 'experiment', 'optimizer.lr']));
    const metrics = hp.experiment.metricInfos.map((m: { name: { tag: string } }) => m.name.tag);
    expect(metrics).toEqual(expect.arrayContaining(['test_accuracy', 'test_loss', 'train_loss_epoch']));
    expect(sessions).toHaveLength(6);
    for (const s of sessions) {
      expect(s.status, s.name).toBe(s.name.endsWith('tiny-broken') ? 'STATUS_FAILURE' : 'STATUS_SUCCESS');
      expect(s.endTimeSecs, s.name).toBeGreaterThan(1.6e9);
    }
  });

  it.skipIf(noSlurm !== undefined)('the same for a sweep run as a Slurm job array (records written by the tasks)', () => {
    const { hp, sessions } = watchLive(join(work, 'slurm-logs'), sweep('exp/grid.yaml -j 2 --launcher slurm', 'slurm-logs'));
    expect(hp.experiment.hparamInfos.map((h: { name: string }) => h.name).sort()).toEqual(['dataset.batch_size', 'optimizer.lr']);
    expect(sessions).toHaveLength(4);
    for (const s of sessions) {
      expect(s.status, s.name).toBe('STATUS_SUCCESS');
      expect(s.endTimeSecs, s.name).toBeGreaterThan(1.6e9);
    }
  });
});

describe.skipIf(why !== undefined)('TensorBoard reading a run resumed from an earlier checkpoint', { timeout: 120_000 }, () => {
  it('shows each point once, the retrained values, as a run that was never rewound', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8' });
    const r = run(['run', 'exp/ok.yaml', '--runs-dir', 'rewound', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const dir = join(work, 'rewound', 'tiny-ok', readdirSync(join(work, 'rewound', 'tiny-ok'))[0]!);
    cpSync(dir, join(work, 'pristine', 'tiny-ok', 'run'), { recursive: true });
    const again = run(['resume', dir, '--from', 'epoch-0001', '--quiet']);
    expect(again.status, again.stderr).toBe(0);
    const scalars = (logdir: string) => {
      const read = spawnSync(PYTHON, [join(TB, 'read.py'), '--all-samples', logdir], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(read.status, read.stderr).toBe(0);
      const runs = Object.values(JSON.parse(read.stdout).scalars as Record<string, Record<string, [number, number, number][]>>);
      expect(runs).toHaveLength(1);
      return Object.entries(runs[0]!).filter(([tag]) => tag !== 'throughput').map(([tag, ps]) => [tag, ps.map(([step, , value]) => [step, value])]);
    };
    const got = scalars(join(work, 'rewound'));
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(scalars(join(work, 'pristine')));
  });
});
