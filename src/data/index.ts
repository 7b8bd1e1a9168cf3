/**
 * Data layer entry point (docs/DESIGN.md, "Data contract"). Loads datasets as NHWC bytes and batches them into
 * normalised float32. Never imports @tensorflow/*: the training loop turns batches into tensors.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { CIFAR10_INFO, cifar10Missing, loadCifar10 } from './cifar10.js';
import { DIGITS_DEFAULT_ROOT, DIGITS_FILE, DIGITS_INFO, loadDigits } from './digits.js';
import { imageFolderClassesSync, imageFolderShape, loadImageFolder, scanImageFolderSync } from './image-folder.js';
import { FASHION_MNIST_INFO, idxMissing, loadIdxDataset, MNIST_INFO } from './idx.js';
import { makeSynthetic, SYNTHETIC_DEFAULTS, syntheticInfo } from './synthetic.js';
import type { BatchOptions, DatasetConfig, DatasetInfo, ImageSplit, LoadedDataset, LoadOptions } from './types.js';

export type {
  AugmentConfig, Batch, BatchOptions, DatasetConfig, DatasetInfo, DatasetName, ImageSplit, LoadedDataset, LoadOptions,
  NormalizeConfig, RemoteFile,
} from './types.js';
export { assembleBatch, augmentPlan, batchCount, batches, benchmarkBatchAssembly, epochOrder, normalizationTable, normalizeValue } from './pipeline.js';
export { CIFAR10_CLASSES, CIFAR10_INFO, CIFAR10_REMOTE } from './cifar10.js';
export { FASHION_MNIST_INFO, IDX_REMOTE, MNIST_INFO } from './idx.js';
export { DIGITS_DEFAULT_ROOT, DIGITS_INFO, DIGITS_MD5, DIGITS_SPLIT_SEED } from './digits.js';
export { mixSeed, mulberry32 } from './prng.js';

export const DATASET_NAMES = ['cifar10', 'mnist', 'fashion-mnist', 'digits', 'image-folder', 'synthetic'] as const;

/** Where a dataset is looked for when `root` is not set: `data/<name>` under the working directory; digits: the shipped copy. */
export function defaultDatasetRoot(name: string, cwd = process.cwd()): string {
  return name === 'digits' ? DIGITS_DEFAULT_ROOT : path.resolve(cwd, 'data', name);
}

/** A `root` as written → absolute path: `~` and `~/...` are the home directory, relative paths resolve against cwd. */
export function expandRoot(root: string, cwd = process.cwd()): string {
  const home = root === '~' || root.startsWith('~/') || (path.sep === '\\' && root.startsWith('~\\'));
  return path.resolve(cwd, home ? path.join(homedir(), root.slice(1)) : root);
}

function resolveRoot(cfg: DatasetConfig, cwd: string): string {
  if (cfg.name === 'digits') {
    if (!cfg.root) return DIGITS_DEFAULT_ROOT;
    const r = expandRoot(cfg.root, cwd);
    // the conventional default spelling falls back to the shipped copy when the cwd has none
    if (!existsSync(path.join(r, DIGITS_FILE)) && path.normalize(cfg.root) === path.normalize('data/digits')) return DIGITS_DEFAULT_ROOT;
    return r;
  }
  if (!cfg.root) {
    if (cfg.name === 'image-folder') throw new UserError('dataset.root is required for image-folder (a directory with train/<class>/ and test/<class>/)');
    return defaultDatasetRoot(cfg.name, cwd);
  }
  return expandRoot(cfg.root, cwd);
}

function unknownName(name: string): UserError {
  return new UserError(`unknown dataset ${JSON.stringify(name)}; expected one of ${DATASET_NAMES.join(', ')}`);
}

/**
 * Static facts about a dataset without loading it (no I/O except listing image-folder's class directories).
 * undefined when they cannot be known without reading data (image-folder whose root is not readable yet).
 */
