/**
 * The board's server without a browser: TensorBoard's smoothing, min/max decimation, seed-group statistics, the
 * metrics reader's fast path, and that it serves nothing outside DIR (traversal, links out of DIR, a manifest that
 * points outside, odd keys), only GET, only to its own Host, and clear one-line CLI errors.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decimate, meanStd, smooth } from '../src/board/decimate.js';
import { startBoard, type Board } from '../src/board/server.js';
import { BoardStore } from '../src/board/store.js';
import { MetricsTail, readMetrics } from '../src/run/layout.js';
import { writeRun } from './board-fixture.js';
import { snapshot, tudui } from './helpers/run-dir.js';

/** TensorBoard's resmoothDataset, as written in vz_line_chart2 (the reference the board must equal). */
function tensorboardSmooth(ys: number[], w: number): number[] {
  let last = ys.length > 0 ? 0 : NaN;
  let numAccum = 0;
  const isConstant = ys.every((v) => v === ys[0]);
  return ys.map((next) => {
    if (isConstant || !Number.isFinite(next)) return next;
    last = last * w + (1 - w) * next;
    numAccum++;
    const debias = w === 1 ? 1 : 1 - Math.pow(w, numAccum);
    return last / debias;
  });
}

describe('smoothing, decimation, groups', () => {
  it('smooths exactly as TensorBoard (debiased EMA; NaN passed through; constant series kept)', () => {
    const ys = [1, 2, 3, NaN, 10, 0.5, 4];
    for (const w of [0, 0.3, 0.6, 0.99]) expect([...smooth(ys, w)]).toEqual(tensorboardSmooth(ys, w));
    expect([...smooth([2, 2, 2], 0.9)]).toEqual([2, 2, 2]);
    expect(smooth([1, 2], 0.5)[1]).toBeCloseTo((0.5 * 0.5 + 0.5 * 2) / 0.75, 12);
    // long series (the debiasing denominators are shared per weight, and grow)
    const long = Array.from({ length: 5000 }, (_, i) => (i === 77 ? NaN : Math.sin(i) + i / 1000));
    for (const w of [0.6, 0.95, 0.6]) expect([...smooth(long, w)]).toEqual(tensorboardSmooth(long, w));
    expect([...smooth(long.slice(0, 3000), 0.95)]).toEqual(tensorboardSmooth(long.slice(0, 3000), 0.95));
  });

  it('sends sparse series as they are, on one shared x', () => {
    const d = decimate([{ x: [1, 2, 3], y: [5, 6, 7] }, { x: [2, 4], y: [1, 2] }], { width: 100 });
    expect(d.mode).toBe('raw');
    expect([...d.x]).toEqual([1, 2, 3, 4]);
    expect([...d.ys[0]!]).toEqual([5, 6, 7, NaN]);
    expect([...d.ys[1]!]).toEqual([NaN, 1, NaN, 2]);
    expect(d.counts).toEqual([3, 2]);
  });

  it('keeps the min and max of every pixel, in the order they occurred, and the range exactly on zoom', () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = x.map((i) => Math.sin(i / 100) + (i === 77_777 ? 50 : 0) - (i === 12_345 ? 50 : 0));
    const d = decimate([{ x, y }], { width: 500 });
    expect(d.mode).toBe('minmax');
    expect(d.x.length).toBe(1000);
    const vals = [...d.ys[0]!].filter((v) => !Number.isNaN(v));
    expect(Math.max(...vals)).toBe(Math.max(...y));
    expect(Math.min(...vals)).toBe(Math.min(...y));
    // each bucket's pair is its own min and max
    const b = 3;
    const lo = Math.ceil((b * (n - 1)) / 500);
    const hi = Math.ceil(((b + 1) * (n - 1)) / 500);
    const slice = y.slice(lo, hi);
    expect([d.ys[0]![2 * b], d.ys[0]![2 * b + 1]].sort()).toEqual([Math.min(...slice), Math.max(...slice)].sort());
    const z = decimate([{ x, y }], { width: 500, range: [1000, 1299] });
    expect(z.mode).toBe('raw');
    expect(z.counts).toEqual([300]);
    expect([...z.ys[0]!]).toEqual(y.slice(1000, 1300));
  });

  it('sends a long series with few finite points as it is, and counts each channel once', () => {
    const x = Array.from({ length: 1000 }, (_, i) => i);
    const y = x.map((i) => (i % 100 === 7 ? i : NaN));
    const d = decimate([{ x, y }, { x: [3, 500], y: [1, 2] }], { width: 50 });
    expect(d.mode).toBe('raw');
    expect(d.counts).toEqual([10, 2]);
    expect([...d.ys[0]!].filter((v) => !Number.isNaN(v))).toEqual(y.filter((v) => !Number.isNaN(v)));
    const m = decimate([{ x, y: x.map((i) => (i % 2 ? i : NaN)) }, { x: [3, 500], y: [1, 2] }], { width: 50 });
    expect(m.mode).toBe('minmax');
    expect(m.counts).toEqual([500, 2]);
  });

  it('drops values ≤ 0 for a log scale', () => {
    const d = decimate([{ x: [1, 2, 3], y: [0, -1, 2] }], { width: 10, positive: true });
    expect([...d.x]).toEqual([3]);
    expect(d.counts).toEqual([1]);
  });

  it('computes mean ± std over seeds at each x', () => {
    const g = meanStd([{ x: [1, 2], y: [1, 3] }, { x: [1, 2], y: [3, 5] }, { x: [2], y: [NaN] }]);
    expect([...g.x]).toEqual([1, 2]);
    expect([...g.mean]).toEqual([2, 4]);
    expect([...g.hi]).toEqual([3, 5]);
    expect([...g.lo]).toEqual([1, 3]);
    expect([...g.n]).toEqual([2, 2]);
  });
});

