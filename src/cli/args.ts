/** Options declared as data; a tiny parser so the CLI needs no dependency to start. */
import { closestName } from '../config/paths.js';
import { UserError } from '../errors.js';

export interface OptionSpec {
  name: string; // long name without dashes
  short?: string;
  type: 'boolean' | 'string' | 'number';
  multiple?: boolean;
  description: string;
  value?: string; // placeholder shown in help
  /** The value's own check, declared with the option: what it expects when the value does not fit, else undefined. */
  check?: (value: string | number) => string | undefined;
}

/** A check for options that take a whole number ≥ min. */
export const wholeNumber = (min: number) => (v: string | number) => (Number.isInteger(v) && (v as number) >= min ? undefined : `expects a whole number ≥ ${min}`);

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | string[] | undefined>;
}

export function parseArgs(argv: string[], specs: OptionSpec[]): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const positionals: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byLong.get(name);
      if (!spec) {
        const close = suggestOption(name, specs);
        // `--epochs 2`, `--optimizer.lr=0.1`: config values are set with --set
        const next = argv[i + 1];
        const value = inline ?? (next !== undefined && !next.startsWith('--') ? next : '...');
        const asSet = !close && byLong.has('set') && /^[A-Za-z_][\w.[\]-]*$/.test(name) ? ` (to override a config value: --set ${name.replace(/-/g, '_')}=${value})` : '';
        throw new UserError(`unknown option --${name}${close}${asSet}`);
      }
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      spec = byShort.get(arg.slice(1));
      if (!spec) throw new UserError(`unknown option ${arg}`);
    } else {
      positionals.push(arg);
      continue;
    }
    if (spec.type === 'boolean') {
      options[spec.name] = inline === undefined ? true : !/^(false|0|no)$/i.test(inline);
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UserError(`option --${spec.name} expects a value`);
    let value: string | number = raw;
    if (spec.type === 'number') {
      value = Number(raw);
      if (!Number.isFinite(value)) throw new UserError(`option --${spec.name} expects a number, received ${JSON.stringify(raw)}`);
    }
    const problem = spec.check?.(value);
    if (problem) throw new UserError(`--${spec.name} ${problem}, received ${raw}`);
    if (spec.multiple) {
      const prev = (options[spec.name] as string[] | undefined) ?? [];
      options[spec.name] = [...prev, String(value)];
    } else {
      options[spec.name] = value;
    }
  }
  return { positionals, options };
}

function suggestOption(name: string, specs: OptionSpec[]): string {
  const close = closestName(name, specs.map((s) => s.name));
  return close ? ` (did you mean --${close}?)` : '';
}

export function formatOptions(specs: OptionSpec[]): string {
  const rows = specs.map((s) => {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'boolean' ? '' : ` <${s.value ?? s.type}>`}`;
    return [flag, s.description] as const;
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([f, d]) => `  ${f.padEnd(w)}  ${d}`).join('\n');
}
