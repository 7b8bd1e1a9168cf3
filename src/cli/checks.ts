/** Checks of command-line arguments that must fail before anything heavy starts (one line each, UserError). */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** `--runs-dir` (or another output parent) must be a directory or creatable as one: no file in the way. */
export function checkOutputDir(dir: string | undefined, option: string, cwd = process.cwd()): void {
  if (dir === undefined) return;
  let p = resolve(cwd, dir);
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        const up = dirname(p);
        if (up === p) return;
        p = up;
        continue;
      }
      if (code === 'ENOTDIR') {
        const up = dirname(p);
        if (up === p) return;
        p = up;
        continue;
      }
      throw new UserError(`${option} ${dir}: ${(e as Error).message}`);
    }
    if (st.isDirectory()) return;
    const what = p === resolve(cwd, dir) ? 'is a file, not a directory' : `cannot be created: ${p} is a file, not a directory`;
    throw new UserError(`${option} ${dir}: ${what}`);
  }
}

/**
 * Before `tudui run` loads anything heavy: print the file's warnings, and refuse a file with a `sweep:` grid (run
 * would train the base config only).
 */
export async function preflight(file: string, overrides: string[], warn: (line: string) => void): Promise<void> {
  const { loadExperiment, formatError } = await import('../config/index.js');
  const { expandSweep } = await import('../sweep/grid.js');
  const loaded = loadExperiment(file, { overrides });
  if (loaded.errors.length) return; // invalid files are reported by the run itself
  for (const w of loaded.warnings ?? []) warn(formatError(w));
  if (!loaded.experiment.sweep) return;
  const n = expandSweep(loaded.experiment).length;
  throw new UserError(
    `${file} defines a sweep: grid of ${n} member${n === 1 ? '' : 's'}, and tudui run trains one configuration`,
    `run the grid with 'tudui sweep ${file}', or train the base configuration with --set sweep=null`,
  );
}
