/**
 * One dataset, as the registry knows it: the options it uses, its static facts, its pre-load checks and its
 * loader. Everything reads a config with the dataset's defaults filled in (`Filled`). No tfjs.
 */
import type { Kind, OptionProblem } from '../../registry.js';
import type { DatasetConfig, DatasetInfo, LoadedDataset, LoadOptions } from '../types.js';

/** A config with every option the dataset uses set (given, else its default; options without one may be absent). */
export type Filled = DatasetConfig;

/** A problem `loadDataset` or the first epoch would hit, found without reading data; `key` is the dataset key to blame. */
export type DatasetProblem = OptionProblem;

export interface DatasetKind extends Kind {
  /** Static facts without loading (no I/O except image-folder listing its class directories); undefined when unknown. */
  info(c: Filled, cwd: string): DatasetInfo | undefined;
  /** Training examples before `train_limit`, when known without reading data. */
  trainSize(c: Filled, cwd: string): number | undefined;
  /** Training examples per class after `train_limit`, when known without reading data (exact batch-size checks). */
  trainClassCounts?(c: Filled, cwd: string): number[] | undefined;
  /** What loading would fail on, found from the config and the file system (files present, structure); `root()` as `load` gets it. */
  problems(c: Filled, cwd: string, root: () => string): DatasetProblem[];
  /** Where the dataset's own validation files are, in words (image-folder: root/val/<class>/); absent: `validation: { from: files }` is refused. */
  validationFiles?: string;
  /** Legal but suspicious settings, found like `problems` (they never block). */
  warnings?(c: Filled, cwd: string): DatasetProblem[];
  /** The absolute directory the files are read from (default: `root`, else `data/<name>` under cwd). */
  root?(c: Filled, cwd: string): string;
  load(c: Filled, root: string, opts: LoadOptions & { cwd: string }): Promise<LoadedDataset>;
}
