import { pick } from '../../registry.js';
import { FASHION_MNIST_INFO, idxMissing, loadIdxDataset, MNIST_INFO } from '../idx.js';
import type { DatasetKind } from './kind.js';
import { DATASET_OPTIONS } from './options.js';

/** MNIST and Fashion-MNIST: the same IDX files, different data. */
export function idxDataset(name: 'mnist' | 'fashion-mnist', description: string): DatasetKind {
  const info = name === 'mnist' ? MNIST_INFO : FASHION_MNIST_INFO;
  return {
    name,
    description,
    options: pick(DATASET_OPTIONS, ['download']),
    info: () => info,
    trainSize: () => 60000,
    problems(c, _cwd, root) {
      const m = idxMissing(name, root(), c.download!);
      return m ? [{ key: c.root ? 'root' : 'download', message: m }] : [];
    },
    load: (c, root, opts) => loadIdxDataset(name, root, c.download!, opts),
  };
}

export const mnist = idxDataset('mnist', 'MNIST handwritten digits (IDX files): 28×28×1, 10 classes, 60,000 train / 10,000 test (downloaded when missing).');
