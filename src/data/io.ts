/**
 * File helpers for the data layer: gzip-or-raw reads, md5, verified downloads and a small streaming tar reader.
 *
 * Cache hygiene: every download goes to a temporary name in the destination directory and is renamed into place only
 * after its md5 matched (and, for archives, after extraction into a temporary directory succeeded), so an interrupted
 * or corrupt download never leaves something that looks like data.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { UserError } from '../errors.js';
import { removeStaleTemps, tempNameFor } from '../fs/atomic.js';
import type { RemoteFile } from './types.js';

export function md5(buf: Uint8Array): string {
  return createHash('md5').update(buf).digest('hex');
}

export async function md5File(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Read a file, transparently gunzipping it when it starts with the gzip magic. Errors name the file. */
export async function readMaybeGzip(file: string): Promise<Buffer> {
  return maybeGunzip(file, await readNamed(file));
}

export async function readNamed(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

export function maybeGunzip(file: string, buf: Buffer): Buffer {
  if (!isGzip(buf)) return buf;
  try {
    return gunzipSync(buf);
  } catch (e) {
    throw new UserError(`${file} is not a valid gzip file (${(e as Error).message}); it may be truncated: delete it and download it again`);
  }
}

// Temporary names and the sweeper of a killed download's leftovers: the one atomic-write scheme (src/fs/atomic.ts).
export { removeStaleTemps, tempNameFor };

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/**
 * Download `remote.url` to `dest`, hashing while streaming; `dest` appears only if the md5 matches.
 * Network failures and checksum mismatches are UserErrors; `what` says what was being fetched.
 */
export async function downloadVerified(remote: RemoteFile, dest: string, log?: (line: string) => void): Promise<void> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  await removeStaleTemps(path.dirname(dest));
  const tmp = tempNameFor(dest);
  const hash = createHash('md5');
  let bytes = 0;
  try {
    let res: Response;
    try {
      res = await fetch(remote.url);
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw new UserError(`could not download ${remote.url}: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
    }
    if (!res.ok || !res.body) throw new UserError(`could not download ${remote.url}: HTTP ${res.status} ${res.statusText}`);
    const total = Number(res.headers.get('content-length') ?? 0);
    log?.(`downloading ${remote.url}${total ? ` (${mb(total)})` : ''}`);
    let nextReport = 25e6;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        if (bytes >= nextReport) {
          log?.(`  ${mb(bytes)}${total ? ` / ${mb(total)}` : ''}`);
          nextReport += 25e6;
        }
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), counter, createWriteStream(tmp));
    } catch (e) {
      throw new UserError(`download of ${remote.url} failed after ${mb(bytes)}: ${(e as Error).message}`);
    }
    const got = hash.digest('hex');
    if (got !== remote.md5) {
      throw new UserError(`checksum mismatch for ${remote.url}: md5 ${got}, expected ${remote.md5} (${bytes} bytes received); nothing was kept`);
    }
    await fsp.rename(tmp, dest);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

/**
 * Extract a .tar.gz (ustar / GNU / pax) into `destDir`, which must not exist yet: entries go to a temporary sibling
 * directory that is renamed to `destDir` only once the whole archive extracted. Only regular files and directories
 * are written; paths that are absolute or climb out with `..` are refused.
 */
export async function extractTarGz(archive: string, destDir: string): Promise<string[]> {
  const tmp = tempNameFor(destDir);
  await fsp.mkdir(tmp, { recursive: true });
  const written: string[] = [];
  try {
    const parser = new TarParser(async (name, type, data) => {
      const rel = safeRelative(name, archive);
      if (rel === '') return;
      const out = path.join(tmp, rel);
      if (type === 'dir') {
        await fsp.mkdir(out, { recursive: true });
      } else {
        await fsp.mkdir(path.dirname(out), { recursive: true });
        await fsp.writeFile(out, data);
        written.push(rel);
      }
    });
    try {
      for await (const chunk of createReadStream(archive).pipe(createGunzip())) await parser.push(chunk as Buffer);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`cannot extract ${archive}: ${(e as Error).message}`);
    }
    parser.end(archive);
    await fsp.rename(tmp, destDir);
    return written;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

function safeRelative(name: string, archive: string): string {
  const norm = path.posix.normalize(name.replace(/\\/g, '/')).replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (norm === '.' || norm === '') return '';
  if (norm.startsWith('/') || norm === '..' || norm.startsWith('../')) throw new UserError(`${archive}: refusing unsafe path ${JSON.stringify(name)} in archive`);
  return norm;
}

type TarEntryType = 'file' | 'dir';

/** Incremental tar parser: feed it decompressed chunks; it calls `onEntry` for each file and directory. */
class TarParser {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private longName: string | undefined;
  private paxPath: string | undefined;
  private ended = false;

  constructor(private readonly onEntry: (name: string, type: TarEntryType, data: Buffer) => Promise<void>) {}

  async push(chunk: Buffer): Promise<void> {
    if (this.ended) return;
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    for (;;) {
      if (this.ended || this.pendingLen < 512) return;
      const header = this.peek(512);
      if (header.every((b) => b === 0)) {
        this.ended = true; // end-of-archive marker (two zero blocks; one is enough to stop)
        return;
      }
      const size = parseOctal(header.subarray(124, 136));
      const padded = Math.ceil(size / 512) * 512;
      if (this.pendingLen < 512 + padded) return;
      this.take(512);
      const data = this.take(padded).subarray(0, size);
      checkHeader(header);
      const type = String.fromCharCode(header[156]!);
      let name = cstr(header.subarray(0, 100));
      if (cstr(header.subarray(257, 262)) === 'ustar') {
        const prefix = cstr(header.subarray(345, 500));
        if (prefix) name = `${prefix}/${name}`;
      }
      if (this.longName !== undefined) name = this.longName;
      if (this.paxPath !== undefined) name = this.paxPath;
      if (type === 'L') {
        this.longName = cstr(data);
        continue;
      }
      if (type === 'x') {
        this.paxPath = parsePaxPath(data) ?? this.paxPath;
        continue;
      }
      this.longName = undefined;
      this.paxPath = undefined;
      if (type === '0' || type === '\0' || type === '7') await this.onEntry(name, 'file', data);
      else if (type === '5') await this.onEntry(name, 'dir', data);
      // 'g' (global pax), links, devices, fifos: skipped.
    }
  }

  end(archive: string): void {
    if (!this.ended && this.pendingLen > 0) throw new UserError(`${archive} is truncated (tar stream ends inside an entry)`);
  }

  private peek(n: number): Buffer {
    if (this.pending[0]!.length < n) {
      const all = Buffer.concat(this.pending);
      this.pending = [all];
    }
    return this.pending[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingLen -= n;
    return out;
  }
}

function cstr(b: Uint8Array): string {
  const z = b.indexOf(0);
  return Buffer.from(z >= 0 ? b.subarray(0, z) : b).toString('utf8');
}

function parseOctal(b: Uint8Array): number {
  if (b[0]! & 0x80) {
    // GNU base-256 for sizes ≥ 8 GiB
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(b).trim();
  return s ? parseInt(s, 8) : 0;
}

function checkHeader(h: Uint8Array): void {
  const stored = parseOctal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (sum !== stored) throw new Error('bad tar header checksum');
}

function parsePaxPath(data: Buffer): string | undefined {
  // records: "<len> <key>=<value>\n", len counts bytes of the whole record
  let off = 0;
  let found: string | undefined;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(data.subarray(off, sp).toString('latin1'), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(sp + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') found = rec.slice(eq + 1);
    off += len;
  }
  return found;
}

/** First of `candidates` that exists, or undefined. */
export function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((c) => existsSync(c));
}