describe('metrics.jsonl reader', () => {
  it('reads the canonical lines fast and every other shape as JSON.parse does; a torn line is skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tudui-metrics-'));
    const lines = [
      { tag: 'train_loss', value: 0.1234567890123, step: 1, epoch: 1, wall_time: 1796000000.123 },
      { tag: 'train_loss', value: 'NaN', step: 2, epoch: 1, wall_time: 1796000000.2 },
      { tag: 'we"ird\\tag', value: 1e-300, step: 3, epoch: 1, wall_time: 1796000000.3 },
      { tag: 'x', value: -2.5e21, step: 4, epoch: 2, wall_time: 1796000000.4, extra: true },
      { value: 3, tag: 'reordered', step: 5, epoch: 2, wall_time: 1796000000.5 },
    ].map((l) => JSON.stringify(l));
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n{"tag":"torn","val');
    const got = readMetrics(join(dir, 'metrics.jsonl'));
    const want = lines.map((l) => JSON.parse(l)).map((p) => ({ ...p, value: Number(p.value) }));
    expect(got).toEqual(want);
    rmSync(dir, { recursive: true });
  });

  it('reads every number exactly as JSON.parse does (short ones without it), and skips what JSON.parse rejects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tudui-metrics-'));
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const values: number[] = [0, 1, -1, 0.1, 2.5, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 2 ** 53, 2 ** 53 + 2, 9007199254740993, 123456789.123456789];
    for (let i = 0; i < 20_000; i++) values.push((rand() - 0.3) * 10 ** Math.floor(rand() * 44 - 22));
    for (let i = 0; i < 2_000; i++) values.push(Math.round(rand() * 1e6) / 1000);
    // and digits as a person or another tool may write them: up to 22 significant digits, some next to a tie
    const digits: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let m = String(1 + Math.floor(rand() * 9));
      for (let n = 6 + Math.floor(rand() * 16); n > 0; n--) m += Math.floor(rand() * 10);
      if (i % 3 === 0) m = m.slice(0, -3) + ['500', '499', '501', '000', '999'][i % 5];
      const k = Math.floor(rand() * 23);
      digits.push((i % 7 ? '' : '-') + (k >= m.length ? '0.' + '0'.repeat(k - m.length) + m : k ? `${m.slice(0, -k)}.${m.slice(-k)}` : m));
    }
    const text = [
      ...values.map((v, i) => JSON.stringify({ tag: 'train_loss', value: v, step: i, epoch: 1, wall_time: 1796000000 + i * 0.005 })),
      ...digits.map((d, i) => `{"tag":"train_loss","value":${d},"step":${i},"epoch":2,"wall_time":${d}}`),
    ].join('\n');
    // hand-written shapes: exponents in capitals, a negative zero, leading zeros and a bare dot (not JSON)
    const odd = ['{"tag":"a","value":-0,"step":1,"epoch":1,"wall_time":1}', '{"tag":"a","value":1E5,"step":2,"epoch":1,"wall_time":2.5e+0}', '{"tag":"a","value":01,"step":3,"epoch":1,"wall_time":3}', '{"tag":"a","value":1.,"step":4,"epoch":1,"wall_time":4}', '{"tag":"a","value":-0.0e-0,"step":5,"epoch":1,"wall_time":5}', '{"tag":"a","value":2,"step":6,"epoch":1,"wall_time":6} '];
    writeFileSync(join(dir, 'metrics.jsonl'), text + '\n' + odd.join('\n') + '\n');
    const want = [...text.split('\n'), ...odd].flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
    const got = readMetrics(join(dir, 'metrics.jsonl'));
    expect(got.length).toBe(values.length + digits.length + 4);
    const bad = got.filter((p, i) => !Object.is(p.value, want[i].value) || p.wall_time !== want[i].wall_time || p.step !== want[i].step);
    expect(bad).toEqual([]);
    expect(Object.is(got[values.length + digits.length]!.value, -0)).toBe(true);
    rmSync(dir, { recursive: true });
  });

  it('hands a tail over with its state, and keeps a multibyte character split between two reads whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tudui-metrics-'));
    const path = join(dir, 'metrics.jsonl');
    const a = Buffer.from(JSON.stringify({ tag: 'ü_loss', value: 1, step: 1, epoch: 1, wall_time: 1 }) + '\n');
    const b = Buffer.from(JSON.stringify({ tag: 'ü_loss', value: 2, step: 2, epoch: 1, wall_time: 2 }) + '\n');
    writeFileSync(path, Buffer.concat([a, b.subarray(0, 10)])); // inside the two bytes of ü
    const first = new MetricsTail(path);
    expect(first.poll().points.map((p) => p.tag)).toEqual(['ü_loss']);
    const next = new MetricsTail(path, first.state());
    appendFileSync(path, b.subarray(10));
    expect(next.poll().points).toEqual([{ tag: 'ü_loss', value: 2, step: 2, epoch: 1, wall_time: 2 }]);
    expect(next.bytesRead).toBe(a.length + b.length);
    rmSync(dir, { recursive: true });
  });
});

