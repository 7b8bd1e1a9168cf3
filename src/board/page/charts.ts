/// <reference lib="dom" />
/**
 * One uPlot chart per tag. The server decimates to the plot's pixel width (min and max per pixel) and smooths
 * (TensorBoard's debiased EMA, the raw line kept faint); a drag zooms every chart to the range and fetches it at
 * full resolution, a double click zooms out; the crosshair is synced across charts; log y drops values ≤ 0.
 */
import type UPlot from 'uplot';
import { colorOf, getChart, num, type ChartData, type Row, type State } from './util.js';

const uPlot = (globalThis as unknown as { uPlot: typeof UPlot }).uPlot;
const SYNC = 'tudui-x';

export interface ChartSource {
  state: State;
  rows: () => Map<number, Row>;
  /** Runs drawn (visible keys) or, for seed groups, the groups' member keys and labels. */
  keys: () => number[];
  groups?: () => Array<{ label: string; keys: number[] }>;
  onZoom: (range: [number, number] | null) => void;
}

function fmtX(mode: State['x'], v: number): string {
  if (mode === 'wall') return new Date(v * 1000).toLocaleString();
  if (mode === 'relative') {
    const s = Math.round(v);
    return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }
  return num(v, 6);
}

export class TagChart {
  readonly el: HTMLDivElement;
  private u: UPlot | null = null;
  private signature = '';
  private busy = false;
  private again = false;
  data: ChartData | null = null;

  constructor(readonly tag: string, private src: ChartSource) {
    this.el = document.createElement('div');
    this.el.className = 'chart';
    this.el.dataset.tag = tag;
    this.el.innerHTML = `<h3></h3><span class="info"></span><div class="plot"></div>`;
    this.el.querySelector('h3')!.textContent = tag;
  }

