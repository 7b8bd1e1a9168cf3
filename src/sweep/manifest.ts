/** `sweep.json`: the sweep's members and their state, rewritten atomically whenever a member changes state. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../run/atomic.js';
import type { GridValue } from './grid.js';
import type { HParam } from './plan.js';

export const MANIFEST = 'sweep.json';
export const MANIFEST_VERSION = 1;

export type MemberStatus = 'pending' | 'running' | 'completed' | 'failed' | 'interrupted';

export interface ManifestMember {
  index: number;
  label: string;
  /** Run directory name, relative to the sweep directory. */
  run_dir: string;
  /** Absolute path of the experiment file. */
  file: string;
  experiment: string;
  overrides: string[];
  grid: Record<string, GridValue>;
  hparams: Record<string, HParam>;
  status: MemberStatus;
  /** How many times it was started (fresh or resumed). */
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
  error: string | null;
}

export interface Manifest {
  version: number;
  name: string;
  created_at: string;
  updated_at: string;
  /** Working directory the files' relative paths (dataset roots) resolve against. */
  cwd: string;
  patterns: string[];
  set: string[];
  device: string | null;
  rank_by: string;
  status: 'running' | 'completed' | 'failed' | 'interrupted';
  hparams: string[];
  members: ManifestMember[];
}

export function writeManifest(sweepDir: string, m: Manifest): void {
  m.updated_at = new Date().toISOString();
  writeFileAtomic(join(sweepDir, MANIFEST), JSON.stringify(m, null, 2) + '\n');
}

export function readManifest(sweepDir: string): Manifest {
  const path = join(sweepDir, MANIFEST);
  if (!existsSync(path)) throw new UserError(`${sweepDir} is not a sweep directory: ${MANIFEST} is missing`, 'pass the directory `tudui sweep` printed, e.g. runs/<name>/<timestamp>');
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new UserError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (m.version !== MANIFEST_VERSION || !Array.isArray(m.members)) throw new UserError(`${path} is not a tudui sweep manifest (version ${String(m.version)})`);
  return m;
}
