/** metrics.jsonl: one JSON line per logged point, appended (a resumed run continues the same file). */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { describeWriteError } from './atomic.js';

export interface MetricPoint {
  tag: string;
  value: number;
  step: number;
  epoch: number;
  wall_time: number;
}

export function appendMetric(path: string, point: MetricPoint): void {
  try {
    appendFileSync(path, JSON.stringify({ ...point, value: Number.isFinite(point.value) ? point.value : String(point.value) }) + '\n');
  } catch (e) {
    throw describeWriteError(e, path);
  }
}

/** Read back metrics, ignoring a final line cut short by a crash. */
export function readMetrics(path: string): MetricPoint[] {
  if (!existsSync(path)) return [];
  const out: MetricPoint[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const p = JSON.parse(line) as MetricPoint & { value: number | string };
      out.push({ ...p, value: Number(p.value) });
    } catch {
      // a torn last line from a killed process
    }
  }
  return out;
}
