/** Where dataset files are looked for. */
import { homedir } from 'node:os';
import path from 'node:path';

/** A `root` as written → absolute path: `~` and `~/...` are the home directory, relative paths resolve against cwd. */
export function expandRoot(root: string, cwd = process.cwd()): string {
  const home = root === '~' || root.startsWith('~/') || (path.sep === '\\' && root.startsWith('~\\'));
  return path.resolve(cwd, home ? path.join(homedir(), root.slice(1)) : root);
}

/** `root` when set, else `data/<name>` under the working directory. */
export function rootOrDefault(root: string | null | undefined, name: string, cwd: string): string {
  return root ? expandRoot(root, cwd) : path.resolve(cwd, 'data', name);
}
