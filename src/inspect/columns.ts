/**
 * Columns of `tudui ls` as specs (Guild's habit): a built-in name (`status`, `best`...), `=key.path` for a config value,
 * or `[last|first|best|min|max] TAG` for a metric of metrics.jsonl (a bare TAG is its last value). One registry of
 * built-ins; a misspelled name lists the valid ones.
 */
import { UserError } from '../errors.js';
import { higherIsBetter } from '../run/layout.js';
import { formatCell, formatDuration, formatNumber, formatTime, type Cell } from './format.js';
import type { RunRecord } from './runs.js';

export interface Column {
  /** The spec as the user wrote it, normalised: the header of the column and its key in --json. */
  header: string;
  value(r: RunRecord): Cell;
  /** The text in an aligned table. */
  show(v: Cell, r: RunRecord): string;
  /** Sorting: 'max' puts high values first, 'min' low ones; text sorts A→Z. */
  order: 'max' | 'min' | 'text';
  numeric: boolean;
}

type Builtin = Omit<Column, 'header'> & { description: string; header?: (runs: RunRecord[]) => string };

const num = (v: Cell) => formatCell(v);
const duration = (r: RunRecord): number | null => r.summary?.durations?.total_s ?? null;
const monitorFinal = (r: RunRecord): number | null => {
  const v = r.summary?.final?.[r.monitor()];
  return typeof v === 'number' ? v : null;
};
/** `final` and `best` name the monitored metric in their header when all runs monitor the same one. */
const monitorHeader = (word: string) => (runs: RunRecord[]) => {
  const ms = new Set(runs.filter((r) => r.summary).map((r) => r.monitor()));
  return ms.size === 1 ? `${word} ${[...ms][0]}` : word;
};

const BUILTINS: Record<string, Builtin> = {
  name: { description: "the experiment's name (sweep/member for sweep members)", value: (r) => r.name, show: (v) => String(v), order: 'text', numeric: false },
  status: { description: 'running, completed, failed, diverged, interrupted (a dead writer), pending (a sweep member not started)', value: (r) => r.status, show: (v) => String(v), order: 'text', numeric: false },
  started: { description: 'when it started', value: (r) => r.summary?.started_at ?? null, show: (v) => formatTime(v as string | null), order: 'text', numeric: false },
  duration: { description: 'seconds of training so far (all sessions)', value: duration, show: (v) => formatDuration(v as number | null), order: 'min', numeric: true },
  epochs: {
    description: 'epochs completed (of those planned)',
    value: (r) => r.summary?.epochs_completed ?? null,
    show: (v, r) => (v === null ? '-' : `${v}/${r.summary?.epochs ?? '?'}`),
    order: 'max',
    numeric: true,
  },
  final: { description: 'the last value of the monitored metric (checkpoint.monitor)', value: monitorFinal, show: num, order: 'max', numeric: true, header: monitorHeader('final') },
  best: { description: 'the best value of the monitored metric', value: (r) => r.summary?.best?.value ?? null, show: num, order: 'max', numeric: true, header: monitorHeader('best') },
  best_epoch: { description: 'the epoch of the best value', value: (r) => r.summary?.best?.epoch ?? null, show: (v) => (v === null ? '-' : `@${v}`), order: 'min', numeric: true, header: () => 'best@' },
  images_s: { description: 'training images per second (median over epochs)', value: (r) => r.summary?.throughput?.train_images_per_s ?? null, show: (v) => (v === null ? '-' : String(Math.round(v as number))), order: 'max', numeric: true, header: () => 'img/s' },
  backend: { description: 'the backend it trained on', value: (r) => r.summary?.backend ?? null, show: (v) => formatCell(v), order: 'text', numeric: false },
  path: { description: 'the run directory', value: (r) => r.path, show: (v) => String(v), order: 'text', numeric: false },
  sweep: { description: 'the sweep it belongs to', value: (r) => r.sweep?.name ?? null, show: (v) => formatCell(v), order: 'text', numeric: false },
  seed: { description: 'the seed', value: (r) => r.summary?.seed ?? (r.config().get('seed') as number | undefined) ?? null, show: num, order: 'min', numeric: true },
  parameters: { description: 'trainable parameters', value: (r) => r.summary?.parameters ?? null, show: num, order: 'min', numeric: true },
  steps: { description: 'global steps trained', value: (r) => r.summary?.global_step ?? null, show: num, order: 'max', numeric: true },
  reason: { description: 'why it did not complete', value: (r) => r.summary?.reason ?? null, show: (v) => formatCell(v), order: 'text', numeric: false },
};

