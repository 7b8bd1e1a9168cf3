/// <reference lib="dom" />
/**
 * The sweep view: an hparams table, parallel coordinates with brushing (ECharts, loaded on first use), a
 * metric-vs-hparam scatter and the seed groups (members equal in every hyperparameter but the seed) as mean ± std
 * bands. Hyperparameters: the sweep's own (sweep.json), or for loose runs the config keys whose values differ.
 */
import type * as ECharts from 'echarts';
import { TagChart } from './charts.js';
import { colorOf, esc, getJson, num, type Row, type State, type Sweep } from './util.js';

type HValue = number | string | boolean | null;
let echartsLoad: Promise<typeof ECharts> | undefined;

/** ECharts (1 MB) only when a sweep view opens: the runs table and the charts never wait for it. */
function loadECharts(): Promise<typeof ECharts> {
  echartsLoad ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/vendor/echarts.min.js';
    s.onload = () => resolve((globalThis as unknown as { echarts: typeof ECharts }).echarts);
    s.onerror = () => reject(new Error('cannot load /vendor/echarts.min.js'));
    document.head.appendChild(s);
  });
  return echartsLoad;
}

const isSeed = (k: string) => k === 'seed' || k.endsWith('.seed');

/** Metrics a member can be ranked by: final values and the best of the monitored one. */
function metricOf(r: Row, m: string): number | null {
  if (m === 'best') return r.best?.value ?? null;
  const v = r.final[m];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export interface SweepView {
  destroy(): void;
  /** New points or rows arrived. */
  refresh(): void;
}

export async function renderSweep(root: HTMLElement, rows: Row[], sweeps: Sweep[], state: State, changed: () => void): Promise<SweepView> {
  const sweep = sweeps.find((s) => s.id === state.sweep) ?? (state.sweep === '*' ? undefined : sweeps[0]);
  const members = rows.filter((r) => (sweep ? r.sweep === sweep.id : true) && !state.hidden.has(r.id));
  // hyperparameters: the sweep's, else the config keys that differ among the runs
  let hp: string[] = sweep?.hparams ?? [];
  let values = (r: Row, k: string): HValue => (r.hparams[k] as HValue) ?? null;
  if (!sweep && members.length) {
    const cfg = await getJson<Record<string, Record<string, unknown>>>(`/api/configs?keys=${members.map((r) => r.key).join(',')}`);
    const keys = new Set(Object.values(cfg).flatMap((c) => Object.keys(c)));
    hp = [...keys].filter((k) => k !== 'name' && new Set(members.map((r) => JSON.stringify(cfg[r.key]?.[k] ?? null))).size > 1).sort();
    values = (r, k) => {
      const v = cfg[r.key]?.[k];
      return v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : (v as HValue);
    };
  }
  const metrics = ['best', ...new Set(members.flatMap((r) => Object.keys(r.final)))];
  const metric = metrics.includes(state.metric) ? state.metric : 'best';
  const hparam = hp.includes(state.hparam) ? state.hparam : (hp.find((k) => !isSeed(k)) ?? hp[0] ?? '');
  const tags = [...new Set(members.flatMap((r) => r.tags))].sort();
  const groupTag = tags.includes(state.groupTag) ? state.groupTag : tags.includes('test_accuracy') ? 'test_accuracy' : (tags[0] ?? '');
  const opt = (list: string[], sel: string, label = (x: string) => x) => list.map((x) => `<option value="${esc(x)}" ${x === sel ? 'selected' : ''}>${esc(label(x))}</option>`).join('');

  root.innerHTML = `<div class="bar">sweep <select id="sw-sweep">${opt([...sweeps.map((s) => s.id), '*'], sweep?.id ?? '*', (x) => (x === '*' ? 'all runs' : x))}</select>
    metric <select id="sw-metric">${opt(metrics, metric, (m) => (m === 'best' ? 'best (monitored)' : `final ${m}`))}</select>
    scatter x <select id="sw-hp">${opt(hp, hparam)}</select>
    groups <select id="sw-gt">${opt(tags, groupTag)}</select>
    <span class="muted" id="sw-brush"></span></div>
    <div class="panel"><h2>Parallel coordinates <span class="muted">(drag along an axis to brush)</span></h2><div id="sw-parallel" style="height:300px"></div></div>
    <div class="panel"><h2>Hyperparameters</h2><table id="sw-table"></table></div>
    <div class="panel"><h2>${esc(metric === 'best' ? 'best' : metric)} vs ${esc(hparam)}</h2><div id="sw-scatter" style="height:280px"></div></div>
    <div class="panel"><h2>Seed groups: ${esc(groupTag)}, mean ± std</h2><table id="sw-groups"></table><div id="sw-group-chart"></div></div>`;
  for (const [id, set] of [
    ['#sw-sweep', (v: string) => (state.sweep = v)],
    ['#sw-metric', (v: string) => (state.metric = v)],
    ['#sw-hp', (v: string) => (state.hparam = v)],
    ['#sw-gt', (v: string) => (state.groupTag = v)],
  ] as const) {
    const e = root.querySelector<HTMLSelectElement>(id)!;
    e.onchange = () => (set(e.value), changed());
  }

  let brushed: Set<number> | null = null;
  const sorted = [...members].sort((a, b) => (metricOf(b, metric) ?? -Infinity) - (metricOf(a, metric) ?? -Infinity));
  const drawTable = () => {
    const t = root.querySelector('#sw-table')!;
    const shown = brushed ? sorted.filter((r) => brushed!.has(r.key)) : sorted;
    t.innerHTML = `<thead><tr><th></th><th>run</th><th>status</th>${hp.map((k) => `<th>${esc(k)}</th>`).join('')}<th>${esc(metric)}</th></tr></thead><tbody>
      ${shown.map((r) => `<tr data-key="${r.key}"><td><span class="sw" style="background:${colorOf(r.id)}"></span></td><td>${esc(r.member ?? r.id)}</td><td><span class="st st-${esc(r.status)}">${esc(r.status)}</span></td>${hp.map((k) => `<td class="num">${num(values(r, k))}</td>`).join('')}<td class="num">${num(metricOf(r, metric))}</td></tr>`).join('')}</tbody>`;
    root.querySelector('#sw-brush')!.textContent = brushed ? `${brushed.size} of ${members.length} brushed` : `${members.length} members`;
  };
  drawTable();

  // seed groups
  const groups = new Map<string, Row[]>();
  for (const r of members) {
    const label = hp.filter((k) => !isSeed(k)).map((k) => `${k}=${String(values(r, k))}`).join(', ') || 'all';
    groups.set(label, [...(groups.get(label) ?? []), r]);
  }
  const stats = (rs: Row[]) => {
    const v = rs.map((r) => metricOf(r, metric)).filter((x): x is number => x !== null);
    const mu = v.reduce((a, b) => a + b, 0) / (v.length || 1);
    return { mu, sd: Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / (v.length || 1)), n: v.length };
  };
  root.querySelector('#sw-groups')!.innerHTML = `<thead><tr><th></th><th>group</th><th>seeds</th><th>${esc(metric)} mean ± std</th></tr></thead><tbody>
    ${[...groups].map(([label, rs]) => {
      const s = stats(rs);
      return `<tr><td><span class="sw" style="background:${colorOf(label)}"></span></td><td>${esc(label)}</td><td class="num">${rs.length}</td><td class="num">${s.n ? `${num(s.mu)} ± ${num(s.sd)}` : ''}</td></tr>`;
    }).join('')}</tbody>`;
  let chart: TagChart | undefined;
  if (groupTag) {
    chart = new TagChart(groupTag, {
      state: { ...state, zoom: null },
      rows: () => new Map(rows.map((r) => [r.key, r])),
      keys: () => members.map((r) => r.key),
      groups: () => [...groups].map(([label, rs]) => ({ label, keys: rs.map((r) => r.key) })),
      onZoom: () => undefined,
    });
    chart.el.id = 'sw-group';
    root.querySelector('#sw-group-chart')!.appendChild(chart.el);
    void chart.refresh();
  }

  // parallel coordinates and scatter
  const echarts = await loadECharts();
  const axisOf = (k: string, vals: HValue[]) => {
    const nums = vals.filter((v): v is number => typeof v === 'number');
    if (nums.length === vals.length && nums.length) {
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      return { type: lo > 0 && hi / lo >= 20 ? ('log' as const) : ('value' as const), name: k, scale: true };
    }
    return { type: 'category' as const, name: k, data: [...new Set(vals.map(String))] };
  };
  const dims = [...hp, metric];
  const cell = (r: Row, k: string): HValue => (k === metric ? metricOf(r, metric) : values(r, k));
  const cellFor = (r: Row, k: string, axis: ReturnType<typeof axisOf>) => (axis.type === 'category' ? String(cell(r, k)) : cell(r, k));
  const axes = dims.map((k) => axisOf(k, members.map((r) => cell(r, k))));
  const par = echarts.init(root.querySelector<HTMLElement>('#sw-parallel')!);
  par.setOption({
    animation: false,
    parallelAxis: axes.map((a, dim) => ({ dim, ...a, nameTextStyle: { fontSize: 11 } })),
    parallel: { left: 60, right: 80, top: 40, bottom: 30 },
    series: [{
      type: 'parallel',
      lineStyle: { width: 2, opacity: 0.8 },
      inactiveOpacity: 0.06,
      activeOpacity: 1,
      data: members.map((r) => ({ name: r.id, value: dims.map((k, i) => cellFor(r, k, axes[i]!)), lineStyle: { color: colorOf(r.id) } })),
    }],
  });
  par.on('axisareaselected', () => {
    const model = (par as unknown as { getModel(): { getSeriesByIndex(i: number): { getRawIndicesByActiveState(s: string): number[] } } }).getModel();
    const active = model.getSeriesByIndex(0).getRawIndicesByActiveState('active');
    brushed = active.length === members.length ? null : new Set(active.map((i) => members[i]!.key));
    drawTable();
    scatter.setOption({ series: [{ data: scatterData() }] });
  });
  const xAxis = axisOf(hparam, members.map((r) => values(r, hparam)));
  const scatterData = () =>
    members
      .filter((r) => !brushed || brushed.has(r.key))
      .map((r) => ({ name: r.id, value: [cellFor(r, hparam, xAxis), metricOf(r, metric)], itemStyle: { color: colorOf(r.id) } }));
  const scatter = echarts.init(root.querySelector<HTMLElement>('#sw-scatter')!);
  scatter.setOption({
    animation: false,
    grid: { left: 60, right: 30, top: 20, bottom: 40 },
    tooltip: { trigger: 'item', formatter: (p: { name: string; value: unknown[] }) => `${esc(p.name)}<br>${esc(hparam)} = ${esc(p.value[0])}<br>${esc(metric)} = ${num(p.value[1])}` },
    xAxis: { ...xAxis, name: hparam, nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'value', scale: true, name: metric },
    series: [{ type: 'scatter', symbolSize: 10, data: scatterData() }],
  });
  (root as unknown as { __echarts: unknown }).__echarts = { parallel: par, scatter };
  root.dataset.ready = '1';
  return {
    destroy: () => {
      par.dispose();
      scatter.dispose();
      chart?.destroy();
    },
    refresh: () => void chart?.refresh(),
  };
}
