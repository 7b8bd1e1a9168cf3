/**
 * Schema checking with readable errors. ajv (against schemas/experiment.schema.json) decides validity; this walker
 * explains the problems: one error per problem, anyOf branches chosen by the value's type, layers checked against
 * their kind, "did you mean" for unknown keys and enum values.
 */
import { findLayer, layerNames } from '../model/registry.js';
import { didYouMean, show, type Seg } from './paths.js';
import { checkBlocks, checkBlockUse, isBlockUse, RESIDUAL, type UseFrame } from './blocks.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RawError {
  path: Seg[];
  /** Point at the key of `path` or at its value. */
  at: 'key' | 'value';
  message: string;
  /** A warning rather than an error (see ConfigError.warning). */
  warning?: boolean;
  /** Inside block uses or repeats: the enclosing uses, innermost first (the message gets their lines). */
  frames?: UseFrame[];
}

export class SchemaWalker {
  /** The document being checked (its model.blocks are layer kinds too). */
  doc: Json = {};
  /** Blocks whose use is being checked, outermost first (a recursive block is reported once, statically). */
  blockStack: string[] = [];
  constructor(readonly root: Json) {}

  deref(s: Json): Json {
    while (s && typeof s.$ref === 'string') {
      const name = s.$ref.replace('#/$defs/', '');
      const { $ref: _r, ...rest } = s;
      s = { ...this.root.$defs[name], ...rest };
    }
    return s;
  }

