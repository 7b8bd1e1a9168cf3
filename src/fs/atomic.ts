/**
 * Crash-safe file writes, the one scheme every layer uses (run directories, sweep directories, the data cache): write
 * under a temporary name in the same directory, fsync, rename. A killed process leaves either the old file or the new
 * one, never half of one; what it leaves is a temporary whose name carries its pid, which `removeStaleTemps` clears
 * once that pid is gone. Below src/config and src/data in the layer order: it imports nothing of the project but
 * `UserError`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';

/** Unique temporary name next to `target` (same directory, so the final rename is atomic): `.NAME.tmp-PID-HEX8`. */
export function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]{8}$/;

/** Whether a process with this pid runs on this host (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temporaries (names from `tempNameFor`) left in `dir` by a writer that was killed: only those whose process
 * is gone, so a concurrent writer's work in progress is never touched. A missing directory is fine.
 */
export function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  }
}

/** A file could not be written (disk full, read-only, no permission): a user error naming the path. */
export class WriteError extends UserError {}

/**
 * Turn ENOSPC / EACCES / EROFS into a clear user error naming the path. The hint says what to fix, not which
 * command to run next: only the caller knows whether there is a checkpoint to resume from.
 */
export function describeWriteError(e: unknown, path: string): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return new WriteError(`no space left on device while writing ${path}; earlier files are intact`, 'free some disk space');
  if (code === 'EROFS') return new WriteError(`cannot write ${path}: read-only file system`, 'choose a writable directory with --runs-dir');
  if (code === 'EACCES' || code === 'EPERM') return new WriteError(`cannot write ${path}: permission denied (${code})`, 'choose a writable directory with --runs-dir');
  if (code === 'EDQUOT') return new WriteError(`disk quota exceeded while writing ${path}; earlier files are intact`, 'free some disk space');
  return e instanceof Error ? e : new Error(String(e));
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tempNameFor(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw describeWriteError(e, path);
  }
}

/**
 * Build a directory under a temporary name with `fill`, then rename it into place. The rename is atomic, so readers
 * see a complete directory or none. `path` must not exist yet.
 */
export function writeDirAtomic(path: string, fill: (tmpDir: string) => void): void {
  const tmp = tempNameFor(path);
  try {
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    fsyncDir(tmp);
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw describeWriteError(e, path);
  }
}

/** Point a symbolic link at `target` (relative), replacing any previous link atomically. */
export function symlinkAtomic(target: string, path: string): void {
  const tmp = tempNameFor(path);
  try {
    symlinkSync(target, tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw describeWriteError(e, path);
  }
}
