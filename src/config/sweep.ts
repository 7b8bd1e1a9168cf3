/** Sweep grids: `sweep: { 'optimizer.lr': [0.1, 0.01], ... }` → the cross product as --set overrides. */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export interface SweepPoint {
  overrides: string[];
  /** e.g. 'optimizer.lr=0.1,dataset.batch_size=32'; '' for an experiment without a sweep. */
  label: string;
}

/** A value as --set text that parses back (as YAML) to the same value. */
export function overrideValueText(v: unknown): string {
  if (typeof v === 'string') {
    try {
      if (parseYaml(v) === v && !/[,=\n]/.test(v)) return v;
    } catch {
      // quote below
    }
    return JSON.stringify(v);
  }
  if (v !== null && typeof v === 'object') return stringifyYaml(v, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return JSON.stringify(v);
}

/** The cross product of a sweep (first key varies slowest), in the order written. */
export function expandSweep(doc: { sweep?: Record<string, unknown[]> | null } | null | undefined): SweepPoint[] {
  const sweep = doc?.sweep;
  if (!sweep || !Object.keys(sweep).length) return [{ overrides: [], label: '' }];
  let points: string[][] = [[]];
  for (const [key, values] of Object.entries(sweep)) {
    points = points.flatMap((p) => values.map((v) => [...p, `${key}=${overrideValueText(v)}`]));
  }
  return points.map((overrides) => ({ overrides, label: overrides.join(',') }));
}
