/**
 * `tudui sweep --launcher slurm` on a real single-node Slurm cluster (`scripts/slurm-local.sh up`, which .ci/run
 * calls): real job arrays, real signals, requeues and cancellations. Skipped, saying why, when no cluster answers.
 * Build first (`npx tsc -p .`): the array tasks run bin/tudui.js.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSweepSummaryCsv } from '../src/run/layout.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'tudui.js');
const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', TUDUI_TRACE: '' };

/** Why the cluster cannot be used here, or undefined when it can. */
function noCluster(): string | undefined {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  if (r.error) return 'sinfo is not on PATH (start one with: scripts/slurm-local.sh up)';
  if (r.status !== 0) return `sinfo failed: ${(r.stderr || r.stdout).trim()} (start one with: scripts/slurm-local.sh up)`;
  if (!/\b(idle|mixed|allocated)\b/.test(r.stdout)) return `no usable Slurm node (sinfo: ${r.stdout.trim() || 'none'})`;
  return undefined;
}
const why = noCluster();
if (why) console.warn(`slurm tests skipped: ${why}`);

const FIXTURES = join(ROOT, 'test', 'fixtures', 'sweep');
// Long enough per epoch (the fixture's 8,192 examples: ~0.5 s on the native backend of a 2-core AMD EPYC, 2026-12-02)
// to signal a member mid-run; at a quarter of that a member finished its 4 epochs before a Ctrl-C reached it.
const SLOW_GRID = readFileSync(join(FIXTURES, 'slow', 'slow-grid.yaml'), 'utf8');
const SLOW = (name: string, epochs = 4) => SLOW_GRID.replace(/^sweep:[\s\S]*$/m, '').replace('name: slow-grid', `name: ${name}`).replace('epochs: 4', `epochs: ${epochs}`);

let work: string;
const jobs: string[] = [];

function tudui(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 300_000 });
  const m = /job array (\d+)|^job (\d+)$/m.exec(r.stdout);
  if (m) jobs.push(m[1] ?? m[2]!);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const done = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, done, output: () => out };
}

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, pred: () => boolean, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
function onlyDir(parent: string): string {
  const ds = existsSync(parent) ? readdirSync(parent) : [];
  expect(ds, `sweep directories in ${parent}`).toHaveLength(1);
  return join(parent, ds[0]!);
}
/** summary.csv without what depends on where and how long it ran. */
function metricsOf(sweepDir: string) {
  const keep = ['member', 'status', 'best_test_accuracy', 'test_accuracy', 'best_test_loss', 'test_loss', 'train_loss', 'epochs', 'optimizer.lr', 'dataset.batch_size'];
  const rows = readSweepSummaryCsv(sweepDir).map((r) => Object.fromEntries(keep.map((k) => [k, r[k]])));
  return rows.sort((a, b) => String(a.member).localeCompare(String(b.member)));
}
function squeue(job: string): string {
  return spawnSync('squeue', ['-h', '-r', '-t', 'all', '-j', job, '-o', '%i %T'], { encoding: 'utf8' }).stdout.trim();
}
/** Epoch-end metrics of a run, as its summary keeps them. */
function history(runDir: string) {
  return json(join(runDir, 'summary.json')).history.map((h: any) => [h.epoch, h.train_loss, h.test_loss, h.test_accuracy]);
}

beforeAll(() => {
  if (why) return;
  work = mkdtempSync(join(tmpdir(), 'tudui-slurm-'));
  cpSync(FIXTURES, join(work, 'exp'), { recursive: true });
  writeFileSync(join(work, 'slow.yaml'), SLOW('slow'));
  writeFileSync(join(work, 'slow-grid.yaml'), SLOW('slow-grid', 3) + 'sweep:\n  optimizer.lr: [0.02, 0.01]\n');
});

afterAll(() => {
  for (const j of jobs) spawnSync('scancel', [j]);
  if (work) rmSync(work, { recursive: true, force: true });
});

