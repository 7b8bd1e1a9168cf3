/**
 * Independent reader for TensorBoard event files, used by tests to check the writer in src/tensorboard.
 *
 * Deliberately shares nothing with the writer: no protobufjs, no crc-32 package. It has its own CRC-32C table and a
 * minimal protobuf wire-format reader, and knows the field numbers of event.proto / summary.proto / tensor.proto /
 * hparams plugin_data.proto & api.proto / struct.proto by itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, init/xorout 0xFFFFFFFF.

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TensorFlow's masked CRC (crc32c.h: Mask). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------------
// TFRecord framing.

export class RecordError extends Error {}

/** Split a TFRecord file into its records' data, verifying both CRCs of each; throws RecordError on any defect. */
export function readRecords(buf: Uint8Array): Uint8Array[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < 12) throw new RecordError(`truncated record header at offset ${pos}`);
    const len = view.getBigUint64(pos, true);
    const lenCrc = view.getUint32(pos + 8, true);
    const wantLenCrc = maskCrc(crc32c(buf.subarray(pos, pos + 8)));
    if (lenCrc !== wantLenCrc) throw new RecordError(`length CRC mismatch at offset ${pos}`);
    const n = Number(len);
    const start = pos + 12;
    if (start + n + 4 > buf.length) throw new RecordError(`truncated record data at offset ${pos}`);
    const data = buf.subarray(start, start + n);
    const dataCrc = view.getUint32(start + n, true);
    if (dataCrc !== maskCrc(crc32c(data))) throw new RecordError(`data CRC mismatch at offset ${pos}`);
    out.push(data);
    pos = start + n + 4;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Protobuf wire format.

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;

class Wire {
  pos = 0;
  private view: DataView;
  constructor(private buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  get length(): number {
    return this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('protobuf: varint too long');
    }
  }
  tag(): { field: number; wire: number } {
    const t = Number(this.varint());
    return { field: t >>> 3, wire: t & 7 };
  }
  double(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  float(): number {
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('protobuf: truncated length-delimited field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  string(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes());
  }
  skip(wire: number): void {
    if (wire === WT_VARINT) this.varint();
    else if (wire === WT_I64) this.pos += 8;
    else if (wire === WT_LEN) this.bytes();
    else if (wire === WT_I32) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
    if (this.pos > this.buf.length) throw new Error('protobuf: truncated field');
  }
}

function expectWire(field: string, got: number, want: number): void {
  if (got !== want) throw new Error(`protobuf: field ${field} has wire type ${got}, expected ${want}`);
}

/** int64 from a varint (two's complement). */
function int64(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

/** Packed or unpacked repeated fixed-width values. */
function readRepeated(w: Wire, wire: number, fixedWire: number, get: (r: Wire) => number, out: number[]): void {
  if (wire === WT_LEN) {
    const inner = new Wire(w.bytes());
    while (!inner.done) out.push(get(inner));
    if (inner.pos !== inner.length) throw new Error('protobuf: bad packed field');
  } else {
    expectWire('repeated', wire, fixedWire);
    out.push(get(w));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages.

export interface DecodedTensor {
  dtype: number;
  /** Dimension sizes; [] for a scalar. */
  shape: number[];
  floatVal: number[];
  doubleVal: number[];
  stringVal: Uint8Array[];
}

export interface DecodedValue {
  tag: string;
  simpleValue?: number;
  pluginName?: string;
  content?: Uint8Array;
  dataClass?: number;
  tensor?: DecodedTensor;
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: DecodedValue[];
}

function decodeShape(buf: Uint8Array): number[] {
  const w = new Wire(buf);
  const dims: number[] = [];
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 2) {
      expectWire('TensorShapeProto.dim', wire, WT_LEN);
      const d = new Wire(w.bytes());
      let size = 0;
      while (!d.done) {
        const t = d.tag();
        if (t.field === 1) {
          expectWire('Dim.size', t.wire, WT_VARINT);
          size = int64(d.varint());
        } else d.skip(t.wire);
      }
      dims.push(size);
    } else w.skip(wire);
  }
  return dims;
}

function decodeTensor(buf: Uint8Array): DecodedTensor {
  const w = new Wire(buf);
  const t: DecodedTensor = { dtype: 0, shape: [], floatVal: [], doubleVal: [], stringVal: [] };
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      expectWire('TensorProto.dtype', wire, WT_VARINT);
      t.dtype = Number(w.varint());
    } else if (field === 2) {
      expectWire('TensorProto.tensor_shape', wire, WT_LEN);
      t.shape = decodeShape(w.bytes());
    } else if (field === 5) readRepeated(w, wire, WT_I32, (r) => r.float(), t.floatVal);
    else if (field === 6) readRepeated(w, wire, WT_I64, (r) => r.double(), t.doubleVal);
    else if (field === 8) {
      expectWire('TensorProto.string_val', wire, WT_LEN);
      t.stringVal.push(w.bytes());
    } else w.skip(wire);
  }
  return t;
}

function decodeMetadata(buf: Uint8Array, v: DecodedValue): void {
  const w = new Wire(buf);
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      expectWire('SummaryMetadata.plugin_data', wire, WT_LEN);
      const p = new Wire(w.bytes());
      v.pluginName ??= '';
      v.content ??= new Uint8Array(0);
      while (!p.done) {
        const t = p.tag();
        if (t.field === 1) {
          expectWire('PluginData.plugin_name', t.wire, WT_LEN);
          v.pluginName = p.string();
        } else if (t.field === 2) {
          expectWire('PluginData.content', t.wire, WT_LEN);
          v.content = p.bytes().slice();
        } else p.skip(t.wire);
      }
    } else if (field === 4) {
      expectWire('SummaryMetadata.data_class', wire, WT_VARINT);
      v.dataClass = Number(w.varint());
    } else w.skip(wire);
  }
}

