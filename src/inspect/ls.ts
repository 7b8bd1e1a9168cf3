/** `tudui ls`: one row per run and sweep member under a directory, filtered, sorted and cut to the columns asked for. */
import { UserError } from '../errors.js';
import { RUN_STATUSES } from '../run/layout.js';
import { DEFAULT_COLUMNS, parseColumn, parseColumns, type Column } from './columns.js';
import { renderTable, type Cell, type OutputFormat } from './format.js';
import { loadRuns, type ListedStatus, type RunRecord } from './runs.js';

export interface ListOptions {
  /** Column specs (`"best test_accuracy, =optimizer.lr"`); default {@link DEFAULT_COLUMNS}. */
  columns?: string[];
  /** Keep only runs with one of these statuses. */
  status?: string[];
  /** Keep only runs whose name or path matches this regular expression. */
  name?: string;
  /** Keep only members of sweeps whose name or path matches this regular expression (`.`: every sweep). */
  sweep?: string;
  /** Sort by this column spec: best first for metrics (per their direction), A→Z for text. */
  sort?: string;
  reverse?: boolean;
  /** Keep the first N rows (after sorting). */
  top?: number;
}

export interface RunList {
  columns: Column[];
  runs: RunRecord[];
  /** Raw values, one row per run, in column order. */
  rows: Cell[][];
}

const STATUSES: readonly ListedStatus[] = [...RUN_STATUSES, 'pending'];

function regex(value: string, option: string): RegExp {
  try {
    return new RegExp(value);
  } catch (e) {
    throw new UserError(`${option} expects a regular expression, received ${JSON.stringify(value)}: ${(e as Error).message}`);
  }
}

/** The runs under `root`, as `tudui ls` lists them. */
export function listRuns(root: string, opts: ListOptions = {}): RunList {
  const statuses = (opts.status ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const s of statuses) {
    if (!(STATUSES as readonly string[]).includes(s)) throw new UserError(`--status expects one of ${STATUSES.join(', ')}, received '${s}'`);
  }
  const nameRe = opts.name !== undefined ? regex(opts.name, '--name') : undefined;
  const sweepRe = opts.sweep !== undefined ? regex(opts.sweep, '--sweep') : undefined;
  if (opts.top !== undefined && !(Number.isInteger(opts.top) && opts.top >= 1)) throw new UserError(`--top expects a whole number ≥ 1, received ${opts.top}`);

  let runs = loadRuns(root);
  if (statuses.length) runs = runs.filter((r) => statuses.includes(r.status));
  if (nameRe) runs = runs.filter((r) => nameRe.test(r.name) || nameRe.test(r.path));
  if (sweepRe) runs = runs.filter((r) => r.sweep && (sweepRe.test(r.sweep.name) || sweepRe.test(r.sweep.dir)));
  const columns = parseColumns(opts.columns?.length ? opts.columns : [DEFAULT_COLUMNS.join(',')], runs);
  if (opts.sort !== undefined) {
    const key = parseColumn(opts.sort, runs);
    const values = new Map(runs.map((r) => [r, key.value(r)]));
    runs = [...runs].sort((a, b) => compareCells(values.get(a)!, values.get(b)!, key.order) * (opts.reverse ? -1 : 1));
  } else if (opts.reverse) {
    runs = [...runs].reverse();
  }
  if (opts.top !== undefined) runs = runs.slice(0, opts.top);
  return { columns, runs, rows: runs.map((r) => columns.map((c) => c.value(r))) };
}

/** Missing values last whatever the order. */
function compareCells(a: Cell, b: Cell, order: Column['order']): number {
  const na = a === null || (typeof a === 'number' && Number.isNaN(a));
  const nb = b === null || (typeof b === 'number' && Number.isNaN(b));
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return order === 'max' ? b - a : a - b;
  return String(a).localeCompare(String(b));
}

export function formatRunList(list: RunList, format: OutputFormat): string {
  const header = list.columns.map((c) => c.header);
  if (format !== 'table') return renderTable(format, header, list.rows);
  if (list.runs.length === 0) return 'no runs';
  const shown = list.rows.map((row, i) => row.map((v, c) => list.columns[c]!.show(v, list.runs[i]!)));
  const counts = new Map<string, number>();
  for (const r of list.runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const tally = `${list.runs.length} run${list.runs.length === 1 ? '' : 's'}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`;
  return `${renderTable('table', header, list.rows, shown, list.columns.map((c) => c.numeric))}\n${tally}`;
}
