import { pick } from '../../registry.js';
import { makeSynthetic, syntheticInfo } from '../synthetic.js';
import type { DatasetKind } from './kind.js';
import { DATASET_OPTIONS } from './options.js';

export const synthetic: DatasetKind = {
  name: 'synthetic',
  description: 'Generated images with a learnable signal (src/data/synthetic.ts), from shape, classes and the sizes: tests and smoke runs without downloads.',
  options: pick(DATASET_OPTIONS, ['shape', 'classes', 'train_size', 'test_size']),
  info: (c) => syntheticInfo(c.shape!, c.classes!),
  trainSize: (c) => c.train_size!,
  problems: () => [],
  root: () => '',
  load: async (c, _root, opts) => makeSynthetic(syntheticInfo(c.shape!, c.classes!), c.train_size!, c.test_size!, opts.seed ?? 0),
};
