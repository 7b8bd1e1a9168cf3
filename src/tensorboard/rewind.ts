/**
 * Rewinding a run's event files: `tudui resume --from` an earlier checkpoint trains those epochs again, so the
 * points logged after that checkpoint must go from the event files as they go from metrics.jsonl. TensorBoard keeps
 * both copies otherwise (for `brain.Event:2` files it purges only on a SessionLog restart, never for a step that
 * goes back), and its charts zigzag between the old and the new curve.
 *
 * Each file is read record by record (CRCs checked), summary values the caller drops are removed (an event left
 * without values goes), and the file is replaced atomically when anything changed. Records the caller keeps are
 * copied byte for byte; a torn or corrupt tail (a writer killed mid-record) ends the file there, as TensorBoard
 * itself stops reading at it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeFileAtomic } from '../fs/atomic.js';
import { EventMsg } from './proto.js';
import { frameRecord, readRecords } from './record.js';

interface DecodedEvent {
  step?: number | { toNumber(): number };
  summary?: { value?: { tag?: string }[] };
}

/**
 * Removes, from every event file directly in `logdir`, the summary values for which `drop(tag, step)` is true.
 * Returns how many values were removed.
 */
export function rewindEventFiles(logdir: string, drop: (tag: string, step: number) => boolean): number {
  let removed = 0;
  for (const name of readdirSync(logdir).sort()) {
    if (!name.includes('tfevents')) continue;
    const path = join(logdir, name);
    const records = readRecords(readFileSync(path));
    let changed = false;
    const kept: Uint8Array[] = [];
    for (const data of records) {
      const event = EventMsg.decode(data) as unknown as DecodedEvent;
      const values = event.summary?.value ?? [];
      const step = typeof event.step === 'object' ? event.step.toNumber() : (event.step ?? 0);
      const left = values.filter((v) => !drop(v.tag ?? '', step));
      if (left.length === values.length) {
        kept.push(frameRecord(data));
        continue;
      }
      changed = true;
      removed += values.length - left.length;
      if (left.length) {
        event.summary!.value = left;
        kept.push(frameRecord(EventMsg.encode(event as never).finish()));
      }
    }
    if (changed) writeFileAtomic(path, Buffer.concat(kept));
  }
  return removed;
}
