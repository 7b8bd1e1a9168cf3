/// <reference lib="dom" />
/**
 * The board page: the runs table on the left, a view on the right (charts per tag, sweep, config diff, run page),
 * the whole state in the URL's hash, and live updates from the server's event stream (/api/events).
 */
import { TagChart } from './charts.js';
import { renderDiff } from './diff.js';
import { renderRun } from './run.js';
import { renderSweep, type SweepView } from './sweep.js';
import { renderTable } from './table.js';
import { esc, getJson, readState, writeState, type Row, type State, type Sweep } from './util.js';

interface RunsReply {
  dir: string;
  rows: Row[];
  tags: string[];
  sweeps: Sweep[];
}

const state: State = readState();
let rows: Row[] = [];
let sweeps: Sweep[] = [];
let tags: string[] = [];
const charts = new Map<string, TagChart>();
const view = document.getElementById('view')!;
const aside = document.getElementById('runs')!;
const flash = new Set<number>();
let sweepView: SweepView | undefined;
let showing = 0;

const byKey = () => new Map(rows.map((r) => [r.key, r]));
const visibleKeys = () => rows.filter((r) => !state.hidden.has(r.id)).map((r) => r.key);

function drawTable(): void {
  renderTable(aside, rows, state, {
    changed: (what) => {
      writeState(state);
      drawTable();
      if (what === 'visibility') refreshCharts();
    },
    open: (r) => {
      state.view = 'run';
      state.run = r.id;
      show();
    },
  }, flash);
}

function chartTags(): string[] {
  if (!state.tags) return tags;
  let re: RegExp;
  try {
    re = new RegExp(state.tags, 'i');
  } catch {
    return tags.filter((t) => t.includes(state.tags));
  }
  return tags.filter((t) => re.test(t));
}

function refreshCharts(only?: Set<string>): void {
  for (const [tag, c] of charts) if (!only || only.has(tag)) void c.refresh();
}

function onZoom(range: [number, number] | null): void {
  state.zoom = range;
  writeState(state);
  refreshCharts();
}

function renderCharts(): void {
  if (!view.querySelector('#charts-bar')) {
    view.innerHTML = `<div class="bar" id="charts-bar">
      x <select id="x-mode">${['step', 'epoch', 'relative', 'wall'].map((m) => `<option ${m === state.x ? 'selected' : ''}>${m}</option>`).join('')}</select>
      <label><input type="checkbox" id="log-y" ${state.log ? 'checked' : ''}> log y</label>
      <label>smoothing <input type="range" id="smooth" min="0" max="0.99" step="0.01" value="${state.smooth}"> <span id="smooth-v">${state.smooth.toFixed(2)}</span></label>
      <input id="tag-filter" placeholder="tags (regex)" size="14" value="${esc(state.tags)}">
      <button id="zoom-out" title="or double-click a chart">zoom out</button></div><div class="charts" id="charts"></div>`;
    const on = (id: string, ev: string, fn: (e: HTMLInputElement) => void) => view.querySelector<HTMLInputElement>(id)!.addEventListener(ev, (e) => fn(e.target as HTMLInputElement));
    on('#x-mode', 'change', (e) => {
      state.x = e.value as State['x'];
      state.zoom = null;
      writeState(state);
      refreshCharts();
    });
    on('#log-y', 'change', (e) => {
      state.log = e.checked;
      writeState(state);
      refreshCharts();
    });
    let timer = 0;
    on('#smooth', 'input', (e) => {
      state.smooth = Number(e.value);
      view.querySelector('#smooth-v')!.textContent = state.smooth.toFixed(2);
      writeState(state);
      clearTimeout(timer);
      timer = window.setTimeout(() => refreshCharts(), 120);
    });
    on('#tag-filter', 'input', (e) => {
      state.tags = e.value;
      writeState(state);
      syncCharts();
    });
    on('#zoom-out', 'click', () => onZoom(null));
    charts.clear();
  }
  syncCharts();
}

/** Adds charts for new tags, removes filtered-out ones, keeps the order sorted. */
function syncCharts(): void {
  const grid = view.querySelector('#charts');
  if (!grid) return;
  const want = chartTags();
  for (const [tag, c] of charts) if (!want.includes(tag)) (c.destroy(), charts.delete(tag));
  for (const tag of want) {
    let c = charts.get(tag);
    if (!c) {
      c = new TagChart(tag, { state, rows: byKey, keys: visibleKeys, onZoom });
      charts.set(tag, c);
      grid.appendChild(c.el);
      void c.refresh();
    } else grid.appendChild(c.el);
  }
}

