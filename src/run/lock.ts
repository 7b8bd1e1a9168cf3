/**
 * One writer per run directory (and per sweep directory): `tudui.lock` names the process that holds it (pid, host,
 * start time, command). It is created exclusively, removed when the writer ends (also on process.exit), refused
 * to a second writer with the holder's name, and taken over with a warning when stale (its pid is dead on this host).
 */
import { closeSync, linkSync, openSync, readFileSync, rmSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { describeWriteError, tempNameFor } from '../fs/atomic.js';
import { describeHolder, isStale, LOCK_FILE, readLock, type LockInfo } from './layout.js';

export interface Lock {
  readonly path: string;
  release(): void;
}

const held = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process.exit (second Ctrl-C) skips `finally` blocks: still free what we hold.
  process.on('exit', () => {
    for (const p of held) releasePath(p);
  });
}

function releasePath(path: string): void {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    if (info.pid === process.pid && info.host === hostname()) unlinkSync(path);
  } catch {
    // already gone
  }
  held.delete(path);
}

/** Take the lock of `dir` or throw a UserError naming its holder. `what` names the directory in messages. */
export function acquireLock(dir: string, opts: { what?: string; command?: string; warn?: (line: string) => void } = {}): Lock {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), command: opts.command ?? process.argv.slice(2).join(' ') };
  const tmp = tempNameFor(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(info) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw describeWriteError(e, path);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path); // atomic and exclusive: fails with EEXIST when someone holds it
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw describeWriteError(e, path);
      }
      const holder = readLock(dir);
      if (holder && !isStale(holder)) {
        throw new UserError(
          `${opts.what ?? dir} is in use by ${describeHolder(holder)}`,
          `wait for it to finish or stop it; if that process is gone, delete ${path}`,
        );
      }
      if (attempt > 2) throw new UserError(`cannot take the lock ${path}: it keeps changing`);
      // Stale (or unreadable: a writer killed between create and write): take it over, unless it changed meanwhile.
      if (JSON.stringify(readLock(dir)) !== JSON.stringify(holder)) continue;
      opts.warn?.(`warning: taking over the stale lock of ${opts.what ?? dir}${holder ? ` (held by ${describeHolder(holder)}, no longer running)` : ''}`);
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  held.add(path);
  installExitHook();
  return {
    path,
    release: () => releasePath(path),
  };
}
