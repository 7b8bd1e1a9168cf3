import { existsSync } from 'node:fs';
import path from 'node:path';
import { pick } from '../../registry.js';
import { DIGITS_DEFAULT_ROOT, DIGITS_FILE, DIGITS_INFO, loadDigits } from '../digits.js';
import type { DatasetKind } from './kind.js';
import { DATASET_OPTIONS } from './options.js';
import { expandRoot } from './roots.js';

export const digits: DatasetKind = {
  name: 'digits',
  description: 'UCI handwritten digits, shipped with tudui: 8×8×1, 10 classes, 1,797 examples split by test_fraction.',
  options: pick(DATASET_OPTIONS, ['test_fraction']),
  info: () => DIGITS_INFO,
  // 1438 is the size of the fixed-seed split at the default fraction; other fractions are known after loading
  trainSize: (c) => (c.test_fraction === DATASET_OPTIONS.test_fraction.default ? 1438 : undefined),
  root(c, cwd) {
    if (!c.root) return DIGITS_DEFAULT_ROOT;
    const r = expandRoot(c.root, cwd);
    // the conventional default spelling falls back to the shipped copy when the cwd has none
    if (!existsSync(path.join(r, DIGITS_FILE)) && path.normalize(c.root) === path.normalize('data/digits')) return DIGITS_DEFAULT_ROOT;
    return r;
  },
  problems(_c, _cwd, root) {
    const file = path.join(root(), DIGITS_FILE);
    if (existsSync(file)) return [];
    return [{ key: 'root', message: `digits data not found: expected ${file} (leave dataset.root unset to use the shipped copy)` }];
  },
  load: (c, root) => loadDigits(root, c.test_fraction!),
};
