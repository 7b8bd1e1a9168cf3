/** Key paths: 'model.layers[3].conv2d.filters' ⇄ ['model', 'layers', 3, 'conv2d', 'filters']. */
import { closest, distance } from 'fastest-levenshtein';

export type Seg = string | number;

export function formatPath(path: readonly Seg[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

/**
 * A key path as in --set and sweep keys: 'optimizer.lr', 'model.layers[2].linear.units' or 'model.layers.2.linear.units'.
 * The one definition: the schema's pattern for sweep keys, `parsePath` and the sweep planner use it.
 */
export const KEY_PATH_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*(\\[[0-9]+\\])*(\\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(\\[[0-9]+\\])*)*$';

export const KEY_PATH_RE = new RegExp(KEY_PATH_PATTERN, 'u');

/** Parses a key path ('layers[0]' and 'layers.0' are the same); undefined when it is malformed. */
export function parsePath(text: string): Seg[] | undefined {
  if (!KEY_PATH_RE.test(text)) return undefined;
  const out: Seg[] = [];
  for (const part of text.split('.')) {
    const n = /^(\d+)((?:\[\d+\])*)$/.exec(part);
    if (n) {
      out.push(Number(n[1]));
      for (const idx of n[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
      continue;
    }
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part)!;
    out.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

export function startsWith(path: readonly Seg[], prefix: readonly Seg[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}

/** The candidate `word` was probably meant to be (same letters in another case, or close in edit distance), if any. */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  if (!candidates.length) return undefined;
  const same = candidates.find((c) => c.toLowerCase() === word.toLowerCase());
  if (same !== undefined && same !== word) return same;
  const c = closest(word, candidates as string[]);
  const d = distance(word.toLowerCase(), c.toLowerCase());
  const ok = d <= Math.max(2, Math.floor(c.length / 3)) || c.startsWith(word) || word.startsWith(c);
  return ok && d < Math.max(word.length, c.length) ? c : undefined;
}

/** " (did you mean 'x'?)" when a candidate is close enough, else ''. The one did-you-mean rule (the CLI's options too). */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closestName(word, candidates);
  return c === undefined ? '' : ` (did you mean '${c}'?)`;
}

/** A value as quoted in messages: strings in single quotes, the rest as compact JSON. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
