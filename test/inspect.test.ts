/**
 * `tudui ls`, `show` and `compare` (issue 16) on real runs and a real sweep made by tudui: through the CLI as users
 * call them (a pipe gets TSV), and through the library functions they are made of. Also the run directory's readers
 * they use (src/run/layout.ts): the byte-offset tail of metrics.jsonl, a dead writer read as interrupted.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareRuns, followRun, formatComparison, formatRunList, formatRunReport, listRuns, plotTag, runReport } from '../src/inspect/index.js';
import * as layout from '../src/run/layout.js';
import { BIN, runDirs, snapshot, startTudui, summaryOf, tudui, waitFor } from './helpers/run-dir.js';

const EXPERIMENT = `
name: look
seed: 3
device: cpu
dataset: { name: synthetic, shape: [6, 6, 2], classes: 3, train_size: 48, test_size: 24, batch_size: 16 }
model:
  layers: [flatten, { linear: 8 }, relu, { linear: 3 }]
optimizer: { name: sgd, lr: 0.05, momentum: 0.9 }
epochs: 3
log: { train_loss_every: 1 }
`;

const GRID = `${EXPERIMENT.replace('name: look', 'name: grid').replace('epochs: 3', 'epochs: 2')}
sweep:
  optimizer.lr: [0.2, 0.01]
  seed: [1, 2]
`;

/** TSV lines as objects keyed by the header. */
function tsv(text: string): Array<Record<string, string>> {
  const [head, ...rows] = text.trimEnd().split('\n').map((l) => l.split('\t'));
  return rows.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i] ?? ''])));
}

