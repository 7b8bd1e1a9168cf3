/**
 * `tudui sweep` end to end through the CLI (build first: `npx tsc -p .`): tiny synthetic experiments, one of which
 * fails at run time (the loss overflows with on_nan: stop), and a 2×2 grid file.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHparamsPluginData, eventFiles, readEvents, type DecodedHparamsPluginData } from './helpers/tfevents.js';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'bin', 'tudui.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'sweep');

let work: string;

function tudui(args: string[], cwd = work) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sweepDirs(parent: string): string[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent).filter((d) => !d.startsWith('.')).map((d) => join(parent, d));
}

function json<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Every hparams plugin record in a directory's event files. */
function hparamsRecords(dir: string): Array<{ tag: string; data: DecodedHparamsPluginData }> {
  const out: Array<{ tag: string; data: DecodedHparamsPluginData }> = [];
  for (const f of eventFiles(dir)) {
    for (const ev of readEvents(f)) {
      for (const v of ev.values) if (v.pluginName === 'hparams' && v.content) out.push({ tag: v.tag, data: decodeHparamsPluginData(v.content) });
    }
  }
  return out;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'sweep', 'index.js'))) throw new Error('build first: npx tsc -p .');
  work = mkdtempSync(join(tmpdir(), 'tudui-sweep-'));
  cpSync(FIXTURES, join(work, 'exp'), { recursive: true });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('tudui sweep over several files, one broken at run time, one grid', () => {
  let sweepDir: string;
  let first: ReturnType<typeof tudui>;

  beforeAll(() => {
    // In this process, one at a time (the resume below continues a member in a child process).
    first = tudui(['sweep', 'exp/ok.yaml', 'exp/broken.yaml', 'exp/grid*.yaml', '--runs-dir', 'runs', '--name', 'mixed', '--in-process']);
    const dirs = sweepDirs(join(work, 'runs', 'mixed'));
    expect(dirs, first.stdout + first.stderr).toHaveLength(1);
    sweepDir = dirs[0]!;
  });

  it('runs every member, keeps going after the failure and exits 1', () => {
    expect(first.code, first.stderr).toBe(1);
    const m = json(join(sweepDir, 'sweep.json'));
    expect(m.members).toHaveLength(6);
    const byLabel = Object.fromEntries(m.members.map((x: any) => [x.label, x]));
    expect(Object.keys(byLabel)).toEqual([
      'tiny-ok',
      'tiny-broken',
      'tiny-grid,optimizer.lr=0.5,dataset.batch_size=16',
      'tiny-grid,optimizer.lr=0.5,dataset.batch_size=32',
      'tiny-grid,optimizer.lr=1e-3,dataset.batch_size=16',
      'tiny-grid,optimizer.lr=1e-3,dataset.batch_size=32',
    ]);
    expect(byLabel['tiny-broken'].status).toBe('failed');
    expect(byLabel['tiny-broken'].error).toMatch(/loss became/);
    for (const x of m.members) if (x.label !== 'tiny-broken') expect(x.status, x.label).toBe('completed');
    expect(m.status).toBe('failed');
    expect(byLabel['tiny-grid,optimizer.lr=1e-3,dataset.batch_size=32'].overrides).toEqual(['sweep=null', 'optimizer.lr=0.001', 'dataset.batch_size=32']);
    for (const x of m.members) {
      expect(x.file).toMatch(/\.yaml$/);
      expect(x.started_at).toBeTruthy();
      expect(x.finished_at).toBeTruthy();
      expect(x.attempts).toBe(1);
    }
  });

  it('prints a summary table and plain progress lines (stdout is not a terminal)', () => {
    const out = first.stdout;
    expect(out).toMatch(/member\s+status\s+best test acc\s+final test loss/);
    expect(out).toMatch(/tiny-broken\s+failed/);
    expect(out).toMatch(/tiny-ok\s+completed\s+\d+\.\d\d%/);
    expect(out).toMatch(/ranked by best_test_accuracy/);
    expect(out).toMatch(/failed: tiny-broken: loss became/);
    expect(out).toContain(`sweep directory: ${sweepDir}`);
    expect(out).not.toMatch(/\x1b\[/); // no terminal escapes when not a terminal
    expect(out).toMatch(/epoch 1: loss/); // live output from onEpoch, as plain lines
  });

  it('writes one run directory per member named after what varies, with the error of the failed one', () => {
    const names = readdirSync(sweepDir).filter((d) => !d.includes('.') || d.startsWith('tiny-grid,'));
    expect(names.sort()).toEqual(
      [
        'tiny-broken',
        'tiny-grid,optimizer.lr=0.5,dataset.batch_size=16',
        'tiny-grid,optimizer.lr=0.5,dataset.batch_size=32',
        'tiny-grid,optimizer.lr=1e-3,dataset.batch_size=16',
        'tiny-grid,optimizer.lr=1e-3,dataset.batch_size=32',
        'tiny-ok',
      ].sort(),
    );
    const broken = join(sweepDir, 'tiny-broken');
    expect(readFileSync(join(broken, 'error.txt'), 'utf8')).toMatch(/loss became/);
    expect(json(join(broken, 'summary.json')).status).toBe('diverged'); // a failed member of the sweep
    const ok = json(join(sweepDir, 'tiny-ok', 'summary.json'));
    expect(ok.status).toBe('completed');
    expect(ok.epochs_completed).toBe(2);
    expect(json(join(sweepDir, 'tiny-grid,optimizer.lr=1e-3,dataset.batch_size=32', 'summary.json')).epochs_completed).toBe(1);
  });

  it('writes summary.csv and summary.json ranked by best test accuracy', () => {
    const s = json(join(sweepDir, 'summary.json'));
    expect(s.rank_by).toBe('best_test_accuracy');
    expect(s.direction).toBe('max');
    expect(s.members).toHaveLength(6);
    const accs = s.members.filter((r: any) => r.status === 'completed').map((r: any) => r.best_test_accuracy);
    expect(accs).toEqual([...accs].sort((a: number, b: number) => b - a));
    expect(s.members.map((r: any) => r.rank)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.members[5].member).toBe('tiny-broken'); // no metric: last
    const csv = readFileSync(join(sweepDir, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(7);
    expect(csv[0]).toMatch(/^rank,member,status,best_test_accuracy,test_accuracy,best_test_loss,test_loss,train_loss,epochs,seconds,experiment,optimizer\.lr,dataset\.batch_size/);
    expect(csv.some((l) => l.startsWith('6,tiny-broken,failed,'))).toBe(true);
    expect(csv.find((l) => l.includes('lr=1e-3,dataset.batch_size=32'))).toMatch(/^\d,"tiny-grid,optimizer\.lr=1e-3,dataset\.batch_size=32",completed,/);
  });

  it('--status prints every member with its result, read-only', () => {
    const before = readFileSync(join(sweepDir, 'sweep.json'), 'utf8');
    const r = tudui(['sweep', '--status', sweepDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tiny-broken\s+failed\s+loss became/);
    expect(r.stdout).toMatch(/tiny-ok\s+completed\s+test acc \d+\.\d\d%/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('5 completed, 1 failed');
    expect(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')).toBe(before);
  });

  it('writes TensorBoard HPARAMS records: a session per member, and no experiment record (TensorBoard derives one)', () => {
    // One experiment definition per logdir whatever it holds: TensorBoard derives it from the sessions (an experiment
    // record per sweep would give it two to pick from when two sweeps share a logdir; tensorboard-live.test.ts).
    expect(hparamsRecords(sweepDir)).toEqual([]);
    const starts = readdirSync(sweepDir)
      .filter((d) => existsSync(join(sweepDir, d, 'summary.json')))
      .map((d) => hparamsRecords(join(sweepDir, d)).find((r) => r.tag === '_hparams_/session_start_info')!.data.sessionStartInfo!);
    expect(starts).toHaveLength(6);
    for (const st of starts) expect(Object.keys(st.hparams)).toEqual(expect.arrayContaining(['experiment', 'optimizer.lr', 'dataset.batch_size']));
    expect(starts.map((st) => st.hparams['optimizer.lr'])).toEqual(expect.arrayContaining([0.1, 1e30, 0.5, 0.001]));
    expect(new Set(starts.map((st) => st.hparams.experiment))).toEqual(new Set(['tiny-ok', 'tiny-broken', 'tiny-grid']));

    const grid = hparamsRecords(join(sweepDir, 'tiny-grid,optimizer.lr=0.5,dataset.batch_size=32'));
    const start = grid.find((r) => r.tag === '_hparams_/session_start_info')!.data.sessionStartInfo!;
    expect(start.hparams).toMatchObject({ experiment: 'tiny-grid', 'optimizer.lr': 0.5, 'dataset.batch_size': 32 });
    expect(start.startTimeSecs).toBeGreaterThan(1.6e9);
    expect(grid.find((r) => r.tag === '_hparams_/session_end_info')!.data.sessionEndInfo!.status).toBe(1); // success
    const broken = hparamsRecords(join(sweepDir, 'tiny-broken'));
    expect(broken.find((r) => r.tag === '_hparams_/session_end_info')!.data.sessionEndInfo!.status).toBe(2); // failure
  });

  it('--resume skips completed members, continues unfinished ones and reruns the failed one fresh', () => {
    // Fix the broken experiment, and pretend the sweep died while tiny-ok was finishing (it has its checkpoints).
    const brokenFile = join(work, 'exp', 'broken.yaml');
    writeFileSync(brokenFile, readFileSync(brokenFile, 'utf8').replace('lr: 1.0e+30', 'lr: 0.1'));
    const manifestPath = join(sweepDir, 'sweep.json');
    const m = json(manifestPath);
    m.members.find((x: any) => x.label === 'tiny-ok').status = 'running';
    writeFileSync(manifestPath, JSON.stringify(m));
    const okSummary = join(sweepDir, 'tiny-ok', 'summary.json');
    writeFileSync(okSummary, JSON.stringify({ ...json(okSummary), status: 'running' }));
    const okMetricsBefore = readFileSync(join(sweepDir, 'tiny-ok', 'metrics.jsonl'), 'utf8');

    const r = tudui(['sweep', '--resume', sweepDir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 to run, 4 already completed/);
    const after = json(manifestPath);
    expect(after.status).toBe('completed');
    for (const x of after.members) {
      expect(x.status, x.label).toBe('completed');
      expect(x.attempts, x.label).toBe(x.label === 'tiny-ok' || x.label === 'tiny-broken' ? 2 : 1);
    }
    // Continued in place (history kept), not restarted.
    expect(readFileSync(join(sweepDir, 'tiny-ok', 'metrics.jsonl'), 'utf8').startsWith(okMetricsBefore)).toBe(true);
    expect(json(okSummary).status).toBe('completed');
    // The failed member restarted in a clean directory.
    expect(existsSync(join(sweepDir, 'tiny-broken', 'error.txt'))).toBe(false);
    expect(json(join(sweepDir, 'tiny-broken', 'summary.json')).status).toBe('completed');
    const s = json(join(sweepDir, 'summary.json'));
    expect(s.members.every((x: any) => x.status === 'completed')).toBe(true);
    expect(r.stdout).toMatch(/tiny-broken\s+completed/);

    // Nothing left to do: a third resume runs nothing and succeeds.
    const again = tudui(['sweep', '--resume', sweepDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 to run, 6 already completed/);
  });
});

describe('tudui sweep over one grid file, members in child processes', () => {
  it('names members after the grid point, runs two at a time and ranks by --rank-by', () => {
    const r = tudui(['sweep', 'exp/grid.yaml', '--runs-dir', 'grid-runs', '--concurrency', '2', '--rank-by', 'test_loss']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const dirs = sweepDirs(join(work, 'grid-runs', 'tiny-grid')); // sweep name defaults to the experiment's name, as for tudui run
    expect(dirs).toHaveLength(1);
    const dir = dirs[0]!;
    const m = json(join(dir, 'sweep.json'));
    expect(m.members.map((x: any) => x.run_dir)).toEqual([
      'optimizer.lr=0.5,dataset.batch_size=16',
      'optimizer.lr=0.5,dataset.batch_size=32',
      'optimizer.lr=1e-3,dataset.batch_size=16',
      'optimizer.lr=1e-3,dataset.batch_size=32',
    ]);
    expect(m.members.every((x: any) => x.status === 'completed')).toBe(true);
    expect(m.hparams).toEqual(['optimizer.lr', 'dataset.batch_size']);
    const s = json(join(dir, 'summary.json'));
    expect(s.direction).toBe('min');
    const losses = s.members.map((x: any) => x.test_loss);
    expect(losses).toEqual([...losses].sort((a: number, b: number) => a - b));
    expect(r.stdout).toMatch(/ranked by test_loss \(lower is better\)/);
    for (const x of m.members) expect(json(join(dir, x.run_dir, 'summary.json')).status).toBe('completed');
    expect(hparamsRecords(dir)).toEqual([]);
    const start = (x: any) => hparamsRecords(join(dir, x.run_dir)).find((r) => r.tag === '_hparams_/session_start_info')!.data.sessionStartInfo!;
    for (const x of m.members) expect(Object.keys(start(x).hparams).sort()).toEqual(['dataset.batch_size', 'optimizer.lr']);
    expect([...new Set(m.members.map((x: any) => start(x).hparams['dataset.batch_size']))]).toEqual([16, 32]);
  });
});

describe('tudui sweep --fail-fast', () => {
  it('stops at the first failure and leaves the rest pending for --resume', () => {
    // The fixtures themselves: the copy of broken.yaml in the work directory was repaired by the resume test.
    const r = tudui(['sweep', join(FIXTURES, 'broken.yaml'), join(FIXTURES, 'ok.yaml'), '--runs-dir', 'ff-runs', '--fail-fast']);
    expect(r.code).toBe(1);
    const dir = sweepDirs(join(work, 'ff-runs', 'sweep'))[0]!; // several files: the sweep is called 'sweep'
    const m = json(join(dir, 'sweep.json'));
    expect(m.members.map((x: any) => [x.label, x.status])).toEqual([
      ['tiny-broken', 'failed'],
      ['tiny-ok', 'pending'],
    ]);
    expect(existsSync(join(dir, 'tiny-ok', 'summary.json'))).toBe(false);
    expect(r.stdout).toMatch(/tiny-ok\s+pending/);
  });
});

describe('tudui sweep with an invalid member', () => {
  it('reports every error at once in FILE:LINE:COL form and runs nothing', () => {
    const r = tudui(['sweep', 'exp/invalid', '--runs-dir', 'invalid-runs']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    // bad-grid.yaml: `dataset.batch_size: 32` is not a list; bad-layer.yaml: units 0.
    expect(r.stderr).toMatch(/exp\/invalid\/bad-grid\.yaml:12:23: error: .*dataset\.batch_size.*list/);
    expect(r.stderr).toMatch(/exp\/invalid\/bad-layer\.yaml:7:\d+: error: .*units/);
    expect(lines[lines.length - 1]).toMatch(/the sweep is invalid \(\d+ errors\); nothing was run/);
    expect(existsSync(join(work, 'invalid-runs'))).toBe(false);
  });

  it('points an invalid grid value at its place in the file', () => {
    const file = join(work, 'exp', 'invalid', 'bad-grid.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('dataset.batch_size: 32', 'dataset.batch_size: [32]'));
    const r = tudui(['sweep', 'exp/invalid/bad-grid.yaml', 'exp/invalid/good.yaml', '--runs-dir', 'invalid-runs']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exp\/invalid\/bad-grid\.yaml:11:23: error: .*(lr|greater|> ?0|minimum)/i);
    expect(existsSync(join(work, 'invalid-runs'))).toBe(false);
  });

  it('rejects --set on a grid key and patterns that match nothing', () => {
    const r = tudui(['sweep', 'exp/grid.yaml', 'exp/nothing-*.yaml', '--set', 'optimizer.lr=0.2', '--runs-dir', 'invalid-runs']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exp\/grid\.yaml:\d+:\d+: error: --set optimizer\.lr=\.\.\. conflicts with the sweep grid/);
    expect(r.stderr).toMatch(/exp\/nothing-\*\.yaml: error: no experiment files match/);
    expect(existsSync(join(work, 'invalid-runs'))).toBe(false);
  });
});

describe('tudui sweep: warnings and option checks', () => {
  it('prints the config warnings validate prints, word for word, and still runs', () => {
    const file = join(work, 'exp-warn.yaml');
    writeFileSync(file, readFileSync(join(FIXTURES, 'ok.yaml'), 'utf8').replace('    - linear: { units: 2 }\n', '    - linear: { units: 2 }\n    - softmax\n').replace('epochs: 2', 'epochs: 1'));
    const v = tudui(['validate', 'exp-warn.yaml']);
    const warnings = v.stderr.split('\n').filter((l) => l.includes(': warning: '));
    expect(warnings.length, v.stdout + v.stderr).toBeGreaterThan(0);
    const r = tudui(['sweep', 'exp-warn.yaml', '--runs-dir', 'warn-runs', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    for (const w of warnings) expect(r.stderr).toContain(w + '\n');
  });

  it('checks --concurrency once, where the option is declared', () => {
    for (const bad of ['0', '1.5']) {
      const r = tudui(['sweep', 'exp/ok.yaml', '--runs-dir', 'conc-runs', '--concurrency', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`tudui: error: --concurrency expects a whole number ≥ 1, received ${bad}\n`);
    }
    expect(existsSync(join(work, 'conc-runs'))).toBe(false);
  });
});
