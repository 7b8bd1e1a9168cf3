/**
 * Resolved experiment types: every default filled in and every shorthand expanded. The input types
 * (`Experiment`, `Dataset`, ...) are generated from schemas/experiment.schema.json into experiment.generated.ts.
 */
import type { Checkpoint, Dataset, Experiment, Loss, Model, Optimizer, Schedule } from './experiment.generated.js';
import type { ResolvedBlock } from './blocks.js';

export type { Experiment } from './experiment.generated.js';

export type DatasetName = Dataset['name'];

/** Where something was written: 1-based line and column in `file`. */
export interface SourceLoc {
  file: string;
  line: number;
  col: number;
}

export interface ResolvedLayer {
  /** Canonical kind name (aliases resolved: 'dense' → 'linear'). */
  kind: string;
  /** Every option of the kind, defaults filled in (pool `stride: null` means "= pool_size"). */
  options: Record<string, unknown>;
  /** Source position of the layer entry, when it came from a file. */
  loc?: SourceLoc;
  /** `repeat: N` (N > 1): N copies with their own weights (src/config/blocks.ts). */
  repeat?: number;
}

export interface ResolvedDataset {
  name: DatasetName;
  /** As written (relative to the working directory) or the default 'data/<name>'. */
  root: string;
  download: boolean;
  normalize: { mean: number[]; std: number[] } | null;
  batch_size: number;
  eval_batch_size: number;
  shuffle: boolean;
  drop_last: boolean;
  augment: { random_crop: { padding: number } | null; horizontal_flip: boolean };
  train_limit: number | null;
  test_limit: number | null;
  /** image-folder only. */
  image_size?: [number, number];
  channels?: 1 | 3;
  /** synthetic only. */
  shape?: [number, number, number];
  classes?: number;
  train_size?: number;
  test_size?: number;
  /** Held out of the training split (`fraction`) or the dataset's own files (`from: files`); absent: none. */
  validation?: { fraction: number; from?: never; test_every_epoch?: boolean } | { from: 'files'; fraction?: never; test_every_epoch?: boolean } | null;
  /** digits only. */
  test_fraction?: number;
  /**
   * Where options were written, when they came from a file (not from --set): data errors name `root`'s place.
   * Not enumerable, so copies, hashes, comparisons and the emitted YAML never see it (it is not configuration).
   */
  readonly loc?: { root?: SourceLoc };
}

export type ResolvedLoss = { name: 'cross_entropy'; label_smoothing: number } | { name: 'mse' };
export type ResolvedOptimizer = Required<Optimizer>;
export type ResolvedSchedule = Required<Schedule>;
export type ResolvedCheckpoint = Required<Checkpoint>;

export interface ResolvedExperiment {
  name: string;
  description?: string;
  seed: number;
  device: NonNullable<Experiment['device']>;
  dataset: ResolvedDataset;
  /** `layers` as written, resolved: block uses as { kind: block name, options: its params }, residuals as
   *  { kind: 'residual', options: { shortcut, layers } }; `blocks` only when given (see src/config/blocks.ts). */
  model: { init: NonNullable<Model['init']>; blocks?: Record<string, ResolvedBlock>; layers: ResolvedLayer[] };
  loss: ResolvedLoss;
  optimizer: ResolvedOptimizer;
  schedule: ResolvedSchedule;
  epochs: number;
  log: { train_loss_every: number };
  checkpoint: ResolvedCheckpoint;
  /** Absent: train every epoch. */
  early_stopping?: { monitor: 'val_loss' | 'val_accuracy' | 'test_loss' | 'test_accuracy' | 'train_loss'; patience: number; min_delta: number };
  on_nan: NonNullable<Experiment['on_nan']>;
  on_nan_patience: number;
  /** key path → values (cross product; a `members` key is a list of override maps, one more axis), or a list of members. */
  sweep: SweepSpec | null;
}

/** One problem with an experiment, located in its file or in the `--set` argument that caused it. */
export interface ConfigError {
  file: string;
  line?: number;
  col?: number;
  /** Key path, e.g. 'model.layers[3].conv2d.filters'; '' for the whole document. */
  path: string;
  message: string;
  /** Set when the error comes from an override: the argument as given, e.g. 'optimizer.lr=-1'. */
  override?: string;
  /** A warning: legal but almost certainly not what was meant; never makes a file invalid. */
  warning?: boolean;
}

export type { Loss };

/** The `sweep:` block as written (see ResolvedExperiment.sweep). */
export type SweepSpec = Record<string, unknown[]> | Array<Record<string, unknown>>;
