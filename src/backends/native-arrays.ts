/**
 * The float32 arrays behind 'tudui-native' tensors: version tokens (the addon's conv.cc keeps a reordered filter
 * while its token is unchanged) and the pool that recycles large kernel outputs.
 */
/**
 * Version tokens of float32 arrays, for the addon's reorder cache (native/src/conv.cc run_entry): equal tokens
 * promise equal contents. Tensor data never changes, with two exceptions, each of which forgets the token: the
 * in-place optimizer updates (src/train/optimizers.ts) and arrays recycled by the output pool.
 */
const tokens = new WeakMap<Float32Array, number>();
let nextToken = 1;
export function arrayToken(a: Float32Array): number {
  let t = tokens.get(a);
  if (t === undefined) {
    t = nextToken;
    nextToken = nextToken >= 0x7ffffffe ? 1 : nextToken + 1;
    tokens.set(a, t);
  }
  return t;
}
/**
 * The array is about to change in place (the in-place optimizer updates): computations deferred on it (lazy outputs
 * that read it, native.ts) run first, on the contents they were promised, and its token is forgotten.
 */
export function forgetArrayToken(a: Float32Array): void {
  const pending = deferredReaders.get(a);
  if (pending) {
    deferredReaders.delete(a);
    for (const run of [...pending]) run();
  }
  tokens.delete(a);
}

/** Deferred computations by the arrays they will read (see forgetArrayToken). */
const deferredReaders = new WeakMap<Float32Array, Set<() => void>>();
/** Registers `run` as a deferred reader of each array; the returned function unregisters it (once it ran or went). */
export function deferReads(arrays: readonly Float32Array[], run: () => void): () => void {
  for (const a of arrays) {
    let set = deferredReaders.get(a);
    if (!set) deferredReaders.set(a, (set = new Set()));
    set.add(run);
  }
  return () => {
    for (const a of arrays) deferredReaders.get(a)?.delete(run);
  };
}

/**
 * Recycles the large float32 arrays of native kernel outputs when tfjs disposes their tensors, so a training step
 * reuses last step's buffers instead of allocating ~30 MB of fresh zero-filled ArrayBuffers: those allocations cost
 * their zero fill and, worse, make V8 run a scavenge plus a mark-compact every step or two for "external memory
 * pressure" (~5-7 ms per step of the seed net). Only arrays nobody else can still see are reused:
 * - allocated by `take` (native kernel outputs), never handed in from outside;
 * - never read out (`read`/`readSync`: dataSync(), data(), array() return the live array on this backend);
 * - never an input of a tfjs cpu kernel (some return views of their input, e.g. a simple Slice's subarray);
 * - not captured by a lazy output that has not been computed yet (`pin`).
 * The pool is bounded (maxBytes); when full, the sizes used least recently go first. Without that, a full pool of
 * training-batch arrays refused every array of another batch size (evaluation's eval_batch_size), so each evaluation
 * batch allocated ~1 GB afresh (the resnet recipe evaluated 1.7× slower after training than in a fresh process).
 * TUDUI_NATIVE_RECYCLE=0 turns it off.
 */
export class ArrayPool {
  static readonly MIN = 1 << 16;
  private static readonly PER_SIZE = 32;
  private readonly owned = new WeakSet<Float32Array>();
  private readonly pinned = new Map<Float32Array, number>();
  /** Pinned arrays whose tensors were disposed: recycled when the last pin goes. */
  private readonly orphans = new WeakSet<Float32Array>();
  /** Free arrays by length; the Map's order is the lengths' recency (least recently used first). */
  private readonly free = new Map<number, Float32Array[]>();
  private bytes = 0;
  /** Data ids of lazy outputs: their `values` getter computes, so disposal must not touch it. */
  readonly lazy = new WeakMap<object, () => Float32Array | undefined>();

  /** `maxBytes`: the most the free arrays may hold (1 GiB). */
  constructor(private readonly maxBytes = 1024 * 1024 * 1024) {}

  /** Bytes held by free arrays (for tests). */
  get freeBytes(): number {
    return this.bytes;
  }

  take(n: number): Float32Array {
    const list = this.free.get(n);
    if (list) this.touch(n, list);
    const a = list?.pop();
    if (a) {
      this.bytes -= n * 4;
      forgetArrayToken(a);
      return a;
    }
    const b = new Float32Array(n);
    this.owned.add(b);
    return b;
  }

  /** `a` may now be visible outside the backend's kernels: never recycle it. */
  escape(a: unknown): void {
    if (a instanceof Float32Array) this.owned.delete(a);
  }

  pin(a: Float32Array): void {
    if (this.owned.has(a)) this.pinned.set(a, (this.pinned.get(a) ?? 0) + 1);
  }

  unpin(a: Float32Array): void {
    const n = this.pinned.get(a);
    if (n === undefined) return;
    if (n > 1) {
      this.pinned.set(a, n - 1);
      return;
    }
    this.pinned.delete(a);
    if (this.orphans.has(a)) {
      this.orphans.delete(a);
      this.give(a);
    }
  }

  private give(a: Float32Array): void {
    if (!this.owned.has(a)) return;
    if (this.pinned.has(a)) {
      this.orphans.add(a);
      return;
    }
    let list = this.free.get(a.length);
    if (list && (list.length >= ArrayPool.PER_SIZE || list.includes(a))) return;
    if (!this.makeRoom(a.length, a.length * 4)) return;
    if (!list) list = [];
    this.touch(a.length, list);
    list.push(a);
    this.bytes += a.length * 4;
  }

  /** Marks length n as the most recently used. */
  private touch(n: number, list: Float32Array[]): void {
    this.free.delete(n);
    this.free.set(n, list);
  }

  /**
   * Whether `room` more bytes fit, after dropping the free arrays of the least recently used lengths other than
   * `keep` where needed.
   */
  private makeRoom(keep: number, room: number): boolean {
    for (const [n, list] of this.free) {
      if (this.bytes + room <= this.maxBytes) return true;
      if (n === keep) continue;
      this.bytes -= n * 4 * list.length;
      this.free.delete(n);
    }
    return this.bytes + room <= this.maxBytes;
  }

  /** Hooks one backend instance's reads and disposals. */
  attach(backend: PoolBackend): void {
    const { data } = backend;
    const readSync = backend.readSync.bind(backend);
    const read = backend.read.bind(backend);
    const disposeData = backend.disposeData.bind(backend);
    backend.readSync = (dataId) => {
      const v = readSync(dataId);
      this.escape(v);
      return v;
    };
    backend.read = async (dataId) => {
      const v = await read(dataId);
      this.escape(v);
      return v;
    };
    backend.disposeData = (dataId, force) => {
      const lazy = this.lazy.get(dataId);
      const values = lazy ? lazy() : data.get(dataId)?.values;
      const r = disposeData(dataId, force);
      if (values instanceof Float32Array && values.length >= ArrayPool.MIN && !data.has(dataId)) this.give(values);
      return r;
    };
  }
}

/** The parts of MathBackendCPU the pool hooks. */
export interface PoolBackend {
  data: { get(dataId: object): { values?: unknown } | undefined; has(dataId: object): boolean };
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
  disposeData(dataId: object, force?: boolean): boolean;
}
