/**
 * A file's parameter grid: the top-level `sweep:` mapping of key paths to value lists, expanded to the cross product.
 * Read straight from the YAML (with positions), so structural errors point at the grid itself; the values become
 * `key.path=value` overrides (JSON, which is YAML flow syntax) that the config layer validates per member.
 */
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

const KEY_PATH = /^[A-Za-z_$][\w-]*(\.[\w-]+|\[\d+\])*$/;

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
  if (!isMap(pair.value)) {
    at(pair.value as Node, 'sweep must be a mapping from key paths to lists of values, e.g. `optimizer.lr: [0.1, 0.01]`');
    return { axes: [], errors };
  }
  const axes: GridAxis[] = [];
  const seen = new Set<string>();
  for (const item of pair.value.items) {
    const keyNode = item.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    if (!isScalar(keyNode) || !KEY_PATH.test(key)) {
      at(keyNode, `sweep key ${JSON.stringify(key || String(keyNode))} is not a key path like optimizer.lr`);
      continue;
    }
    if (key === 'sweep' || key.startsWith('sweep.')) {
      at(keyNode, 'a sweep cannot vary the sweep itself');
      continue;
    }
    if (key === 'name' ) {
      at(keyNode, 'sweep members cannot vary `name`: members are named after what varies');
      continue;
    }
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
  return { axes, errors };
}

/** The cross product of the axes, first axis outermost; one point with no overrides when there are no axes. */
export function expandGrid(axes: GridAxis[]): GridPoint[] {
  let points: GridPoint[] = [{ overrides: [], label: '', values: {}, locs: {} }];
  for (const axis of axes) {
    const next: GridPoint[] = [];
    for (const p of points) {
      axis.values.forEach((v, i) => {
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
