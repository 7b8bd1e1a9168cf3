// Rewinding event files (src/tensorboard/rewind.ts), read back with the test's own reference decoder.
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventWriter, rewindEventFiles } from '../src/tensorboard/index.js';
import * as ref from './helpers/tfevents.js';

describe('rewindEventFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tudui-rewind-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = () => {
    const w = EventWriter.open(dir);
    for (let step = 1; step <= 6; step++) w.scalar('train_loss', 1 / step, step, 100 + step);
    w.writeSummary([{ tag: 'a', simple_value: 1 }, { tag: 'b', simple_value: 2 }], 4, 200);
    for (let epoch = 1; epoch <= 3; epoch++) w.scalar('test_accuracy', epoch / 10, epoch, 300 + epoch);
    w.text('config', 'lr: 0.1', 5);
    w.close();
    return w.path;
  };
  const points = () => [...ref.readScalars(dir)].map(([tag, ps]) => `${tag}: ${ps.map((p) => `${p.step}=${p.value.toFixed(3)}`).join(' ')}`);

  it('drops the values the caller names, keeps the rest (and every other record) as they were', () => {
    const path = write();
    const removed = rewindEventFiles(dir, (tag, step) => (tag === 'test_accuracy' ? step > 1 : tag !== 'config' && step > 3));
    expect(removed).toBe(3 + 2 + 2); // train_loss 4..6, a and b at 4, test_accuracy 2..3
    expect(points()).toEqual(['train_loss: 1=1.000 2=0.500 3=0.333', 'test_accuracy: 1=0.100']);
    const events = ref.readEvents(path);
    expect(events[0]!.fileVersion).toBe('brain.Event:2');
    expect(events.flatMap((e) => e.values.map((v) => v.tag))).toContain('config');
    expect(readdirSync(dir)).toHaveLength(1); // replaced in place, no temporary left
  });

  it('leaves a file it has nothing to drop from untouched, byte for byte, torn tail included', () => {
    const path = write();
    appendFileSync(path, Buffer.from([1, 2, 3, 4, 5]));
    const before = readFileSync(path);
    expect(rewindEventFiles(dir, () => false)).toBe(0);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('ends a file with a torn tail at its last whole record when it rewrites it', () => {
    const path = write();
    appendFileSync(path, readFileSync(path).subarray(0, 30)); // a record cut short, as a killed writer leaves it
    rewindEventFiles(dir, (tag, step) => tag === 'train_loss' && step > 5);
    expect(() => ref.readEvents(path)).not.toThrow();
    expect(points()[0]).toBe('train_loss: 1=1.000 2=0.500 3=0.333 4=0.250 5=0.200');
  });
});
