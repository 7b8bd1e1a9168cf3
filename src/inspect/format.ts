/**
 * How `ls`, `show` and `compare` print values and tables: aligned text for a terminal, tab-separated lines for a pipe,
 * CSV and JSON on request. Raw values (numbers at full precision, ISO times, seconds) go to the machine formats;
 * the aligned table rounds them for reading.
 */
import sparkly from 'sparkly';

export type Cell = string | number | boolean | null;
export type OutputFormat = 'table' | 'tsv' | 'csv' | 'json';

/** The format for stdout: `--json` / `--csv` when asked, else an aligned table on a terminal and TSV in a pipe. */
export function outputFormat(opts: { json?: boolean; csv?: boolean; tty?: boolean }): OutputFormat {
  if (opts.json) return 'json';
  if (opts.csv) return 'csv';
  return opts.tty ? 'table' : 'tsv';
}

/** A number for reading: 4 significant digits, integers as they are, NaN/Infinity by name. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** `12.3s`, `4m05s`, `2h03m`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** An ISO time as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

/** Rows as aligned columns; `right` marks the columns to right-align (numbers). */
export function alignTable(header: string[], rows: string[][], right: boolean[] = []): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function tsvCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  return String(v).replace(/[\t\n\r]/g, ' ');
}

function csvCell(v: Cell | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A table in the chosen format. `raw` are the values for the machine formats, `shown` the texts for the aligned
 * table (same shape). JSON is an array of objects keyed by the header.
 */
export function renderTable(format: OutputFormat, header: string[], raw: Cell[][], shown?: string[][], right?: boolean[]): string {
  if (format === 'json') return JSON.stringify(raw.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? null]))), null, 2);
  if (format === 'csv') return [header, ...raw].map((r) => r.map(csvCell).join(',')).join('\n');
  if (format === 'tsv') return [header, ...raw].map((r) => r.map(tsvCell).join('\t')).join('\n');
  return alignTable(header, shown ?? raw.map((r) => r.map(formatCell)), right ?? raw[0]?.map((v) => typeof v === 'number') ?? []);
}

/**
 * A sparkline of `values` in at most `width` characters: longer series are averaged per bucket (every point counts;
 * none is dropped). Non-finite values leave a gap.
 */
export function sparkline(values: number[], width = 24): string {
  if (values.length === 0) return '';
  return sparkly(resample(values, width).map((v) => (Number.isFinite(v) ? v : '')));
}

/** `values` as at most `n` points: the mean of each of n equal buckets (NaN where a bucket has no finite value). */
export function resample(values: number[], n: number): number[] {
  if (values.length <= n) return values;
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    const lo = Math.floor((b * values.length) / n);
    const hi = Math.floor(((b + 1) * values.length) / n);
    let sum = 0;
    let count = 0;
    for (let i = lo; i < hi; i++) {
      if (Number.isFinite(values[i]!)) {
        sum += values[i]!;
        count++;
      }
    }
    out.push(count ? sum / count : NaN);
  }
  return out;
}

/** Mean and sample standard deviation (0 for one value) of the finite values; undefined when there are none. */
export function meanStd(values: Array<number | null | undefined>): { mean: number; std: number; n: number } | undefined {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (xs.length === 0) return undefined;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std, n: xs.length };
}
