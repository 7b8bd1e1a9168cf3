/**
 * The shape shared by the registries of datasets, optimizers, schedules and losses (layers have their own,
 * src/model/registry.ts): a family declares each of its options once (JSON Schema with description and default, in
 * schema order); a kind is one small object naming the options it uses, with its checks and its implementation.
 * The schema, the reference, validation and the runtime all read these objects. Never imports TensorFlow.
 */
import type { OptionSchema } from './model/layer-kind.js';

export type { OptionSchema };

/** One kind of a family (the `sgd` optimizer, the `cifar10` dataset...). */
export interface Kind {
  name: string;
  /** One line: what it is, for the reference. */
  description: string;
  /**
   * The family options this kind uses beyond the family's `shared` ones, taken from the family's table with
   * `pick` (a kind-specific default replaces the table's; `undefined` removes it).
   */
  options: Record<string, OptionSchema>;
}

/** A problem found by a kind's checks: the option to blame (a key of the family's section) and the message. */
export interface OptionProblem {
  key: string;
  message: string;
}

export class Registry<K extends Kind> {
  private readonly byName = new Map<string, K>();

  /**
   * @param family singular noun for messages ('optimizer')
   * @param table every option of the family, in schema order, each declared once
   * @param shared options every kind uses (not listed per kind)
   */
  constructor(
    readonly family: string,
    readonly table: Readonly<Record<string, OptionSchema>>,
    readonly shared: readonly string[],
  ) {}

  /** Adds a kind; a name taken twice, or an option missing from the family's table, is a bug. */
  register(kind: K): void {
    if (this.byName.has(kind.name)) throw new Error(`${this.family} '${kind.name}' is registered twice`);
    for (const k of Object.keys(kind.options)) {
      if (!(k in this.table)) throw new Error(`${this.family} '${kind.name}' uses option '${k}', which is not in the ${this.family} table`);
    }
    this.byName.set(kind.name, kind);
  }

  find(name: string): K | undefined {
    return this.byName.get(name);
  }

  /** The kind named `name`; an Error listing the valid names otherwise. */
  get(name: string): K {
    const k = this.byName.get(name);
    if (!k) throw new Error(`unknown ${this.family} '${name}'; valid ${this.family}s: ${this.names().join(', ')}`);
    return k;
  }

  /** Names in registration order (the order of the schema's enum). */
  names(): string[] {
    return [...this.byName.keys()];
  }

  kinds(): K[] {
    return [...this.byName.values()];
  }

  /** Whether `kind` uses `option` (shared options are used by every kind; no kind: only those). */
  uses(kind: K | undefined, option: string): boolean {
    return this.shared.includes(option) || (kind !== undefined && option in kind.options);
  }

  /** The kinds that use an option, in registration order. */
  users(option: string): string[] {
    return this.kinds().filter((k) => this.uses(k, option)).map((k) => k.name);
  }

  /** An option's schema as `kind` sees it (its own default where it has one). */
  option(kind: K | undefined, name: string): OptionSchema {
    return kind?.options[name] ?? this.table[name]!;
  }

  /**
   * Defaults of every option of the table as `kind` sees them: the kind's default for its options, the table's for
   * the rest. With `own`, only the shared options and the kind's. (No kind: an unknown name that the schema pass
   * reports; the other sections are still resolved and checked.)
   */
  defaults(kind: K | undefined, own = false): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(this.table)) {
      if (own && !this.uses(kind, name)) continue;
      const s = this.option(kind, name);
      if ('default' in s && s.default !== undefined) out[name] = structuredClone(s.default);
    }
    return out;
  }

  /**
   * The table's options as JSON Schema properties, each as the schema shows it: '{only}' in a description becomes
   * "sgd only" or "sgd, rmsprop" (the kinds that use it); an option whose default differs between its users gets
   * no `default` keyword and its defaults in words.
   */
  properties(): Record<string, OptionSchema> {
    const out: Record<string, OptionSchema> = {};
    for (const [name, s] of Object.entries(this.table)) {
      const users = this.users(name);
      const { default: _d, ...rest } = s;
      const description = s.description.replace('{only}', users.length === 1 ? `${users[0]} only` : users.join(', ')).replace('{users}', users.join(', '));
      const p: OptionSchema = { ...rest, description };
      const dflts = this.kinds().filter((k) => this.uses(k, name)).map((k) => ({ kind: k.name, d: this.option(k, name).default }));
      const base = JSON.stringify(s.default);
      // a kind without a default (it leaves the option unset) does not disagree
      const others = dflts.filter((x) => x.d !== undefined && JSON.stringify(x.d) !== base);
      if (!others.length) {
        if ('default' in s) p.default = s.default;
      } else {
        p.description += ` Default ${base}; ${others.map((x) => `${x.kind} ${JSON.stringify(x.d)}`).join(', ')}.`;
      }
      out[name] = p;
    }
    return out;
  }
}