// Real scheduling (a requeued task waits cred_expire + 1 s) on a machine other test files share.
describe.skipIf(why !== undefined)('tudui sweep --launcher slurm (real cluster)', { timeout: 300_000 }, () => {
  it('a 4-member grid as one array with %2 gives the summary.csv of the same sweep run here; options reach sbatch', () => {
    const local = tudui(['sweep', 'exp/grid.yaml', '--runs-dir', 'local', '-j', '2']);
    expect(local.code, local.stderr).toBe(0);
    const r = tudui(['sweep', 'exp/grid.yaml', '--runs-dir', 'cluster', '--launcher', 'slurm', '-j', '2', '--partition', 'debug', '--time', '10', '--mem', '500M', '--cpus-per-task', '1', '--job-name', 'tudui-test-grid', '--sbatch=--nice=0', '--setup', 'echo setup-line-ran', '--plain']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const local_ = onlyDir(join(work, 'local', 'tiny-grid'));
    const cluster = onlyDir(join(work, 'cluster', 'tiny-grid'));
    expect(metricsOf(cluster)).toEqual(metricsOf(local_));
    expect(metricsOf(cluster)).toHaveLength(4);
    const m = json(join(cluster, 'sweep.json'));
    const sub = m.launcher.submissions[0];
    expect(sub.args).toEqual(expect.arrayContaining(['--parsable', '--array=0-3%2', '--open-mode=append', '--partition=debug', '--time=10', '--mem=500M', '--cpus-per-task=1', '--job-name=tudui-test-grid', '--nice=0', '--requeue']));
    expect(sub.args.find((a: string) => a.startsWith('--signal='))).toBe('--signal=B:USR1@120');
    const info = spawnSync('scontrol', ['-o', 'show', 'job', sub.job_id], { encoding: 'utf8' }).stdout;
    expect(info).toMatch(/ArrayTaskThrottle=2/);
    expect(info).toMatch(/JobName=tudui-test-grid/);
    // each task: its own log (setup lines ran first), its own record written by itself
    for (const mem of m.members) {
      const log = readFileSync(join(cluster, 'slurm', `member-${mem.index}.out`), 'utf8');
      expect(log).toContain('setup-line-ran');
      expect(log).toMatch(/^device cpu: \S+ \(/m); // the short device line
      const rec = json(join(cluster, mem.run_dir, 'slurm-task.json'));
      expect(rec).toMatchObject({ array_job_id: sub.job_id, task: mem.index, status: 'completed', exit_code: 0 });
    }
    expect(readdirSync(cluster).filter((f) => f.startsWith('events.out.tfevents'))).toEqual([]);
    expect(existsSync(join(cluster, 'summary.json'))).toBe(true);
  });

  it('a failing member fails alone: the others complete, exit 1', () => {
    const r = tudui(['sweep', 'exp/ok.yaml', 'exp/broken.yaml', '--runs-dir', 'fail', '--name', 'mixed', '--launcher', 'slurm', '-j', '2', '--plain']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const dir = onlyDir(join(work, 'fail', 'mixed'));
    const byLabel = Object.fromEntries(json(join(dir, 'sweep.json')).members.map((x: any) => [x.label, x]));
    expect(byLabel['tiny-ok'].status).toBe('completed');
    expect(byLabel['tiny-broken'].status).toBe('failed');
    expect(byLabel['tiny-broken'].error).toMatch(/loss became/);
    expect(r.stdout).toMatch(/failed: tiny-broken: .*loss became/);
  });

  it('USR1 mid-run: the member checkpoints, requeues itself and ends with the metrics of an uninterrupted run', async () => {
    const clean = tudui(['run', 'slow.yaml', '--runs-dir', 'clean-run', '-q']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const cleanDir = /run: (.*)/.exec(clean.stdout)![1]!;

    const s = start(['sweep', 'slow.yaml', '--runs-dir', 'usr1', '--launcher', 'slurm', '--plain']);
    const parent = join(work, 'usr1', 'slow');
    await waitFor('the sweep directory', () => existsSync(parent) && readdirSync(parent).length > 0);
    const dir = join(parent, readdirSync(parent)[0]!);
    const runDir = join(dir, 'slow');
    await waitFor('the first epoch', () => existsSync(join(runDir, 'summary.json')) && json(join(runDir, 'summary.json')).history?.length >= 1);
    const job = json(join(dir, 'sweep.json')).members[0].slurm.job_id;
    jobs.push(job);
    const sig = spawnSync('scancel', ['--batch', '--signal=USR1', `${job}_0`], { encoding: 'utf8' });
    expect(sig.status, sig.stderr).toBe(0);
    const code = await s.done;
    expect(code, s.output()).toBe(0);
    const rec = json(join(runDir, 'slurm-task.json'));
    expect(rec.status).toBe('completed');
    expect(rec.restart_count).toBeGreaterThanOrEqual(1);
    const log = readFileSync(join(dir, 'slurm', 'member-0.out'), 'utf8');
    expect(log).toMatch(/SIGUSR1 .*checkpointing, then requeueing/);
    expect(log).toMatch(/requeued job/);
    expect(log).toMatch(/continuing from its checkpoint/); // the same log, appended by the requeued task
    expect(history(runDir)).toEqual(history(cleanDir));
    expect(json(join(dir, 'summary.json')).members[0].status).toBe('completed');
  });

  it('Ctrl-C of the coordinator cancels the array after the members checkpoint; --resume finishes it', async () => {
    const s = start(['sweep', 'slow-grid.yaml', '--runs-dir', 'ctrlc', '--launcher', 'slurm', '-j', '1', '--plain']);
    const parent = join(work, 'ctrlc', 'slow-grid');
    await waitFor('the sweep directory', () => existsSync(parent) && readdirSync(parent).length > 0);
    const dir = join(parent, readdirSync(parent)[0]!);
    const m0 = () => json(join(dir, 'sweep.json'));
    await waitFor('the manifest with the job', () => existsSync(join(dir, 'sweep.json')) && m0().launcher !== undefined);
    const first = join(dir, m0().members[0].run_dir);
    await waitFor('the first epoch of the first member', () => existsSync(join(first, 'summary.json')) && json(join(first, 'summary.json')).history?.length >= 1);
    const job = m0().launcher.submissions[0].job_id;
    jobs.push(job);
    s.child.kill('SIGINT');
    const code = await s.done;
    expect(code, s.output()).toBe(130);
    expect(s.output()).toContain(`continue with: tudui sweep --resume ${dir}`);
    // nothing of the array is left queued or running
    expect(squeue(job)).not.toMatch(/PENDING|RUNNING|COMPLETING/);
    const statuses = m0().members.map((x: any) => x.status);
    expect(statuses[0]).toBe('interrupted');
    expect(statuses.slice(1)).toEqual(['cancelled']);
    expect(existsSync(join(first, 'checkpoints', 'last'))).toBe(true);

    const r = tudui(['sweep', '--resume', dir, '--plain']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = m0();
    expect(m.members.every((x: any) => x.status === 'completed')).toBe(true);
    expect(m.launcher.submissions).toHaveLength(2);
    expect(m.launcher.submissions[1].args).toContain('--array=0-1%1');
    const rec = json(join(first, 'slurm-task.json'));
    expect(rec.array_job_id).toBe(m.launcher.submissions[1].job_id);
    expect(readFileSync(join(dir, 'slurm', 'member-0.out'), 'utf8')).toMatch(/continuing from its checkpoint/);
  });

  it('--detach submits and exits; --status and --resume work later from another shell', async () => {
    // a GPU per member where the cluster has (fake) GPUs: --gres=gpu:1 reaches the job
    const gpus = /gpu:\d/.test(spawnSync('sinfo', ['-h', '-o', '%G'], { encoding: 'utf8' }).stdout);
    const d = tudui(['sweep', 'exp/grid.yaml', '--runs-dir', 'detached', '--launcher', 'slurm', '-j', '1', '--detach', '--verbose', ...(gpus ? ['--gpus', '1'] : [])]);
    expect(d.code, d.stdout + d.stderr).toBe(0);
    const job = /^job (\d+)$/m.exec(d.stdout)![1]!;
    if (gpus) expect(spawnSync('scontrol', ['-o', 'show', 'job', job], { encoding: 'utf8' }).stdout).toMatch(/TresPerNode=gres:gpu:1/);
    const dir = onlyDir(join(work, 'detached', 'tiny-grid'));
    expect(d.stdout).toContain(`tudui sweep --status ${dir}`);
    expect(existsSync(join(dir, 'tudui.lock'))).toBe(false); // nobody holds the sweep
    const st = tudui(['sweep', '--status', dir]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain(`Slurm job ${job}`);
    expect(st.stdout).toMatch(/optimizer\.lr=0\.5,dataset\.batch_size=16\s+(pending|running|completed)/);
    // another shell: --resume attaches to what is queued (it submits nothing new) and writes the summary
    const r = tudui(['sweep', '--resume', dir, '--plain']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = json(join(dir, 'sweep.json'));
    expect(m.launcher.submissions).toHaveLength(1);
    expect(m.members.every((x: any) => x.status === 'completed')).toBe(true);
    expect(readFileSync(join(dir, 'summary.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    const after = tudui(['sweep', '--status', dir]);
    expect(after.stdout).toMatch(/4 completed/);
    // --verbose: the members' logs have the full backend choice, as tudui run --verbose prints it
    expect(readFileSync(join(dir, 'slurm', 'member-0.out'), 'utf8')).toMatch(/^device cpu: using \S+: /m);
  });

  describe('errors: one line each, nothing submitted, nothing left on disk', () => {
    const submittedJobs = () => spawnSync('squeue', ['-h', '-t', 'all', '-o', '%A'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).length;

    it('no sbatch on PATH', () => {
      const empty = mkdtempSync(join(tmpdir(), 'tudui-no-slurm-'));
      const r = tudui(['sweep', 'exp/ok.yaml', '--runs-dir', 'e1', '--launcher', 'slurm'], { PATH: empty });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('tudui: error: --launcher slurm: sbatch is not on PATH (run the sweep on a Slurm login node, or load Slurm first)\n');
      expect(existsSync(join(work, 'e1'))).toBe(false);
    });

    it('a partition that does not exist', () => {
      const before = submittedJobs();
      const r = tudui(['sweep', 'exp/ok.yaml', '--runs-dir', 'e2', '--launcher', 'slurm', '--partition', 'nosuch']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tudui: error: --partition nosuch: Slurm has no such partition \(partitions: debug, long\)\n$/);
      expect(existsSync(join(work, 'e2'))).toBe(false);
      expect(submittedJobs()).toBe(before);
    });

    it('a submission Slurm rejects: its message quoted', () => {
      const before = submittedJobs();
      const r = tudui(['sweep', 'exp/ok.yaml', '--runs-dir', 'e3', '--launcher', 'slurm', '--time', 'soon']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tudui: error: Slurm rejected the job array: sbatch: error: Invalid --time specification\n$/);
      expect(existsSync(join(work, 'e3'))).toBe(false);
      expect(submittedJobs()).toBe(before);
    });

    it('a node without Node.js at that path: the first task says so and cancels the array', () => {
      const r = tudui(['sweep', 'exp/grid.yaml', '--runs-dir', 'e4', '--launcher', 'slurm', '-j', '1', '--slurm-node', '/nonexistent/node']);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^tudui: error: host \S+: Node\.js \/nonexistent\/node not found \(it must be at the same path/);
      const dir = onlyDir(join(work, 'e4', 'tiny-grid'));
      const m = json(join(dir, 'sweep.json'));
      expect(m.members.map((x: any) => x.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
      // only the first task started: no other wrote anything
      const started = m.members.filter((x: any) => existsSync(join(dir, x.run_dir, 'slurm-task.json')));
      expect(started).toEqual([]);
      expect(readdirSync(join(dir, 'slurm')).filter((f) => f.endsWith('.err'))).toEqual(['member-0.err']);
    });

    it('Slurm-only options without --launcher slurm', () => {
      const r = tudui(['sweep', 'exp/ok.yaml', '--runs-dir', 'e5', '--partition', 'debug']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('tudui: error: --partition is an option of the Slurm launcher: add --launcher slurm\n');
      expect(existsSync(join(work, 'e5'))).toBe(false);
    });
  });
});
