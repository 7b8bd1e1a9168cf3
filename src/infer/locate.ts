/**
 * Which checkpoint a path names, and what it says about itself, without TensorFlow: a checkpoint directory
 * (`model.json` inside), the `best`/`last` link to one, or a run directory (its `best` checkpoint, else `last`).
 * Checkpoints written before they carried inference metadata get it rebuilt from the run's `config.yaml`.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadExperiment, formatError } from '../config/index.js';
import { datasetInfo, expandRoot } from '../data/index.js';
import { UserError } from '../errors.js';
import { checkCheckpoint, inferenceMetadata, readInferenceMetadata, readState, type InferenceMetadata, type TrainingState } from '../run/checkpoint-files.js';
import { BEST, CHECKPOINT_FILES, CHECKPOINTS_DIR, CONFIG_FILE, LAST, runPaths } from '../run/layout.js';

/** The splits `tudui eval --split` knows. */
export const SPLITS = ['test', 'val', 'train'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface LocatedCheckpoint {
  /** The checkpoint directory (links followed). */
  dir: string;
  /** How it was named: `epoch-0003`, or `epoch-0003 (best)` when found through a run directory. */
  label: string;
  /** The run directory holding it, when it sits in one (`RUN/checkpoints/NAME`). */
  runDir?: string;
  metadata: InferenceMetadata;
  state: TrainingState;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function locateCheckpoint(path: string, cwd = process.cwd()): LocatedCheckpoint {
  const given = resolve(cwd, path);
  if (!existsSync(given)) throw new UserError(`${path}: no such run directory or checkpoint`);
  let dir = given;
  let via = '';
  if (!existsSync(join(given, CHECKPOINT_FILES.model))) {
    const paths = runPaths(given);
    const link = ([BEST, LAST] as const).find((l) => existsSync(join(paths[l], CHECKPOINT_FILES.model)));
    if (!link) {
      if (existsSync(paths.config)) throw new UserError(`${path}: the run has no checkpoint yet (checkpoints/best and checkpoints/last are missing)`);
      throw new UserError(`${path} is neither a run directory (config.yaml, checkpoints/) nor a checkpoint (model.json)`);
    }
    dir = runPaths(given)[link];
    via = link;
  }
  if (!isDir(dir)) throw new UserError(`${path}: not a directory`);
  dir = realpathSync(dir);
  const problem = checkCheckpoint(dir);
  if (problem) throw new UserError(`checkpoint ${dir} is damaged: ${problem}`);
  const name = basename(dir);
  const parent = dirname(dir);
  const runDir = basename(parent) === CHECKPOINTS_DIR && existsSync(join(dirname(parent), CONFIG_FILE)) ? dirname(parent) : undefined;
  const metadata = readInferenceMetadata(dir) ?? metadataFromRun(dir, runDir, cwd);
  return { dir, label: via ? `${name} (${via})` : name, ...(runDir ? { runDir } : {}), metadata, state: readState(dir) };
}

/** A checkpoint from before self-describing checkpoints: what its run's config.yaml says. */
function metadataFromRun(dir: string, runDir: string | undefined, cwd: string): InferenceMetadata {
  if (!runDir) throw new UserError(`checkpoint ${dir} carries no inference metadata and is not inside a run directory whose config.yaml could describe it`);
  const file = runPaths(runDir).config;
  const loaded = loadExperiment(file, { cwd });
  if (loaded.errors.length) throw new UserError(`checkpoint ${dir} carries no inference metadata, and ${formatError(loaded.errors[0]!)}`);
  const exp = loaded.experiment;
  const info = datasetInfo(exp.dataset, { cwd });
  if (!info) throw new UserError(`checkpoint ${dir} carries no inference metadata, and the classes of ${exp.dataset.root} cannot be listed`);
  const root = expandRoot(exp.dataset.root, cwd);
  return inferenceMetadata(exp, info, { root, source: root }, readState(dir).config_hash, 'unknown');
}
