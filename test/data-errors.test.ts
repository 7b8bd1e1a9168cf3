/**
 * Data errors found while loading (a corrupt image, a truncated CIFAR-10 batch) through `tudui run`: one line naming
 * the bad file and, when `dataset.root` was written in the experiment file, its FILE:LINE:COL (issue 13).
 */
import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifarFiles, tempDir, writeFiles, writeSolidImage } from './helpers/dataset-files.js';
import { tudui } from './helpers/run-dir.js';

const MODEL = `model:
  layers:
    - flatten
    - linear: 10
optimizer: { name: sgd, lr: 0.1 }
epochs: 1
`;

function run(cwd: string, extra: string[] = []) {
  return tudui(['run', 'exp.yaml', '--runs-dir', 'runs', '--device', 'cpu', ...extra], cwd, { TUDUI_CACHE_DIR: 'off' });
}

describe('data errors while loading', () => {
  it('a corrupt PNG in an image folder names the file and where dataset.root is set', async () => {
    const dir = tempDir();
    for (const c of ['a', 'b']) {
      await writeSolidImage(path.join(dir, 'imgs', 'train', c, 'x.png'), 4, 4, [1, 2, 3], 'png');
      await writeSolidImage(path.join(dir, 'imgs', 'test', c, 'y.png'), 4, 4, [1, 2, 3], 'png');
    }
    const broken = path.join(dir, 'imgs', 'train', 'b', 'broken.png');
    writeFileSync(broken, 'definitely not a png');
    writeFileSync(path.join(dir, 'exp.yaml'), `name: bad-png\ndataset:\n  name: image-folder\n  root: imgs\n  image_size: [4, 4]\n${MODEL.replace('linear: 10', 'linear: 2')}`);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tudui: error: ${path.join(dir, 'exp.yaml')}:4:9: dataset.root: cannot decode image ${broken}: `);

    // set on the command line: no file position to give, the file is still named
    const s = run(dir, ['--set', 'dataset.root=imgs']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`tudui: error: cannot decode image ${broken}: `);
  });

  it('a truncated CIFAR-10 batch names the file and where dataset.root is set', () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'cifar'), cifarFiles());
    const batch = path.join(dir, 'cifar', 'data_batch_2.bin');
    truncateSync(batch, 3073 + 10);
    writeFileSync(path.join(dir, 'exp.yaml'), `name: bad-cifar\ndataset:\n  name: cifar10\n  download: false\n  root: cifar\n${MODEL}`);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tudui: error: ${path.join(dir, 'exp.yaml')}:5:9: dataset.root: ${batch}: size 3083 bytes is not a whole number of 3073-byte CIFAR-10 records`);
  });
});
