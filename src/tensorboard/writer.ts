/**
 * TensorBoard event-file writer: `events.out.tfevents.<secs>.<host>.<pid>.<n>` files of TFRecord-framed `Event`
 * protos, readable by TensorBoard exactly as it reads PyTorch's `SummaryWriter` output.
 *
 * Files are append-only. A resumed run reopens the same logdir and gets a new file; TensorBoard merges every event
 * file of a directory into one run. There is no `purge_step` mechanism: the trainer must not write a step again
 * (a resumed run continues after the last step it had written), otherwise TensorBoard shows both points.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  DATA_CLASS_TENSOR,
  DT_STRING,
  EventMsg,
  encodeMessage,
} from './proto.js';
import { frameRecord } from './record.js';

export const FILE_VERSION = 'brain.Event:2';

/** A `Summary.Value` as a plain object for protobufjs (snake_case field names of summary.proto). */
export interface SummaryValue {
  tag: string;
  simple_value?: number;
  metadata?: {
    plugin_data?: { plugin_name: string; content?: Uint8Array };
    display_name?: string;
    summary_description?: string;
    data_class?: number;
  };
  tensor?: Record<string, unknown>;
}

export interface EventWriterOptions {
  /** Appended to the file name, as in PyTorch's `filename_suffix`. */
  filenameSuffix?: string;
  /** Records buffered before they are written to the file (PyTorch: max_queue = 10). 0 or 1: write through. */
  maxQueue?: number;
  /** Also write buffered records at least this often, in seconds (PyTorch: flush_secs = 120). 0: no timer. */
  flushSecs?: number;
}

/** Process-wide counter for file names, like TensorFlow's / PyTorch's global uid. */
let fileCounter = 0;

/** Open writers, flushed synchronously when the process exits so buffered records are not lost. */
const openWriters = new Set<EventWriter>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const w of openWriters) {
      try {
        w.flush();
      } catch {
        // Exiting anyway; nothing useful to do with the error here.
      }
    }
  });
}

function nowSecs(): number {
  return Date.now() / 1000;
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step)) throw new Error(`tensorboard: step must be a safe integer, got ${step}`);
}

export class EventWriter {
  /** The directory the file is in. */
  readonly logdir: string;
  /** Full path of the event file. */
  readonly path: string;

  #fd: number | undefined;
  #pending: Buffer[] = [];
  #maxQueue: number;
  #timer: NodeJS.Timeout | undefined;
  #timerError: unknown;