describe('the first read of the metrics', () => {
  let tmp: string;
  let dir: string;
  const worker = join(import.meta.dirname, '..', 'dist', 'board', 'load-worker.js');

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tudui-board-load-'));
    dir = join(tmp, 'runs');
    for (let i = 0; i < 5; i++) writeRun(join(dir, `r${i}`, '1'), `r${i}`, { steps: 50 + i, stepsPerEpoch: 10, epochs: 5 });
    writeFileSync(join(tmp, 'throws.mjs'), "throw new Error('a broken worker');\n");
    writeFileSync(join(tmp, 'exits.mjs'), 'process.exit(3);\n');
    writeFileSync(join(tmp, 'hangs.mjs'), 'setInterval(() => {}, 1000);\n');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const read = (store: BoardStore) => store.rows().map((r) => [r.id, r.tags, store.series(r.key, 'train_loss', 'relative', 0.6)?.y.length, [...(store.series(r.key, 'test_loss', 'step')?.x ?? [])]]);

  it('gives the same columns from workers as from this thread', async () => {
    const here = new BoardStore(dir);
    await here.loadAll();
    const there = new BoardStore(dir, { loader: worker });
    await there.loadAll();
    expect(there.loaded()).toBe(5);
    expect(read(there)).toEqual(read(here));
    expect(read(here)[4]).toEqual(['r4/1', ['test_accuracy', 'test_loss', 'train_loss'], 54, [10, 20, 30, 40, 50]]);
    const three = new BoardStore(dir, { loader: worker, workers: 3 });
    await three.loadAll();
    expect(read(three)).toEqual(read(here));
    three.close();
    // the tail goes on where the worker stopped
    appendFileSync(join(dir, 'r0', '1', 'metrics.jsonl'), JSON.stringify({ tag: 'train_loss', value: 1, step: 51, epoch: 6, wall_time: 1796000001 }) + '\n');
    there.poll(false);
    expect(there.series(0, 'train_loss', 'step')!.x.length).toBe(51);
    there.close();
  });

  it('settles when the worker fails to load, exits early or is missing, and reads on this thread instead', async () => {
    const ref = new BoardStore(dir);
    await ref.loadAll();
    const want = read(ref);
    for (const loader of ['throws.mjs', 'exits.mjs', 'missing.mjs'].map((f) => join(tmp, f))) {
      const store = new BoardStore(dir, { loader });
      await store.loadAll();
      expect([loader, store.loaded()]).toEqual([loader, 5]);
      expect(read(store)).toEqual(want);
      store.close();
    }
  });

  it('stops a worker that is still reading when the store closes', async () => {
    const store = new BoardStore(dir, { loader: join(tmp, 'hangs.mjs') });
    const done = store.loadAll();
    await new Promise((r) => setTimeout(r, 200));
    store.close();
    await done;
    expect(store.loaded()).toBe(0);
  });
});

const SECRET = 'tudui-secret-outside-dir';

