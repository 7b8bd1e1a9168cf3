/** Static facts about datasets, for validation without I/O (image-folder counts class directories when present). */
import { datasetInfo } from '../data/index.js';
import { datasets } from '../data/registry.js';
import type { Shape } from '../model/layer-kind.js';
import type { ResolvedDataset } from './types.js';

export interface InputInfo {
  shape: Shape;
  /** Undefined when unknown without reading data (image-folder with no root/train yet). */
  classes?: number;
}

/** Shape and classes from the data module's own static facts, so the two can never disagree. */
export function inputInfo(ds: ResolvedDataset, cwd = process.cwd()): InputInfo {
  let info;
  try {
    info = datasetInfo(ds, { cwd });
  } catch {
    // an invalid dataset config: the 'dataset-files' check reports why; the shape is what the config says
    if (ds.name === 'synthetic' && ds.shape?.length === 3) return { shape: [...ds.shape] };
  }
  if (info) return { shape: [info.height, info.width, info.channels], classes: info.classes };
  // image-folder whose root/train is not there yet: the shape is known from the config, the classes are not.
  const d = { ...datasets.defaults(datasets.find(ds.name), true), ...ds } as ResolvedDataset;
  const [h, w] = d.image_size ?? [];
  return { shape: [h!, w!, d.channels!] };
}