  private constructor(logdir: string, path: string, fd: number, opts: EventWriterOptions) {
    this.logdir = logdir;
    this.path = path;
    this.#fd = fd;
    this.#maxQueue = Math.max(1, Math.floor(opts.maxQueue ?? 10));
    const flushSecs = opts.flushSecs ?? 120;
    if (flushSecs > 0) {
      this.#timer = setInterval(() => {
        try {
          this.#writePending();
        } catch (err) {
          this.#timerError ??= err;
        }
      }, flushSecs * 1000);
      this.#timer.unref();
    }
  }

  /**
   * Create `logdir` (recursively) and a new event file in it, whose first record is the `brain.Event:2` file-version
   * event (written to disk immediately). Synchronous.
   *
   * The name sorts after every event file already in the directory: a running TensorBoard reads a directory's files
   * in name order and, once it has moved to a file, never goes back to one that sorts before it. Files made in the
   * same second by two processes (a sweep's session record and its member's run) would otherwise sort by pid, and
   * a live TensorBoard could miss the later one until restarted. The seconds in the name are advanced past the last
   * file's when needed (TensorBoard reads times from the records, never from names).
   */
  static open(logdir: string, opts: EventWriterOptions = {}): EventWriter {
    mkdirSync(logdir, { recursive: true });
    const last = lastEventFile(logdir);
    let secs = Math.floor(Date.now() / 1000);
    const host = hostname();
    const suffix = opts.filenameSuffix ?? '';
    for (;;) {
      const n = fileCounter++;
      const name = `events.out.tfevents.${String(secs).padStart(10, '0')}.${host}.${process.pid}.${n}${suffix}`;
      if (last !== undefined && name <= last) {
        const lastSecs = Number(/^events\.out\.tfevents\.(\d+)/.exec(last)?.[1] ?? secs);
        secs = Math.max(secs, lastSecs) + 1;
        continue;
      }
      const path = join(logdir, name);
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      const writer = new EventWriter(logdir, path, fd, opts);
      openWriters.add(writer);
      installExitHook();
      writer.writeEvent({ wall_time: nowSecs(), file_version: FILE_VERSION });
      writer.flush();
      return writer;
    }
  }

  get closed(): boolean {
    return this.#fd === undefined;
  }

  /**
   * A scalar, written as `simple_value` (a float32), exactly as PyTorch's `add_scalar` does. NaN and ±Infinity are
   * written as such. `wallTime` is in seconds since the epoch (default: now).
   */
  scalar(tag: string, value: number, step: number, wallTime?: number): void {
    if (typeof value !== 'number') throw new Error(`tensorboard: scalar ${tag} must be a number`);
    this.writeSummary([{ tag, simple_value: value }], step, wallTime);
  }

  /**
   * A text summary for TensorBoard's text plugin (rendered as Markdown): a scalar DT_STRING tensor with plugin
   * "text", as `tf.summary.text` writes it.
   */
  text(tag: string, text: string, step: number, wallTime?: number): void {
    this.writeSummary([textValue(tag, text)], step, wallTime);
  }

  /** One event holding a `Summary` with the given values. */
  writeSummary(values: SummaryValue[], step: number, wallTime?: number): void {
    checkStep(step);
    const event: Record<string, unknown> = { wall_time: wallTime ?? nowSecs(), summary: { value: values } };
    // Like the C++/Python serializers, leave proto3 defaults out: step 0 is not written.
    if (step !== 0) event.step = step;
    this.writeEvent(event);
  }

  /** One `Event` given as a plain object (snake_case fields of event.proto). */
  writeEvent(event: Record<string, unknown>): void {
    this.#checkOpen();
    this.#pending.push(frameRecord(encodeMessage(EventMsg, event)));
    if (this.#pending.length >= this.#maxQueue) this.#writePending();
  }

  /** Write every buffered record to the file (synchronously: on return the data is in the file). */
  flush(): void {
    this.#checkOpen();
    this.#writePending();
  }

  /** Flush, fsync and close the file. Further writes throw; closing twice is a no-op. */
  close(): void {
    if (this.#fd === undefined) return;
    try {
      this.#writePending();
      fsyncSync(this.#fd);
    } finally {
      if (this.#timer) clearInterval(this.#timer);
      closeSync(this.#fd);
      this.#fd = undefined;
      openWriters.delete(this);
    }
  }

  #checkOpen(): void {
    if (this.#fd === undefined) throw new Error(`tensorboard: writer for ${this.path} is closed`);
    if (this.#timerError !== undefined) {
      const err = this.#timerError;
      this.#timerError = undefined;
      throw err;
    }
  }

  #writePending(): void {
    if (this.#fd === undefined || this.#pending.length === 0) return;
    const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    let off = 0;
    try {
      while (off < data.length) off += writeSync(this.#fd, data, off, data.length - off);
    } finally {
      // On a failed write (ENOSPC...) keep what was not written, so a later flush completes the record instead of
      // leaving a torn one in the middle of the file.
      this.#pending = off < data.length ? [data.subarray(off)] : [];
    }
  }
}

/** The name of the event file that sorts last in the directory (TensorBoard takes any name containing "tfevents"). */
function lastEventFile(logdir: string): string | undefined {
  let last: string | undefined;
  for (const f of readdirSync(logdir)) if (f.includes('tfevents') && (last === undefined || f > last)) last = f;
  return last;
}

/** The `Summary.Value` of a text summary (see {@link EventWriter.text}). */
export function textValue(tag: string, text: string): SummaryValue {
  return {
    tag,
    // TextPluginData{version: 0} serializes to no bytes, so `content` is left out.
    metadata: { plugin_data: { plugin_name: 'text' }, data_class: DATA_CLASS_TENSOR },
    tensor: { dtype: DT_STRING, tensor_shape: {}, string_val: [Buffer.from(text, 'utf8')] },
  };
}
