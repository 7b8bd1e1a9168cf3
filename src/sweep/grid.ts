/**
 * A file's parameter grid: the top-level `sweep:` mapping of key paths to value lists, expanded to the cross product.
 * Read straight from the YAML (with positions), so structural errors point at the grid itself; the values become
 * `key.path=value` overrides (JSON, which is YAML flow syntax) that the config layer validates per member.
 */
import { KEY_PATH_RE } from '../config/paths.js';
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';

export type GridValue = string | number | boolean | null | GridValue[] | { [k: string]: GridValue };

export interface GridAxis {
  key: string;
  values: GridValue[];
  /** How each value is shown in labels: its source text for plain scalars (`1e-3`), compact JSON otherwise. */
  display: string[];
  /** Source position of each value (1-based), so errors in a member point at the value that caused them. */
  locs: Array<{ line: number; col: number }>;
  /**
   * Set for a list of members (`sweep: [ {k: v, ...}, ... ]`, or `members:` beside the axes): each value is a map of
   * key path → value, and these are the key paths any of them sets.
   */
  keys?: string[];
}

export interface GridPoint {
  /** `key.path=value` overrides, in the grid's key order. */
  overrides: string[];
  /** `optimizer.lr=0.1,dataset.batch_size=32`; empty for a file without a grid. */
  label: string;
  /** key → value of this point. */
  values: Record<string, GridValue>;
  /** override → source position of its grid value. */
  locs: Record<string, { line: number; col: number }>;
}

/** A problem in a file, positioned like the config layer's errors (1-based line and column). */
export interface SweepFileError {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatSweepError(e: SweepFileError): string {
  return `${e.file}:${e.line}:${e.col}: error: ${e.message}`;
}

/** The grid of one file: its axes (empty when it has no `sweep:`), or positioned errors. */
export function readGrid(file: string, source?: string): { axes: GridAxis[]; errors: SweepFileError[] } {
  let text: string;
  try {
    text = source ?? readFileSync(file, 'utf8');
  } catch (e) {
    return { axes: [], errors: [{ file, line: 1, col: 1, message: `cannot read file: ${(e as Error).message}` }] };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, merge: true });
  // YAML syntax errors are the config layer's to report (with the same positions); nothing to expand here.
  if (doc.errors.length > 0 || !isMap(doc.contents)) return { axes: [], errors: [] };
  const errors: SweepFileError[] = [];
  const at = (node: Node | null | undefined, message: string) => {
    const pos = lc.linePos(node?.range?.[0] ?? 0);
    errors.push({ file, line: pos.line, col: pos.col, message });
  };
  const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'sweep');
  if (!pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return { axes: [], errors };
  const badKey = (keyNode: Node, key: string): boolean => {
    if (!isScalar(keyNode) || !KEY_PATH_RE.test(key)) at(keyNode, `sweep key ${JSON.stringify(key || String(keyNode))} is not a key path like optimizer.lr`);
    else if (key === 'sweep' || key.startsWith('sweep.')) at(keyNode, 'a sweep cannot vary the sweep itself');
    else if (key === 'name') at(keyNode, 'sweep members cannot vary `name`: members are named after what varies');
    else return false;
    return true;
  };
  /** A list of members, each a map of key path → value. */
  const members = (node: Node): GridAxis | undefined => {
    if (!isSeq(node) || node.items.length === 0) {
      at(node, 'sweep members must be a non-empty list of maps of key path → value, e.g. [{ optimizer.name: sgd, optimizer.momentum: 0.9 }, { optimizer.name: adam }]');
      return undefined;
    }
    const axis: GridAxis = { key: 'members', values: [], display: [], locs: [], keys: [] };
    let ok = true;
    for (const m of node.items as Node[]) {
      if (!isMap(m) || m.items.length === 0) {
        at(m ?? node, 'a sweep member is a non-empty map of key path → value, e.g. { optimizer.name: adam, optimizer.lr: 0.001 }');
        ok = false;
        continue;
      }
      const value: Record<string, GridValue> = {};
      const parts: string[] = [];
      for (const it of m.items) {
        const kn = it.key as Node;
        const k = isScalar(kn) ? String(kn.value) : '';
        if (badKey(kn, k)) {
          ok = false;
          continue;
        }
        const v = it.value as Node | null;
        const json = (v && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): unknown }).toJSON() : v) as GridValue;
        value[k] = json ?? null;
        parts.push(`${k}=${isScalar(v) && v.type === 'PLAIN' && v.range ? text.slice(v.range[0], v.range[1]).trim() : typeof json === 'string' ? json : JSON.stringify(json)}`);
        if (!axis.keys!.includes(k)) axis.keys!.push(k);
      }
      axis.values.push(value);
      axis.display.push(parts.join(','));
      axis.locs.push(lc.linePos(m.range?.[0] ?? 0));
    }
    const dup = axis.display.find((d, i) => axis.display.indexOf(d) !== i);
    if (dup !== undefined) {
      at(node, `sweep members list ${dup} twice`);
      ok = false;
    }
    return ok ? axis : undefined;
  };
  if (isSeq(pair.value)) {
    const axis = members(pair.value);
    return { axes: axis ? [axis] : [], errors };
  }
  if (!isMap(pair.value)) {
    at(pair.value as Node, 'sweep must be a mapping from key paths to lists of values, e.g. `optimizer.lr: [0.1, 0.01]`, or a list of members');
    return { axes: [], errors };
  }
  const axes: GridAxis[] = [];
  const seen = new Set<string>();
  for (const item of pair.value.items) {
    const keyNode = item.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    if (key === 'members' && isScalar(keyNode)) {
      const axis = members(item.value as Node);
      if (axis) axes.push(axis);
      continue;
    }
    if (badKey(keyNode, key)) continue;
    if (seen.has(key)) {
      at(keyNode, `sweep key ${key} appears twice`);
      continue;
    }
    seen.add(key);
    const valueNode = item.value as Node | null;
    if (!isSeq(valueNode)) {
      at(valueNode ?? keyNode, `sweep.${key} must be a list of values, e.g. [${isScalar(valueNode) ? String(valueNode.source ?? valueNode.value) : '...'}]`);
      continue;
    }
    if (valueNode.items.length === 0) {
      at(valueNode, `sweep.${key} must list at least one value`);
      continue;
    }
    const values: GridValue[] = [];
    const display: string[] = [];
    const locs: Array<{ line: number; col: number }> = [];
    for (const v of valueNode.items as Node[]) {
      const json = (v && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): unknown }).toJSON() : v) as GridValue;
      values.push(json ?? null);
      locs.push(lc.linePos(v?.range?.[0] ?? valueNode.range?.[0] ?? 0));
      if (isScalar(v) && v.type === 'PLAIN' && v.range) display.push(text.slice(v.range[0], v.range[1]).trim());
      else display.push(typeof json === 'string' ? json : JSON.stringify(json));
    }
    const dup = display.find((d, i) => display.indexOf(d) !== i);
    if (dup !== undefined) {
      at(valueNode, `sweep.${key} lists ${dup} twice`);
      continue;
    }
    axes.push({ key, values, display, locs });
  }
  return errors.length ? { axes: [], errors } : { axes, errors };
}

