#!/usr/bin/env node
// The board's load time: 200 runs × 10,000 train_loss points (plus per-epoch test metrics) in a temporary DIR;
// from starting `tudui board DIR` to a page in chromium whose runs table is filled and whose first charts are drawn.
//
//   node scripts/bench-board.mjs [--runs 200] [--points 10000] [--repeat 3] [--keep] [--dir DIR]     (npm run bench:board; needs `npm run build`)
// --keep leaves the runs in place and prints where; --dir DIR times that DIR again (one that --keep left) instead of writing one.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const given = args.includes('--dir') ? args[args.indexOf('--dir') + 1] : undefined;
const RUNS = opt('--runs', 200);
const POINTS = opt('--points', 10_000);
const REPEAT = opt('--repeat', 3);
const EPOCHS = 20;
const chromiumPath = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
if (!chromiumPath) {
  console.error('bench-board: chromium is not installed (apt-get install chromium)');
  process.exit(1);
}

// --- the runs, in the format src/run/layout.ts reads -----------------------------------------------------------------
const dir = given ?? mkdtempSync(join(tmpdir(), 'tudui-bench-board-'));
const t0 = 1_796_000_000;
const spe = POINTS / EPOCHS;
for (let r = 0; r < (given ? 0 : RUNS); r++) {
  const runDir = join(dir, `bench-${String(r).padStart(3, '0')}`, '20261201-000000');
  mkdirSync(runDir, { recursive: true });
  const lr = [0.1, 0.03, 0.01, 0.003][r % 4];
  const lines = [];
  let last = {};
  for (let s = 1; s <= POINTS; s++) {
    const epoch = Math.ceil(s / spe);
    const loss = 2.3 * Math.exp(-s * lr / 300) + 0.05 * Math.sin(s * 0.37 + r) + 0.02 * ((s * 7919 + r * 104729) % 1000) / 1000;
    lines.push(JSON.stringify({ tag: 'train_loss', value: loss, step: s, epoch, wall_time: t0 + r * 50 + s * 0.005 }));
    if (s % spe === 0) {
      last = { test_loss: loss * 1.1, test_accuracy: 1 - loss / 2.5 };
      for (const [tag, value] of Object.entries(last)) lines.push(JSON.stringify({ tag, value, step: epoch, epoch, wall_time: t0 + r * 50 + s * 0.005 }));
      lines.push(JSON.stringify({ tag: 'lr', value: lr, step: s, epoch, wall_time: t0 + r * 50 + s * 0.005 }));
    }
  }
  writeFileSync(join(runDir, 'metrics.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(runDir, 'config.yaml'), `name: bench-${r}\nseed: ${r % 3}\noptimizer:\n  name: sgd\n  lr: ${lr}\nepochs: ${EPOCHS}\n`);
  writeFileSync(
    join(runDir, 'summary.json'),
    JSON.stringify({
      name: `bench-${r}`, status: 'completed', seed: r % 3, epochs: EPOCHS, epochs_completed: EPOCHS, global_step: POINTS,
      final: { train_loss: 0.1, ...last }, best: { metric: 'test_accuracy', value: last.test_accuracy, epoch: EPOCHS },
      durations: { total_s: 100, epochs_s: [] }, throughput: { train_images_per_s: 1000, eval_images_per_s: 4000 },
      started_at: '2026-12-01T00:00:00.000Z', finished_at: '2026-12-01T00:01:40.000Z', host: 'bench', pid: 1, backend: 'tudui-native',
      history: Array.from({ length: EPOCHS }, (_, i) => ({ epoch: i + 1, global_step: (i + 1) * spe })),
    }),
  );
}
console.log(`bench-board: ${RUNS} runs × ${POINTS} points in ${dir}`);

// --- the page in chromium ---------------------------------------------------------------------------------------
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
// The moments are taken in the page itself: a check at every animation frame (the frame that paints the state),
// stamped on the wall clock the bench shares with the page (performance.timeOrigin + now). Playwright's own
// waitForFunction sees each one later (it waits for the load event, then injects its script into a page that is
// busy drawing): those figures are printed too, as "seen by playwright".
function watch(n) {
  const stamp = (k) => (window.__bench[k] ??= performance.timeOrigin + performance.now());
  window.__bench = {};
  const frame = () => {
    const table = document.querySelectorAll('#runs-table tbody tr').length === n;
    if (table) stamp('table');
    // the table holds every run and every chart in view is drawn with data; then with every run's data
    const charts = [...document.querySelectorAll('.chart')].filter((c) => c.getBoundingClientRect().top < innerHeight);
    const drawn = table && charts.length > 0 && charts.every((c) => c.__uplot && c.__uplot.data[0].length > 0);
    if (drawn) stamp('first');
    if (drawn && charts.every((c) => c.dataset.complete === '1')) stamp('total');
    else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
const now = () => performance.timeOrigin + performance.now();
const times = [];
let child;
try {
  for (let i = 0; i < REPEAT; i++) {
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    await page.addInitScript(watch, RUNS);
    const start = now();
    child = spawn(process.execPath, [join(root, 'bin', 'tudui.js'), 'board', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/(http:\/\/\S+\/)/);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`tudui board exited with ${code}`)));
    });
    const listening = now() - start;
    const opened = now() - start;
    await page.goto(url);
    const seen = {};
    for (const k of ['table', 'first', 'total']) {
      await page.waitForFunction((key) => window.__bench[key] !== undefined, k, { timeout: 120_000, polling: 10 });
      seen[k] = now() - start;
    }
    const at = await page.evaluate(() => window.__bench);
    const t = { table: at.table - start, first: at.first - start, total: at.total - start };
    times.push([t.first, t.total, t.table, t.table - opened, seen.table, seen.first, seen.total]);
    const f = (v) => v.toFixed(0);
    console.log(`bench-board: run ${i + 1}: listening after ${f(listening)} ms, table filled after ${f(t.table)} ms (${f(t.table - opened)} ms after the page was opened), table and first charts drawn after ${f(t.first)} ms, with all ${RUNS} runs' points after ${f(t.total)} ms; seen by playwright after ${f(seen.table)} / ${f(seen.first)} / ${f(seen.total)} ms`);
    if (i === REPEAT - 1) await page.screenshot({ path: join(tmpdir(), 'tudui-bench-board.png') });
    child.kill('SIGINT');
    await new Promise((r) => child.on('exit', r));
    await page.close();
  }
} finally {
  child?.kill('SIGINT');
  await browser.close();
  if (!args.includes('--keep') && !given) rmSync(dir, { recursive: true, force: true });
}
const median = (k) => times.map((t) => t[k]).sort((a, b) => a - b)[times.length >> 1].toFixed(0);
console.log(`bench-board: ${RUNS} runs × ${POINTS} points, median over ${REPEAT}: table filled ${median(2)} ms after the board starts (${median(3)} ms after the page was opened), table and first charts ${median(0)} ms, every run's points drawn ${median(1)} ms (seen by playwright: ${median(4)} / ${median(5)} / ${median(6)} ms); screenshot ${join(tmpdir(), 'tudui-bench-board.png')}`);
