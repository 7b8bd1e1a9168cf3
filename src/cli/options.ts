/**
 * Options that several commands take, declared once (name, value, check); each command words whose value changes.
 * Command-specific options stay in the command's own file.
 */
import { DEVICES, type Device } from '../config/devices.js';
import { UserError } from '../errors.js';
import { wholeNumber, type OptionSpec } from './args.js';

/** `--set key.path=value`, repeatable. */
export const setOption = (description: string): OptionSpec => ({ name: 'set', type: 'string', multiple: true, value: 'key.path=value', description });

/** `--device auto|cpu|gpu`; `whose` completes "override … device". */
export const deviceSpec = (whose: string): OptionSpec => ({ name: 'device', type: 'string', value: DEVICES.join('|'), description: `override ${whose} device` });

/** `--backend NAME` and `--threads N`, shared by run, resume, eval and predict (names are checked by selectBackend). */
export const BACKEND_OPTIONS: OptionSpec[] = [
  { name: 'backend', type: 'string', value: 'name', description: 'use exactly this backend (tudui-native, wasm, cpu, webgpu, …; tudui devices lists them), no fallback' },
  { name: 'threads', type: 'number', value: 'n', description: 'CPU threads for the native and wasm backends (default: every core)', check: wholeNumber(1) },
];

/** `--verbose` where a backend is chosen. */
export const VERBOSE_OPTION: OptionSpec = { name: 'verbose', type: 'boolean', description: 'print the full backend choice (every skipped backend and why; also: tudui devices)' };

/** `--runs-dir DIR`; `what` names the directories made under it. */
export const runsDirOption = (what: string): OptionSpec => ({ name: 'runs-dir', type: 'string', value: 'dir', description: `parent directory for ${what} (default: runs)` });

/** `--quiet`/`-q`; `what` says what is still printed. */
export const quietOption = (description: string): OptionSpec => ({ name: 'quiet', short: 'q', type: 'boolean', description });

export function backendOptions(options: Record<string, unknown>): { backend?: string; threads?: number } {
  const r: { backend?: string; threads?: number } = {};
  if (options.backend !== undefined) r.backend = String(options.backend);
  if (options.threads !== undefined) r.threads = Number(options.threads);
  return r;
}

export function deviceOption(value: unknown): Device | undefined {
  if (value === undefined) return undefined;
  if (!DEVICES.includes(value as Device)) throw new UserError(`--device expects one of ${DEVICES.join(', ')}, received '${String(value)}'`);
  return value as Device;
}