  /** Fetches and draws; calls made while one is in flight coalesce into one more. */
  async refresh(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        const t0 = performance.now();
        await this.load();
        if (this.again) await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - t0))));
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  private plotWidth(): number {
    return Math.max(200, (this.el.clientWidth || 480) - 10);
  }

  private async load(): Promise<void> {
    const s = this.src.state;
    const q = new URLSearchParams({ tag: this.tag, x: s.x, w: String(Math.max(50, this.plotWidth() - 60)), s: String(s.smooth), log: s.log ? '1' : '0' });
    const groups = this.src.groups?.();
    if (groups) q.set('groups', groups.map((g) => g.keys.join(',')).join(';'));
    else q.set('keys', this.src.keys().join(','));
    if (s.zoom) (q.set('lo', String(s.zoom[0])), q.set('hi', String(s.zoom[1])));
    const d = await getChart(q);
    this.data = d;
    this.draw(d, groups);
  }

  private draw(d: ChartData, groups: Array<{ label: string; keys: number[] }> | undefined): void {
    const s = this.src.state;
    const rows = this.src.rows();
    const sig = JSON.stringify([s.x, s.log, d.series.map((x) => [x.keys, x.channels]), this.plotWidth()]);
    const info = this.el.querySelector<HTMLElement>('.info')!;
    // counts are per channel: a series' first channel holds its points (smoothed and ± std lines repeat them)
    let points = 0;
    let c = 0;
    for (const entry of d.series) (points += d.counts[c] ?? 0), (c += entry.channels.length);
    info.textContent = `${d.series.length} ${groups ? 'groups' : 'runs'} · ${points} points${d.mode === 'minmax' ? ' · min/max per pixel' : ''}${d.loaded < d.runs ? ` · reading ${d.loaded}/${d.runs} runs` : ''}`;
    this.el.dataset.mode = d.mode;
    this.el.dataset.complete = d.loaded < d.runs ? '0' : '1';
    if (this.u && sig === this.signature) {
      this.u.setData(d.columns as UPlot.AlignedData);
      return;
    }
    this.u?.destroy();
    this.signature = sig;
    const series: UPlot.Series[] = [{ label: s.x, value: (_u, v) => (v === null ? '' : fmtX(s.x, v)) }];
    const bands: UPlot.Band[] = [];
    d.series.forEach((entry, i) => {
      const label = groups ? groups[i]!.label : (rows.get(entry.keys[0]!)?.id ?? String(entry.keys[0]));
      const base = 1 + series.length - 1;
      for (const ch of entry.channels) {
        if (ch === 'y') series.push({ label: entry.channels.length > 1 ? `${label} (raw)` : label, stroke: colorOf(label, entry.channels.length > 1 ? 0.22 : 1), width: 1, spanGaps: true });
        else if (ch === 'smooth' || ch === 'mean') series.push({ label: ch === 'mean' ? `${label} (mean)` : label, stroke: colorOf(label), width: ch === 'mean' ? 2 : 1.5, spanGaps: true });
        else series.push({ label: `${label} ${ch === 'lo' ? '−' : '+'}std`, stroke: 'transparent', width: 0, spanGaps: true, points: { show: false } });
      }
      if (entry.channels[0] === 'mean') bands.push({ series: [base + 2, base + 1], fill: colorOf(label, 0.18) });
    });
    const opts: UPlot.Options = {
      width: this.plotWidth(),
      height: 240,
      legend: { show: false },
      series,
      bands,
      scales: {
        x: { time: s.x === 'wall', range: (_u, min, max) => (this.src.state.zoom ? this.src.state.zoom : [min, max]) },
        y: s.log ? { distr: 3, log: 10 } : {},
      },
      axes: [{ values: (_u, vals) => vals.map((v) => (s.x === 'wall' ? new Date(v * 1000).toLocaleTimeString() : fmtX(s.x, v))) }, { size: 60 }],
      cursor: { sync: { key: SYNC }, drag: { x: true, y: false, setScale: false }, focus: { prox: 16 } },
      focus: { alpha: 0.35 },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const lo = u.posToVal(u.select.left, 'x');
            const hi = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.src.onZoom([lo, hi]);
          },
        ],
        setCursor: [(u) => this.tip(u)],
      },
    };
    const plot = this.el.querySelector<HTMLElement>('.plot')!;
    plot.innerHTML = '';
    this.u = new uPlot(opts, d.columns as UPlot.AlignedData, plot);
    (this.el as unknown as { __uplot: UPlot }).__uplot = this.u;
    this.u.over.ondblclick = () => this.src.onZoom(null);
    this.u.over.onmouseleave = () => (document.getElementById('tip')!.style.display = 'none');
  }

  /** The series nearest the cursor, named with its value. */
  private tip(u: UPlot): void {
    const tip = document.getElementById('tip')!;
    const idx = u.cursor.idx;
    const top = u.cursor.top ?? -1;
    if (idx === null || idx === undefined || top < 0) {
      tip.style.display = 'none';
      return;
    }
    let best = -1;
    let bestD = Infinity;
    let bestV = 0;
    for (let i = 1; i < u.series.length; i++) {
      const sr = u.series[i]!;
      if (!sr.show || sr.stroke === 'transparent') continue;
      const col = u.data[i]!;
      for (let j = Math.max(0, idx - 2); j <= Math.min(col.length - 1, idx + 2); j++) {
        const v = col[j];
        if (v === null || v === undefined) continue;
        const dist = Math.abs(u.valToPos(v, 'y') - top);
        if (dist < bestD) (bestD = dist), (best = i), (bestV = v);
      }
    }
    if (best < 0) {
      tip.style.display = 'none';
      return;
    }
    const rect = u.over.getBoundingClientRect();
    // min/max slots sit inside their pixel, not on a logged x: say so
    const about = this.data?.mode === 'minmax' ? '≈ ' : '';
    tip.textContent = `${u.series[best]!.label}: ${num(bestV, 6)} at ${this.src.state.x} ${about}${fmtX(this.src.state.x, u.data[0][idx]!)}`;
    tip.style.display = 'block';
    tip.style.left = `${rect.left + (u.cursor.left ?? 0) + 14}px`;
    tip.style.top = `${rect.top + top + 14}px`;
  }

  destroy(): void {
    this.u?.destroy();
    this.u = null;
    this.el.remove();
  }
}
