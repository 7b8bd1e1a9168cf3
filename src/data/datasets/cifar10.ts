import { pick } from '../../registry.js';
import { CIFAR10_INFO, cifar10Missing, loadCifar10 } from '../cifar10.js';
import type { DatasetKind } from './kind.js';
import { DATASET_OPTIONS } from './options.js';

export const cifar10: DatasetKind = {
  name: 'cifar10',
  description: 'CIFAR-10, the official binary version: 32×32×3, 10 classes, 50,000 train / 10,000 test (downloaded when missing).',
  options: pick(DATASET_OPTIONS, ['download']),
  info: () => CIFAR10_INFO,
  trainSize: () => 50000,
  problems(c, _cwd, root) {
    const m = cifar10Missing(root(), c.download!);
    return m ? [{ key: c.root ? 'root' : 'download', message: m }] : [];
  },
  load: (c, root, opts) => loadCifar10(root, c.download!, opts),
};