function decodeValue(buf: Uint8Array): DecodedValue {
  const w = new Wire(buf);
  const v: DecodedValue = { tag: '' };
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      expectWire('Value.tag', wire, WT_LEN);
      v.tag = w.string();
    } else if (field === 2) {
      expectWire('Value.simple_value', wire, WT_I32);
      v.simpleValue = w.float();
    } else if (field === 8) {
      expectWire('Value.tensor', wire, WT_LEN);
      v.tensor = decodeTensor(w.bytes());
    } else if (field === 9) {
      expectWire('Value.metadata', wire, WT_LEN);
      decodeMetadata(w.bytes(), v);
    } else w.skip(wire);
  }
  return v;
}

/** Decode one serialized `Event`. */
export function decodeEvent(buf: Uint8Array): DecodedEvent {
  const w = new Wire(buf);
  const ev: DecodedEvent = { wallTime: 0, step: 0, values: [] };
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      expectWire('Event.wall_time', wire, WT_I64);
      ev.wallTime = w.double();
    } else if (field === 2) {
      expectWire('Event.step', wire, WT_VARINT);
      ev.step = int64(w.varint());
    } else if (field === 3) {
      expectWire('Event.file_version', wire, WT_LEN);
      ev.fileVersion = w.string();
    } else if (field === 5) {
      expectWire('Event.summary', wire, WT_LEN);
      const s = new Wire(w.bytes());
      while (!s.done) {
        const t = s.tag();
        if (t.field === 1) {
          expectWire('Summary.value', t.wire, WT_LEN);
          ev.values.push(decodeValue(s.bytes()));
        } else s.skip(t.wire);
      }
    } else w.skip(wire);
  }
  return ev;
}

/** Every event of one event file, in order; throws RecordError on a CRC mismatch or truncation. */
export function readEvents(path: string): DecodedEvent[] {
  return readRecords(readFileSync(path)).map(decodeEvent);
}

/** The event files of a directory, sorted by name (= by creation time, then counter). */
export function eventFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('events.out.tfevents.'))
    .sort()
    .map((f) => join(dir, f));
}

export interface ScalarPoint {
  step: number;
  value: number;
  wallTime: number;
}

/** tag → points, over every event file in `dir` (simple_value scalars only). */
export function readScalars(dir: string): Map<string, ScalarPoint[]> {
  const out = new Map<string, ScalarPoint[]>();
  for (const file of eventFiles(dir)) {
    for (const ev of readEvents(file)) {
      for (const v of ev.values) {
        if (v.simpleValue === undefined) continue;
        let list = out.get(v.tag);
        if (!list) out.set(v.tag, (list = []));
        list.push({ step: ev.step, value: v.simpleValue, wallTime: ev.wallTime });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// HParams plugin data (plugin_data.proto, api.proto, google/protobuf/struct.proto).

export type PbValue = number | string | boolean | null | PbValue[] | { [k: string]: PbValue };

function decodePbValue(buf: Uint8Array): PbValue {
  const w = new Wire(buf);
  let v: PbValue = null;
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      w.varint();
      v = null;
    } else if (field === 2) {
      expectWire('Value.number_value', wire, WT_I64);
      v = w.double();
    } else if (field === 3) {
      expectWire('Value.string_value', wire, WT_LEN);
      v = w.string();
    } else if (field === 4) {
      expectWire('Value.bool_value', wire, WT_VARINT);
      v = w.varint() !== 0n;
    } else if (field === 6) {
      expectWire('Value.list_value', wire, WT_LEN);
      v = decodeListValue(w.bytes());
    } else w.skip(wire);
  }
  return v;
}

function decodeListValue(buf: Uint8Array): PbValue[] {
  const w = new Wire(buf);
  const out: PbValue[] = [];
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      expectWire('ListValue.values', wire, WT_LEN);
      out.push(decodePbValue(w.bytes()));
    } else w.skip(wire);
  }
  return out;
}

