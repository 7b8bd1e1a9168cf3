/// <reference lib="dom" />
/** Shared bits of the page: the server's types, the URL state, stable colours, formatting, the API. */

import type { RunRow } from '../store.js';

/** A row of /api/runs. */
export type Row = RunRow;
export type Status = RunRow['status'];

export interface Sweep {
  id: string;
  name: string;
  hparams: string[];
}

/** The page's state, all of it in the URL's hash (a link or a reload shows the same view). */
export interface State {
  view: 'charts' | 'sweep' | 'diff' | 'run';
  x: 'step' | 'epoch' | 'relative' | 'wall';
  log: boolean;
  smooth: number;
  hidden: Set<string>;
  sort: string;
  asc: boolean;
  filter: string;
  tags: string;
  zoom: [number, number] | null;
  run: string;
  a: string;
  b: string;
  sweep: string;
  metric: string;
  hparam: string;
  groupTag: string;
  all: boolean;
}

const list = (v: string | null) => (v ? v.split(',').map(decodeURIComponent) : []);

export function readState(): State {
  const q = new URLSearchParams(location.hash.slice(1));
  const z = (q.get('z') ?? '').split(',').map(Number);
  const view = q.get('view');
  const x = q.get('x');
  const s = q.get('s');
  return {
    view: view === 'sweep' || view === 'diff' || view === 'run' ? view : 'charts',
    x: x === 'epoch' || x === 'relative' || x === 'wall' ? x : 'step',
    log: q.get('log') === '1',
    smooth: s !== null && Number.isFinite(+s) ? Math.max(0, Math.min(0.99, +s)) : 0.6,
    hidden: new Set(list(q.get('hide'))),
    sort: q.get('sort') ?? '',
    asc: q.get('asc') === '1',
    filter: q.get('f') ?? '',
    tags: q.get('tags') ?? '',
    zoom: z.length === 2 && z.every(Number.isFinite) && z[0]! < z[1]! ? [z[0]!, z[1]!] : null,
    run: q.get('run') ?? '',
    a: q.get('a') ?? '',
    b: q.get('b') ?? '',
    sweep: q.get('sweep') ?? '',
    metric: q.get('metric') ?? '',
    hparam: q.get('hp') ?? '',
    groupTag: q.get('gt') ?? '',
    all: q.get('all') === '1',
  };
}

export function writeState(s: State): void {
  const q = new URLSearchParams();
  q.set('view', s.view);
  if (s.x !== 'step') q.set('x', s.x);
  if (s.log) q.set('log', '1');
  if (s.smooth !== 0.6) q.set('s', String(s.smooth));
  if (s.hidden.size) q.set('hide', [...s.hidden].map(encodeURIComponent).join(','));
  if (s.sort) q.set('sort', s.sort);
  if (s.asc) q.set('asc', '1');
  if (s.filter) q.set('f', s.filter);
  if (s.tags) q.set('tags', s.tags);
  if (s.zoom) q.set('z', s.zoom.join(','));
  for (const [k, v] of [['run', s.run], ['a', s.a], ['b', s.b], ['sweep', s.sweep], ['metric', s.metric], ['hp', s.hparam], ['gt', s.groupTag]] as const) if (v) q.set(k, v);
  if (s.all) q.set('all', '1');
  const hash = '#' + q.toString();
  if (hash !== location.hash) history.replaceState(null, '', hash);
}

/** A colour per run id, the same on every load and whatever the order or filter (FNV-1a → golden-angle hue). */
export function colorOf(id: string, alpha = 1): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  const hue = ((h >>> 0) * 137.508) % 360;
  const light = 38 + ((h >>> 8) % 3) * 8;
  return `hsla(${hue.toFixed(1)}, 70%, ${light}%, ${alpha})`;
}

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function num(v: unknown, digits = 4): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '' : esc(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) return v.toExponential(3);
  return a >= 10 ** digits ? Math.round(v).toString() : v.toPrecision(digits);
}

export function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** /api/series decoded: the header and uPlot-ready columns (null for gaps). */
export interface ChartData {
  tag: string;
  mode: 'raw' | 'minmax';
  range: [number, number] | null;
  counts: number[];
  series: Array<{ keys: number[]; channels: string[] }>;
  /** Runs whose metrics the server has read so far, of `runs` (it reads them all at start, the table's first first). */
  loaded: number;
  runs: number;
  /** A column without gaps is the response's float64 view as it is (uPlot takes typed arrays); one with gaps an array. */
  columns: Array<Float64Array | Array<number | null>>;
}

export async function getChart(params: URLSearchParams): Promise<ChartData> {
  const r = await fetch(`/api/series?${params}`);
  if (!r.ok) throw new Error(`/api/series: ${r.status}`);
  const buf = await r.arrayBuffer();
  const headLen = new DataView(buf).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, headLen))) as Omit<ChartData, 'columns'> & { n: number };
  const all = new Float64Array(buf, 4 + headLen);
  const columns: ChartData['columns'] = [];
  const ncols = 1 + head.series.reduce((s, x) => s + x.channels.length, 0);
  for (let c = 0, off = 0; c < ncols; c++, off += head.n) {
    const view = all.subarray(off, off + head.n);
    let gaps = false;
    for (let i = 0; i < view.length && !gaps; i++) gaps = view[i] !== view[i];
    // a dense column (most of a min/max chart) as it is: no array of a boxed number per point
    if (!gaps) {
      columns.push(view);
      continue;
    }
    const col: Array<number | null> = new Array(head.n);
    for (let i = 0; i < head.n; i++) {
      const v = view[i]!;
      col[i] = v === v ? v : null;
    }
    columns.push(col);
  }
  return { ...head, columns };
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, html = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (html) e.innerHTML = html;
  return e;
}