export function datasetInfo(cfg: DatasetConfig, opts: { cwd?: string } = {}): DatasetInfo | undefined {
  switch (cfg.name) {
    case 'cifar10':
      return CIFAR10_INFO;
    case 'mnist':
      return MNIST_INFO;
    case 'fashion-mnist':
      return FASHION_MNIST_INFO;
    case 'digits':
      return DIGITS_INFO;
    case 'synthetic':
      return syntheticInfo(cfg.shape, cfg.classes);
    case 'image-folder': {
      const { h, w, c } = imageFolderShape(cfg.image_size, cfg.channels);
      if (!cfg.root) return undefined;
      const classNames = imageFolderClassesSync(expandRoot(cfg.root, opts.cwd));
      if (!classNames) return undefined;
      return { height: h, width: w, channels: c, classes: classNames.length, classNames, maxValue: 255 };
    }
    default:
      throw unknownName(cfg.name);
  }
}

/** A problem `loadDataset` or the first epoch would hit, found without reading data; `key` is the dataset key to blame. */
export interface DatasetProblem {
  key: string;
  message: string;
}

/** Number of training examples, when known without reading data (after `train_limit`). */
export function staticTrainSize(cfg: DatasetConfig, opts: { cwd?: string } = {}): number | undefined {
  let n: number | undefined;
  switch (cfg.name) {
    case 'cifar10':
      n = 50000;
      break;
    case 'mnist':
    case 'fashion-mnist':
      n = 60000;
      break;
    case 'digits':
      n = (cfg.test_fraction ?? 0.2) === 0.2 ? 1438 : undefined;
      break;
    case 'synthetic':
      n = cfg.train_size ?? SYNTHETIC_DEFAULTS.train_size;
      break;
    case 'image-folder': {
      if (!cfg.root) return undefined;
      const scan = scanImageFolderSync(expandRoot(cfg.root, opts.cwd), cfg.test_fraction);
      n = 'error' in scan ? undefined : scan.train.length;
      break;
    }
  }
  return n !== undefined && cfg.train_limit != null ? Math.min(n, cfg.train_limit) : n;
}

/**
 * Every problem with a dataset config that is knowable from the config and the file system, before loading: the
 * same checks `tudui validate` reports and `loadDataset` would otherwise throw for. Never throws.
 */
export function checkDataset(cfg: DatasetConfig, opts: { cwd?: string } = {}): DatasetProblem[] {
  const cwd = opts.cwd ?? process.cwd();
  const out: DatasetProblem[] = [];
  const catching = (key: string, f: () => void) => {
    try {
      f();
    } catch (e) {
      out.push({ key, message: (e as Error).message.replace(/^dataset\.\w+ /, '') });
    }
  };
  const download = cfg.download ?? true;
  switch (cfg.name) {
    case 'synthetic':
      catching('shape', () => syntheticInfo(cfg.shape, SYNTHETIC_DEFAULTS.classes));
      catching('classes', () => syntheticInfo(SYNTHETIC_DEFAULTS.shape, cfg.classes));
      break;
    case 'image-folder': {
      catching('image_size', () => imageFolderShape(cfg.image_size, cfg.channels));
      if (!cfg.root) {
        out.push({ key: 'root', message: 'dataset.root is required for image-folder (a directory with train/<class>/ and test/<class>/)' });
        break;
      }
      const scan = scanImageFolderSync(expandRoot(cfg.root, cwd), cfg.test_fraction);
      if ('error' in scan) out.push({ key: 'root', message: scan.error });
      break;
    }
    case 'cifar10': {
      const m = cifar10Missing(resolveRoot(cfg, cwd), download);
      if (m) out.push({ key: cfg.root ? 'root' : 'download', message: m });
      break;
    }
    case 'mnist':
    case 'fashion-mnist': {
      const m = idxMissing(cfg.name, resolveRoot(cfg, cwd), download);
      if (m) out.push({ key: cfg.root ? 'root' : 'download', message: m });
      break;
    }
    case 'digits': {
      const root = resolveRoot(cfg, cwd);
      if (!existsSync(path.join(root, DIGITS_FILE))) {
        out.push({ key: 'root', message: `digits data not found: expected ${path.join(root, DIGITS_FILE)} (leave dataset.root unset to use the shipped copy)` });
      }
      break;
    }
  }
  if (out.length) return out;
  const n = staticTrainSize(cfg, { cwd });
  const batch = cfg.batch_size ?? 64;
  if (n !== undefined && n === 0) out.push({ key: 'train_limit', message: 'no training examples are left' });
  else if (n !== undefined && cfg.drop_last && batch > n) {
    out.push({ key: 'batch_size', message: `${batch} is larger than the ${n} training examples, and drop_last: true would leave no batch` });
  }
  return out;
}

