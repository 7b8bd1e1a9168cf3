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

/**
 * The members of a sweep as overrides, in the order written: the cross product of its axes (first key varies
 * slowest); a `members` list (or a sweep that is a list) is one axis whose choices set several keys at once.
 */
export function expandSweep(doc: { sweep?: Record<string, unknown[]> | Array<Record<string, unknown>> | null } | null | undefined): SweepPoint[] {
  const sweep = doc?.sweep;
  if (!sweep || !Object.keys(sweep).length) return [{ overrides: [], label: '' }];
  const members = (list: unknown[]): string[][] =>
    list.map((m) => Object.entries((m ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${overrideValueText(v)}`));
  const axes: string[][][] = Array.isArray(sweep)
    ? [members(sweep)]
    : Object.entries(sweep).map(([key, values]) => (key === 'members' ? members(values) : values.map((v) => [`${key}=${overrideValueText(v)}`])));
  let points: string[][] = [[]];
  for (const choices of axes) points = points.flatMap((p) => choices.map((c) => [...p, ...c]));
  return points.map((overrides) => ({ overrides, label: overrides.join(',') }));
}
