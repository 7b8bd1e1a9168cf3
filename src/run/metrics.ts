/** metrics.jsonl's writer: one JSON line per logged point, appended (a resumed run continues the same file). Read it with layout.ts. */
import { appendFileSync } from 'node:fs';
import { describeWriteError } from '../fs/atomic.js';
import type { MetricPoint } from './layout.js';

export type { MetricPoint } from './layout.js';

/** A non-finite value is written as its name (`"NaN"`): JSON has no NaN; `readMetrics` turns it back into a number. */
export function appendMetric(path: string, point: MetricPoint): void {
  try {
    appendFileSync(path, JSON.stringify({ ...point, value: Number.isFinite(point.value) ? point.value : String(point.value) }) + '\n');
  } catch (e) {
    throw describeWriteError(e, path);
  }
}
