/** `tudui predict`: the files a list of FILE|DIR arguments names, and the one-line-per-file rendering. No tfjs. */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClassScore } from './load.js';

/** Extensions picked up inside a directory (a file named explicitly is tried whatever its name). */
export const PICTURE_EXT = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;

export interface PredictTarget {
  /** As shown: the argument, or DIR/relative path. */
  file: string;
  path: string;
  /** Why it cannot be read at all (missing, unreadable directory). */
  error?: string;
}

/** Arguments → files in order: a directory contributes its pictures, recursively, sorted by path. */
export function predictTargets(args: string[], cwd = process.cwd()): PredictTarget[] {
  const out: PredictTarget[] = [];
  const walk = (dir: string, shown: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      const s = join(shown, e.name);
      if (e.isDirectory() || (e.isSymbolicLink() && isDir(p))) walk(p, s);
      else if (PICTURE_EXT.test(e.name)) out.push({ file: s, path: p });
    }
  };
  for (const a of args) {
    const p = resolve(cwd, a);
    try {
      if (statSync(p).isDirectory()) walk(p, a);
      else out.push({ file: a, path: p });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      out.push({ file: a, path: p, error: code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${(e as Error).message}` });
    }
  }
  return out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `FILE: 3 98.1%, 8 1.2%, 5 0.4%` */
export function formatPrediction(file: string, top: ClassScore[]): string {
  return `${file}: ${top.map((t) => `${t.class} ${(100 * t.probability).toFixed(1)}%`).join(', ')}`;
}