function raw(board: Board, path: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; body: string }> {
  const u = new URL(board.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: opts.host ? { host: opts.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the server reads only DIR', () => {
  let tmp: string;
  let dir: string;
  let board: Board;
  let before: Record<string, string>;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tudui-board-srv-'));
    dir = join(tmp, 'runs');
    writeRun(join(dir, 'a', '1'), 'a');
    // outside DIR: a run, a secret file, and links to them from inside
    writeRun(join(tmp, 'outside', 'run'), SECRET);
    writeFileSync(join(tmp, 'outside', 'secret.txt'), SECRET);
    symlinkSync(join(tmp, 'outside'), join(dir, 'link-dir'));
    mkdirSync(join(dir, 'b', '1'), { recursive: true });
    writeRun(join(dir, 'b', '1'), 'b');
    rmSync(join(dir, 'b', '1', 'summary.json'));
    symlinkSync(join(tmp, 'outside', 'run', 'summary.json'), join(dir, 'b', '1', 'summary.json'));
    rmSync(join(dir, 'b', '1', 'config.yaml'));
    symlinkSync(join(tmp, 'outside', 'secret.txt'), join(dir, 'b', '1', 'config.yaml'));
    // a sweep whose manifest names a member outside the sweep directory
    const sweep = join(dir, 'sw', '1');
    mkdirSync(sweep, { recursive: true });
    const member = (run_dir: string) => ({ index: 0, label: run_dir, run_dir, file: 'x.yaml', experiment: 'x', overrides: [], grid: {}, hparams: { seed: 0 }, status: 'completed', attempts: 1, started_at: null, finished_at: null, seconds: null, error: null });
    writeRun(join(sweep, 'ok'), 'ok');
    writeFileSync(join(sweep, 'sweep.json'), JSON.stringify({ version: 1, name: 'sw', created_at: '', updated_at: '', cwd: tmp, patterns: [], set: [], device: null, rank_by: 'best_test_accuracy', status: 'completed', hparams: ['seed'], members: [member('ok'), member('../../../outside/run'), member('later')] }));
    before = snapshot(dir);
    board = await startBoard({ dir, pollMs: 50 });
    await board.store.loadAll();
  });

  afterAll(async () => {
    await board.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the runs inside DIR only, and reads no file through a link out of it', async () => {
    const r = await raw(board, '/api/runs');
    expect(r.status).toBe(200);
    const rows = JSON.parse(r.body).rows as Array<{ id: string; status: string }>;
    const ids = rows.map((x) => x.id);
    expect([...ids].sort()).toEqual(['a/1', 'b/1', 'sw/1/later', 'sw/1/ok']);
    // a member not started yet is listed as pending; one whose path leaves its sweep is not listed at all
    expect(rows.find((x) => x.id === 'sw/1/later')!.status).toBe('pending');
    expect(r.body).not.toContain(SECRET);
    for (let key = 0; key < ids.length; key++) {
      const d = await raw(board, `/api/run?key=${key}`);
      expect(d.status).toBe(200);
      expect(d.body).not.toContain(SECRET);
    }
    const configs = await raw(board, '/api/configs?keys=0,1,2,3');
    expect(configs.body).not.toContain(SECRET);
  });

  it('answers 404 to traversal and odd keys, 405 to writes, 403 to a foreign Host', async () => {
    for (const path of ['/app/../../package.json', '/app/%2e%2e/%2e%2e/package.json', '/vendor/..%2f..%2fpackage.json', '/app/..%5c..%5cpackage.json', '//etc/passwd', '/../outside/secret.txt', '/api/../../outside/secret.txt', '/app/app.ts', '/app/.hidden.js']) {
      const r = await raw(board, path);
      expect([r.status, path]).toEqual([404, path]);
      expect(r.body).not.toContain(SECRET);
    }
    for (const key of ['-1', '4', '1e9', '../../outside', '0x0', '', ' 0', '0,1']) expect([(await raw(board, `/api/run?key=${encodeURIComponent(key)}`)).status, key]).toEqual([404, key]);
    const s = await raw(board, '/api/series?tag=train_loss&keys=-1,99,abc,0&w=100');
    expect(s.status).toBe(200);
    const head = JSON.parse(Buffer.from(s.body, 'latin1').subarray(4, 4 + Buffer.from(s.body, 'latin1').readUInt32LE(0)).toString());
    expect(head.series.map((x: { keys: number[] }) => x.keys)).toEqual([[0]]);
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await raw(board, '/api/runs', { method })).status).toBe(405);
    expect((await raw(board, '/api/runs', { host: 'attacker.example:80' })).status).toBe(403);
    expect((await raw(board, '/app/app.js')).status).toBe(200);
    expect((await raw(board, '/vendor/uPlot.iife.min.js')).status).toBe(200);
    expect((await raw(board, '/vendor/echarts.min.js')).status).toBe(200);
  });

  it('changed nothing in DIR', () => {
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('tudui board errors', () => {
  it('names a missing DIR, a bad port and a port in use in one line', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tudui-board-cli-'));
    const missing = tudui(['board', 'nope'], tmp);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tudui: error: nope does not exist\n/);
    const bad = tudui(['board', '.', '--port', '70000'], tmp);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--port expects an integer from 0 to 65535, received 70000');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    const inUse = tudui(['board', '.', '--port', String(port)], tmp);
    busy.close();
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
    rmSync(tmp, { recursive: true });
  });
});
