/** The end-of-sweep summary: one row per member, ranked by a metric; printed as a table, written as CSV and JSON. */
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { readSummary, SWEEP_CSV_METRIC_COLUMNS, SWEEP_CSV_TRAILING_COLUMNS, sweepPaths, type Manifest, type SummaryRow, type SweepSummary } from '../run/layout.js';

export type { SummaryRow } from '../run/layout.js';

/** Metrics a sweep can be ranked by, with their direction. */
export const RANK_METRICS = {
  best_test_accuracy: 'max',
  test_accuracy: 'max',
  test_loss: 'min',
  best_test_loss: 'min',
  train_loss: 'min',
  seconds: 'min',
} as const;
export type RankMetric = keyof typeof RANK_METRICS;
export const DEFAULT_RANK_BY: RankMetric = 'best_test_accuracy';

export function checkRankBy(value: string): RankMetric {
  if (value in RANK_METRICS) return value as RankMetric;
  throw new UserError(`--rank-by expects one of ${Object.keys(RANK_METRICS).join(', ')}, received '${value}'`);
}

const finite = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Rows in rank order: completed members by the metric, then other members with a value, then the rest. */
export function buildRows(sweepDir: string, m: Manifest, rankBy: RankMetric): SummaryRow[] {
  const rows: SummaryRow[] = m.members.map((mem) => {
    const s = readSummary(join(sweepDir, mem.run_dir));
    const history = s?.history ?? [];
    // with dataset.validation the test split is evaluated once, at the end (summary.test), not per epoch
    const test = s?.test;
    const accs = test ? [test.accuracy] : history.map((h) => finite(h.test_accuracy)).filter((v): v is number => v !== null);
    const losses = test ? [test.loss] : history.map((h) => finite(h.test_loss)).filter((v): v is number => v !== null);
    const last = history[history.length - 1];
    return {
      rank: 0,
      member: mem.label,
      status: mem.status,
      best_test_accuracy: accs.length ? Math.max(...accs) : null,
      test_accuracy: finite(last?.test_accuracy ?? test?.accuracy),
      best_test_loss: losses.length ? Math.min(...losses) : null,
      test_loss: finite(last?.test_loss ?? test?.loss),
      train_loss: finite(last?.train_loss),
      epochs: last?.epoch ?? 0,
      seconds: finite(s?.durations?.total_s) ?? mem.seconds,
      run_dir: mem.run_dir,
      file: mem.file,
      error: mem.error,
      hparams: mem.hparams,
    };
  });
  const dir = RANK_METRICS[rankBy];
  const group = (r: SummaryRow) => (r[rankBy] === null ? 2 : r.status === 'completed' ? 0 : 1);
  const order = rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const g = group(a.r) - group(b.r);
      if (g !== 0) return g;
      const va = a.r[rankBy];
      const vb = b.r[rankBy];
      if (va !== null && vb !== null && va !== vb) return dir === 'max' ? vb - va : va - vb;
      return a.i - b.i;
    })
    .map(({ r }) => r);
  order.forEach((r, i) => (r.rank = i + 1));
  return order;
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(2)}%`);
const num = (v: number | null) => (v === null ? '-' : v.toFixed(4));
const secs = (v: number | null) => (v === null ? '-' : v < 60 ? `${v.toFixed(1)}s` : `${Math.floor(v / 60)}m${String(Math.round(v % 60)).padStart(2, '0')}s`);

/** The table printed at the end (plain text, aligned), followed by one line per failed member's error. */
export function formatTable(rows: SummaryRow[], rankBy: RankMetric): string {
  const header = ['#', 'member', 'status', 'best test acc', 'final test loss', 'final train loss', 'epochs', 'time'];
  const body = rows.map((r) => [String(r.rank), r.member, r.status, pct(r.best_test_accuracy), num(r.test_loss), num(r.train_loss), String(r.epochs), secs(r.seconds)]);
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const right = new Set([0, 3, 4, 5, 6, 7]);
  const line = (row: string[]) => row.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  lines.push(`ranked by ${rankBy} (${RANK_METRICS[rankBy] === 'max' ? 'higher is better' : 'lower is better'})`);
  for (const r of rows) if (r.status === 'failed' && r.error) lines.push(`failed: ${r.member}: ${r.error.split('\n')[0]}`);
  return lines.join('\n');
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: SummaryRow[], hparams: string[]): string {
  const cols = SWEEP_CSV_METRIC_COLUMNS;
  const header = [...cols, ...hparams, ...SWEEP_CSV_TRAILING_COLUMNS];
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) {
    lines.push([...cols.map((c) => r[c]), ...hparams.map((h) => r.hparams[h]), r.run_dir, r.file, r.error?.split('\n')[0] ?? null].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

export function writeReports(sweepDir: string, m: Manifest, rows: SummaryRow[], rankBy: RankMetric): void {
  const paths = sweepPaths(sweepDir);
  writeFileAtomic(paths.summaryCsv, toCsv(rows, m.hparams));
  const json: SweepSummary = {
    name: m.name,
    sweep_dir: sweepDir,
    status: m.status,
    rank_by: rankBy,
    direction: RANK_METRICS[rankBy],
    hparams: m.hparams,
    members: rows,
  };
  writeFileAtomic(paths.summaryJson, JSON.stringify(json, null, 2) + '\n');
}
