/** One layer entry as written → { kind, options, repeat? } (defaults filled in, shorthands expanded). */
import { getLayer } from '../model/registry.js';
import type { ResolvedLayer } from './types.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The `default` of every property that has one. */
export function defaults(props: Json): Json {
  const out: Json = {};
  for (const [k, s] of Object.entries<Json>(props)) if ('default' in s) out[k] = structuredClone(s.default);
  return out;
}

/** Entry as written → { kind, options }; `repeat: N` (N > 1) kept beside the options. */
export function resolveLayer(entry: unknown): ResolvedLayer {
  let name: string;
  let value: unknown = null;
  if (typeof entry === 'string') name = entry;
  else {
    name = Object.keys(entry as Json)[0]!;
    value = (entry as Json)[name];
  }
  const kind = getLayer(name);
  let given: Json = {};
  if (value !== null && value !== undefined) {
    if (typeof value === 'object' && !Array.isArray(value)) given = value as Json;
    else if (kind.shorthand) given = { [kind.shorthand]: value };
  }
  const dflt = defaults(kind.options);
  const options: Json = {};
  for (const k of Object.keys(kind.options)) {
    if (k in given) options[k] = structuredClone(given[k]);
    else if (k in dflt) options[k] = dflt[k];
  }
  return typeof given.repeat === 'number' && given.repeat !== 1 ? { kind: kind.name, options, repeat: given.repeat } : { kind: kind.name, options };
}