export interface DecodedHParamInfo {
  name: string;
  type: number;
  domainDiscrete?: PbValue[];
  domainInterval?: { min: number; max: number };
}

export interface DecodedHparamsPluginData {
  version: number;
  experiment?: { hparams: DecodedHParamInfo[]; metrics: Array<{ group: string; tag: string }>; description: string };
  sessionStartInfo?: { hparams: Record<string, PbValue>; groupName: string; startTimeSecs: number; modelUri: string };
  sessionEndInfo?: { status: number; endTimeSecs: number };
}

function decodeHParamInfo(buf: Uint8Array): DecodedHParamInfo {
  const w = new Wire(buf);
  const h: DecodedHParamInfo = { name: '', type: 0 };
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) h.name = w.string();
    else if (field === 4) h.type = Number(w.varint());
    else if (field === 5) h.domainDiscrete = decodeListValue(w.bytes());
    else if (field === 6) {
      const iw = new Wire(w.bytes());
      const iv = { min: 0, max: 0 };
      while (!iw.done) {
        const t = iw.tag();
        if (t.field === 1) iv.min = iw.double();
        else if (t.field === 2) iv.max = iw.double();
        else iw.skip(t.wire);
      }
      h.domainInterval = iv;
    } else w.skip(wire);
  }
  return h;
}

function decodeMetricInfo(buf: Uint8Array): { group: string; tag: string } {
  const w = new Wire(buf);
  const m = { group: '', tag: '' };
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      const nw = new Wire(w.bytes());
      while (!nw.done) {
        const t = nw.tag();
        if (t.field === 1) m.group = nw.string();
        else if (t.field === 2) m.tag = nw.string();
        else nw.skip(t.wire);
      }
    } else w.skip(wire);
  }
  return m;
}

/** Decode a serialized `HParamsPluginData` (the `content` of an hparams plugin summary). */
export function decodeHparamsPluginData(content: Uint8Array): DecodedHparamsPluginData {
  const w = new Wire(content);
  const out: DecodedHparamsPluginData = { version: 0 };
  while (!w.done) {
    const { field, wire } = w.tag();
    if (field === 1) {
      expectWire('HParamsPluginData.version', wire, WT_VARINT);
      out.version = Number(w.varint());
    } else if (field === 2) {
      expectWire('HParamsPluginData.experiment', wire, WT_LEN);
      const e = new Wire(w.bytes());
      const exp = { hparams: [] as DecodedHParamInfo[], metrics: [] as Array<{ group: string; tag: string }>, description: '' };
      while (!e.done) {
        const t = e.tag();
        if (t.field === 1) exp.description = e.string();
        else if (t.field === 4) exp.hparams.push(decodeHParamInfo(e.bytes()));
        else if (t.field === 5) exp.metrics.push(decodeMetricInfo(e.bytes()));
        else e.skip(t.wire);
      }
      out.experiment = exp;
    } else if (field === 3) {
      expectWire('HParamsPluginData.session_start_info', wire, WT_LEN);
      const s = new Wire(w.bytes());
      const info = { hparams: {} as Record<string, PbValue>, groupName: '', startTimeSecs: 0, modelUri: '' };
      while (!s.done) {
        const t = s.tag();
        if (t.field === 1) {
          // map<string, Value> entry: key = 1, value = 2.
          expectWire('SessionStartInfo.hparams', t.wire, WT_LEN);
          const me = new Wire(s.bytes());
          let key = '';
          let val: PbValue = null;
          while (!me.done) {
            const mt = me.tag();
            if (mt.field === 1) key = me.string();
            else if (mt.field === 2) val = decodePbValue(me.bytes());
            else me.skip(mt.wire);
          }
          info.hparams[key] = val;
        } else if (t.field === 2) info.modelUri = s.string();
        else if (t.field === 4) info.groupName = s.string();
        else if (t.field === 5) {
          expectWire('SessionStartInfo.start_time_secs', t.wire, WT_I64);
          info.startTimeSecs = s.double();
        } else s.skip(t.wire);
      }
      out.sessionStartInfo = info;
    } else if (field === 4) {
      expectWire('HParamsPluginData.session_end_info', wire, WT_LEN);
      const s = new Wire(w.bytes());
      const info = { status: 0, endTimeSecs: 0 };
      while (!s.done) {
        const t = s.tag();
        if (t.field === 1) info.status = Number(s.varint());
        else if (t.field === 2) {
          expectWire('SessionEndInfo.end_time_secs', t.wire, WT_I64);
          info.endTimeSecs = s.double();
        } else s.skip(t.wire);
      }
      out.sessionEndInfo = info;
    } else w.skip(wire);
  }
  return out;
}