describe('looking at runs: ls, show, compare', () => {
  let work: string;
  let runs: string;
  let a: string;
  let b: string;
  let diverged: string;
  let sweepDir: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tudui-inspect-'));
    runs = join(work, 'runs');
    writeFileSync(join(work, 'look.yaml'), EXPERIMENT);
    writeFileSync(join(work, 'grid.yaml'), GRID);
    for (const args of [[], ['--set', 'optimizer.lr=0.01'], ['--set', 'optimizer.lr=1e30']]) {
      const r = tudui(['run', 'look.yaml', '-q', ...args], work);
      expect(r.code === 0 || args.includes('optimizer.lr=1e30'), r.stderr).toBe(true);
    }
    [a, b, diverged] = runDirs(join(runs, 'look')) as [string, string, string];
    const s = tudui(['sweep', 'grid.yaml', '-q', '--in-process'], work);
    expect(s.code, s.stderr).toBe(0);
    sweepDir = runDirs(join(runs, 'grid'))[0]!;
  });

  it('ls: one row per run and sweep member, TSV in a pipe, with the status, epochs and the monitored metric', () => {
    const before = snapshot(runs);
    const r = tudui(['ls'], work);
    expect(r.code, r.stderr).toBe(0);
    const rows = tsv(r.stdout);
    expect(rows.map((x) => x.name)).toEqual(['look', 'look', 'look', 'grid/optimizer.lr=0.2,seed=1', 'grid/optimizer.lr=0.2,seed=2', 'grid/optimizer.lr=0.01,seed=1', 'grid/optimizer.lr=0.01,seed=2']);
    expect(rows.map((x) => x.status)).toEqual(['completed', 'completed', 'diverged', 'completed', 'completed', 'completed', 'completed']);
    const sa = summaryOf(a);
    expect(rows[0]).toMatchObject({ epochs: '3', 'final test_accuracy': String(sa.final.test_accuracy), 'best test_accuracy': String(sa.best.value), 'best@': String(sa.best.epoch), backend: sa.backend, started: sa.started_at });
    expect(Number(rows[0]!.duration)).toBe(sa.durations.total_s);
    expect(Number(rows[0]!['img/s'])).toBe(sa.throughput.train_images_per_s);
    expect(rows[2]).toMatchObject({ epochs: '0', 'best test_accuracy': '' });
    expect(snapshot(runs)).toEqual(before); // it only reads
  });

  it('ls: filters, sort, top and column specs (best TAG, last TAG, =key.path); --json and --csv', () => {
    const r = tudui(['ls', 'runs', '--sweep', '.', '-c', 'name, best test_accuracy, last train_loss, =optimizer.lr, =seed', '--sort', 'best test_accuracy', '--top', '3', '--json'], work);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(3);
    // Independently: the members' best accuracies from their summaries, sorted high to low.
    const members = readdirSync(sweepDir).filter((d) => d.startsWith('optimizer.lr='));
    const best = members.map((m) => ({ m, acc: Math.max(...summaryOf(join(sweepDir, m)).history.map((h: { test_accuracy: number }) => h.test_accuracy)) })).sort((x, y) => y.acc - x.acc);
    expect(rows.map((x) => x['best test_accuracy'])).toEqual(best.slice(0, 3).map((x) => x.acc));
    for (const row of rows) {
      const label = String(row.name).replace('grid/', '');
      const metrics = readFileSync(join(sweepDir, label, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const losses = metrics.filter((p) => p.tag === 'train_loss');
      expect(row['last train_loss']).toBe(losses[losses.length - 1].value);
      expect(row['=optimizer.lr']).toBe(Number(/lr=([\d.]+)/.exec(label)![1]));
      expect(row['=seed']).toBe(Number(/seed=(\d+)/.exec(label)![1]));
    }
    const low = tudui(['ls', '--name', '^look$', '--status', 'completed', '-c', 'path,best test_loss', '--sort', 'best test_loss', '--csv'], work);
    expect(low.code, low.stderr).toBe(0);
    const lines = low.stdout.trim().split('\n');
    expect(lines[0]).toBe('path,best test_loss');
    const losses = [a, b].map((d) => Math.min(...summaryOf(d).history.map((h: { test_loss: number }) => h.test_loss)));
    expect(lines.slice(1).map((l) => Number(l.split(',')[1]))).toEqual([...losses].sort((x, y) => x - y));
    const failed = tudui(['ls', '--status', 'diverged', '-c', 'status,reason'], work);
    expect(tsv(failed.stdout)).toEqual([{ status: 'diverged', reason: summaryOf(diverged).reason }]);
  });

  it('ls: bad options are one line each and list what is valid', () => {
    const cases: Array<[string[], RegExp]> = [
      [['ls', '--status', 'done'], /--status expects one of running, completed, failed, interrupted, diverged, pending, received 'done'/],
      [['ls', '-c', 'name, bestest acc'], /unknown column "bestest acc"\n {2}hint: a column is one of name, status, .*=key\.path/],
      [['ls', '--name', '('], /--name expects a regular expression, received "\("/],
      [['ls', '--top', '0'], /--top expects a whole number ≥ 1, received 0/],
      [['ls', 'nowhere'], /nowhere does not exist/],
    ];
    for (const [args, re] of cases) {
      const r = tudui(args, work);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('ls as a table (library): aligned, rounded, epochs as done/planned, the best epoch', () => {
    const text = formatRunList(listRuns(join(runs, 'look')), 'table');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^name +status +started +duration +epochs +final test_accuracy +best test_accuracy +best@ +img\/s +backend$/);
    expect(lines[1]).toMatch(/^-+( +-+)+$/);
    expect(lines[2]).toMatch(/^look +completed +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+\.\ds +3\/3 /);
    expect(lines[4]).toMatch(/^look +diverged .* 0\/3 /);
    expect(lines[5]).toBe('3 runs: 2 completed, 1 diverged');
  });

  it('show: header, resolved config, a metrics table with last/min/max/best@step and sparklines', () => {
    const r = tudui(['show', a], work);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(a);
    expect(r.stdout).toMatch(new RegExp(`^run +${a}\\nname +look\\nstatus +completed\\n`));
    expect(r.stdout).toMatch(/\nepochs +3 of 3 \(global step 9\)\n/);
    expect(r.stdout).toMatch(/\ncheckpoints +epoch-0001, epoch-0002, epoch-0003; last → epoch-0003; best → epoch-000\d\n/);
    expect(r.stdout).toContain(`\nconfig (config.yaml):\n  name: look\n  seed: 3\n`);
    const table = r.stdout.split('metrics (metrics.jsonl):\n')[1]!.trimEnd().split('\n');
    expect(table[0]).toMatch(/^ {2}tag +points +steps +last +min +max +best@step$/);
    const row = (tag: string) => table.find((l) => l.startsWith(`  ${tag} `))!.trim().split(/\s+/);
    // train_loss: 9 points (3 batches × 3 epochs), best = min at its step, sparkline of 9 characters.
    const points = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((p) => p.tag === 'train_loss');
    const min = points.reduce((m, p) => (p.value < m.value ? p : m));
    const tl = row('train_loss');
    expect(tl.slice(0, 3)).toEqual(['train_loss', '9', '1..9']);
    expect(tl[6]).toBe(`${Number(min.value.toPrecision(4))}@${min.step}`);
    expect(tl[7]).toMatch(/^[▁▂▃▄▅▆▇█]{9}$/);
    const acc = row('test_accuracy');
    expect(acc[6]).toBe(`${Number(s.best.value.toPrecision(4))}@${s.best.epoch}`);
  });

  it('show --plot TAG: a chart the size of the terminal; an unknown tag lists the ones there are', () => {
    const report = runReport(a);
    expect(formatRunReport(report)).toContain('metrics (metrics.jsonl):');
    const points = layout.readMetrics(join(a, 'metrics.jsonl'));
    const chart = plotTag(points, 'train_loss', { width: 60, height: 12 }).split('\n');
    expect(chart).toHaveLength(12);
    for (const l of chart) expect(l.length).toBeLessThanOrEqual(60);
    expect(chart[chart.length - 1]).toMatch(/train_loss: 9 points, step 1 … 9$/);
    const r = tudui(['show', a, '--plot', 'test_loss'], work);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/┼|┤/);
    expect(r.stdout).toMatch(/test_loss: 3 points, epoch 1 … 3/);
    const bad = tudui(['show', a, '--plot', 'accuracy'], work);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no points for tag 'accuracy'\n {2}hint: tags in this run: train_loss, lr, test_loss, test_accuracy, train_loss_epoch, throughput\n$/);
    const parent = tudui(['show', join(runs, 'look')], work);
    expect(parent.stdout).toMatch(new RegExp(`^run +${diverged} \\(the newest of the 3 runs under .*look\\)\\nname +look\\nstatus +diverged: loss became NaN`));
    const json = JSON.parse(tudui(['show', a, '--json'], work).stdout);
    expect(json).toMatchObject({ dir: a, status: 'completed', checkpoints: { kept: ['epoch-0001', 'epoch-0002', 'epoch-0003'], last: 'epoch-0003' } });
    expect(json.metrics.find((m: { tag: string }) => m.tag === 'train_loss').points).toBe(9);
    const sweep = tudui(['show', sweepDir], work);
    expect(sweep.code).toBe(1);
    expect(sweep.stderr).toMatch(/is a sweep directory, not a run\n {2}hint: compare its members with: tudui compare /);
  });

  it('compare runs: changed config keys only (--all: every key), metrics side by side with the best marked', () => {
    const r = tudui(['compare', a, b], work);
    expect(r.code, r.stderr).toBe(0);
    const config = r.stdout.split('config:\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(config).toHaveLength(3); // header, rule, one changed key
    expect(config[2]!.trim().split(/\s+/)).toEqual(['optimizer.lr', '0.05', '0.01']);
    const [sa, sb] = [summaryOf(a), summaryOf(b)];
    const metric = (name: string) => r.stdout.split('\n').find((l) => l.trim().startsWith(name + ' '))!;
    const winner = sa.final.test_loss < sb.final.test_loss ? 0 : 1;
    const cells = metric('final test_loss').trim().replace('final test_loss', '').trim().split(/\s{2,}/);
    expect(cells[winner]).toMatch(/ \*$/);
    expect(cells[1 - winner]).not.toMatch(/\*/);
    const all = compareRuns([a, b], { all: true });
    expect(all.config.length).toBeGreaterThan(30);
    expect(all.config.find((k) => k.key === 'dataset.batch_size')?.values).toEqual([16, 16]);
    const one = tudui(['compare', a], work);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/needs at least two runs \(or one sweep directory\)\n {2}hint: to look at one run: tudui show /);
  });

  it('compare runs with a validation split: val_ rows per epoch, the test split from its one evaluation at the end', () => {
    for (const lr of ['0.05', '0.01']) {
      const r = tudui(['run', 'look.yaml', '-q', '--runs-dir', 'val', '--set', 'dataset.validation={fraction: 0.25}', '--set', `optimizer.lr=${lr}`], work);
      expect(r.code, r.stderr).toBe(0);
    }
    const dirs = runDirs(join(work, 'val', 'look'));
    const c = compareRuns(dirs);
    const row = (name: string) => c.metrics.find((m) => m.metric === name);
    const summaries = dirs.map(summaryOf);
    expect(row('best val_accuracy')!.values).toEqual(summaries.map((s) => Math.max(...s.history.map((h: { val_accuracy: number }) => h.val_accuracy))));
    expect(row('final test_accuracy')!.values).toEqual(summaries.map((s) => s.test.accuracy));
    expect(row('best test_accuracy')).toBeUndefined(); // the test split is not evaluated per epoch: no such row
    const ls = tsv(tudui(['ls', 'val'], work).stdout);
    expect(Object.keys(ls[0]!)).toContain('best val_accuracy'); // the monitored metric is the validation one
  });

  it('compare SWEEP_DIR: members grouped by every varied key except seed, mean ± std over the seeds', () => {
    const c = compareRuns([sweepDir]);
    expect(c.runs).toHaveLength(4);
    expect(c.sweep!.keys).toEqual(['optimizer.lr']);
    expect(c.sweep!.groups.map((g) => g.values)).toEqual([[0.2], [0.01]]);
    for (const g of c.sweep!.groups) {
      const accs = g.members.map((m) => Math.max(...summaryOf(join(sweepDir, m)).history.map((h: { test_accuracy: number }) => h.test_accuracy)));
      const mean = (accs[0]! + accs[1]!) / 2;
      const std = Math.abs(accs[0]! - accs[1]!) / Math.SQRT2; // sample std of two values
      const m = g.metrics.find((x) => x.metric === 'best test_accuracy')!;
      expect(m.n).toBe(2);
      expect(m.mean).toBeCloseTo(mean, 12);
      expect(m.std).toBeCloseTo(std, 12);
    }
    const means = c.sweep!.groups.map((g) => g.metrics.find((x) => x.metric === 'best test_loss')!.mean!);
    expect(c.sweep!.groups.map((g) => g.metrics.find((x) => x.metric === 'best test_loss')!.best)).toEqual(means.map((m) => m === Math.min(...means)));
    const r = tudui(['compare', sweepDir], work);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sweep grid \(.*\): 4 members started\n/);
    expect(r.stdout).toMatch(/\ngroups by optimizer\.lr: mean ± std over seeds \(\* best\)\n {2}optimizer\.lr +n +best test_accuracy/);
    expect(r.stdout).toMatch(/\n {2}0\.2 +2 +\d[\d.e-]* ± \d/);
    expect(formatComparison(c)).toBe(r.stdout.trimEnd());
    const json = JSON.parse(tudui(['compare', sweepDir, '--json'], work).stdout);
    expect(json.sweep.groups).toHaveLength(2);
  });

  it('a running run shows as running, show --follow prints its new points until it ends; a killed one reads as interrupted', async () => {
    /** The run directory of a run started in the background, once it has finished its first epoch. */
    const afterFirstEpoch = async (p: ReturnType<typeof startTudui>, parent: string) => {
      let exited = false;
      void p.done.then(() => (exited = true));
      await waitFor(() => exited || (runDirs(parent).length === 1 && (layout.readSummary(runDirs(parent)[0]!)?.epochs_completed ?? 0) >= 1), 180_000);
      if (exited) throw new Error(`the run ended before it was looked at:\n${p.output()}`);
      return runDirs(parent)[0]!;
    };
    const long = startTudui(['run', 'look.yaml', '--runs-dir', 'live', '--set', 'epochs=60', '-q'], work);
    const dir = await afterFirstEpoch(long, join(work, 'live', 'look'));
    expect(tsv(tudui(['ls', 'live', '-c', 'status'], work).stdout)).toEqual([{ status: 'running' }]);
    const follow = startTudui(['show', dir, '--follow'], work);
    const [run, followed] = await Promise.all([long.done, follow.done]);
    expect(run.code, run.stderr).toBe(0);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toMatch(/\nfollowing .* \(Ctrl-C to stop\)\n/);
    expect(followed.stdout).toMatch(/\nstatus: completed\n$/);
    // Every epoch after the report was printed appears once, in order, ending with the last.
    const epochs = [...followed.stdout.matchAll(/epoch (\d+) +step \d+ +test_accuracy /g)].map((m) => Number(m[1]));
    expect(epochs.length).toBeGreaterThan(0);
    expect(epochs[epochs.length - 1]).toBe(60);
    expect(epochs).toEqual(epochs.map((_, i) => epochs[0]! + i));

    // A writer killed mid-run leaves `running` in its summary and a lock with a dead pid: it lists as interrupted.
    const killed = startTudui(['run', 'look.yaml', '--runs-dir', 'killed', '--set', 'epochs=400', '-q'], work);
    const kdir = await afterFirstEpoch(killed, join(work, 'killed', 'look'));
    killed.child.kill('SIGKILL');
    await killed.done;
    expect(summaryOf(kdir).status).toBe('running');
    const row = tsv(tudui(['ls', 'killed', '-c', 'status,epochs'], work).stdout);
    expect(row[0]!.status).toBe('interrupted');
    const shown = tudui(['show', kdir, '--follow'], work);
    expect(shown.stdout).toMatch(/\nstatus +interrupted: its writer is gone/);
    expect(shown.stdout).toMatch(/\nnot following: the run is interrupted\n$/);
  });

  it('ls, show and compare never load TensorFlow', () => {
    const log = join(work, 'modules.txt');
    const hook = join(import.meta.dirname, 'fixtures', 'config', 'record-modules.mjs');
    for (const args of [['ls'], ['show', a], ['show', a, '--plot', 'train_loss'], ['compare', sweepDir]]) {
      const r = spawnSync(process.execPath, ['--import', hook, BIN, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, TUDUI_MODULE_LOG: log } });
      expect(r.status, r.stderr).toBe(0);
    }
    const mods = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(mods.some((m) => m.includes('/dist/inspect/'))).toBe(true); // the hook saw the commands' modules...
    expect(mods.filter((m) => m.includes('@tensorflow'))).toEqual([]); // ...and no TensorFlow
  });

  it("a sweep's manifest, summary.json and summary.csv read back through the layout, agreeing with each other", () => {
    const manifest = layout.readManifest(sweepDir);
    const summary = layout.readSweepSummary(sweepDir)!;
    const csv = layout.readSweepSummaryCsv(sweepDir);
    expect(summary.members.map((m) => m.member).sort()).toEqual(manifest.members.map((m) => m.label).sort());
    expect(csv.map((r) => r.member)).toEqual(summary.members.map((m) => m.member));
    expect(csv.map((r) => Number(r.best_test_accuracy))).toEqual(summary.members.map((m) => m.best_test_accuracy));
    expect(Object.keys(csv[0]!)).toEqual([...layout.SWEEP_CSV_METRIC_COLUMNS, ...summary.hparams, ...layout.SWEEP_CSV_TRAILING_COLUMNS]);
    expect(csv.every((r) => r.error === null)).toBe(true);
    expect(layout.readSweepSummary(a)?.members).toBeUndefined(); // a run's summary.json is not a sweep's
    expect(() => layout.readManifest(a)).toThrow(/is not a sweep directory: sweep\.json is missing/);
  });

  it("a manifest member whose run_dir points outside its sweep is not read (ls, compare)", () => {
    const copy = join(work, 'escaping-sweep');
    cpSync(sweepDir, copy, { recursive: true, verbatimSymlinks: true });
    const m = JSON.parse(readFileSync(join(copy, 'sweep.json'), 'utf8'));
    rmSync(join(copy, m.members[3].run_dir), { recursive: true });
    m.members[3].run_dir = relative(copy, a);
    writeFileSync(join(copy, 'sweep.json'), JSON.stringify(m));
    expect(layout.findRuns(copy).runs.map((r) => r.dir)).not.toContain(a);
    expect(compareRuns([copy]).runs).toHaveLength(3);
  });

  it('a sweep member not started yet lists as pending', () => {
    const copy = join(work, 'pending-sweep');
    cpSync(sweepDir, copy, { recursive: true, verbatimSymlinks: true });
    const m = JSON.parse(readFileSync(join(copy, 'sweep.json'), 'utf8'));
    m.members[3].status = 'pending';
    writeFileSync(join(copy, 'sweep.json'), JSON.stringify(m));
    rmSync(join(copy, m.members[3].run_dir), { recursive: true });
    const rows = tsv(tudui(['ls', copy, '-c', 'name,status'], work).stdout);
    expect(rows.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'pending']);
    expect(compareRuns([copy]).runs).toHaveLength(3);
  });

  it('followRun (library): every point appended while it watches, a half-written line once complete, then the final status', async () => {
    const dir = join(work, 'follow-copy');
    cpSync(a, dir, { recursive: true, verbatimSymlinks: true });
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const summary = summaryOf(dir);
    // The state of a run being written by a live process (this one): status running, its lock held.
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...summary, status: 'running', pid: process.pid, host: hostname() }));
    writeFileSync(join(dir, 'tudui.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started_at: summary.started_at, command: 'run look.yaml' }));
    writeFileSync(join(dir, 'metrics.jsonl'), lines.slice(0, 3).map((l) => l + '\n').join(''));
    const seen: string[] = [];
    const done = followRun(dir, (l) => seen.push(l), { intervalMs: 5 });
    const rest = lines.slice(3).join('\n') + '\n';
    const cut = rest.indexOf('\n', 10) + 7; // mid-line
    appendFileSync(join(dir, 'metrics.jsonl'), rest.slice(0, cut));
    await waitFor(() => seen.length >= 1, 10_000);
    appendFileSync(join(dir, 'metrics.jsonl'), rest.slice(cut));
    await waitFor(() => seen.length >= lines.length - 3, 10_000);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    rmSync(join(dir, 'tudui.lock'));
    expect(await done).toBe('completed');
    const points = lines.slice(3).map((l) => JSON.parse(l));
    expect(seen.slice(0, -1).map((l) => /step (\d+) +(\w+) /.exec(l)!.slice(1).join(' '))).toEqual(points.map((p) => `${p.step} ${p.tag}`));
    expect(seen[seen.length - 1]).toBe('status: completed');
  });
});

