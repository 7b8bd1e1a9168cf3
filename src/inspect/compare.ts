/**
 * `tudui compare RUN... | SWEEP_DIR`: the config keys in which the runs differ (all keys with `all`), their metrics side
 * by side with the best of each row marked, and for a sweep its members grouped by every varied key except `seed`,
 * each metric as mean ± std over the seeds of a group.
 */
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { higherIsBetter, TAGS } from '../run/layout.js';
import { alignTable, formatCell, formatDuration, formatNumber, meanStd, type Cell } from './format.js';
import { loadNamedRuns, type RunRecord } from './runs.js';

/** A metric row of the comparison: how to read it from a run and which way is better. */
interface MetricRow {
  name: string;
  value(r: RunRecord): number | null;
  better: 'max' | 'min' | null;
  show?: (v: number) => string;
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** The best per-epoch value of a key of summary.json's history (absent for a split not evaluated per epoch). */
const historyBest = (r: RunRecord, key: string) => {
  const vs = (r.summary?.history ?? []).map((h) => finite((h as unknown as Record<string, unknown>)[key])).filter((v): v is number => v !== null);
  return vs.length ? (higherIsBetter(key) ? Math.max(...vs) : Math.min(...vs)) : null;
};
/** The last value of a metric: summary.json's `final`, or for the test split its one evaluation at the end (`test`). */
const last = (r: RunRecord, key: string) => {
  const v = finite(r.summary?.final?.[key]);
  if (v !== null || !key.startsWith('test_')) return v;
  const test = (r.summary as { test?: Record<string, unknown> } | undefined)?.test;
  return finite(test?.[key.slice('test_'.length)]);
};
const perEpoch = (tag: string): MetricRow[] => {
  const better = higherIsBetter(tag) ? 'max' : 'min';
  return [
    { name: `best ${tag}`, value: (r) => historyBest(r, tag), better },
    { name: `final ${tag}`, value: (r) => last(r, tag), better },
  ];
};

/** The rows a comparison may show; those no run has a value for are left out. */
const METRIC_ROWS: MetricRow[] = [
  ...perEpoch(TAGS.valAccuracy),
  ...perEpoch(TAGS.valLoss),
  ...perEpoch(TAGS.testAccuracy),
  ...perEpoch(TAGS.testLoss),
  { name: `final ${TAGS.trainLoss}`, value: (r) => last(r, 'train_loss'), better: 'min' },
  { name: 'epochs', value: (r) => r.summary?.epochs_completed ?? null, better: null, show: (v) => String(v) },
  { name: 'duration', value: (r) => finite(r.summary?.durations?.total_s), better: 'min', show: formatDuration },
  { name: 'images/s', value: (r) => finite(r.summary?.throughput?.train_images_per_s), better: 'max', show: (v) => String(Math.round(v)) },
];

export interface Comparison {
  runs: Array<{ label: string; dir: string; status: string }>;
  /** Config keys and their value per run (changed keys only, unless `all`). */
  config: Array<{ key: string; values: Cell[] }>;
  /** Metric rows: a value per run, and the indices of the best (ties: all of them; none without a direction). */
  metrics: Array<{ metric: string; values: Array<number | null>; best: number[] }>;
  /** A sweep: members grouped by their varied keys except seed. */
  sweep?: {
    dir: string;
    name: string;
    /** The keys that vary between the groups (seed excluded). */
    keys: string[];
    groups: Array<{
      values: Cell[];
      members: string[];
      metrics: Array<{ metric: string; mean: number | null; std: number | null; n: number; best: boolean }>;
    }>;
  };
}

/** Run labels: experiment names, or sweep member labels, made unique with the directory's name. */
function labels(runs: RunRecord[]): string[] {
  const base = runs.map((r) => r.sweep?.member.label ?? r.name);
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${b}@${basename(runs[i]!.dir)}` : b)).map((l, i, all) => (all.indexOf(l) === i ? l : `${l}#${i + 1}`));
}

const cell = (v: unknown): Cell => (v === undefined ? null : v === null || typeof v !== 'object' ? (v as Cell) : JSON.stringify(v));

/** Indices of the best values (all of them on a tie); none when there is no direction or fewer than two values. */
function bestIndices(values: Array<number | null>, better: MetricRow['better']): number[] {
  const present = values.filter((v): v is number => v !== null);
  if (!better || present.length < 2) return [];
  const best = better === 'max' ? Math.max(...present) : Math.min(...present);
  return values.flatMap((v, i) => (v === best ? [i] : []));
}

/** Compare run directories, or the members of one sweep directory. */
export function compareRuns(paths: string[], opts: { all?: boolean } = {}): Comparison {
  if (paths.length === 0) throw new UserError('tudui compare expects run directories or one sweep directory', 'tudui compare runs/a/<timestamp> runs/b/<timestamp>, or tudui compare runs/<sweep>/<timestamp>');
  const { runs: named, sweep } = loadNamedRuns(paths);
  const runs = named.filter((r) => r.status !== 'pending');
  if (runs.length === 0) throw new UserError(`${paths.join(' ')}: no member has started yet: nothing to compare`);
  if (!sweep && runs.length < 2) throw new UserError('tudui compare needs at least two runs (or one sweep directory)', 'to look at one run: tudui show ' + paths[0]);
  const configs = runs.map((r) => r.config());
  const keys: string[] = [];
  for (const c of configs) for (const k of c.keys()) if (!keys.includes(k)) keys.push(k);
  const differs = (k: string) => new Set(configs.map((c) => JSON.stringify(c.get(k) ?? null))).size > 1;
  const config = keys.filter((k) => opts.all || differs(k)).map((key) => ({ key, values: configs.map((c) => cell(c.get(key))) }));
  const rows = METRIC_ROWS.filter((m) => runs.some((r) => m.value(r) !== null));
  const metrics = rows.map((m) => {
    const values = runs.map((r) => m.value(r));
    return { metric: m.name, values, best: bestIndices(values, m.better) };
  });
  const result: Comparison = { runs: runs.map((r, i) => ({ label: labels(runs)[i]!, dir: r.dir, status: r.status })), config, metrics };
  if (sweep) {
    // Every key that varies between members, except the seed (and the run name, which follows from the others).
    const varied = keys.filter((k) => k !== 'seed' && k !== 'name' && differs(k));
    const groups = new Map<string, RunRecord[]>();
    for (const r of runs) {
      const id = JSON.stringify(varied.map((k) => r.config().get(k) ?? null));
      groups.set(id, [...(groups.get(id) ?? []), r]);
    }
    const list = [...groups.values()].map((members) => ({
      values: varied.map((k) => cell(members[0]!.config().get(k))),
      members: members.map((m) => m.sweep?.member.label ?? m.name),
      stats: rows.map((m) => meanStd(members.map((r) => m.value(r)))),
    }));
    const bestGroup = rows.map((m, i) => bestIndices(list.map((g) => g.stats[i]?.mean ?? null), m.better));
    result.sweep = {
      dir: sweep.dir,
      name: sweep.manifest.name,
      keys: varied,
      groups: list.map((g, gi) => ({
        values: g.values,
        members: g.members,
        metrics: rows.map((m, i) => ({ metric: m.name, mean: g.stats[i]?.mean ?? null, std: g.stats[i]?.std ?? null, n: g.stats[i]?.n ?? 0, best: bestGroup[i]!.includes(gi) })),
      })),
    };
  }
  return result;
}

/** The text of `tudui compare`. */
export function formatComparison(c: Comparison): string {
  const out: string[] = [];
  const heads = c.runs.map((r) => r.label);
  if (c.sweep) out.push(`sweep ${c.sweep.name} (${c.sweep.dir}): ${c.runs.length} members started`, '');
  const lw = Math.max(...c.runs.map((r) => r.label.length));
  const sw = Math.max(...c.runs.map((r) => r.status.length));
  out.push(`runs:`, ...c.runs.map((r) => `  ${r.label.padEnd(lw)}  ${r.status.padEnd(sw)}  ${r.dir}`), '');
  if (c.config.length === 0) out.push('config: identical');
  else {
    out.push('config:');
    out.push(...indent(alignTable(['key', ...heads], c.config.map((k) => [k.key, ...k.values.map(formatCell)]))));
  }
  out.push('', 'metrics (* best):');
  const showRow = (m: Comparison['metrics'][number]) => {
    const row = METRIC_ROWS.find((r) => r.name === m.metric)!;
    return [m.metric, ...m.values.map((v, i) => (v === null ? '-' : (row.show ?? formatNumber)(v) + (m.best.includes(i) ? ' *' : '  ')))];
  };
  out.push(...indent(alignTable(['metric', ...heads], c.metrics.map(showRow), [false, ...heads.map(() => true)])));
  if (c.sweep) {
    const s = c.sweep;
    out.push('', `groups by ${s.keys.length ? s.keys.join(', ') : '(nothing varies but the seed)'}: mean ± std over seeds (* best)`);
    const metricNames = (s.groups[0]?.metrics ?? []).map((m) => m.metric).filter((name) => METRIC_ROWS.find((r) => r.name === name)!.better !== null);
    const header = [...s.keys, 'n', ...metricNames];
    const body = s.groups.map((g) => [
      ...g.values.map(formatCell),
      String(g.members.length),
      ...metricNames.map((name) => {
        const m = g.metrics.find((x) => x.metric === name)!;
        if (m.mean === null) return '-';
        const show = METRIC_ROWS.find((r) => r.name === name)!.show ?? formatNumber;
        return `${show(m.mean)}${m.n > 1 ? ` ± ${show(m.std!)}` : ''}${m.best ? ' *' : '  '}`;
      }),
    ]);
    out.push(...indent(alignTable(header, body, header.map((_, i) => i >= s.keys.length))));
  }
  return out.join('\n');
}

const indent = (text: string) => text.split('\n').map((l) => `  ${l}`);
