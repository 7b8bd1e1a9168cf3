/** `--set key.path=value` overrides, applied to the experiment as written before validation. */
import { parse as parseYaml } from 'yaml';
import { findLayer } from '../model/registry.js';
import { formatPath, parsePath, show, type Seg } from './paths.js';

export interface Override {
  /** The argument as given, e.g. 'optimizer.lr=0.1'. */
  text: string;
  path: Seg[];
  value: unknown;
}

export interface OverrideError {
  override: string;
  path: string;
  message: string;
}

/** Parses 'key.path=value' (value as YAML); throws an Error with a one-line message when malformed. */
export function parseOverride(s: string): Override {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new Error(`expected KEY.PATH=VALUE, e.g. optimizer.lr=0.1`);
  const key = s.slice(0, eq).trim();
  const path = parsePath(key);
  if (!path) throw new Error(`malformed key path '${key}' (expected e.g. optimizer.lr or model.layers[3].linear.units)`);
  let value: unknown;
  try {
    value = parseYaml(s.slice(eq + 1));
  } catch (e) {
    throw new Error(`${key}: cannot parse the value as YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return { text: s, path, value: value === undefined ? null : value };
}

type Json = Record<string | number, unknown>;

function isMap(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Expands a scalar shorthand so that a string key can be set inside it; undefined when impossible. */
function expand(value: unknown, at: Seg[], next: string): Json | undefined {
  if (value === null || value === undefined) return {};
  const isLayerEntry = at.length === 3 && at[0] === 'model' && at[1] === 'layers' && typeof at[2] === 'number';
  const isLayerOptions = at.length === 4 && at[0] === 'model' && at[1] === 'layers' && typeof at[2] === 'number';
  if (isLayerEntry && typeof value === 'string') return value === next ? { [value]: null } : undefined;
  if (isLayerOptions) {
    const kind = findLayer(String(at[3]));
    if (kind?.shorthand && !Array.isArray(value) && typeof value !== 'object') return { [kind.shorthand]: value };
  }
  if (at.length === 1 && (at[0] === 'loss' || at[0] === 'schedule') && typeof value === 'string') return { name: value };
  return undefined;
}

function setPath(root: Json, path: Seg[], value: unknown): string | undefined {
  let cur: Json | unknown[] = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const here = path.slice(0, i);
    const last = i === path.length - 1;
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) return `${formatPath(here)} is not a list`;
      if (seg > cur.length || (seg === cur.length && !last)) return `${formatPath(here)} has ${cur.length} entr${cur.length === 1 ? 'y' : 'ies'} (indices 0 to ${cur.length - 1})`;
    } else if (!isMap(cur)) {
      return `${formatPath(here)} is ${show(cur)}, not a map`;
    }
    const c = cur as Json;
    if (last) {
      c[seg] = value;
      return undefined;
    }
    const next = path[i + 1]!;
    let child = c[seg];
    if (typeof next === 'string' && !isMap(child)) {
      if (Array.isArray(child)) return `${formatPath([...here, seg])} is a list; use an index like ${formatPath([...here, seg])}[0]`;
      const expanded = expand(child, [...here, seg], next);
      if (!expanded) return `${formatPath([...here, seg])} is ${show(child)}, not a map`;
      c[seg] = child = expanded;
    } else if (typeof next === 'number' && !Array.isArray(child)) {
      return `${formatPath([...here, seg])} is not a list`;
    }
    cur = child as Json;
  }
  return undefined;
}

/**
 * Applies overrides to an experiment as written (a plain object, or anything with `toJS()` such as a YAML Document).
 * Returns a new object; errors name the override.
 */
export function applyOverrides(doc: unknown, overrides: Array<string | Override>): { doc: Record<string, unknown>; errors: OverrideError[]; applied: Override[] } {
  const base = doc && typeof (doc as { toJS?: unknown }).toJS === 'function' ? (doc as { toJS(): unknown }).toJS() : structuredClone(doc);
  const root: Json = isMap(base) ? base : {};
  const errors: OverrideError[] = [];
  const applied: Override[] = [];
  for (const o of overrides) {
    let ov: Override;
    try {
      ov = typeof o === 'string' ? parseOverride(o) : o;
    } catch (e) {
      errors.push({ override: String(o), path: '', message: (e as Error).message });
      continue;
    }
    const err = setPath(root, ov.path, structuredClone(ov.value));
    if (err) errors.push({ override: ov.text, path: formatPath(ov.path), message: err });
    else applied.push(ov);
  }
  return { doc: root, errors, applied };
}
