/**
 * Types of the data layer (see docs/DESIGN.md, "Data contract").
 *
 * `DatasetConfig` is a structural stand-in for `ResolvedDataset` (src/config/types.ts): every field the data layer
 * reads, snake_case as in the YAML, and optional/wide enough that the resolved config type is assignable to it. The
 * data layer therefore compiles whether or not the config module exists yet.
 */
import type { ResolvedDataset } from '../config/types.js';

/** The registered datasets' names (the schema's enum, generated from src/data/registry.ts). */
export type { DatasetName } from '../config/types.js';

export interface NormalizeConfig {
  mean: readonly number[];
  std: readonly number[];
}

export interface AugmentConfig {
  random_crop?: { padding: number } | null;
  horizontal_flip?: boolean;
}

export interface DatasetConfig {
  name: string;
  root?: string | null;
  download?: boolean;
  normalize?: NormalizeConfig | null;
  batch_size?: number;
  eval_batch_size?: number;
  shuffle?: boolean;
  drop_last?: boolean;
  augment?: AugmentConfig | null;
  train_limit?: number | null;
  test_limit?: number | null;
  image_size?: readonly number[] | null;
  channels?: number | null;
  shape?: readonly number[] | null;
  classes?: number | null;
  train_size?: number | null;
  test_size?: number | null;
  test_fraction?: number | null;
  /** `{ fraction }` held out of train, or `{ from: 'files' }` the dataset's own validation files (image-folder's val/). */
  validation?: { fraction?: number; from?: 'files'; test_every_epoch?: boolean } | null;
  /** Where `root` was written (config file position): errors while loading name it. */
  loc?: { root?: { file: string; line: number; col: number } };
}

/** Compile-time check that the config layer's resolved dataset can be passed wherever a DatasetConfig is expected. */
export type ResolvedDatasetFits = ResolvedDataset extends DatasetConfig ? true : never;
const resolvedDatasetFits: ResolvedDatasetFits = true;
void resolvedDatasetFits;

export interface DatasetInfo {
  height: number;
  width: number;
  channels: number;
  classes: number;
  classNames: string[];
  /** Largest raw value: 255 for 8-bit images, 16 for digits. `ToTensor()` divides by it. */
  maxValue: number;
}

export interface ImageSplit {
  /** N*H*W*C bytes, NHWC. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** Which split this is; `batches` never augments a split marked 'test'. */
  split?: 'train' | 'test';
}

export interface LoadedDataset {
  info: DatasetInfo;
  train: ImageSplit;
  test: ImageSplit;
  /** Held out of the training split (`dataset.validation`). */
  val?: ImageSplit;
  /** Where it came from (a path, or a description for generated data). */
  source: string;
}

export interface Batch {
  /** size*H*W*C normalised float32, NHWC. */
  x: Float32Array;
  y: Int32Array;
  size: number;
  /** Batch index within the epoch (0-based). */
  index: number;
}

export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
  seed: number;
  epoch: number;
  normalize: NormalizeConfig | null | undefined;
  augment?: AugmentConfig | null;
  /** Start at this batch of the epoch (mid-epoch resume); earlier batches are skipped without being built. */
  startBatch?: number;
}

/** A file on the network with its published md5. */
export interface RemoteFile {
  url: string;
  md5: string;
}

export interface LoadOptions {
  /** Relative `root`s resolve against this (default process.cwd()). */
  cwd?: string;
  log?: (line: string) => void;
  /** Data-generation seed for `synthetic` (default 0). Not used for the digits split (see digits.ts). */
  seed?: number;
  /** Override download locations and checksums (tests, mirrors). Keys: 'cifar10', or '<dataset>/<file>.gz'. */
  remote?: Record<string, RemoteFile>;
  /** Max concurrent image decodes for image-folder (default 8). */
  concurrency?: number;
  /** Stop loading when aborted (Ctrl-C): image-folder decoding stops after the images in flight. */
  signal?: AbortSignal;
}
