/**
 * `tudui board` end to end in Debian's chromium driven by playwright-core: real and hand-made run directories, the
 * table, the charts' point counts (raw, and min/max per pixel for a long series), zoom, live appends (a partial last
 * line included), status changes, the other views, a screenshot that is not blank, and nothing written into DIR.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchBrowser, line, points, writeRun } from './board-fixture.js';
import { snapshot, startTudui, tudui, waitFor } from './helpers/run-dir.js';

const ROOT = join(import.meta.dirname, '..');
export const SHOTS = join(tmpdir(), 'tudui-board-shots');

/** Non-null points of each drawn series of a tag's chart, by label, and the chart's mode. */
async function chartPoints(page: Page, tag: string) {
  return page.evaluate((t) => {
    const el = document.querySelector(`.chart[data-tag="${t}"]`) as (HTMLElement & { __uplot?: any }) | null;
    const u = el?.__uplot;
    if (!u) return null;
    const series: Record<string, number[]> = {};
    u.series.forEach((s: any, i: number) => {
      if (i === 0) return;
      const vals = (u.data[i] as Array<number | null>).filter((v) => v !== null) as number[];
      (series[s.label] ??= []).push(...vals);
    });
    return { mode: el!.dataset.mode, width: u.bbox.width, series, labels: u.series.slice(1).map((s: any) => s.label) };
  }, tag);
}

