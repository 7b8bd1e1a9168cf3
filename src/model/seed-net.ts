/**
 * The seed network, defined once: the layers of experiments/cifar10-sgd.yaml compiled by our own compiler
 * (`loadExperiment` + `buildModel`), so the bench (`npm run bench`), the backend checks and the tests measure and
 * compare exactly what `tudui run experiments/cifar10-sgd.yaml` trains. No tfjs import at run time: `tf` is passed in.
 */
import type * as tfjs from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExperiment, type ResolvedExperiment } from '../config/index.js';
import { buildModel } from './compile.js';

/**
 * experiments/cifar10-sgd.yaml of this package: two levels above this module from src/model and dist/model; the
 * nearest one above it otherwise (bundles such as scripts/gpu-check.sh's .gpu/app/tudui.mjs), else under the cwd.
 */
export const SEED_EXPERIMENT_FILE = findSeedFile();

function findSeedFile(): string {
  const rel = path.join('experiments', 'cifar10-sgd.yaml');
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const f = path.join(dir, rel);
    if (fs.existsSync(f)) return f;
    dir = path.dirname(dir);
  }
  return path.resolve(rel);
}

/** The seed experiment's input shape (CIFAR-10, NHWC without the batch axis) and classes. */
export const SEED_INPUT_SHAPE = [32, 32, 3];
export const SEED_CLASSES = 10;

let cached: ResolvedExperiment | undefined;

/** The resolved seed experiment (`overrides` as for `--set`, e.g. `dataset.batch_size=16`). */
export function seedExperiment(overrides: string[] = []): ResolvedExperiment {
  if (!overrides.length && cached) return cached;
  const r = loadExperiment(SEED_EXPERIMENT_FILE, { overrides });
  if (!r.experiment) throw new Error(`${SEED_EXPERIMENT_FILE}: ${r.errors.map((e) => e.message).join('; ')}`);
  if (!overrides.length) cached = r.experiment;
  return r.experiment;
}

/** The seed network as tf.layers (built with the given tfjs namespace, on its active backend). */
export function buildSeedNet(tf: typeof tfjs, exp: ResolvedExperiment = seedExperiment()): tfjs.Sequential {
  return buildModel(tf, exp, SEED_INPUT_SHAPE) as tfjs.Sequential; // the seed net is a flat list
}
