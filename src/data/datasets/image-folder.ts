import { UserError } from '../../errors.js';
import { pick } from '../../registry.js';
import { imageFolderClassesSync, loadImageFolder, scanImageFolderSync, stratifiedLimit, unreadValidationDir } from '../image-folder.js';
import type { DatasetKind } from './kind.js';
import { DATASET_OPTIONS } from './options.js';
import { expandRoot } from './roots.js';
import { validationSource } from '../validation.js';

const NEEDS_ROOT = 'dataset.root is required for image-folder (a directory with train/<class>/ and test/<class>/)';

export const imageFolder: DatasetKind = {
  name: 'image-folder',
  description: 'Images in root/train/<class>/ and root/test/<class>/ (png, jpeg), resized to image_size; classes from the directory names; validation: { from: files } reads root/val/<class>/.',
  // test_fraction has no default here: without it, root/test is the test split
  options: pick(DATASET_OPTIONS, ['image_size', 'channels', 'test_fraction'], { test_fraction: undefined }),
  validationFiles: 'root/val/<class>/ (or valid/, validation/)',
  info(c, cwd) {
    if (!c.root) return undefined;
    const classNames = imageFolderClassesSync(expandRoot(c.root, cwd));
    if (!classNames) return undefined;
    const [h, w] = c.image_size!;
    return { height: h!, width: w!, channels: c.channels!, classes: classNames.length, classNames, maxValue: 255 };
  },
  trainSize(c, cwd) {
    if (!c.root) return undefined;
    const scan = scanImageFolderSync(expandRoot(c.root, cwd), c.test_fraction, validationSource(c));
    return 'error' in scan ? undefined : scan.train.length;
  },
  trainClassCounts(c, cwd) {
    if (!c.root) return undefined;
    const scan = scanImageFolderSync(expandRoot(c.root, cwd), c.test_fraction, validationSource(c));
    if ('error' in scan) return undefined;
    const counts = scan.classNames.map(() => 0);
    for (const f of stratifiedLimit(scan.train, c.train_limit)) counts[f.label]!++;
    return counts;
  },
  warnings(c, cwd) {
    const dir = !c.validation && c.root ? unreadValidationDir(expandRoot(c.root, cwd)) : undefined;
    return dir ? [{ key: 'validation', message: `${dir} is not read: dataset.validation is not set (validation: { from: files } validates on it; unset, the test split decides every epoch)` }] : [];
  },
  root(c, cwd) {
    if (!c.root) throw new UserError(NEEDS_ROOT);
    return expandRoot(c.root, cwd);
  },
  problems(c, cwd) {
    if (!c.root) return [{ key: 'root', message: NEEDS_ROOT }];
    const scan = scanImageFolderSync(expandRoot(c.root, cwd), c.test_fraction, validationSource(c));
    return 'error' in scan ? [{ key: 'root', message: scan.error }] : [];
  },
  load: (c, root, opts) =>
    loadImageFolder(root, c.image_size!, c.channels!, { train: c.train_limit, test: c.test_limit, testFraction: c.test_fraction, validation: validationSource(c) }, opts),
};
