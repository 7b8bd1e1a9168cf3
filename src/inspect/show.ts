/**
 * `tudui show RUN`: the header (status, times, epochs, best, backend, dataset), the resolved config, and per metric tag
 * its last / min / max / best@step with a sparkline; `--plot TAG` draws one tag as a terminal chart; `--follow` keeps
 * printing new points (tailing metrics.jsonl) and status changes until the writer stops.
 */
import { plot } from 'asciichart';
import { UserError } from '../errors.js';
import { BEST, checkpointLink, EPOCH_TAGS, higherIsBetter, LAST, listCheckpoints, MetricsTail, readStatus, readSummary, runPaths, readConfigText, type MetricPoint, type RunStatus } from '../run/layout.js';
import { alignTable, formatDuration, formatNumber, formatTime, resample, sparkline } from './format.js';
import { loadRun, type RunRecord } from './runs.js';

export interface TagStats {
  tag: string;
  points: number;
  /** The x axis of the tag: the epoch for per-epoch tags, else the global step. */
  first_step: number;
  last_step: number;
  last: number;
  min: number;
  max: number;
  /** Best value (max for accuracies and throughput, min for losses) and its step. */
  best: number;
  best_step: number;
  spark: string;
}

/** Statistics of every tag in metrics.jsonl, in the order tags first appear. */
export function tagStats(points: MetricPoint[], sparkWidth = 24): TagStats[] {
  const byTag = new Map<string, MetricPoint[]>();
  for (const p of points) {
    let s = byTag.get(p.tag);
    if (!s) byTag.set(p.tag, (s = []));
    s.push(p);
  }
  return [...byTag].map(([tag, ps]) => {
    const finite = ps.filter((p) => Number.isFinite(p.value));
    const high = higherIsBetter(tag);
    let best = finite[0];
    for (const p of finite) if (best && (high ? p.value > best.value : p.value < best.value)) best = p;
    const vs = finite.map((p) => p.value);
    return {
      tag,
      points: ps.length,
      first_step: ps[0]!.step,
      last_step: ps[ps.length - 1]!.step,
      last: ps[ps.length - 1]!.value,
      min: vs.length ? vs.reduce((a, b) => Math.min(a, b)) : NaN,
      max: vs.length ? vs.reduce((a, b) => Math.max(a, b)) : NaN,
      best: best?.value ?? NaN,
      best_step: best?.step ?? NaN,
      spark: sparkline(ps.map((p) => p.value), sparkWidth),
    };
  });
}

export interface RunReport {
  dir: string;
  note?: string;
  status: RunStatus | 'pending';
  summary: RunRecord['summary'];
  config: string | undefined;
  checkpoints: { kept: string[]; last?: string; best?: string };
  metrics: TagStats[];
}

/** Everything `show` prints, as data (`--json`). */
export function runReport(path: string): RunReport {
  const { run, note } = loadRun(path);
  const last = checkpointLink(run.dir, LAST);
  const best = checkpointLink(run.dir, BEST);
  return {
    dir: run.dir,
    ...(note ? { note } : {}),
    status: run.status,
    summary: run.summary,
    config: readConfigText(run.dir),
    checkpoints: { kept: listCheckpoints(run.dir), ...(last ? { last } : {}), ...(best ? { best } : {}) },
    metrics: tagStats(run.metrics()),
  };
}

/** The text of `tudui show`. */
export function formatRunReport(r: RunReport): string {
  const s = r.summary;
  const rows: Array<[string, string]> = [];
  rows.push(['run', r.dir + (r.note ? ` (${r.note})` : '')]);
  if (s) {
    rows.push(['name', s.name]);
    rows.push(['status', r.status + (s.reason ? `: ${s.reason}` : r.status === 'interrupted' && s.status === 'running' ? ': its writer is gone (no live process holds the lock)' : '')]);
    rows.push(['started', `${formatTime(s.started_at)}${s.finished_at ? `, last written ${formatTime(s.finished_at)}` : ''}, ${formatDuration(s.durations?.total_s)} of training`]);
    rows.push(['epochs', `${s.epochs_completed} of ${s.epochs} (global step ${s.global_step})${s.skipped_batches ? `, ${s.skipped_batches} batches skipped (on_nan: skip)` : ''}`]);
    if (s.best) rows.push(['best', `${s.best.metric} ${formatNumber(s.best.value)} at epoch ${s.best.epoch}`]);
    if (s.final) rows.push(['final', Object.entries(s.final).map(([k, v]) => `${k} ${formatNumber(v)}`).join(', ')]);
    const description = s.backend_description?.startsWith(s.backend) ? s.backend_description : `${s.backend}${s.backend_description ? ` (${s.backend_description})` : ''}`;
    rows.push(['backend', `${description}, device ${s.device}`]);
    if (s.throughput) rows.push(['speed', `${Math.round(s.throughput.train_images_per_s)} train images/s, ${Math.round(s.throughput.eval_images_per_s)} eval images/s`]);
    rows.push(['model', `${s.parameters.toLocaleString('en-US')} parameters, seed ${s.seed}, config ${s.config_hash.slice(0, 12)}${s.config_changes ? `, ${s.config_changes} accepted change${s.config_changes === 1 ? '' : 's'} (config-history.jsonl)` : ''}`]);
    if (s.dataset) rows.push(['dataset', `${s.dataset.name}: ${s.dataset.train} train, ${s.dataset.test} test (${s.dataset.source})`]);
    rows.push(['host', `${s.host}, pid ${s.pid}`]);
  } else {
    rows.push(['status', `${r.status} (no summary.json yet)`]);
  }
  const c = r.checkpoints;
  rows.push(['checkpoints', c.kept.length ? `${c.kept.join(', ')}${c.last ? `; last → ${c.last}` : ''}${c.best ? `; best → ${c.best}` : ''}` : 'none']);
  const w = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  out.push('', 'config (config.yaml):');
  const config = (r.config ?? '(missing)\n').split('\n').filter((l, i, all) => !(l.startsWith('#') && all.slice(0, i).every((x) => x.startsWith('#'))));
  out.push(...config.map((l) => (l ? `  ${l}` : l)).join('\n').trimEnd().split('\n'));
  out.push('', 'metrics (metrics.jsonl):');
  if (r.metrics.length === 0) out.push('  none logged yet');
  else {
    const header = ['tag', 'points', 'steps', 'last', 'min', 'max', 'best@step', ''];
    const body = r.metrics.map((m) => [m.tag, String(m.points), `${m.first_step}..${m.last_step}`, formatNumber(m.last), formatNumber(m.min), formatNumber(m.max), `${formatNumber(m.best)}@${m.best_step}`, m.spark]);
    out.push(...alignTable(header, body, [false, true, true, true, true, true, true, false]).split('\n').map((l) => `  ${l}`));
  }
  return out.join('\n');
}