describe('terminal charts', () => {
  const point = (step: number, value: number, tag = 'train_loss') => ({ tag, value, step, epoch: 1, wall_time: 1 });
  it('a long series is averaged per column; a constant one is a flat line at its value; non-finite points are counted, not drawn', () => {
    const big = Array.from({ length: 50_000 }, (_, i) => point(i + 1, Math.sin(i / 2000)));
    const chart = plotTag(big, 'train_loss', { width: 50, height: 8 }).split('\n');
    expect(chart).toHaveLength(8);
    expect(chart[7]).toMatch(/50000 points, step 1 … 50000 \(mean of ~\d+ points per column\)$/);
    const flat = plotTag([1, 2, 3].map((i) => point(i, 0.05, 'lr')), 'lr', { width: 40, height: 5 }).split('\n');
    expect(flat.find((l) => l.includes('─'))).toMatch(/^ +0\.05 +┼─+ *$/);
    const nan = plotTag([point(1, 1), point(2, NaN), point(3, 3)], 'train_loss', { width: 40, height: 6 });
    expect(nan).toMatch(/3 points, step 1 … 3, 1 not finite \(not drawn\)$/);
    expect(() => plotTag([point(1, NaN)], 'train_loss', { width: 40, height: 6 })).toThrow(/no finite value to plot/);
  });
});

