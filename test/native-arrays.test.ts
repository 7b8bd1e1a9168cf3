// The output-array pool of 'tudui-native' (src/backends/native-arrays.ts): recycling, and the bound when full.
import { describe, expect, it } from 'vitest';
import { ArrayPool, type PoolBackend } from '../src/backends/native-arrays.js';

/** The parts of the cpu backend the pool hooks: tensors' arrays by data id, disposal. */
function fakeBackend(): PoolBackend & { hold(a: Float32Array): object } {
  const data = new Map<object, { values?: unknown }>();
  return {
    data,
    readSync: (id) => data.get(id)?.values,
    read: async (id) => data.get(id)?.values,
    disposeData: (id) => data.delete(id),
    hold(a) {
      const id = {};
      data.set(id, { values: a });
      return id;
    },
  };
}

const A = ArrayPool.MIN, B = ArrayPool.MIN * 2;

/** A pool hooked to a fake backend; `give(a)` disposes a tensor holding `a`, as tfjs does after its last use. */
function attached(maxBytes?: number) {
  const pool = new ArrayPool(maxBytes);
  const backend = fakeBackend();
  pool.attach(backend);
  return { pool, backend, give: (a: Float32Array) => backend.disposeData(backend.hold(a)) };
}

describe('ArrayPool', () => {
  it('hands a disposed output back out for the same length, never one read out', () => {
    const { pool, backend } = attached();
    const a = pool.take(A), b = pool.take(A);
    const ia = backend.hold(a), ib = backend.hold(b);
    backend.readSync(ib); // b escaped: a caller may still hold it
    backend.disposeData(ia);
    backend.disposeData(ib);
    expect(pool.freeBytes).toBe(A * 4);
    expect(pool.take(A)).toBe(a);
    expect(pool.take(A)).not.toBe(b);
  });

  it('when full, drops the least recently used lengths for a new one instead of refusing it', () => {
    const { pool, give } = attached(3 * A * 4);
    // "Training": three arrays of length A fill the pool.
    const train = [pool.take(A), pool.take(A), pool.take(A)];
    for (const a of train) give(a);
    expect(pool.freeBytes).toBe(3 * A * 4);
    // "Evaluation" at another batch size: its arrays are kept, A's make room.
    const evalArray = pool.take(B);
    give(evalArray);
    expect(pool.freeBytes).toBe(B * 4);
    expect(pool.take(B)).toBe(evalArray);
    expect(train).not.toContain(pool.take(A));
  });

  it('keeps the length in use when it alone would overflow', () => {
    const { pool, give } = attached(2 * A * 4);
    const arrays = [pool.take(A), pool.take(A), pool.take(A)];
    for (const a of arrays) give(a);
    expect(pool.freeBytes).toBe(2 * A * 4);
  });
});
