import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/index.js';
import { CIFAR_TRAIN_LABELS, cifarTarGz, idxFiles, md5, pixel, rejects, tarGz, tempDir } from './helpers/dataset-files.js';

let server: Server;
let base = '';
const served: Record<string, Buffer> = {};
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const body = served[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});


describe('cifar10 download', () => {
  it('downloads, checks the md5, extracts into root and then loads; a second load does not download', async () => {
    const tgz = cifarTarGz();
    served['/cifar-10-binary.tar.gz'] = tgz;
    const root = path.join(tempDir(), 'cache', 'cifar10');
    const remote = { cifar10: { url: `${base}/cifar-10-binary.tar.gz`, md5: md5(tgz) } };
    const logs: string[] = [];
    const ds = await loadDataset({ name: 'cifar10', root, download: true }, { remote, log: (l) => logs.push(l) });
    expect(ds.train.count).toBe(15);
    expect([...ds.train.labels]).toEqual(CIFAR_TRAIN_LABELS);
    expect(ds.train.images[9 * 3072 + (4 * 32 + 5) * 3 + 2]).toBe(pixel(9, 4, 5, 2));
    expect(readdirSync(root)).toEqual(['cifar-10-batches-bin']);
    expect(readdirSync(path.join(root, 'cifar-10-batches-bin')).sort()).toEqual([
      'batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin',
    ]);
    expect(logs.some((l) => l.startsWith('downloading '))).toBe(true);
    const before = hits.length;
    await loadDataset({ name: 'cifar10', root, download: true }, { remote });
    expect(hits.length).toBe(before);
  });

  it('an md5 mismatch is a UserError and leaves nothing behind', async () => {
    served['/bad.tar.gz'] = cifarTarGz();
    const root = tempDir();
    const remote = { cifar10: { url: `${base}/bad.tar.gz`, md5: '0123456789abcdef0123456789abcdef' } };
    const e = await rejects(loadDataset({ name: 'cifar10', root, download: true }, { remote }));
    expect(e.message).toMatch(/checksum mismatch/);
    expect(e.message).toContain(`${base}/bad.tar.gz`);
    expect(e.message).toContain(`extract it into ${root}`);
    expect(readdirSync(root)).toEqual([]);
  });

  it('a corrupt archive (right md5, truncated tar) is a UserError and leaves nothing behind', async () => {
    const tgz = tarGz([['cifar-10-batches-bin/data_batch_1.bin', Buffer.alloc(3073 * 2)]]);
    // cut the gzip stream short
    const cut = tgz.subarray(0, Math.floor(tgz.length / 2));
    served['/cut.tar.gz'] = cut;
    const root = tempDir();
    const remote = { cifar10: { url: `${base}/cut.tar.gz`, md5: md5(cut) } };
    const e = await rejects(loadDataset({ name: 'cifar10', root, download: true }, { remote }));
    expect(e.message).toMatch(/download failed/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('an archive without the expected files says so', async () => {
    const tgz = tarGz([['something/else.txt', Buffer.from('hi')]]);
    served['/other.tar.gz'] = tgz;
    const root = tempDir();
    const remote = { cifar10: { url: `${base}/other.tar.gz`, md5: md5(tgz) } };
    const e = await rejects(loadDataset({ name: 'cifar10', root, download: true }, { remote }));
    expect(e.message).toMatch(/did not contain the expected files/);
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('HTTP errors and unreachable hosts are UserErrors with the URL and the manual route', async () => {
    const root = tempDir();
    let e = await rejects(loadDataset({ name: 'cifar10', root, download: true }, { remote: { cifar10: { url: `${base}/missing.tar.gz`, md5: 'x' } } }));
    expect(e.message).toContain(`${base}/missing.tar.gz`);
    expect(e.message).toContain('HTTP 404');
    expect(e.message).toContain('data_batch_1.bin');
    expect(e.message).toContain('download ');
    e = await rejects(loadDataset({ name: 'cifar10', root, download: true }, { remote: { cifar10: { url: 'http://127.0.0.1:1/c.tar.gz', md5: 'x' } } }));
    expect(e.message).toContain('http://127.0.0.1:1/c.tar.gz');
    expect(e.message).toContain(`extract it into ${root}`);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('mnist download', () => {
  it('downloads the four .gz files with md5 checks and reads them', async () => {
    const files = idxFiles(6, 3, { train: true, test: true });
    const remote: Record<string, { url: string; md5: string }> = {};
    for (const [name, data] of Object.entries(files)) {
      served[`/mnist/${name}`] = data;
      remote[`mnist/${name}`] = { url: `${base}/mnist/${name}`, md5: md5(data) };
    }
    const root = tempDir();
    const ds = await loadDataset({ name: 'mnist', root, download: true }, { remote });
    expect(ds.train.count).toBe(6);
    expect(ds.test.count).toBe(3);
    expect(readdirSync(root).sort()).toEqual(Object.keys(files).sort());
  });

  it('a checksum mismatch on one file keeps nothing of that file', async () => {
    const files = idxFiles(6, 3, { train: true, test: true });
    const remote: Record<string, { url: string; md5: string }> = {};
    for (const [name, data] of Object.entries(files)) {
      served[`/m2/${name}`] = data;
      remote[`mnist/${name}`] = { url: `${base}/m2/${name}`, md5: name.startsWith('t10k-images') ? 'ffffffffffffffffffffffffffffffff' : md5(data) };
    }
    const root = tempDir();
    const e = await rejects(loadDataset({ name: 'mnist', root, download: true }, { remote }));
    expect(e.message).toMatch(/checksum mismatch for .*t10k-images-idx3-ubyte\.gz/);
    expect(existsSync(path.join(root, 't10k-images-idx3-ubyte.gz'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('stale temporaries', () => {
  it('are removed before a new download when their process is gone', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const tgz = cifarTarGz();
    served['/again.tar.gz'] = tgz;
    const root = tempDir();
    mkdirSync(path.join(root, '.cifar-10-extract.tmp-999999999-0badc0de'));
    writeFileSync(path.join(root, '.cifar-10-binary.tar.gz.tmp-999999999-deadbeef'), 'partial');
    await loadDataset({ name: 'cifar10', root, download: true }, { remote: { cifar10: { url: `${base}/again.tar.gz`, md5: md5(tgz) } } });
    expect(readdirSync(root)).toEqual(['cifar-10-batches-bin']);
  });
});
