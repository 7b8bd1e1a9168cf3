/** Per-run directories: runs/<name>/<YYYYMMDD-HHMMSS>[-N]/, created exclusively so two runs never share one. */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeWriteError } from '../fs/atomic.js';

export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Create a fresh run directory; a numeric suffix is added when another run started in the same second. */
export function createRunDir(runsDir: string, name: string, now = new Date()): string {
  const parent = join(runsDir, name);
  for (const dir of [runsDir, parent]) {
    try {
      // One level at a time: a recursive mkdir reports ENOENT instead of EROFS on a read-only file system.
      if (dir === runsDir) mkdirSync(dirname(dir), { recursive: true });
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw describeWriteError(e, dir);
    }
  }
  const base = timestamp(now);
  for (let n = 0; ; n++) {
    const dir = join(parent, n === 0 ? base : `${base}-${n}`);
    try {
      mkdirSync(dir); // not recursive: fails with EEXIST if taken, which is what makes it exclusive
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw describeWriteError(e, dir);
    }
  }
}
