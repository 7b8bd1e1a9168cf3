/**
 * From command-line patterns to experiment files, shared by `tudui validate` and `tudui sweep`: a file, a directory
 * (its *.yaml / *.yml, sorted) or a glob (relative or absolute), in pattern order, without duplicates.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import fg from 'fast-glob';

/** A glob pattern as fast-glob wants it: forward slashes; an absolute pattern keeps its wildcards. */
function globPattern(pattern: string): string {
  if (process.platform !== 'win32') return pattern;
  // On Windows only the separators change; convertPathToPattern would escape the wildcards too.
  return pattern.replace(/\\/g, '/');
}

export interface FoundFile {
  /** Absolute path. */
  abs: string;
  /** As shown in messages: relative to cwd when inside it, else absolute. */
  shown: string;
}

/** Experiment files for the patterns. Errors are one line each: `PATTERN: error: ...`. */
export function expandFilePatterns(patterns: string[], cwd: string): { files: FoundFile[]; errors: string[]; order: Array<FoundFile | { error: string }> } {
  const files: FoundFile[] = [];
  const errors: string[] = [];
  const order: Array<FoundFile | { error: string }> = [];
  const fail = (e: string) => {
    errors.push(e);
    order.push({ error: e });
  };
  const seen = new Set<string>();
  const add = (f: string, shown?: string) => {
    const abs = resolve(cwd, f);
    if (seen.has(abs)) return;
    seen.add(abs);
    const found = { abs, shown: shown ?? displayPath(abs, cwd) };
    files.push(found);
    order.push(found);
  };
  for (const pattern of patterns) {
    const abs = resolve(cwd, pattern);
    const exists = existsSync(abs);
    if (exists && statSync(abs).isDirectory()) {
      const found = fg.sync(['*.yaml', '*.yml'], { cwd: abs, absolute: true, onlyFiles: true }).sort();
      if (found.length === 0) fail(`${pattern}: error: the directory holds no *.yaml or *.yml experiment files`);
      found.forEach((f) => add(f));
    } else if (exists) {
      add(abs, pattern);
    } else if (!fg.isDynamicPattern(pattern)) {
      fail(`${pattern}: error: no such file`);
    } else {
      const found = fg.sync(globPattern(pattern), { cwd, absolute: true, onlyFiles: true }).sort();
      if (found.length === 0) fail(`${pattern}: error: no experiment files match this pattern`);
      found.forEach((f) => add(f));
    }
  }
  return { files, errors, order };
}

export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}