/** The default columns of `tudui ls`. */
export const DEFAULT_COLUMNS = ['name', 'status', 'started', 'duration', 'epochs', 'final', 'best', 'best_epoch', 'images_s', 'backend'];

const REDUCERS = ['last', 'first', 'best', 'min', 'max'] as const;
type Reducer = (typeof REDUCERS)[number];

/** A metric of metrics.jsonl reduced to one value; `best` is max for accuracies and throughput, min for losses. */
function metricColumn(reducer: Reducer, tag: string): Column {
  const high = higherIsBetter(tag);
  const pick = (r: RunRecord): Cell => {
    const vs = r.series(tag).map((p) => p.value);
    if (vs.length === 0) return null;
    if (reducer === 'last') return vs[vs.length - 1]!;
    if (reducer === 'first') return vs[0]!;
    const finite = vs.filter(Number.isFinite);
    if (finite.length === 0) return vs[vs.length - 1]!;
    const useMax = reducer === 'max' || (reducer === 'best' && high);
    return finite.reduce((a, b) => (useMax ? Math.max(a, b) : Math.min(a, b)));
  };
  return { header: `${reducer} ${tag}`, value: pick, show: (v) => (typeof v === 'number' ? formatNumber(v) : '-'), order: high ? 'max' : 'min', numeric: true };
}

/** Parse one spec (`best test_accuracy`, `=optimizer.lr`, `status`); `runs` name the headers of `final` and `best`. */
export function parseColumn(spec: string, runs: RunRecord[] = []): Column {
  const s = spec.trim().replace(/\s+/g, ' ');
  if (s === '') throw new UserError('an empty column spec', `columns are separated by commas: -c "status, best test_accuracy, =optimizer.lr"`);
  if (s.startsWith('=')) {
    const key = s.slice(1).trim();
    if (!/^[A-Za-z_][\w-]*(\.[\w-]+|\[\d+\])*$/.test(key)) throw new UserError(`column ${JSON.stringify(s)}: ${JSON.stringify(key)} is not a config key path like optimizer.lr`);
    return {
      header: `=${key}`,
      value: (r) => toCell(r.config().get(key)),
      show: (v) => formatCell(v),
      order: 'text',
      numeric: false,
    };
  }
  const words = s.split(' ');
  if (words.length === 2 && (REDUCERS as readonly string[]).includes(words[0]!)) return metricColumn(words[0] as Reducer, words[1]!);
  if (words.length === 1) {
    const b = BUILTINS[s];
    if (b) return { ...b, header: b.header?.(runs) ?? s };
    if (/^[A-Za-z_][\w./-]*$/.test(s)) return { ...metricColumn('last', s), header: s };
  }
  throw new UserError(
    `unknown column ${JSON.stringify(s)}`,
    `a column is one of ${Object.keys(BUILTINS).join(', ')}; =key.path (a config value); or [${REDUCERS.join('|')}] TAG (a metric, e.g. best test_accuracy)`,
  );
}

/** `"a, b, c"` (and repeated -c) → columns. */
export function parseColumns(specs: string[], runs: RunRecord[] = []): Column[] {
  return specs.flatMap((s) => s.split(',')).map((s) => parseColumn(s, runs));
}

/** A config value as a cell: scalars as they are, arrays and objects as compact JSON. */
function toCell(v: unknown): Cell {
  if (v === undefined) return null;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/** Descriptions of the built-in columns, for --help. */
export function describeColumns(): string {
  return Object.entries(BUILTINS)
    .map(([n, b]) => `${n}: ${b.description}`)
    .join('; ');
}