/**
 * One tag as a terminal chart of `width` × `height` characters (axis labels and the line under it included). A series longer than the plot is
 * averaged per column: every point counts, none is dropped.
 */
export function plotTag(points: MetricPoint[], tag: string, size: { width: number; height: number }): string {
  const ps = points.filter((p) => p.tag === tag);
  if (ps.length === 0) {
    const tags = [...new Set(points.map((p) => p.tag))];
    throw new UserError(`no points for tag '${tag}'`, tags.length ? `tags in this run: ${tags.join(', ')}` : 'this run has logged no metrics yet');
  }
  const labels = 11;
  const width = Math.max(10, size.width - labels - 2);
  const height = Math.max(4, size.height);
  const ys = stretch(resample(ps.map((p) => p.value), width), width);
  const finite = ys.filter(Number.isFinite);
  if (finite.length === 0) throw new UserError(`tag '${tag}' has no finite value to plot (${ps.length} points, all NaN or infinite)`);
  // asciichart draws no gaps: a column without a finite value repeats the one before it (the label says how many).
  let held = finite[0]!;
  const drawn = ys.map((y) => (Number.isFinite(y) ? (held = y) : held));
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const label = (x: number) => formatNumber(x).padStart(labels - 1).slice(-(labels - 1)) + ' ';
  // A constant series is one flat row labelled with its value (asciichart would label it with the value rounded).
  const chart = min === max ? plot(drawn, { format: () => label(min) }) : plot(drawn, { min, max, height: height - 2, format: label });
  const gaps = ps.filter((p) => !Number.isFinite(p.value)).length;
  const xLabel =
    `${tag}: ${ps.length} points, ${EPOCH_TAGS.has(tag) ? 'epoch' : 'step'} ${ps[0]!.step} … ${ps[ps.length - 1]!.step}` +
    (ps.length > width ? ` (mean of ~${Math.ceil(ps.length / width)} points per column)` : '') +
    (gaps ? `, ${gaps} not finite (not drawn)` : '');
  return `${chart}\n${' '.repeat(labels)}${xLabel}`;
}

/** A short series drawn across `width` columns: each point held over its share of them (values unchanged). */
function stretch(ys: number[], width: number): number[] {
  if (ys.length >= width || ys.length < 2) return ys;
  return Array.from({ length: width }, (_, i) => ys[Math.min(ys.length - 1, Math.floor((i * ys.length) / width))]!);
}

/**
 * Follow a run: call `onLine` for each new point (and for status changes) until the run is no longer `running`, then
 * once more for the final status. Points already in metrics.jsonl when it starts are skipped unless `fromStart`.
 */
export async function followRun(
  dir: string,
  onLine: (line: string) => void,
  opts: { intervalMs?: number; signal?: AbortSignal; fromStart?: boolean } = {},
): Promise<RunStatus | undefined> {
  const tail = new MetricsTail(runPaths(dir).metrics);
  if (!opts.fromStart) tail.poll();
  let status = readStatus(dir);
  const interval = opts.intervalMs ?? 250;
  const line = (p: MetricPoint) => `${formatTime(new Date(p.wall_time * 1000).toISOString())}  epoch ${p.epoch}  step ${p.step}  ${p.tag} ${formatNumber(p.value)}`;
  for (;;) {
    const { points, reset } = tail.poll();
    if (reset) onLine('metrics.jsonl was rewritten (resume --from): following it from its start');
    for (const p of points) onLine(line(p));
    const now = readStatus(dir);
    if (now !== status) {
      status = now;
      const s = readSummary(dir);
      onLine(`status: ${now ?? 'unknown'}${s?.reason ? ` (${s.reason})` : ''}`);
    }
    if (status !== 'running' || opts.signal?.aborted) {
      for (const p of tail.poll().points) onLine(line(p));
      return status;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
