/**
 * What the board's charts receive: TensorBoard's debiased exponential smoothing, seed groups as mean ± std, and
 * decimation to the chart's pixel width. Decimation keeps, in each pixel-wide bucket, the minimum and the maximum (in
 * the order they occurred), so no extreme is dropped; when every series has at most one point per pixel in the range
 * the points are sent as they are (full resolution on zoom). All series of a chart share one x array (uPlot's aligned
 * data); gaps are NaN.
 */

/** One series of a chart: x and y of the same length, x non-decreasing. */
export interface XY {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/**
 * TensorBoard's smoothing (vz_line_chart2 `resmoothDataset`): an exponential moving average started at 0 and
 * divided by `1 - w^n` (debiased), non-finite values passed through, a constant series left as is.
 */
export function smooth(values: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(values.length);
  let constant = true;
  for (let i = 1; i < values.length && constant; i++) if (values[i] !== values[0]) constant = false;
  if (constant) {
    out.set(values);
    return out;
  }
  const debias = denominators(weight, values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = weight === 1 ? last : last / debias[n]!;
  }
  return out;
}

/** 1 − weight^n for n = 0…, the same doubles as computed point by point, shared by every run a chart smooths. */
const DEBIAS = new Map<number, Float64Array>();

function denominators(weight: number, n: number): Float64Array {
  let d = DEBIAS.get(weight);
  if (!d || d.length <= n) {
    if (DEBIAS.size >= 16) DEBIAS.clear();
    d = new Float64Array(Math.max(n + 1, 2 * (d?.length ?? 0), 1024));
    for (let i = 1; i < d.length; i++) d[i] = 1 - Math.pow(weight, i);
    DEBIAS.set(weight, d);
  }
  return d;
}

/** Mean and standard deviation (population) over series at each x that any of them has; `n` members there. */
export function meanStd(members: XY[]): { x: Float64Array; mean: Float64Array; lo: Float64Array; hi: Float64Array; n: Uint32Array } {
  const acc = new Map<number, { s: number; ss: number; n: number }>();
  for (const m of members) {
    for (let i = 0; i < m.x.length; i++) {
      const v = m.y[i]!;
      if (!Number.isFinite(v)) continue;
      const a = acc.get(m.x[i]!) ?? { s: 0, ss: 0, n: 0 };
      a.s += v;
      a.ss += v * v;
      a.n++;
      acc.set(m.x[i]!, a);
    }
  }
  const xs = [...acc.keys()].sort((a, b) => a - b);
  const x = Float64Array.from(xs);
  const mean = new Float64Array(xs.length);
  const lo = new Float64Array(xs.length);
  const hi = new Float64Array(xs.length);
  const n = new Uint32Array(xs.length);
  xs.forEach((k, i) => {
    const a = acc.get(k)!;
    const mu = a.s / a.n;
    const sd = Math.sqrt(Math.max(0, a.ss / a.n - mu * mu));
    mean[i] = mu;
    lo[i] = mu - sd;
    hi[i] = mu + sd;
    n[i] = a.n;
  });
  return { x, mean, lo, hi, n };
}

export interface Decimated {
  /** Shared x values. */
  x: Float64Array;
  /** One y array per input channel, aligned with x, NaN where a series has no point. */
  ys: Float64Array[];
  /** x then every y, one after another: what x and ys are views of (a chart response sends it as it is). */
  block: Float64Array;
  /** `raw`: every point in the range; `minmax`: two slots per pixel bucket holding its min and max. */
  mode: 'raw' | 'minmax';
  /** Points of each channel in the range before decimation. */
  counts: number[];
  range: [number, number] | null;
}

export interface DecimateOptions {
  /** Buckets: the chart's plotting width in pixels. */
  width: number;
  /** Only points with lo ≤ x ≤ hi (a zoomed chart); default: everything. */
  range?: [number, number] | null;
  /** Drop values ≤ 0 (a log scale cannot show them). */
  positive?: boolean;
  /** Largest shared x × channels for raw mode (the union of many runs' wall times can be large). */
  cellBudget?: number;
}

/** Index of the first x ≥ v (`after`: the first x > v); x non-decreasing. */
function bound(x: ArrayLike<number>, v: number, after = false): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid]! < v || (after && x[mid]! === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Decimates channels (each an x/y series) onto one shared x array; see the module comment. */
export function decimate(channels: XY[], opts: DecimateOptions): Decimated {
  const width = Math.max(1, Math.min(8192, Math.floor(opts.width)));
  const keep = (v: number) => Number.isFinite(v) && (!opts.positive || v > 0);
  // The index window of each channel in the range.
  const windows = channels.map((c) => {
    if (!opts.range) return [0, c.x.length] as const;
    return [bound(c.x, opts.range[0]), bound(c.x, opts.range[1], true)] as const;
  });
  // Points kept per channel: counted here for a window of at most `width` points; a longer one is counted by the
  // min/max pass (one pass over every point, not two)
  const counts = channels.map((c, k) => {
    const [a, b] = windows[k]!;
    if (b - a > width) return -1;
    let n = 0;
    for (let i = a; i < b; i++) if (keep(c.y[i]!)) n++;
    return n;
  });
  let lo = Infinity;
  let hi = -Infinity;
  channels.forEach((c, k) => {
    const [a, b] = windows[k]!;
    for (let i = a; i < b; i++) {
      if (!keep(c.y[i]!)) continue;
      lo = Math.min(lo, c.x[i]!);
      hi = Math.max(hi, c.x[i]!);
      break;
    }
    for (let i = b - 1; i >= a; i--) {
      if (!keep(c.y[i]!)) continue;
      lo = Math.min(lo, c.x[i]!);
      hi = Math.max(hi, c.x[i]!);
      break;
    }
  });
  const range = opts.range ?? (lo <= hi ? ([lo, hi] as [number, number]) : null);
  if (!(lo <= hi)) return { ...views(channels.length, 0), mode: 'raw', counts: channels.map(() => 0), range };
  const raw = () => (Math.max(...counts) <= width ? rawPoints(channels, windows, keep, counts, opts.cellBudget ?? 4_000_000) : undefined);
  const tried = counts.every((n) => n >= 0);
  if (tried) {
    const r = raw();
    if (r) return { ...r, mode: 'raw', counts, range };
  }
  const m = minMax(channels, windows, lo, hi, width, !!opts.positive, counts);
  // a long window with few finite points: perhaps every point fits after all
  const r = tried ? undefined : raw();
  return r ? { ...r, mode: 'raw', counts, range } : { ...m, mode: 'minmax', counts, range };
}

/** x and `channels` y arrays of n values, views of one block. */
function views(channels: number, n: number): { x: Float64Array; ys: Float64Array[]; block: Float64Array } {
  const block = new Float64Array((1 + channels) * n);
  return { block, x: block.subarray(0, n), ys: Array.from({ length: channels }, (_, k) => block.subarray((k + 1) * n, (k + 2) * n)) };
}

/** Every kept point, on the union of their x (undefined when that union is over the cell budget). */
function rawPoints(channels: XY[], windows: ReadonlyArray<readonly [number, number]>, keep: (v: number) => boolean, counts: number[], cellBudget: number): { x: Float64Array; ys: Float64Array[]; block: Float64Array } | undefined {
  const xs = new Set<number>();
  channels.forEach((c, k) => {
    for (let i = windows[k]![0]; i < windows[k]![1]; i++) if (keep(c.y[i]!)) xs.add(c.x[i]!);
  });
  if (xs.size * channels.length > cellBudget) return undefined;
  const out = views(channels.length, xs.size);
  const x = out.x;
  x.set(Float64Array.from(xs).sort());
  const at = new Map<number, number>();
  x.forEach((v, i) => at.set(v, i));
  channels.forEach((c, k) => {
    const y = out.ys[k]!.fill(NaN);
    if (counts[k] === 0) return;
    for (let i = windows[k]![0]; i < windows[k]![1]; i++) if (keep(c.y[i]!)) y[at.get(c.x[i]!)!] = c.y[i]!;
  });
  return out;
}

/**
 * Min/max per bucket: bucket b covers [lo + b·dx, lo + (b+1)·dx); its two slots sit at ¼ and ¾ of it. Fills in
 * `counts` the channels not counted yet (-1).
 */
function minMax(channels: XY[], windows: ReadonlyArray<readonly [number, number]>, lo: number, hi: number, width: number, positive: boolean, counts: number[]): { x: Float64Array; ys: Float64Array[]; block: Float64Array } {
  const span = hi - lo;
  const buckets = span > 0 ? width : 1;
  const dx = span > 0 ? span / buckets : 1;
  const out = views(channels.length, 2 * buckets);
  const x = out.x;
  for (let b = 0; b < buckets; b++) {
    x[2 * b] = lo + (b + 0.25) * dx;
    x[2 * b + 1] = lo + (b + 0.75) * dx;
  }
  if (span === 0) x.fill(lo);
  // scratch shared by the channels (a chart of 200 runs has 400)
  const minV = new Float64Array(buckets);
  const maxV = new Float64Array(buckets);
  const minI = new Int32Array(buckets);
  const maxI = new Int32Array(buckets);
  const count = new Uint32Array(buckets);
  const last = buckets - 1;
  const inv = 1 / dx;
  channels.forEach((c, k) => {
    const y = out.ys[k]!.fill(NaN);
    minV.fill(Infinity);
    maxV.fill(-Infinity);
    count.fill(0);
    const [from, to] = windows[k]!;
    const cx = c.x;
    const cy = c.y;
    let kept = 0;
    // the hot loop of a chart request (every point of every run): no closures, no bounds helpers
    for (let i = from; i < to; i++) {
      const v = cy[i]!;
      if (!(v - v === 0) || (positive && v <= 0)) continue;
      let b = ((cx[i]! - lo) * inv) | 0;
      if (b > last) b = last;
      else if (b < 0) b = 0;
      count[b]!++;
      kept++;
      if (v < minV[b]!) (minV[b] = v), (minI[b] = i);
      if (v > maxV[b]!) (maxV[b] = v), (maxI[b] = i);
    }
    if (counts[k]! < 0) counts[k] = kept;
    for (let b = 0; b < buckets; b++) {
      if (count[b] === 0) continue;
      if (count[b] === 1) {
        y[2 * b] = minV[b]!;
        continue;
      }
      const minFirst = minI[b]! <= maxI[b]!;
      y[2 * b] = minFirst ? minV[b]! : maxV[b]!;
      y[2 * b + 1] = minFirst ? maxV[b]! : minV[b]!;
    }
  });
  return out;
}