describe('run directory readers (layout.ts)', () => {
  it('MetricsTail follows metrics.jsonl by byte offset, buffers a partial last line, and starts over when the file is replaced', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tudui-tail-'));
    const path = join(dir, 'metrics.jsonl');
    const tail = new layout.MetricsTail(path);
    expect(tail.poll()).toEqual({ points: [], reset: false });
    const p = (step: number, value: number | string) => JSON.stringify({ tag: 'train_loss', value, step, epoch: 1, wall_time: 1 });
    writeFileSync(path, p(1, 0.5) + '\n' + p(2, 'NaN').slice(0, 20));
    const first = tail.poll();
    expect(first.points.map((x) => x.step)).toEqual([1]);
    expect(tail.poll().points).toEqual([]); // the half line is held back
    appendFileSync(path, p(2, 'NaN').slice(20) + '\n' + p(3, 0.25) + '\n');
    const second = tail.poll().points;
    expect(second.map((x) => x.step)).toEqual([2, 3]);
    expect(second[0]!.value).toBeNaN();
    expect(tail.bytesRead).toBe(readFileSync(path).length);
    // Replaced by a shorter file (resume --from rewrites it atomically): read again from the start, saying so.
    writeFileSync(join(dir, 'new'), p(1, 0.5) + '\n');
    rmSync(path);
    cpSync(join(dir, 'new'), path);
    const again = tail.poll();
    expect(again.reset).toBe(true);
    expect(again.points.map((x) => x.step)).toEqual([1]);
  });
});
