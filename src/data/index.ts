/**
 * Data layer entry point (docs/DESIGN.md, "Data contract"). Loads datasets as NHWC bytes and batches them into
 * normalised float32. Never imports @tensorflow/*: the training loop turns batches into tensors.
 */
import { isUserError, UserError } from '../errors.js';
import { optionValueProblem } from '../registry.js';
import { DATASET_OPTIONS } from './datasets/options.js';
import { rootOrDefault } from './datasets/roots.js';
import { datasets, type DatasetKind, type DatasetProblem, type Filled } from './registry.js';
import { holdOutValidation, trainLeftAfterHoldOut, validationSource } from './validation.js';
import type { BatchOptions, DatasetConfig, DatasetInfo, DatasetName, ImageSplit, LoadedDataset, LoadOptions } from './types.js';

export type {
  AugmentConfig, Batch, BatchOptions, DatasetConfig, DatasetInfo, DatasetName, ImageSplit, LoadedDataset, LoadOptions,
  NormalizeConfig, RemoteFile,
} from './types.js';
export { assembleBatch, augmentPlan, batchCount, batches, epochOrder, normalizationTable, normalizeValue } from './pipeline.js';
export { CIFAR10_CLASSES, CIFAR10_INFO, CIFAR10_REMOTE } from './cifar10.js';
export { FASHION_MNIST_INFO, IDX_REMOTE, MNIST_INFO } from './idx.js';
export { DIGITS_DEFAULT_ROOT, DIGITS_INFO, DIGITS_MD5, DIGITS_SPLIT_SEED } from './digits.js';
export { mixSeed, mulberry32 } from './prng.js';
export { expandRoot } from './datasets/roots.js';
export { datasets } from './registry.js';
export type { DatasetKind, DatasetProblem } from './registry.js';

/** Names of the datasets, in registration order. */
export const DATASET_NAMES = datasets.names() as DatasetName[];

function unknownName(name: string): UserError {
  return new UserError(`unknown dataset ${JSON.stringify(name)}; expected one of ${DATASET_NAMES.join(', ')}`);
}

/** The config with the dataset's defaults under it (a library caller may give a partial config). */
function fill(kind: DatasetKind, cfg: DatasetConfig): Filled {
  const out: Record<string, unknown> = { ...datasets.defaults(kind, true) };
  for (const [k, v] of Object.entries(cfg)) if (v !== undefined && (v !== null || !(k in out))) out[k] = v;
  return out as unknown as Filled;
}

/**
 * The options' values against their schema (the same bounds `tudui validate` applies): a config that never went
 * through the config layer meets the same rules. Then the dataset's own checks.
 */
function valueProblems(kind: DatasetKind, c: Filled): DatasetProblem[] {
  const out: DatasetProblem[] = [];
  for (const k of Object.keys(DATASET_OPTIONS)) {
    if (!datasets.uses(kind, k)) continue;
    const bad = optionValueProblem(datasets.option(kind, k), (c as unknown as Record<string, unknown>)[k]);
    if (bad) out.push({ key: k, message: `dataset.${k} ${bad}` });
  }
  return out;
}

/** The kind and the filled config; a UserError for an unknown name or a value the schema refuses. */
function resolve(cfg: DatasetConfig): { kind: DatasetKind; c: Filled } {
  const kind = datasets.find(cfg.name);
  if (!kind) throw unknownName(cfg.name);
  const c = fill(kind, cfg);
  const bad = valueProblems(kind, c)[0];
  if (bad) throw new UserError(`${bad.message} for ${kind.name}`);
  return { kind, c };
}

function rootOf(kind: DatasetKind, c: Filled, cwd: string): string {
  return kind.root ? kind.root(c, cwd) : rootOrDefault(c.root, kind.name, cwd);
}

/**
 * Static facts about a dataset without loading it (no I/O except listing image-folder's class directories).
 * undefined when they cannot be known without reading data (image-folder whose root is not readable yet).
 */
export function datasetInfo(cfg: DatasetConfig, opts: { cwd?: string } = {}): DatasetInfo | undefined {
  const { kind, c } = resolve(cfg);
  return kind.info(c, opts.cwd ?? process.cwd());
}

/**
 * Number of training examples, when known without reading data: after `train_limit` and after holding out
 * `validation.fraction` — exact when the dataset knows its per-class counts, else the most that can be left
 * (`exact: false`).
 */
export function staticTrainCount(cfg: DatasetConfig, opts: { cwd?: string } = {}): { count: number; exact: boolean } | undefined {
  const { kind, c } = resolve(cfg);
  const cwd = opts.cwd ?? process.cwd();
  const all = kind.trainSize(c, cwd);
  if (all === undefined) return undefined;
  const n = c.train_limit != null ? Math.min(all, c.train_limit) : all;
  const fraction = c.validation?.fraction;
  if (fraction === undefined) return { count: n, exact: true };
  const perClass = kind.trainClassCounts?.(c, cwd);
  return { count: trainLeftAfterHoldOut(n, fraction, perClass, kind.info(c, cwd)?.classes), exact: perClass !== undefined };
}

/** `staticTrainCount`'s count. */
export function staticTrainSize(cfg: DatasetConfig, opts: { cwd?: string } = {}): number | undefined {
  return staticTrainCount(cfg, opts)?.count;
}

/** "the 15 training examples left after holding out validation", "the training examples left … (at most 729)". */
export function trainCountText(cfg: DatasetConfig, known: { count: number; exact: boolean }): string {
  if (cfg.validation?.fraction === undefined) return `the ${known.count} training examples`;
  return known.exact ? `the ${known.count} training examples left after holding out validation` : `the training examples left after holding out validation (at most ${known.count})`;
}

