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
import { describeWriteError } from '../fs/atomic.js';
import { CONFIG_FILE, CONFIG_HISTORY, diffConfigs, ORIGINAL_CONFIG, readHistory, type ConfigChange, type HistoryEntry } from './layout.js';

export interface AcceptedConfig {
  experiment: ResolvedExperiment;
  hash: string;
  /** Where it was read from, for messages. */
  source: string;
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
  for (const name of [ORIGINAL_CONFIG, CONFIG_FILE]) {
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
  return diffConfigs(resolvedToObject(a), resolvedToObject(b));
}

/** `  - key: old` / `  + key: new` lines. */
export function formatChanges(changes: ConfigChange[]): string {
  const show = (v: unknown) => (v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v));
  return changes.flatMap((c) => [`  - ${c.key}: ${show(c.old)}`, `  + ${c.key}: ${show(c.new)}`]).join('\n');
}
