/**
 * `tudui board`'s HTTP server (Node's http module): the page, the chart libraries from the package's own
 * node_modules (no CDN), a JSON API over the store and server-sent events for live updates. Read-only: GET and HEAD
 * only, no path from a request is ever joined to a file name (runs are addressed by their key, static files by a
 * fixed table), and on a loopback address requests naming another Host are refused (DNS rebinding).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { decimate, meanStd, type XY } from './decimate.js';
import { pageHtml } from './shell.js';
import { BoardStore, X_MODES, type StoreEvent, type XMode } from './store.js';

export interface BoardOptions {
  dir: string;
  host?: string;
  /** 0 (the default): a free port. */
  port?: number;
  /** Milliseconds between polls of running runs' files (default 250). */
  pollMs?: number;
}

export interface Board {
  url: string;
  store: BoardStore;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The compiled page (dist/board/page); from the sources (vitest) it is the build's copy. */
function pageDir(): string {
  const own = join(here, 'page');
  return existsSync(join(own, 'app.js')) ? own : join(here, '..', '..', 'dist', 'board', 'page');
}

/** The first read's worker (load-worker.ts compiled; from the sources, the build's copy); none without a build. */
function loaderFile(): string | undefined {
  return [join(here, 'load-worker.js'), join(here, '..', '..', 'dist', 'board', 'load-worker.js')].find((f) => existsSync(f));
}

/** Files the page loads, by URL; nothing else is served from disk. */
function staticFiles(): Map<string, { path: string; type: string }> {
  const files = new Map<string, { path: string; type: string }>();
  const uplot = dirname(require.resolve('uplot/package.json'));
  const echarts = dirname(require.resolve('echarts/package.json'));
  files.set('/vendor/uPlot.iife.min.js', { path: join(uplot, 'dist', 'uPlot.iife.min.js'), type: 'text/javascript' });
  files.set('/vendor/uPlot.min.css', { path: join(uplot, 'dist', 'uPlot.min.css'), type: 'text/css' });
  files.set('/vendor/echarts.min.js', { path: join(echarts, 'dist', 'echarts.min.js'), type: 'text/javascript' });
  const dir = pageDir();
  for (const n of readdirSync(dir)) if (/^[\w-]+\.js(\.map)?$/.test(n)) files.set(`/app/${n}`, { path: join(dir, n), type: 'text/javascript' });
  return files;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `body` in parts is written part by part (a chart's float64 block is not copied into one buffer). */
function send(res: ServerResponse, status: number, type: string, body: string | Buffer | Buffer[], head = false): void {
  const parts = Array.isArray(body) ? body : [body];
  res.writeHead(status, {
    'content-type': type,
    'content-length': parts.reduce((n, p) => n + Buffer.byteLength(p), 0),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  });
  if (!head) for (const p of parts.slice(0, -1)) res.write(p);
  res.end(head ? undefined : parts[parts.length - 1]);
}

const json = (res: ServerResponse, value: unknown, head: boolean) => send(res, 200, 'application/json', JSON.stringify(value), head);

function keysParam(v: string | null, limit: number): number[] {
  if (!v) return [];
  return v
    .split(',')
    .filter((k) => /^\d{1,9}$/.test(k))
    .map(Number)
    .filter((k) => k < limit);
}

/**
 * The series of one chart as bytes: a little-endian uint32 header length, the JSON header, padding to 8 bytes, then
 * float64 arrays (x, then each series' channels in header order; NaN marks a gap): decimate's block as it is.
 */
function encodeChart(header: Record<string, unknown>, block: Float64Array): Buffer[] {
  const json = Buffer.from(JSON.stringify(header));
  const pad = (8 - ((4 + json.length) % 8)) % 8;
  const head = Buffer.alloc(4 + json.length + pad, 0x20);
  head.writeUInt32LE(json.length + pad, 0);
  json.copy(head, 4);
  return [head, Buffer.from(block.buffer, block.byteOffset, block.byteLength)];
}

/** GET /api/series: one tag for a set of runs (`keys=1,2`) or seed groups (`groups=1,2;3,4`), decimated. */
function chartData(store: BoardStore, q: URLSearchParams): Buffer[] {
  const tag = q.get('tag') ?? '';
  const x = (X_MODES as readonly string[]).includes(q.get('x') ?? '') ? (q.get('x') as XMode) : 'step';
  const width = Math.max(1, Math.min(8192, Number(q.get('w')) || 800));
  const weight = Math.max(0, Math.min(0.999, Number(q.get('s')) || 0));
  const lo = q.get('lo');
  const hi = q.get('hi');
  const range = lo !== null && hi !== null && Number.isFinite(+lo) && Number.isFinite(+hi) && +lo <= +hi ? ([+lo, +hi] as [number, number]) : null;
  const n = store.rows().length;
  const channels: XY[] = [];
  const series: Array<{ keys: number[]; channels: string[] }> = [];
  if (q.has('groups')) {
    for (const g of (q.get('groups') ?? '').split(';')) {
      const keys = keysParam(g, n);
      // each member smoothed, then averaged (as TensorBoard would smooth each run)
      const members = keys.map((k) => store.series(k, tag, x, weight)).filter((s): s is { version: string; x: Float64Array; y: Float64Array } => !!s);
      if (!members.length) continue;
      const m = meanStd(members);
      channels.push({ x: m.x, y: m.mean }, { x: m.x, y: m.lo }, { x: m.x, y: m.hi });
      series.push({ keys, channels: ['mean', 'lo', 'hi'] });
    }
  } else {
    for (const k of keysParam(q.get('keys'), n)) {
      const s = store.series(k, tag, x);
      if (!s) continue;
      channels.push(s);
      if (weight > 0) channels.push(store.series(k, tag, x, weight)!);
      series.push({ keys: [k], channels: weight > 0 ? ['y', 'smooth'] : ['y'] });
    }
  }
  const d = decimate(channels, { width, range, positive: q.get('log') === '1' });
  const loaded = store.loaded();
  return encodeChart({ tag, x, n: d.x.length, mode: d.mode, range: d.range, counts: d.counts, series, loaded, runs: n }, d.block);
}

export async function startBoard(opts: BoardOptions): Promise<Board> {
  const host = opts.host ?? '127.0.0.1';
  if (!existsSync(opts.dir)) throw new UserError(`${opts.dir} does not exist`, 'pass a runs directory (default: runs), a run directory or a sweep directory');
  // the first read's workers: a core left for this thread and the browser
  const store = new BoardStore(opts.dir, { loader: loaderFile(), workers: Math.max(1, Math.min(4, availableParallelism() - 1)) });
  const files = staticFiles();
  const modules = [...files.keys()].filter((u) => u.startsWith('/app/') && u.endsWith('.js'));
  const runs = () => ({ dir: opts.dir, rows: store.rows(), tags: store.tags(), sweeps: store.sweeps, loaded: store.loaded() });
  const clients = new Set<ServerResponse>();
  const unsubscribe = store.on((e: StoreEvent) => {
    const { type, ...data } = e.type === 'run' ? { type: e.type, ...e.row } : e;
    for (const c of clients) c.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return send(res, 405, 'text/plain', 'the board is read-only\n');
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (LOOPBACK.has(host) && !LOOPBACK.has(hostHeader)) return send(res, 403, 'text/plain', `host ${hostHeader} refused\n`);
    const url = new URL(req.url ?? '/', 'http://board');
    const q = url.searchParams;
    const path = url.pathname;
    // the runs come in the page itself: the table is drawn without a request more
    if (path === '/') return send(res, 200, 'text/html; charset=utf-8', pageHtml(modules, runs()), head);
    const file = files.get(path);
    if (file) return send(res, 200, file.type, readFileSync(file.path), head);
    if (path === '/api/runs') return json(res, runs(), head);
    if (path === '/api/series') {
      return send(res, 200, 'application/octet-stream', chartData(store, q), head);
    }
    if (path === '/api/tags') {
      return json(res, { tags: store.tags(), rows: store.rows().map((r) => ({ key: r.key, tags: r.tags })) }, head);
    }
    if (path === '/api/run') {
      const keys = keysParam(q.get('key'), store.rows().length);
      const key = keys.length === 1 && q.get('key') === String(keys[0]) ? keys[0] : undefined;
      const d = key === undefined ? undefined : store.detail(key);
      return d ? json(res, { ...d, flat: store.flatConfig(key!) }, head) : send(res, 404, 'text/plain', 'no such run\n');
    }
    if (path === '/api/configs') {
      const keys = keysParam(q.get('keys'), store.rows().length);
      return json(res, Object.fromEntries(keys.map((k) => [k, store.flatConfig(k)])), head);
    }
    if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      // while the first read goes on: where it stands (its tags may have come before this page listened)
      const loaded = store.loaded();
      if (loaded < store.rows().length) res.write(`event: loading\ndata: ${JSON.stringify({ loaded, total: store.rows().length, tags: store.tags() })}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    send(res, 404, 'text/plain', 'not found\n', head);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `${(e as Error).message}\n`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError(`port ${opts.port} on ${host} is in use`, 'pass another --port, or 0 for a free one') : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' ? new UserError(`cannot listen on --host ${host}: ${e.code}`) : e),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  }).catch((e: unknown) => {
    // the store's workers are already started: they would keep the process alive
    store.close();
    unsubscribe();
    throw e;
  });
  void store.loadAll();
  let tick = 0;
  const timer = setInterval(() => {
    try {
      store.poll(++tick % 4 === 0);
    } catch {
      // DIR vanished or is unreadable for a moment: try again at the next tick
    }
  }, opts.pollMs ?? 250);
  const beat = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15_000);
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`,
    store,
    close: async () => {
      clearInterval(timer);
      clearInterval(beat);
      store.close();
      unsubscribe();
      for (const c of clients) c.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