/** `validation` names exactly one source, and one the dataset has. */
function validationProblem(kind: DatasetKind, c: Filled): DatasetProblem | undefined {
  const v = c.validation;
  if (!v) return undefined;
  if ((v.fraction === undefined) === (v.from === undefined)) {
    return { key: 'validation', message: `give one of fraction (held out of train) and from: files, got ${JSON.stringify(v)}` };
  }
  if (v.from === 'files' && !kind.validationFiles) {
    const have = datasets.names().filter((n) => datasets.find(n)!.validationFiles);
    return { key: 'validation', message: `${kind.name} has no validation files (from: files is for ${have.join(', ')}); use validation: { fraction: 0.1 }` };
  }
  return undefined;
}

/**
 * Every problem with a dataset config that is knowable from the config and the file system, before loading: the
 * same checks `tudui validate` reports and `loadDataset` would otherwise throw for. Never throws.
 */
export function checkDataset(cfg: DatasetConfig, opts: { cwd?: string } = {}): DatasetProblem[] {
  const cwd = opts.cwd ?? process.cwd();
  const kind = datasets.find(cfg.name);
  if (!kind) return [{ key: 'name', message: unknownName(cfg.name).message }];
  const c = fill(kind, cfg);
  const values = valueProblems(kind, c);
  if (values.length) return values.map((p) => ({ key: p.key, message: p.message.replace(/^dataset\.\w+ /, '') }));
  const vp = validationProblem(kind, c);
  if (vp) return [vp];
  const out = kind.problems(c, cwd, () => rootOf(kind, c, cwd));
  if (out.length) return out;
  const known = staticTrainCount(c, { cwd });
  const n = known?.count;
  const batch = c.batch_size!;
  if (n !== undefined && n === 0) out.push({ key: 'train_limit', message: 'no training examples are left' });
  else if (n !== undefined && c.drop_last && batch > n) {
    out.push({ key: 'batch_size', message: `${batch} is larger than ${trainCountText(c, known!)}, and drop_last: true would leave no batch` });
  }
  return out;
}

/** Legal but suspicious dataset settings (an image folder's val/ that nothing reads), for `tudui validate`'s warnings. */
export function datasetWarnings(cfg: DatasetConfig, opts: { cwd?: string } = {}): DatasetProblem[] {
  const kind = datasets.find(cfg.name);
  return kind?.warnings ? kind.warnings(fill(kind, cfg), opts.cwd ?? process.cwd()) : [];
}

function limit(split: ImageSplit, n: number | undefined, info: DatasetInfo): ImageSplit {
  if (n === undefined || n >= split.count) return split;
  const size = info.height * info.width * info.channels;
  // copies, so the full set's memory can be released
  return { images: split.images.slice(0, n * size), labels: split.labels.slice(0, n), count: n, split: split.split };
}

/** Load a dataset's train and test splits as NHWC bytes. All user-caused failures are UserErrors. */
export async function loadDataset(cfg: DatasetConfig, opts: LoadOptions = {}): Promise<LoadedDataset> {
  const cwd = opts.cwd ?? process.cwd();
  const t0 = performance.now();
  const { kind, c } = resolve(cfg);
  const vp = validationProblem(kind, c);
  if (vp) throw new UserError(`dataset.validation: ${vp.message}`);
  let ds: LoadedDataset;
  try {
    ds = await kind.load(c, rootOf(kind, c, cwd), { ...opts, cwd });
  } catch (e) {
    // A bad file under root (a corrupt image, a truncated batch): the message names the file; point at the setting too.
    const at = cfg.loc?.root;
    if (!at || !isUserError(e)) throw e;
    throw new UserError(`${at.file}:${at.line}:${at.col}: dataset.root: ${e.message}`, e.hint);
  }
  ds = { ...ds, train: limit(ds.train, c.train_limit ?? undefined, ds.info), test: limit(ds.test, c.test_limit ?? undefined, ds.info) };
  if (ds.train.count === 0) throw new UserError(`dataset ${cfg.name} (${ds.source}) has no training examples`);
  const source = validationSource(c);
  if (source === 'fraction') ds = { ...ds, ...holdOutValidation(ds.train, ds.info, c.validation!.fraction!) };
  else if (source === undefined) delete ds.val; // a val/ directory is only read when asked for
  else if (!ds.val) throw new UserError(`dataset ${cfg.name} (${ds.source}) has no validation files`);
  opts.log?.(
    `dataset ${cfg.name}: ${ds.train.count} train / ${ds.val ? `${ds.val.count} validation / ` : ''}${ds.test.count} test, ${ds.info.height}×${ds.info.width}×${ds.info.channels}, ` +
      `${ds.info.classes} classes, from ${ds.source} (${((performance.now() - t0) / 1000).toFixed(2)} s)`,
  );
  return ds;
}

/**
 * Batch options for a split as the config says: train uses batch_size, shuffle, drop_last and augment; test uses
 * eval_batch_size, keeps file order, keeps every example and is never augmented.
 */
export function batchOptionsFor(cfg: DatasetConfig, split: 'train' | 'test', seed: number, epoch: number, startBatch = 0): BatchOptions {
  const { c } = resolve(cfg);
  const batchSize = c.batch_size!;
  if (split === 'test') {
    return { batchSize: c.eval_batch_size ?? batchSize, shuffle: false, dropLast: false, seed, epoch, normalize: c.normalize ?? null, augment: null, startBatch };
  }
  return { batchSize, shuffle: c.shuffle!, dropLast: c.drop_last!, seed, epoch, normalize: c.normalize ?? null, augment: c.augment ?? null, startBatch };
}