function checkLimit(name: string, v: number | null | undefined): number | undefined {
  if (v == null) return undefined;
  if (!(Number.isInteger(v) && v >= 0)) throw new UserError(`dataset.${name} must be a non-negative integer or null, got ${v}`);
  return v;
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
  const trainLimit = checkLimit('train_limit', cfg.train_limit);
  const testLimit = checkLimit('test_limit', cfg.test_limit);
  const download = cfg.download ?? true;
  let ds: LoadedDataset;
  switch (cfg.name) {
    case 'cifar10':
      ds = await loadCifar10(resolveRoot(cfg, cwd), download, opts);
      break;
    case 'mnist':
    case 'fashion-mnist':
      ds = await loadIdxDataset(cfg.name, resolveRoot(cfg, cwd), download, opts);
      break;
    case 'digits':
      ds = await loadDigits(resolveRoot(cfg, cwd), cfg.test_fraction ?? 0.2);
      break;
    case 'image-folder':
      ds = await loadImageFolder(resolveRoot(cfg, cwd), cfg.image_size, cfg.channels, { train: trainLimit, test: testLimit, testFraction: cfg.test_fraction }, opts);
      break;
    case 'synthetic':
      ds = makeSynthetic(syntheticInfo(cfg.shape, cfg.classes), cfg.train_size ?? SYNTHETIC_DEFAULTS.train_size, cfg.test_size ?? SYNTHETIC_DEFAULTS.test_size, opts.seed ?? 0);
      break;
    default:
      throw unknownName(cfg.name);
  }
  ds = { ...ds, train: limit(ds.train, trainLimit, ds.info), test: limit(ds.test, testLimit, ds.info) };
  if (ds.train.count === 0) throw new UserError(`dataset ${cfg.name} (${ds.source}) has no training examples`);
  opts.log?.(
    `dataset ${cfg.name}: ${ds.train.count} train / ${ds.test.count} test, ${ds.info.height}×${ds.info.width}×${ds.info.channels}, ` +
      `${ds.info.classes} classes, from ${ds.source} (${((performance.now() - t0) / 1000).toFixed(2)} s)`,
  );
  return ds;
}

/**
 * Batch options for a split as the config says: train uses batch_size, shuffle, drop_last and augment; test uses
 * eval_batch_size, keeps file order, keeps every example and is never augmented.
 */
export function batchOptionsFor(cfg: DatasetConfig, split: 'train' | 'test', seed: number, epoch: number, startBatch = 0): BatchOptions {
  const batchSize = cfg.batch_size ?? 64;
  if (split === 'test') {
    return { batchSize: cfg.eval_batch_size ?? batchSize, shuffle: false, dropLast: false, seed, epoch, normalize: cfg.normalize ?? null, augment: null, startBatch };
  }
  return {
    batchSize, shuffle: cfg.shuffle ?? true, dropLast: cfg.drop_last ?? false, seed, epoch,
    normalize: cfg.normalize ?? null, augment: cfg.augment ?? null, startBatch,
  };
}