/** A positive integer option (JSON Schema), with a default when given. */
export function posInt(description: string, dflt?: number): OptionSchema {
  return { description, type: 'integer', minimum: 1, ...(dflt !== undefined ? { default: dflt } : {}) };
}

/** A positive integer or null option, default null. */
export function nullablePosInt(description: string): OptionSchema {
  return { description, type: ['integer', 'null'], minimum: 1, default: null };
}

/** The table entries named, for a kind's `options`; `defaults` replaces their defaults (undefined: none). */
export function pick<T extends Record<string, OptionSchema>, N extends keyof T & string>(
  table: T,
  names: readonly N[],
  defaults: Partial<Record<N, unknown>> = {},
): Record<N, OptionSchema> {
  const out = {} as Record<N, OptionSchema>;
  for (const n of names) {
    const s = { ...table[n]! };
    if (n in defaults) {
      if (defaults[n] === undefined) delete s.default;
      else s.default = defaults[n];
    }
    out[n] = s;
  }
  return out;
}

/** What an option's schema accepts, in words, for the data layer's messages: 'a positive integer', '1 or 3'... */
function expects(s: OptionSchema): string {
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' or ');
  const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
  const words = types.map((t) => {
    if (t === 'null') return 'null';
    if (t === 'array') {
      const n = s.minItems !== undefined && s.minItems === s.maxItems ? `${s.minItems} ` : '';
      return `a list of ${n}${s.items ? expects(s.items as OptionSchema).replace(/^an? /, '').replace(/(integer|number)$/, '$1s') : 'values'}`;
    }
    const noun = t === 'integer' ? 'integer' : t === 'number' ? 'number' : t;
    const b: string[] = [];
    if (s.minimum !== undefined) b.push(`≥ ${s.minimum}`);
    if (s.exclusiveMinimum !== undefined) b.push(`> ${s.exclusiveMinimum}`);
    if (s.maximum !== undefined) b.push(`≤ ${s.maximum}`);
    if (s.exclusiveMaximum !== undefined) b.push(`< ${s.exclusiveMaximum}`);
    if (b.length === 1 && (s.exclusiveMinimum === 0 || (t === 'integer' && s.minimum === 1))) return `a positive ${noun}`;
    if (b.length === 1 && s.minimum === 0) return `a non-negative ${noun}`;
    return `${noun === 'integer' ? 'an' : 'a'} ${noun}${b.length ? ' ' + b.join(' and ') : ''}`;
  });
  return words.join(' or ');
}

function accepts(s: OptionSchema, v: unknown): boolean {
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).some((x) => x === v);
  const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
  return types.some((t) => {
    switch (t) {
      case 'null':
        return v === null;
      case 'boolean':
        return typeof v === 'boolean';
      case 'string':
        return typeof v === 'string';
      case 'array':
        return (
          Array.isArray(v) &&
          (s.minItems === undefined || v.length >= (s.minItems as number)) &&
          (s.maxItems === undefined || v.length <= (s.maxItems as number)) &&
          (!s.items || v.every((x) => accepts(s.items as OptionSchema, x)))
        );
      case 'integer':
      case 'number':
        return (
          typeof v === 'number' &&
          (t === 'number' ? Number.isFinite(v) : Number.isInteger(v)) &&
          (s.minimum === undefined || v >= (s.minimum as number)) &&
          (s.exclusiveMinimum === undefined || v > (s.exclusiveMinimum as number)) &&
          (s.maximum === undefined || v <= (s.maximum as number)) &&
          (s.exclusiveMaximum === undefined || v < (s.exclusiveMaximum as number))
        );
      default:
        return true; // objects: checked by the schema pass; the data layer only reads scalars and lists
    }
  });
}

/**
 * Why `value` breaks the option's schema (the same bounds the schema pass applies), or undefined. For library
 * callers that hand a kind a config that never went through `loadExperiment`.
 */
export function optionValueProblem(s: OptionSchema, value: unknown): string | undefined {
  if (value === undefined || accepts(s, value)) return undefined;
  return `must be ${expects(s)}, got ${JSON.stringify(value)}`;
}
