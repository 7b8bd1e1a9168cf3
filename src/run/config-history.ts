/**
 * The config a run was started with and every change accepted since (`tudui resume --allow-changed`):
 * `config.original.yaml` is written once when the run starts and never rewritten; `config-history.jsonl` gets one
 * line per accepted change (when, at which epoch and step, which keys, old → new, and the whole config after it).
 * `config.yaml` is the config now in effect. The diff `resume` prints is computed against the last accepted config,
 * never against `config.yaml` (which a user may have edited).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { experimentHash, loadExperimentText, resolvedToObject, type ResolvedExperiment } from '../config/index.js';
import { describeWriteError } from './atomic.js';

export const ORIGINAL_CONFIG = 'config.original.yaml';
export const CONFIG_HISTORY = 'config-history.jsonl';

export interface ConfigChange {
  key: string;
  old: unknown;
  new: unknown;
}

export interface HistoryEntry {
  time: string;
  /** Epochs completed when the change took effect (training continues with epoch + 1). */
  epoch: number;
  global_step: number;
  /** The checkpoint the run continued from. */
  checkpoint: string;
  changes: ConfigChange[];
  config_hash: string;
  /** The whole resolved config after the change (as in config.yaml). */
  config: Record<string, unknown>;
}

export interface AcceptedConfig {
  experiment: ResolvedExperiment;
  hash: string;
  /** Where it was read from, for messages. */
  source: string;
}

/** Read the accepted history; a torn last line (a killed process) is ignored. */
export function readHistory(runDir: string): HistoryEntry[] {
  const path = join(runDir, CONFIG_HISTORY);
  if (!existsSync(path)) return [];
  const out: HistoryEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      // torn last line
    }
  }
  return out;
}

export function appendHistory(runDir: string, entry: HistoryEntry): void {
  const path = join(runDir, CONFIG_HISTORY);
  try {
    appendFileSync(path, JSON.stringify(entry) + '\n');
  } catch (e) {
    throw describeWriteError(e, path);
  }
}

/**
 * The config the run last accepted: the newest history entry, else `config.original.yaml`. Runs made before the
 * original was kept fall back to `config.yaml` when its hash is the checkpoint's (it was not edited); otherwise
 * undefined (nothing trustworthy to compare with).
 */
export function acceptedConfig(runDir: string, checkpointHash: string | undefined, cwd: string): AcceptedConfig | undefined {
  const history = readHistory(runDir);
  const last = history[history.length - 1];
  const tryLoad = (name: string, text: string): ResolvedExperiment | undefined => {
    const r = loadExperimentText(name, text, { cwd });
    return r.errors.length ? undefined : r.experiment;
  };
  if (last) {
    const exp = tryLoad(join(runDir, CONFIG_HISTORY), stringify(last.config));
    if (exp) return { experiment: exp, hash: experimentHash(exp), source: CONFIG_HISTORY };
  }
  for (const name of [ORIGINAL_CONFIG, 'config.yaml']) {
    const path = join(runDir, name);
    if (!existsSync(path)) continue;
    const exp = tryLoad(path, readFileSync(path, 'utf8'));
    if (!exp) continue;
    const hash = experimentHash(exp);
    if (name === ORIGINAL_CONFIG || hash === checkpointHash) return { experiment: exp, hash, source: name };
  }
  return undefined;
}

/** Key paths (as for --set) whose values differ; arrays of scalars compare as one value. */
export function diffExperiments(a: ResolvedExperiment, b: ResolvedExperiment): ConfigChange[] {
  const fa = flatten(resolvedToObject(a));
  const fb = flatten(resolvedToObject(b));
  const out: ConfigChange[] = [];
  for (const key of new Set([...fa.keys(), ...fb.keys()])) {
    const x = fa.get(key);
    const y = fb.get(key);
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ key, old: x, new: y });
  }
  return out;
}

/** `  - key: old` / `  + key: new` lines. */
export function formatChanges(changes: ConfigChange[]): string {
  const show = (v: unknown) => (v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v));
  return changes.flatMap((c) => [`  - ${c.key}: ${show(c.old)}`, `  + ${c.key}: ${show(c.new)}`]).join('\n');
}

function flatten(v: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) out.set(prefix, v);
    else v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
  } else if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) out.set(prefix, v);
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, v);
  }
  return out;
}