describe.skipIf(!CHROMIUM)(`tudui board in chromium${CHROMIUM ? '' : ' (skipped: chromium is not installed; apt-get install chromium)'}`, () => {
  let tmp: string;
  let dir: string;
  let board: ReturnType<typeof startTudui>;
  let url: string;
  let browser: Browser;
  let page: Page;
  let realRun: string;
  let sweepDir: string;
  let before: Record<string, string>;
  const errors: string[] = [];
  const big = points({ steps: 6000, stepsPerEpoch: 1000, epochs: 6, loss: (s) => (s === 4321 ? 9 : s === 1234 ? 0.001 : 1 + Math.sin(s / 40) * 0.5) });

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tudui-board-'));
    dir = join(tmp, 'runs');
    const r = tudui(['run', join(ROOT, 'experiments', 'digits-cnn.yaml'), '--set', 'epochs=2'], tmp);
    expect(r.code, r.stderr).toBe(0);
    realRun = r.stdout.match(/run directory (\S+)/)![1]!;
    const grid = readFileSync(join(ROOT, 'experiments', 'sweeps', 'digits-mlp-grid.yaml'), 'utf8')
      .replace(/^epochs: .*$/m, 'epochs: 2')
      .replace(/^sweep:[\s\S]*$/m, 'sweep:\n  optimizer.lr: [0.3, 0.03]\n  seed: [0, 1]\n');
    writeFileSync(join(tmp, 'grid.yaml'), grid);
    const sw = tudui(['sweep', 'grid.yaml', '--in-process'], tmp);
    expect(sw.code, sw.stderr).toBe(0);
    sweepDir = sw.stdout.match(/sweep directory: (\S+)/)![1]!;
    const bigDir = writeRun(join(dir, 'big', 'r1'), 'big', { steps: 6000, stepsPerEpoch: 1000, epochs: 6 });
    writeFileSync(join(bigDir, 'metrics.jsonl'), big.map(line).join(''));
    for (const odd of ['we ird #1', '%2e%2e', 'ü&?=x;', '<b>x</b>']) writeRun(join(dir, 'odd', odd), odd, { lr: 0.05 });
    writeRun(join(dir, 'live', 'r'), 'live', { status: 'running' });
    // outside DIR: a run reached through a symbolic link, and a metrics file a run links to
    writeRun(join(tmp, 'outside', 'secret'), 'secret');
    symlinkSync(join(tmp, 'outside'), join(dir, 'linked'));
    writeRun(join(dir, 'leak', 'r'), 'leak');
    writeFileSync(join(dir, 'leak', 'r', 'metrics.jsonl.tmp'), '');
    const leakMetrics = join(dir, 'leak', 'r', 'metrics.jsonl');
    writeFileSync(leakMetrics, '');
    rmSync(leakMetrics);
    symlinkSync(join(tmp, 'outside', 'secret', 'metrics.jsonl'), leakMetrics);
    before = snapshot(dir);
    board = startTudui(['board', dir], tmp);
    await waitFor(() => /http:\/\/\S+\//.test(board.output()), 20_000);
    url = board.output().match(/(http:\/\/\S+\/)/)![1]!;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    board?.child.kill('SIGINT');
    await board?.done;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('loads: every run under DIR in the table, none from outside it, odd names shown as text', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForFunction(() => document.querySelectorAll('.chart').length > 0 && [...document.querySelectorAll('.chart')].every((c: any) => c.__uplot));
    const ids = await page.$$eval('#runs-table tbody tr a.run', (as) => as.map((a) => a.textContent));
    const realId = realRun.slice(dir.length + 1);
    const sweepIds = ['optimizer.lr=0.3,seed=0', 'optimizer.lr=0.3,seed=1', 'optimizer.lr=0.03,seed=0', 'optimizer.lr=0.03,seed=1'].map((m) => `${sweepDir.slice(dir.length + 1)}/${m}`);
    expect(ids.sort()).toEqual([realId, ...sweepIds, 'big/r1', 'leak/r', 'live/r', 'odd/%2e%2e', 'odd/<b>x</b>', 'odd/we ird #1', 'odd/ü&?=x;'].sort());
    expect(await page.$$('b:text("x")')).toHaveLength(0);
    const tags = await page.$$eval('.chart', (cs) => cs.map((c) => (c as HTMLElement).dataset.tag));
    expect(tags).toEqual(expect.arrayContaining(['train_loss', 'test_loss', 'test_accuracy', 'lr']));
    expect(errors.join('\n')).toBe('');
  });

  it('charts have every point of a short series and the min and max of each pixel of a long one', async () => {
    const realId = realRun.slice(dir.length + 1);
    const file = readFileSync(join(realRun, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const c = (await chartPoints(page, 'train_loss'))!;
    // smoothing is on by default: the raw line and the smoothed one, both with every point of the real run
    const raw = file.filter((p) => p.tag === 'train_loss').map((p) => p.value);
    expect(c.series[`${realId} (raw)`]).toEqual(raw);
    expect(c.series[realId]).toHaveLength(raw.length);
    // the long series: at most two points per pixel, the global extremes kept
    const bigVals = c.series['big/r1 (raw)']!;
    expect(c.mode).toBe('minmax');
    expect(bigVals.length).toBeLessThanOrEqual(4 * Math.ceil(c.width));
    expect(bigVals).toContain(9);
    expect(bigVals).toContain(0.001);
    // the leaked run shows no points read through its link out of DIR
    expect(c.labels).not.toContain('leak/r');
    const acc = (await chartPoints(page, 'test_accuracy'))!;
    expect(acc.series['big/r1 (raw)']).toEqual(big.filter((p) => p.tag === 'test_accuracy').map((p) => p.value));
  });

  it('puts step, epoch, relative or wall time on x, and log y drops nothing positive', async () => {
    const xs = (tag: string) => page.evaluate((t) => [...(document.querySelector(`.chart[data-tag="${t}"]`) as any).__uplot.data[0]] as number[], tag);
    const waitX = (want: (x: number[]) => boolean, tag: string) => expect.poll(async () => want(await xs(tag)), { timeout: 10_000 }).toBe(true);
    await page.selectOption('#x-mode', 'epoch');
    await waitX((x) => JSON.stringify(x) === JSON.stringify([1, 2, 3, 4, 5, 6]), 'test_accuracy');
    await waitX((x) => Math.abs(x[x.length - 1]! - 6) < 0.01 && x[0]! < 0.01, 'train_loss');
    await page.selectOption('#x-mode', 'relative');
    await waitX((x) => x[0]! >= 0 && x[0]! < 0.1 && x[x.length - 1]! < 100, 'train_loss');
    await page.selectOption('#x-mode', 'wall');
    await waitX((x) => x[0]! > 1.7e9, 'train_loss');
    expect(page.url()).toContain('x=wall');
    await page.selectOption('#x-mode', 'step');
    await waitX((x) => x[x.length - 1]! > 5000, 'train_loss');
    await page.check('#log-y');
    await expect.poll(async () => (await chartPoints(page, 'test_accuracy'))?.series['big/r1 (raw)']?.length, { timeout: 10_000 }).toBe(6);
    await page.uncheck('#log-y');
  });

  it('zooms all charts by dragging and fetches the range at full resolution; the state is in the URL', async () => {
    await page.selectOption('#x-mode', 'step');
    await page.locator('.chart[data-tag="train_loss"]').scrollIntoViewIfNeeded();
    const box = (await page.locator('.chart[data-tag="train_loss"] .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.62, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => /z=/.test(location.hash) && document.querySelector<HTMLElement>('.chart[data-tag="train_loss"]')!.dataset.mode === 'raw');
    const [lo, hi] = decodeURIComponent(new URL(page.url()).hash.match(/z=([^&]+)/)![1]!).split(',').map(Number) as [number, number];
    const inRange = big.filter((p) => p.tag === 'train_loss' && p.step >= lo && p.step <= hi).length;
    expect(inRange).toBeGreaterThan(10);
    await page.waitForFunction(([n]) => {
      const u = (document.querySelector('.chart[data-tag="train_loss"]') as any).__uplot;
      const i = u.series.findIndex((s: any) => s.label === 'big/r1 (raw)');
      return u.data[i].filter((v: unknown) => v !== null).length === n;
    }, [inRange]);
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForFunction(() => (document.querySelector('.chart[data-tag="train_loss"]') as any)?.__uplot && document.querySelector<HTMLElement>('.chart[data-tag="train_loss"]')!.dataset.mode === 'raw');
    await page.dblclick('.chart[data-tag="train_loss"] .u-over');
    await page.waitForFunction(() => !/z=/.test(location.hash) && document.querySelector<HTMLElement>('.chart[data-tag="train_loss"]')!.dataset.mode === 'minmax');
  });

  it('shows points appended to a running run (a partial last line waits for its newline) and its status change', async () => {
    const live = join(dir, 'live', 'r');
    const pts = points({ steps: 30, stepsPerEpoch: 10, epochs: 3 }).filter((p) => p.tag === 'train_loss');
    const count = async () => (await chartPoints(page, 'train_loss'))?.series['live/r (raw)']?.length ?? 0;
    // hide the long run (its 6,000 steps would put the live run's first points into one pixel)
    await page.uncheck('tr:has(a.run:text-is("big/r1")) input[type=checkbox]');
    await expect.poll(async () => (await chartPoints(page, 'train_loss'))?.labels.includes('big/r1'), { timeout: 10_000 }).toBe(false);
    expect(page.url()).toContain(`hide=${encodeURIComponent(encodeURIComponent('big/r1'))}`);
    appendFileSync(join(live, 'metrics.jsonl'), pts.slice(0, 10).map(line).join(''));
    const t0 = Date.now();
    await expect.poll(count, { timeout: 10_000, interval: 50 }).toBe(10);
    const latency = Date.now() - t0;
    const next = line(pts[10]!);
    appendFileSync(join(live, 'metrics.jsonl'), next.slice(0, 25));
    await new Promise((r) => setTimeout(r, 700));
    expect(await count()).toBe(10);
    appendFileSync(join(live, 'metrics.jsonl'), next.slice(25) + pts.slice(11).map(line).join(''));
    await expect.poll(count, { timeout: 10_000, interval: 50 }).toBe(30);
    console.log(`board: appended points drawn ${latency} ms after the write`);
    const summary = JSON.parse(readFileSync(join(live, 'summary.json'), 'utf8'));
    writeFileSync(join(live, 'summary.json'), JSON.stringify({ ...summary, status: 'completed', epochs_completed: 3 }));
    await expect.poll(() => page.textContent('tr:has(a.run:text-is("live/r")) .st'), { timeout: 10_000 }).toBe('completed');
    // a run that appears while the page is open: a row, and its points in the charts
    writeRun(join(dir, 'late', 'r'), 'late', { steps: 7, stepsPerEpoch: 7, epochs: 1 });
    await expect.poll(async () => (await chartPoints(page, 'train_loss'))?.series['late/r (raw)']?.length ?? 0, { timeout: 10_000 }).toBe(7);
    expect(await page.textContent('#runs-table')).toContain('late/r');
    await page.screenshot({ path: join(SHOTS, 'charts.png') });
  });

  it('screenshots are not blank', async () => {
    const png = readFileSync(join(SHOTS, 'charts.png'));
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const colours = new Set<number>();
    let dark = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      if (data[i]! + data[i + 1]! + data[i + 2]! < 300) dark++;
    }
    expect(colours.size).toBeGreaterThan(200);
    expect(dark / (info.width * info.height)).toBeGreaterThan(0.01);
  });

  it('shows a run page with its summary, checkpoints and config, and a config diff of two runs', async () => {
    const realId = realRun.slice(dir.length + 1);
    await page.click(`a.run:text-is("${realId}")`);
    await page.waitForSelector('#run-page');
    expect(await page.textContent('#run-checkpoints')).toContain('epoch-0002');
    expect(await page.textContent('#run-checkpoints')).toContain('last, best');
    expect(await page.textContent('#run-config')).toContain('digits');
    expect(page.url()).toContain('view=run');
    await page.screenshot({ path: join(SHOTS, 'run.png') });
    await page.goto(`${url}#view=diff&a=${encodeURIComponent('big/r1')}&b=${encodeURIComponent('odd/we ird #1')}`);
    await page.waitForSelector('#diff-table');
    const diff = await page.textContent('#diff-table');
    expect(diff).toContain('optimizer.lr');
    expect(diff).toContain('0.05');
    expect(diff).not.toContain('optimizer.name');
  });

  it('shows a sweep: hparams table, parallel coordinates that brush the table, a scatter and seed groups as mean ± std bands', async () => {
    await page.goto(`${url}#view=sweep&metric=test_accuracy&gt=test_accuracy`);
    await page.waitForSelector('#view[data-ready="1"] #sw-parallel canvas');
    expect(await page.$$eval('#sw-table tbody tr', (t) => t.length)).toBe(4);
    expect(await page.textContent('#sw-table thead')).toContain('optimizer.lr');
    const groups = await page.$$eval('#sw-groups tbody tr', (t) => t.map((r) => r.textContent));
    expect(groups).toHaveLength(2);
    expect(groups.every((g) => /optimizer\.lr=0\.0?3\s*2/.test(g!))).toBe(true);
    await page.waitForFunction(() => (document.querySelector('#sw-group') as any)?.__uplot);
    const bands = await page.evaluate(() => {
      const u = (document.querySelector('#sw-group') as any).__uplot;
      return { bands: u.bands.length, labels: u.series.slice(1).map((s: any) => s.label), points: u.data.slice(1).map((c: any[]) => c.filter((v) => v !== null).length) };
    });
    expect(bands.bands).toBe(2);
    expect(bands.labels.filter((l: string) => l.endsWith('(mean)'))).toHaveLength(2);
    // two epochs: the mean, mean − std and mean + std of each group have a point per epoch
    expect(bands.points).toEqual([2, 2, 2, 2, 2, 2]);
    // brush the lr axis (the first) around its top value: the table keeps the members with that lr
    const box = (await page.locator('#sw-parallel').boundingBox())!;
    await page.mouse.move(box.x + 60, box.y + 35);
    await page.mouse.down();
    await page.mouse.move(box.x + 60, box.y + 150, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => page.textContent('#sw-brush')).toMatch(/^2 of 4 brushed$/);
    const lrs = await page.$$eval('#sw-table tbody tr td:nth-child(4)', (t) => t.map((c) => c.textContent));
    expect(new Set(lrs).size).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'sweep.png'), fullPage: true });
    expect(errors.join('\n')).toBe('');
  });

  it('wrote nothing into DIR', () => {
    const after = snapshot(dir);
    for (const k of Object.keys(after)) if (k.startsWith('live/') || k.startsWith('late/')) delete after[k];
    for (const k of Object.keys(before)) if (k.startsWith('live/')) delete before[k];
    expect(after).toEqual(before);
  });
});
