import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EventWriter,
  crc32c,
  frameRecord,
  maskCrc,
  maskedCrc32c,
  unmaskCrc,
  writeHparamsExperiment,
  writeHparamsSession,
  writeHparamsSessionEnd,
  writeHparamsSessionStart,
} from '../src/tensorboard/index.js';
import * as ref from './helpers/tfevents.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const u32le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const f64le = (x: number): number[] => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return [...b];
};
const f32le = (x: number): number[] => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [...b];
};
const u64le = (n: number): number[] => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return [...b];
};
/** A TFRecord, framed by hand with the reference CRC. */
const refFrame = (data: number[]): number[] => {
  const len = u64le(data.length);
  return [...len, ...u32le(ref.maskCrc(ref.crc32c(Uint8Array.from(len)))), ...data, ...u32le(ref.maskCrc(ref.crc32c(Uint8Array.from(data))))];
};
const lenDelim = (field: number, body: number[]): number[] => {
  if (body.length > 127) throw new Error('test helper: short fields only');
  return [(field << 3) | 2, body.length, ...body];
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tudui-tb-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('CRC32C and mask', () => {
  const vectors: Array<[string, Uint8Array, number]> = [
    ['"123456789"', ascii('123456789'), 0xe3069283],
    ['empty', new Uint8Array(0), 0],
    // RFC 3720 (iSCSI) B.4 test vectors.
    ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
    ['32 0xff bytes', new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ['0..31', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ['31..0', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ];
  for (const [name, data, want] of vectors) {
    it(`crc32c(${name}) = 0x${want.toString(16)} in the writer and in the reference`, () => {
      expect(crc32c(data)).toBe(want);
      expect(ref.crc32c(data)).toBe(want);
    });
  }

  it('masks like TensorFlow (rotate right 15, add 0xa282ead8) and unmasks', () => {
    expect(maskCrc(0)).toBe(0xa282ead8);
    expect(maskCrc(0xe3069283)).toBe(0xc78ab0e5);
    expect(ref.maskCrc(0xe3069283)).toBe(0xc78ab0e5);
    for (const c of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xe3069283, 0x12345678]) {
      expect(unmaskCrc(maskCrc(c))).toBe(c);
      expect(maskCrc(c)).toBe(ref.maskCrc(c));
    }
    expect(maskedCrc32c(ascii('123456789'))).toBe(0xc78ab0e5);
  });

  it('frames a record with the header every TensorFlow event file starts with', () => {
    // The 24-byte file_version event: masked CRC of its length is a3 7f 4b 22 in every tfevents file.
    const rec = frameRecord(new Uint8Array(24));
    expect([...rec.subarray(0, 12)]).toEqual([0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22]);
    expect([...rec]).toEqual(refFrame(new Array(24).fill(0)));
  });
});

describe('EventWriter', () => {
  it('names the file events.out.tfevents.<secs>.<host>.<pid>.<n><suffix> and creates the logdir', () => {
    const logdir = join(dir, 'a', 'b');
    const before = Math.floor(Date.now() / 1000);
    const w1 = EventWriter.open(logdir);
    const w2 = EventWriter.open(logdir, { filenameSuffix: '.v2' });
    w1.close();
    w2.close();
    const names = readdirSync(logdir).sort();
    expect(names).toHaveLength(2);
    const re = /^events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)(\.v2)?$/;
    const parsed = names.map((n) => re.exec(n));
    for (const m of parsed) {
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(before);
      expect(m![2]).toBe(hostname());
      expect(Number(m![3])).toBe(process.pid);
    }
    const counters = parsed.map((m) => Number(m![4]));
    expect(new Set(counters).size).toBe(2);
    expect(names.some((n) => n.endsWith('.v2'))).toBe(true);
  });

  it('starts with a brain.Event:2 record, on disk as soon as the writer is open', () => {
    const w = EventWriter.open(dir);
    const evs = ref.readEvents(w.path);
    expect(evs).toHaveLength(1);
    expect(evs[0]!.fileVersion).toBe('brain.Event:2');
    expect(evs[0]!.step).toBe(0);
    expect(Math.abs(evs[0]!.wallTime - Date.now() / 1000)).toBeLessThan(60);
    // Byte for byte: wall_time (0x09, double) then file_version (0x1a, string); step 0 is left out.
    const bytes = readFileSync(w.path);
    expect([...bytes]).toEqual(refFrame([0x09, ...f64le(evs[0]!.wallTime), ...lenDelim(3, [...ascii('brain.Event:2')])]));
    w.close();
  });

  it('writes a scalar record byte for byte as TensorFlow / PyTorch do', () => {
    const w = EventWriter.open(dir);
    const headerLen = readFileSync(w.path).length;
    w.scalar('loss', 0.25, 42, 1700000000.5);
    w.scalar('train/acc', 1 / 3, 300, 1700000001.25);
    w.flush();
    const body = readFileSync(w.path).subarray(headerLen);
    // Event { wall_time = 1 (0x09 fixed64 double), step = 2 (0x10 varint), summary = 5 (0x2a) }
    // Summary { value = 1 (0x0a) }, Value { tag = 1 (0x0a string), simple_value = 2 (0x15 fixed32 float) }
    const value1 = [...lenDelim(1, [...ascii('loss')]), 0x15, ...f32le(0.25)];
    const event1 = [0x09, ...f64le(1700000000.5), 0x10, 42, ...lenDelim(5, lenDelim(1, value1))];
    const value2 = [...lenDelim(1, [...ascii('train/acc')]), 0x15, ...f32le(1 / 3)];
    const event2 = [0x09, ...f64le(1700000001.25), 0x10, 0xac, 0x02, ...lenDelim(5, lenDelim(1, value2))];
    expect([...body]).toEqual([...refFrame(event1), ...refFrame(event2)]);
    // The literal bytes of the first event (computed with Python's struct, as protobuf's Python serializer lays
    // them out): wall_time | step 42 | summary(13) { value(11) { tag "loss" | simple_value 0.25f } }.
    expect(Buffer.from(event1).toString('hex')).toBe(
      '09' + '00002040fc54d941' + '102a' + '2a0d' + '0a0b' + '0a046c6f7373' + '150000803e',
    );
    w.close();
  });

  it('writes NaN and ±Infinity faithfully, int64 steps, and leaves a zero step out', () => {
    const w = EventWriter.open(dir);
    w.scalar('x', Number.NaN, 0);
    w.scalar('x', Number.POSITIVE_INFINITY, 1);
    w.scalar('x', Number.NEGATIVE_INFINITY, 2 ** 40);
    w.scalar('x', 0, 2 ** 53 - 1);
    w.scalar('x', -1.5, -7);
    w.close();
    const evs = ref.readEvents(w.path).slice(1);
    expect(evs.map((e) => e.step)).toEqual([0, 1, 2 ** 40, 2 ** 53 - 1, -7]);
    const vals = evs.map((e) => e.values[0]!.simpleValue);
    expect(vals[0]).toBeNaN();
    expect(vals.slice(1)).toEqual([Infinity, -Infinity, 0, -1.5]);
    // simple_value 0 is in a oneof: still written (0x15 00 00 00 00).
    expect(evs[3]!.values[0]!.simpleValue).toBe(0);
    expect(() => w.scalar('x', 1, 3)).toThrow(/closed/);
  });

  it('rejects a non-integer step (a bug in the caller)', () => {
    const w = EventWriter.open(dir);
    expect(() => w.scalar('x', 1, 1.5)).toThrow(/step/);
    expect(() => w.scalar('x', 1, Number.NaN)).toThrow(/step/);
    w.close();
  });

  it('writes text summaries for the text plugin', () => {
    const w = EventWriter.open(dir);
    const text = '# config\n\n```yaml\nname: ünïcode ✓\n```';
    w.text('config', text, 0, 1700000000);
    w.text('backend', 'wasm', 3);
    w.close();
    const evs = ref.readEvents(w.path).slice(1);
    expect(evs).toHaveLength(2);
    const v = evs[0]!.values[0]!;
    expect(v.tag).toBe('config');
    expect(v.pluginName).toBe('text');
    expect(v.content).toEqual(new Uint8Array(0));
    expect(v.dataClass).toBe(2); // DATA_CLASS_TENSOR
    expect(v.simpleValue).toBeUndefined();
    expect(v.tensor!.dtype).toBe(7); // DT_STRING
    expect(v.tensor!.shape).toEqual([]);
    expect(v.tensor!.stringVal.map((b) => new TextDecoder().decode(b))).toEqual([text]);
    expect(evs[0]!.wallTime).toBe(1700000000);
    expect(evs[1]!.step).toBe(3);
    expect(new TextDecoder().decode(evs[1]!.values[0]!.tensor!.stringVal[0])).toBe('wasm');
  });

  it('buffers until flush(), then the data is on disk; the queue limit writes through', () => {
    const w = EventWriter.open(dir, { maxQueue: 100, flushSecs: 0 });
    const size0 = readFileSync(w.path).length;
    w.scalar('a', 1, 1);
    expect(readFileSync(w.path).length).toBe(size0);
    w.flush();
    expect(ref.readEvents(w.path)).toHaveLength(2);
    w.close();

    const wt = EventWriter.open(dir, { maxQueue: 1 });
    wt.scalar('a', 1, 1);
    expect(ref.readEvents(wt.path)).toHaveLength(2);
    wt.close();
    wt.close(); // idempotent
  });

  it('detects a corrupted byte in the data or in the length (independent decoder)', () => {
    const w = EventWriter.open(dir);
    for (let s = 1; s <= 5; s++) w.scalar('loss', 1 / s, s);
    w.close();
    const good = readFileSync(w.path);
    expect(ref.readEvents(w.path)).toHaveLength(6);
    const bad = join(dir, 'corrupt');
    // A byte inside the last record's data.
    const b1 = Buffer.from(good);
    b1[b1.length - 6]! ^= 0x01;
    writeFileSync(bad, b1);
    expect(() => ref.readEvents(bad)).toThrow(/data CRC mismatch/);
    // A byte of the second record's length.
    const firstLen = Number(good.readBigUInt64LE(0));
    const b2 = Buffer.from(good);
    b2[12 + firstLen + 4]! ^= 0x01;
    writeFileSync(bad, b2);
    expect(() => ref.readEvents(bad)).toThrow(/length CRC mismatch/);
    // A flipped bit in a stored CRC.
    const b3 = Buffer.from(good);
    b3[b3.length - 1]! ^= 0x80;
    writeFileSync(bad, b3);
    expect(() => ref.readEvents(bad)).toThrow(ref.RecordError);
    // Truncation.
    writeFileSync(bad, good.subarray(0, good.length - 3));
    expect(() => ref.readEvents(bad)).toThrow(/truncated/);
  });

  it('names a new file so that it sorts after every event file already there (a live TensorBoard only reads forward)', () => {
    const logdir = join(dir, 'order');
    mkdirSync(logdir, { recursive: true });
    const secs = Math.floor(Date.now() / 1000);
    // another process's file of this second whose pid sorts after ours, and one from a clock ahead of ours
    const other = `events.out.tfevents.${secs}.${hostname()}.99999999.0`;
    writeFileSync(join(logdir, other), '');
    const w1 = EventWriter.open(logdir);
    w1.close();
    expect(basename(w1.path) > other).toBe(true);
    const ahead = `events.out.tfevents.${secs + 5}.zz-host.1.0`;
    writeFileSync(join(logdir, ahead), '');
    const w2 = EventWriter.open(logdir);
    w2.close();
    expect(basename(w2.path) > ahead).toBe(true);
    expect(readdirSync(logdir).sort().at(-1)).toBe(basename(w2.path));
    // in a fresh directory the name is the plain one: this second, this host and pid
    const w3 = EventWriter.open(join(dir, 'order-fresh'));
    w3.close();
    expect(Number(/^events\.out\.tfevents\.(\d+)\./.exec(basename(w3.path))![1])).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('a resumed run writes a second file in the same logdir; readScalars merges them', () => {
    const w1 = EventWriter.open(dir);
    for (let s = 1; s <= 3; s++) w1.scalar('loss', s * 0.5, s);
    w1.scalar('acc', 0.75, 3);
    w1.close();
    const w2 = EventWriter.open(dir);
    for (let s = 4; s <= 5; s++) w2.scalar('loss', s * 0.5, s);
    w2.close();
    expect(ref.eventFiles(dir)).toHaveLength(2);
    const scalars = ref.readScalars(dir);
    expect(scalars.get('loss')!.map((p) => [p.step, p.value])).toEqual([
      [1, 0.5],
      [2, 1],
      [3, 1.5],
      [4, 2],
      [5, 2.5],
    ]);
    expect(scalars.get('acc')!.map((p) => [p.step, p.value])).toEqual([[3, 0.75]]);
  });
});

describe('hparams plugin records', () => {
  it('writes experiment, session start/end as TensorBoard expects', () => {
    const w = EventWriter.open(dir);
    writeHparamsExperiment(w, {
      hparams: [
        { name: 'optimizer.lr', domain: [0.1, 0.01] },
        { name: 'optimizer.name', type: 'string', domain: ['sgd', 'adam'] },
        { name: 'dataset.shuffle', type: 'bool' },
        { name: 'dropout', domain: { min: 0, max: 0.5 } },
      ],
      metrics: ['test_accuracy', { tag: 'test_loss', group: 'eval' }],
    });
    writeHparamsSession(w, {
      hparams: { 'optimizer.lr': 0.01, 'optimizer.name': 'adam', 'dataset.shuffle': true, dropout: 0 },
      metrics: { 'hparam/best_accuracy': 0.875 },
      status: 'success',
      startTime: 1700000000,
      endTime: new Date(1700000123_500),
      groupName: 'g1',
    });
    w.close();

    const evs = ref.readEvents(w.path).slice(1);
    const values = evs.flatMap((e) => e.values);
    expect(values.map((v) => v.tag)).toEqual([
      '_hparams_/experiment',
      '_hparams_/session_start_info',
      'hparam/best_accuracy',
      '_hparams_/session_end_info',
    ]);
    const hp = values.filter((v) => v.tag.startsWith('_hparams_/'));
    for (const v of hp) {
      expect(v.pluginName).toBe('hparams');
      expect(v.dataClass).toBe(2);
      // hparams metadata.NULL_TENSOR: DT_FLOAT scalar 0.
      expect(v.tensor).toEqual({ dtype: 1, shape: [], floatVal: [0], doubleVal: [], stringVal: [] });
    }
    const [exp, start, end] = hp.map((v) => ref.decodeHparamsPluginData(v.content!));
    expect(exp!.version).toBe(0);
    expect(exp!.experiment!.hparams).toEqual([
      { name: 'optimizer.lr', type: 3, domainDiscrete: [0.1, 0.01] },
      { name: 'optimizer.name', type: 1, domainDiscrete: ['sgd', 'adam'] },
      { name: 'dataset.shuffle', type: 2 },
      { name: 'dropout', type: 0, domainInterval: { min: 0, max: 0.5 } },
    ]);
    expect(exp!.experiment!.metrics).toEqual([
      { group: '', tag: 'test_accuracy' },
      { group: 'eval', tag: 'test_loss' },
    ]);
    expect(start!.sessionStartInfo).toEqual({
      hparams: { 'optimizer.lr': 0.01, 'optimizer.name': 'adam', 'dataset.shuffle': true, dropout: 0 },
      groupName: 'g1',
      startTimeSecs: 1700000000,
      modelUri: '',
    });
    expect(end!.sessionEndInfo).toEqual({ status: 1, endTimeSecs: 1700000123.5 });
    expect(ref.readScalars(dir).get('hparam/best_accuracy')).toEqual([
      { step: 0, value: 0.875, wallTime: expect.any(Number) },
    ]);
  });

  it('encodes session records with the exact plugin-data bytes', () => {
    const w = EventWriter.open(dir);
    writeHparamsSessionStart(w, { hparams: { lr: 0.5, bs: 'x' }, startTime: 2 });
    writeHparamsSessionEnd(w, { status: 'failure', endTime: 3 });
    writeHparamsExperiment(w, { hparams: [{ name: 'p', domain: { min: 0, max: 0.5 } }], metrics: ['acc'] });
    w.close();
    const [start, end, exp] = ref.readEvents(w.path).slice(1).map((e) => e.values[0]!.content!);
    // HParamsPluginData { session_start_info (3) { hparams (1) map entries { key (1), value (2) google.protobuf.Value },
    //                     start_time_secs (5) 2.0 } }; version 0 left out; map keys sorted, as Python's
    //                     deterministic serialization orders them.
    const entryBs = [...lenDelim(1, [...ascii('bs')]), ...lenDelim(2, lenDelim(3, [...ascii('x')]))];
    const entryLr = [...lenDelim(1, [...ascii('lr')]), ...lenDelim(2, [0x11, ...f64le(0.5)])];
    const ssi = [...lenDelim(1, entryBs), ...lenDelim(1, entryLr), 0x29, ...f64le(2)];
    expect([...start!]).toEqual(lenDelim(3, ssi));
    // HParamsPluginData { session_end_info (4) { status (1) 2, end_time_secs (2) 3.0 } }
    expect([...end!]).toEqual(lenDelim(4, [0x08, 2, 0x11, ...f64le(3)]));
    // HParamsPluginData { experiment (2) { hparam_infos (4) { name (1) "p", domain_interval (6) { max_value (2) 0.5 } },
    //                     metric_infos (5) { name (1) { tag (2) "acc" } } } }: min_value 0 and type UNSET left out.
    const hinfo = [...lenDelim(1, [...ascii('p')]), ...lenDelim(6, [0x11, ...f64le(0.5)])];
    const minfo = lenDelim(1, lenDelim(2, [...ascii('acc')]));
    expect([...exp!]).toEqual(lenDelim(2, [...lenDelim(4, hinfo), ...lenDelim(5, minfo)]));
  });

  it('rejects times in milliseconds and unknown statuses', () => {
    const w = EventWriter.open(dir);
    expect(() => writeHparamsSessionStart(w, { hparams: {}, startTime: Date.now() })).toThrow(/seconds/);
    expect(() => writeHparamsSessionEnd(w, { status: 'done' as 'success', endTime: 1 })).toThrow(/status/);
    w.close();
  });
});