  check(value: unknown): RawError[] {
    const errs: RawError[] = [];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      errs.push({ path: [], at: 'value', message: `expected a map of experiment keys (name, dataset, model, ...), received ${show(value)}` });
      return errs;
    }
    this.doc = value as Json;
    this.walk(value, this.root, [], errs);
    return errs;
  }

  walk(value: unknown, schema: Json, path: Seg[], errs: RawError[]): void {
    const s = this.deref(schema);
    if (s.title === 'Layer') return this.layer(value, path, errs);
    if (s.title === 'Blocks') return checkBlocks(this, value, path, errs);
    if (s.title === 'BlockLayer') return; // checked at each use, with the values substituted
    if (s.anyOf) {
      const branches = (s.anyOf as Json[]).map((b) => this.deref(b)).filter((b) => typeMatches(value, b));
      if (!branches.length) {
        errs.push({ path, at: 'value', message: `expected ${this.describe(s)}, received ${show(value)}` });
        return;
      }
      let best: RawError[] | undefined;
      const missing: string[] = [];
      for (const b of branches) {
        const e: RawError[] = [];
        this.walk(value, b, path, e);
        if (!best || e.length < best.length) best = e;
        if (!e.length) break;
        const key = e.length === 1 && e[0]!.path.length === path.length ? /^missing required key '(.*)'$/.exec(e[0]!.message)?.[1] : undefined;
        if (key !== undefined) missing.push(key);
      }
      // Every branch lacks just its own key (e.g. validation: {} — fraction or from): name them all, not one.
      if (best!.length && missing.length === branches.length && new Set(missing).size > 1) {
        errs.push({ ...best![0]!, message: `missing required key: one of ${[...new Set(missing)].map((k) => `'${k}'`).join(', ')}` });
        return;
      }
      errs.push(...best!);
      return;
    }
    if (s.enum) {
      if (!(s.enum as unknown[]).some((x) => x === value)) {
        const strings = (s.enum as unknown[]).filter((x): x is string => typeof x === 'string');
        const hint = typeof value === 'string' ? didYouMean(value, strings) : '';
        errs.push({ path, at: 'value', message: `expected ${this.describe(s)}, received ${show(value)}${hint}` });
      }
      return;
    }
    if (s.type && !typeMatches(value, s)) {
      errs.push({ path, at: 'value', message: `expected ${this.describe(s)}, received ${show(value)}` });
      return;
    }
    if (typeof value === 'number') {
      if (s.maximum === Number.MAX_SAFE_INTEGER && value > s.maximum) {
        errs.push({ path, at: 'value', message: `expected at most 2^53 - 1 = ${s.maximum} (larger integers are not exact), received ${show(value)}` });
        return;
      }
      const bad =
        (s.minimum !== undefined && value < s.minimum) ||
        (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) ||
        (s.maximum !== undefined && value > s.maximum) ||
        (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum);
      if (bad) errs.push({ path, at: 'value', message: `expected ${this.describe(s)}, received ${show(value)}` });
      return;
    }
    if (typeof value === 'string') {
      if ((s.minLength !== undefined && value.length < s.minLength) || (s.pattern && !new RegExp(s.pattern, 'u').test(value))) {
        errs.push({ path, at: 'value', message: `expected ${this.describe(s)}, received ${show(value)}` });
      }
      return;
    }
    if (Array.isArray(value)) {
      if ((s.minItems !== undefined && value.length < s.minItems) || (s.maxItems !== undefined && value.length > s.maxItems)) {
        errs.push({ path, at: 'value', message: `expected ${this.describe(s)}, received ${show(value)}` });
        return;
      }
      if (s.items) value.forEach((v, i) => this.walk(v, s.items, [...path, i], errs));
      return;
    }
    if (value !== null && typeof value === 'object') this.object(value as Json, s, path, errs);
  }

  private object(value: Json, s: Json, path: Seg[], errs: RawError[]): void {
    const props: Json = s.properties ?? {};
    const known = Object.keys(props);
    for (const [k, v] of Object.entries(value)) {
      if (k in props) this.walk(v, props[k], [...path, k], errs);
      else if (s.additionalProperties === false) {
        const hint = didYouMean(k, known);
        const anchors = path.length === 0 ? " (top-level keys starting with 'x-' are ignored: a place for YAML anchors)" : '';
        errs.push({ path: [...path, k], at: 'key', message: `unknown key${hint || `; valid keys: ${known.join(', ')}${anchors}`}` });
      } else {
        if (s.propertyNames?.pattern && !new RegExp(s.propertyNames.pattern, 'u').test(k)) {
          errs.push({ path: [...path, k], at: 'key', message: `expected a key path like 'optimizer.lr' or 'model.layers[2].linear.units', received ${show(k)}` });
          continue;
        }
        if (s.additionalProperties && typeof s.additionalProperties === 'object') this.walk(v, s.additionalProperties, [...path, k], errs);
      }
    }
    for (const r of (s.required ?? []) as string[]) {
      if (!(r in value)) errs.push({ path, at: path.length ? 'key' : 'value', message: `missing required key '${r}'` });
    }
  }

  /** A layer entry: determine the kind first, then check the options against that kind only. */
  layer(value: unknown, path: Seg[], errs: RawError[]): void {
    const blocks = this.doc.model?.blocks;
    const nestedName = typeof value === 'string' ? value : value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 ? Object.keys(value)[0]! : undefined;
    if (nestedName !== undefined && isBlockUse(nestedName, blocks)) return checkBlockUse(this, value, path, errs, blocks);
    if (value === RESIDUAL) return void errs.push({ path, at: 'value', message: "residual needs its layers: '- residual: [ ... ]' or '- residual: { shortcut: conv, layers: [ ... ] }'" });
    if (nestedName === RESIDUAL) {
      return this.walk((value as Json)[RESIDUAL], this.root.$defs.layer_residual.properties[RESIDUAL], [...path, RESIDUAL], errs);
    }
    const kinds = [...layerNames(true), RESIDUAL, ...(blocks && typeof blocks === 'object' ? Object.keys(blocks).filter((b) => isBlockUse(b, blocks)) : [])];
    const unknown = (name: string, at: 'key' | 'value') =>
      errs.push({ path, at, message: `unknown layer ${show(name)}${didYouMean(name, kinds)}; valid kinds: ${kinds.join(', ')}` });
    if (typeof value === 'string') {
      const kind = findLayer(value);
      if (!kind) return void unknown(value, 'value');
      if (kind.required?.length) {
        errs.push({ path, at: 'value', message: `${value} needs options: ${kind.required.join(', ')} (write '${value}: { ${kind.required.map((r) => `${r}: ...`).join(', ')} }')` });
      }
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      errs.push({ path, at: 'value', message: `expected a layer ('- kind', '- kind: value' or '- kind: { options }'), received ${show(value)}` });
      return;
    }
    const keys = Object.keys(value);
    if (keys.length !== 1) {
      const indent = keys.length > 1 && keys.some((k) => findLayer(k)) ? ` (are the options indented under the kind?)` : '';
      errs.push({ path, at: 'value', message: `a layer is a map with exactly one key, its kind; received keys ${keys.map((k) => `'${k}'`).join(', ')}${indent}` });
      return;
    }
    const name = keys[0]!;
    const kind = findLayer(name);
    if (!kind) return void unknown(name, 'key');
    const opts = (value as Json)[name];
    const p = [...path, name];
    const optionsSchema = this.root.$defs[`layer_${kind.name}_options`];
    if (opts === null || opts === undefined) {
      if (kind.required?.length) errs.push({ path: p, at: 'key', message: `missing options: ${kind.required.join(', ')}` });
      return;
    }
    if (typeof opts === 'object' && !Array.isArray(opts)) return this.walk(opts, optionsSchema, p, errs);
    if (kind.shorthand) return this.walk(opts, kind.options[kind.shorthand]!, p, errs);
    errs.push({ path: p, at: 'value', message: `expected a map of options (${Object.keys(kind.options).join(', ') || 'none'}), received ${show(opts)}` });
  }

  /** What a schema expects, in words: 'a positive integer', "one of 'sgd', 'adam'", 'a list of 3 numbers'... */
  describe(schema: Json): string {
    const s = this.deref(schema);
    if (s.anyOf) return [...new Set((s.anyOf as Json[]).map((b) => this.describe(b)))].join(' or ');
    if (s.enum) {
      const v = (s.enum as unknown[]).map(show);
      return v.length === 1 ? v[0]! : `one of ${v.join(', ')}`;
    }
    const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['object'];
    return types.map((t) => this.describeType(t, s)).join(' or ');
  }

  private describeType(t: string, s: Json): string {
    switch (t) {
      case 'integer':
      case 'number': {
        const noun = t;
        // 2^53 - 1 only keeps integers exact: not worth a word in 'expected ...'
        if (s.maximum === Number.MAX_SAFE_INTEGER) s = { ...s, maximum: undefined };
        if (s.maximum === undefined && s.exclusiveMaximum === undefined) {
          if (s.exclusiveMinimum === 0 || (t === 'integer' && s.minimum === 1)) return `a positive ${noun}`;
          if (s.minimum === 0) return `a non-negative ${noun}`;
        }
        const b: string[] = [];
        if (s.minimum !== undefined) b.push(`≥ ${s.minimum}`);
        if (s.exclusiveMinimum !== undefined) b.push(`> ${s.exclusiveMinimum}`);
        if (s.maximum !== undefined) b.push(`≤ ${s.maximum}`);
        if (s.exclusiveMaximum !== undefined) b.push(`< ${s.exclusiveMaximum}`);
        return `${t === 'integer' ? 'an integer' : 'a number'}${b.length ? ' ' + b.join(' and ') : ''}`;
      }
      case 'boolean':
        return 'true or false';
      case 'null':
        return 'null';
      case 'string':
        if (s.pattern?.startsWith('^[A-Za-z0-9]')) return "a name of letters, digits, '.', '_' and '-'";
        return s.minLength ? 'a non-empty string' : 'a string';
      case 'array': {
        const item = s.items ? (this.deref(s.items).title === 'Layer' ? "layers ('- kind' or '- kind: { options }')" : plural(this.describe(s.items))) : 'values';
        if (s.minItems !== undefined && s.minItems === s.maxItems) return `a list of ${s.minItems} ${item}`;
        return `a ${s.minItems ? 'non-empty ' : ''}list of ${item}`;
      }
      default: {
        const keys = Object.keys(s.properties ?? {});
        return keys.length ? `a map (keys: ${keys.join(', ')})` : 'a map';
      }
    }
  }
}

function plural(d: string): string {
  if (d.startsWith('one of ')) return `values (${d})`;
  return d.replace(/^an? /, '').replace(/^(\S+ )?(integer|number|string|map)/, (_m, a: string | undefined, n: string) => `${a ?? ''}${n}s`);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v; // 'number', 'string', 'boolean', 'object'
}

/** Whether a value has a type the (dereferenced) schema could accept. */
export function typeMatches(value: unknown, s: Json): boolean {
  const k = kindOf(value);
  if (s.enum) return (s.enum as unknown[]).some((x) => kindOf(x) === k);
  if (s.anyOf) return (s.anyOf as Json[]).some((b) => typeMatches(value, b));
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties || s.additionalProperties !== undefined ? ['object'] : [];
  if (!types.length) return true;
  return types.some((t) => {
    if (t === 'integer') return k === 'number' && Number.isInteger(value as number);
    return t === k;
  });
}
