/** Static facts about datasets, for validation without I/O (image-folder counts class directories when present). */
import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Shape } from '../model/layer-kind.js';
import type { ResolvedDataset } from './types.js';

export interface InputInfo {
  shape: Shape;
  /** Undefined when unknown without reading data (image-folder with no root/train yet). */
  classes?: number;
}

const STATIC: Record<string, InputInfo> = {
  cifar10: { shape: [32, 32, 3], classes: 10 },
  mnist: { shape: [28, 28, 1], classes: 10 },
  'fashion-mnist': { shape: [28, 28, 1], classes: 10 },
  digits: { shape: [8, 8, 1], classes: 10 },
};

export function inputInfo(ds: ResolvedDataset, cwd = process.cwd()): InputInfo {
  const s = STATIC[ds.name];
  if (s) return { shape: [...s.shape], classes: s.classes };
  if (ds.name === 'synthetic') return { shape: [...(ds.shape ?? [8, 8, 1])], classes: ds.classes ?? 4 };
  const [h, w] = ds.image_size ?? [32, 32];
  const info: InputInfo = { shape: [h, w, ds.channels ?? 3] };
  try {
    const train = resolve(cwd, ds.root, 'train');
    const n = readdirSync(train).filter((d) => !d.startsWith('.') && statSync(resolve(train, d)).isDirectory()).length;
    if (n > 0) info.classes = n;
  } catch {
    // no root/train yet: classes unknown
  }
  return info;
}