/**
 * The axes of a `sweep:` value given as data (a loaded experiment's `sweep`), without positions: the same expansion
 * for callers that hold a parsed document rather than a file. Shapes are the schema's (checked by the config layer).
 */
export function gridAxes(sweep: unknown): GridAxis[] {
  const noLoc = { line: 1, col: 1 };
  const members = (list: unknown[]): GridAxis => {
    const values = list.map((m) => (m ?? {}) as Record<string, GridValue>);
    const display = values.map((m) => Object.entries(m).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(','));
    return { key: 'members', values, display, locs: values.map(() => noLoc), keys: [...new Set(values.flatMap((m) => Object.keys(m)))] };
  };
  if (Array.isArray(sweep)) return sweep.length ? [members(sweep)] : [];
  if (!sweep || typeof sweep !== 'object') return [];
  return Object.entries(sweep as Record<string, GridValue[]>).map(([key, values]) =>
    key === 'members' ? members(values) : { key, values, display: values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))), locs: values.map(() => noLoc) },
  );
}

/** The members of a parsed experiment's grid as `--set` overrides and labels (one empty point without a grid). */
export function expandSweep(doc: { sweep?: unknown } | null | undefined): Array<{ overrides: string[]; label: string }> {
  return expandGrid(gridAxes(doc?.sweep)).map(({ overrides, label }) => ({ overrides, label }));
}

/** The cross product of the axes (a members list is one axis), first axis outermost; one point with no overrides when there are no axes. */
export function expandGrid(axes: GridAxis[]): GridPoint[] {
  let points: GridPoint[] = [{ overrides: [], label: '', values: {}, locs: {} }];
  for (const axis of axes) {
    const next: GridPoint[] = [];
    for (const p of points) {
      axis.values.forEach((v, i) => {
        if (axis.keys) {
          // one member of a list: several overrides at once, all located at the member
          const entries = Object.entries(v as Record<string, GridValue>);
          const overrides = entries.map(([k, x]) => `${k}=${JSON.stringify(x)}`);
          next.push({
            overrides: [...p.overrides, ...overrides],
            locs: { ...p.locs, ...Object.fromEntries(overrides.map((o) => [o, axis.locs[i]!])) },
            label: p.label ? `${p.label},${axis.display[i]}` : axis.display[i]!,
            values: { ...p.values, ...Object.fromEntries(entries) },
          });
          return;
        }
        const part = `${axis.key}=${axis.display[i]}`;
        const override = `${axis.key}=${JSON.stringify(v)}`;
        next.push({
          overrides: [...p.overrides, override],
          locs: { ...p.locs, [override]: axis.locs[i]! },
          label: p.label ? `${p.label},${part}` : part,
          values: { ...p.values, [axis.key]: v },
        });
      });
    }
    points = next;
  }
  return points;
}

/** The key path of a `key.path=value` override. */
export function overrideKey(override: string): string {
  const eq = override.indexOf('=');
  return (eq >= 0 ? override.slice(0, eq) : override).trim();
}
