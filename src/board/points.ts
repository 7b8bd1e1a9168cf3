/**
 * A run's metrics as the board holds them: per tag, growable float64 columns (step, epoch, wall time, value) filled
 * straight from `scanMetricLines` (no object per point), which a worker can hand to the server by transfer.
 */
import type { MetricSink } from '../run/layout.js';

/** One tag's points in file order; the first `n` of each column are used. */
export class TagColumns {
  n = 0;
  step: Float64Array;
  epoch: Float64Array;
  wall: Float64Array;
  value: Float64Array;

  constructor(capacity = 64, cols?: { n: number; step: Float64Array; epoch: Float64Array; wall: Float64Array; value: Float64Array }) {
    if (cols) {
      this.n = cols.n;
      this.step = cols.step;
      this.epoch = cols.epoch;
      this.wall = cols.wall;
      this.value = cols.value;
    } else {
      this.step = new Float64Array(capacity);
      this.epoch = new Float64Array(capacity);
      this.wall = new Float64Array(capacity);
      this.value = new Float64Array(capacity);
    }
  }

  push(value: number, step: number, epoch: number, wall: number): void {
    const i = this.n;
    if (i === this.value.length) this.grow();
    this.value[i] = value;
    this.step[i] = step;
    this.epoch[i] = epoch;
    this.wall[i] = wall;
    this.n = i + 1;
  }

  /** Columns are replaced, never written below `n`: a subarray handed out earlier keeps its values. */
  private grow(): void {
    const cap = Math.max(64, this.value.length * 2);
    const more = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.step = more(this.step);
    this.epoch = more(this.epoch);
    this.wall = more(this.wall);
    this.value = more(this.value);
  }
}

/** What a worker posts for one run's points (the columns' buffers go in the transfer list). */
export interface PointsMessage {
  firstWall: number;
  tags: Array<{ tag: string; n: number; step: Float64Array; epoch: Float64Array; wall: Float64Array; value: Float64Array }>;
}

/** A run's points by tag, and its first wall time (the origin of relative time). */
export class RunPoints {
  readonly tags = new Map<string, TagColumns>();
  firstWall = NaN;
  private lastTag: string | undefined;
  private last: TagColumns | undefined;

  /** Appends one point (a MetricSink: pass it to scanMetricLines as is). */
  readonly add: MetricSink = (tag, value, step, epoch, wall) => {
    let c = tag === this.lastTag ? this.last : this.tags.get(tag);
    if (!c) this.tags.set(tag, (c = new TagColumns()));
    this.lastTag = tag;
    this.last = c;
    c.push(value, step, epoch, wall);
    if (!(this.firstWall <= wall)) this.firstWall = wall;
  };

  clear(): void {
    this.tags.clear();
    this.lastTag = undefined;
    this.last = undefined;
    this.firstWall = NaN;
  }

  /** The message and its transfer list; this object must not be used afterwards (its buffers move). */
  toMessage(): { message: PointsMessage; transfer: ArrayBuffer[] } {
    const tags = [...this.tags].map(([tag, c]) => ({ tag, n: c.n, step: c.step, epoch: c.epoch, wall: c.wall, value: c.value }));
    const transfer = tags.flatMap((t) => [t.step.buffer, t.epoch.buffer, t.wall.buffer, t.value.buffer] as ArrayBuffer[]);
    return { message: { firstWall: this.firstWall, tags }, transfer };
  }

  static fromMessage(m: PointsMessage): RunPoints {
    const r = new RunPoints();
    for (const t of m.tags) r.tags.set(t.tag, new TagColumns(0, t));
    r.firstWall = m.firstWall;
    return r;
  }
}