function show(): void {
  writeState(state);
  document.querySelectorAll<HTMLElement>('#tabs a').forEach((a) => a.classList.toggle('on', a.dataset.view === state.view));
  if (state.view !== 'charts') {
    for (const c of charts.values()) c.destroy();
    charts.clear();
  }
  sweepView?.destroy();
  sweepView = undefined;
  const mine = ++showing;
  if (state.view === 'charts') renderCharts();
  else if (state.view === 'run') void renderRun(view, rows.find((r) => r.id === state.run));
  else if (state.view === 'diff') void renderDiff(view, rows, state, show);
  else
    void renderSweep(view, rows, sweeps, state, show).then((v) => {
      if (mine === showing) sweepView = v;
      else v.destroy();
    });
}

async function loadTags(): Promise<void> {
  const t = await getJson<{ tags: string[]; rows: Array<{ key: number; tags: string[] }> }>('/api/tags');
  const before = tags.join('\n');
  tags = t.tags;
  const tagsOf = new Map(t.rows.map((r) => [r.key, r.tags]));
  rows = rows.map((r) => ({ ...r, tags: tagsOf.get(r.key) ?? r.tags }));
  if (before !== tags.join('\n') && state.view === 'charts') syncCharts();
}

function live(): void {
  const es = new EventSource('/api/events');
  const dot = document.getElementById('live')!;
  let lost = false;
  es.onopen = () => {
    dot.textContent = '● live';
    // events sent while the connection was down are gone: read the runs again
    if (lost) void getJson<RunsReply>('/api/runs').then((r) => ((rows = r.rows), (sweeps = r.sweeps), drawTable(), void loadTags().then(() => refreshCharts())));
    lost = false;
  };
  es.onerror = () => {
    dot.textContent = '○ reconnecting';
    lost = true;
  };
  es.addEventListener('run', (ev) => {
    const row = JSON.parse((ev as MessageEvent).data) as Row;
    const i = rows.findIndex((r) => r.key === row.key);
    const statusChanged = i < 0 || rows[i]!.status !== row.status;
    if (i < 0) rows.push(row);
    else rows[i] = row;
    if (statusChanged) flash.add(row.key);
    drawTable();
    flash.delete(row.key);
    if (i < 0) void loadTags().then(() => refreshCharts());
    if (row.sweep && !sweeps.some((w) => w.id === row.sweep)) void getJson<RunsReply>('/api/runs').then((r) => (sweeps = r.sweeps));
    if (state.view === 'run' && state.run === row.id) show();
  });
  // the server's first read of every run: charts fetch again at most every 2.5 s meanwhile (each fetch is all runs: more often
  // slows the read itself), and at the end
  let lastProgress = performance.now();
  es.addEventListener('loading', (ev) => {
    const p = JSON.parse((ev as MessageEvent).data) as { loaded: number; total: number; tags: string[] };
    // a tag no chart shows yet: its chart now (it fetches when made; the others keep their pace)
    const fresh = p.tags.some((t) => !tags.includes(t));
    if (fresh) {
      // the event names the tags: the new charts now, not after /api/tags
      tags = [...new Set([...tags, ...p.tags])].sort();
      if (state.view === 'charts') syncCharts();
    }
    const due = p.loaded >= p.total || performance.now() - lastProgress >= 2500;
    if (fresh || due) void loadTags();
    if (!due) return;
    lastProgress = performance.now();
    // the charts fetch now, not after /api/tags (which brings the rows' tags, and the charts of new tags)
    refreshCharts();
  });
  es.addEventListener('metrics', (ev) => {
    const m = JSON.parse((ev as MessageEvent).data) as { key: number; tags: string[]; reset: boolean };
    const row = rows.find((r) => r.key === m.key);
    if (!row || state.hidden.has(row.id)) return;
    if (m.tags.some((t) => !tags.includes(t))) void loadTags();
    refreshCharts(m.reset ? undefined : new Set(m.tags));
    sweepView?.refresh();
  });
}

async function main(): Promise<void> {
  // the server puts /api/runs in the page (one round trip less before the table)
  const boot = document.getElementById('boot')?.textContent;
  const r = boot ? (JSON.parse(boot) as RunsReply) : await getJson<RunsReply>('/api/runs');
  rows = r.rows;
  sweeps = r.sweeps;
  tags = r.tags;
  document.getElementById('dir')!.textContent = r.dir;
  document.querySelectorAll<HTMLElement>('#tabs a').forEach((a) => {
    a.onclick = () => {
      state.view = a.dataset.view as State['view'];
      show();
    };
  });
  drawTable();
  show();
  live();
  // a link pasted or edited by hand (our own changes use replaceState, which fires no hashchange)
  window.addEventListener('hashchange', () => {
    Object.assign(state, readState());
    drawTable();
    for (const c of charts.values()) c.destroy();
    charts.clear();
    view.innerHTML = '';
    show();
  });
  if (!tags.length || !r.rows.every((x) => x.tags.length)) await loadTags();
  document.body.dataset.ready = '1';
}

void main();
