/**
 * The board's view of DIR, read-only: the runs and sweeps under it (src/run/layout.ts finds and reads them), their
 * metrics held in memory per tag, and a poll that tails each metrics.jsonl by byte offset and re-reads summaries whose
 * file changed, telling listeners what moved. Nothing outside DIR is read: run directories and the files read in them
 * must resolve (symbolic links included) inside DIR's real path.
 */
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  CHECKPOINT_FILES,
  EPOCH_TAGS,
  MetricsTail,
  checkpointLink,
  findRuns,
  flattenConfig,
  listCheckpoints,
  memberDir,
  readConfigText,
  readErrorText,
  readHistory,
  readStatus,
  readSummary,
  runPaths,
  type FoundRun,
  type RunStatus,
  type RunSummary,
} from '../run/layout.js';
import { smooth } from './decimate.js';

export type XMode = 'step' | 'epoch' | 'relative' | 'wall';
export const X_MODES: readonly XMode[] = ['step', 'epoch', 'relative', 'wall'];

/** A tag's points in one run, in file order. */
interface TagSeries {
  step: number[];
  epoch: number[];
  wall: number[];
  value: number[];
}

/** One row of the runs table (the fields of `tudui ls`), plus what the sweep view needs. */
export interface RunRow {
  /** Stable key within this server's life (the page refers to runs by it). */
  key: number;
  /** Path relative to DIR, '/'-separated ('.' when DIR is itself the run). */
  id: string;
  name: string;
  /** `pending`: a sweep member not started yet (no directory); `unknown`: no readable summary. */
  status: RunStatus | 'unknown' | 'pending';
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  epochs: number | null;
  epochs_completed: number | null;
  global_step: number | null;
  final: Record<string, number>;
  best: { metric: string; value: number; epoch: number } | null;
  images_per_s: number | null;
  backend: string | null;
  seed: number | null;
  sweep: string | null;
  member: string | null;
  /** The sweep's hyperparameters for a member, else {}. */
  hparams: Record<string, number | string | boolean>;
  tags: string[];
}

interface RunEntry {
  found: FoundRun;
  row: RunRow;
  summary: RunSummary | undefined;
  summaryStamp: string;
  tail: MetricsTail | undefined;
  tags: Map<string, TagSeries>;
  firstWall: number;
  config: Record<string, unknown> | undefined;
  configStamp: string;
  /** Chart series by tag, x mode and smoothing (see `series`). */
  cache: Map<string, { version: string; x: Float64Array; y: Float64Array }>;
}

export type StoreEvent =
  | { type: 'run'; row: RunRow }
  | { type: 'metrics'; key: number; tags: string[]; reset: boolean }
  /** Progress of the first read of every run's metrics (a few times a second, and once at the end). */
  | { type: 'loading'; loaded: number; total: number };

/** Whether `path` resolves inside `root` (a real path); missing files are not inside. */
export function inside(root: string, path: string): boolean {
  try {
    const real = realpathSync(path);
    return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  } catch {
    return false;
  }
}

function stamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return '';
  }
}

export class BoardStore {
  readonly root: string;
  private entries = new Map<string, RunEntry>();
  private byKey: RunEntry[] = [];
  private listeners = new Set<(e: StoreEvent) => void>();
  sweeps: Array<{ id: string; name: string; hparams: string[] }> = [];

  constructor(dir: string) {
    this.root = realpathSync(dir);
    this.scan();
  }

  on(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: StoreEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  private id(dir: string): string {
    return relative(this.root, dir).split(sep).join('/') || '.';
  }

  /** A file of a run, if it is a regular file inside DIR. */
  private safe(path: string): boolean {
    return inside(this.root, path);
  }

  /** Finds new runs and re-reads changed summaries; emits `run` for each new or changed row. */
  scan(): void {
    const { runs, sweeps } = findRuns(this.root);
    this.sweeps = sweeps.filter((s) => inside(this.root, s.dir)).map((s) => ({ id: this.id(s.dir), name: s.manifest.name, hparams: s.manifest.hparams }));
    // members of a sweep not started yet have no directory: listed as pending (if their path stays in the sweep)
    const seen = new Set(runs.map((r) => r.dir));
    const pending: FoundRun[] = [];
    for (const sw of sweeps) {
      if (!inside(this.root, sw.dir)) continue;
      for (const member of sw.manifest.members) {
        const dir = memberDir(sw.dir, member);
        if (dir && !seen.has(dir) && !existsSync(dir)) pending.push({ dir, sweep: { dir: sw.dir, member } });
      }
    }
    for (const found of [...runs, ...pending]) {
      if (!inside(this.root, found.dir) && !pending.includes(found)) continue;
      const id = this.id(found.dir);
      let e = this.entries.get(id);
      if (!e) {
        e = { found, row: undefined as unknown as RunRow, summary: undefined, summaryStamp: '-', tail: undefined, tags: new Map(), firstWall: NaN, config: undefined, configStamp: '-', cache: new Map() };
        e.row = this.rowOf(e, this.byKey.length);
        this.entries.set(id, e);
        this.byKey.push(e);
        this.refreshSummary(e, true);
        continue;
      }
      e.found = found;
      this.refreshSummary(e, false);
    }
  }

  private refreshSummary(e: RunEntry, isNew: boolean): void {
    const p = runPaths(e.found.dir);
    const s = this.safe(p.summary) ? stamp(p.summary) : '';
    const lock = stamp(p.lock);
    const key = `${s}|${lock}`;
    if (key === e.summaryStamp && !isNew) return;
    e.summaryStamp = key;
    e.summary = s ? readSummary(e.found.dir) : undefined;
    const before = JSON.stringify(e.row);
    e.row = this.rowOf(e, e.row.key);
    if (isNew || JSON.stringify(e.row) !== before) this.emit({ type: 'run', row: e.row });
  }

  private rowOf(e: RunEntry, key: number): RunRow {
    const s = e.summary;
    const m = e.found.sweep?.member;
    const status = s ? (readStatus(e.found.dir, s) ?? 'unknown') : existsSync(e.found.dir) ? 'unknown' : 'pending';
    const started = s?.started_at ? Date.parse(s.started_at) : NaN;
    const finished = s?.finished_at ? Date.parse(s.finished_at) : NaN;
    return {
      key,
      id: this.id(e.found.dir),
      name: s?.name ?? m?.label ?? this.id(e.found.dir),
      status,
      reason: s?.reason ?? null,
      started_at: s?.started_at ?? null,
      finished_at: s?.finished_at ?? null,
      duration_s: s?.durations?.total_s ?? (Number.isFinite(started) && Number.isFinite(finished) ? (finished - started) / 1000 : null),
      epochs: s?.epochs ?? null,
      epochs_completed: s?.epochs_completed ?? null,
      global_step: s?.global_step ?? null,
      final: s?.final ?? {},
      best: s?.best ?? null,
      images_per_s: s?.throughput?.train_images_per_s ?? null,
      backend: s?.backend ?? null,
      seed: s?.seed ?? null,
      sweep: e.found.sweep ? this.id(e.found.sweep.dir) : null,
      member: m?.label ?? null,
      hparams: m?.hparams ?? {},
      tags: [...e.tags.keys()].sort(),
    };
  }

  rows(): RunRow[] {
    return this.byKey.map((e) => e.row);
  }

  entry(key: number): RunEntry | undefined {
    return this.byKey[key];
  }

  /** Reads what is new in a run's metrics.jsonl; returns the tags that got points (and whether it started over). */
  private pull(e: RunEntry): { tags: string[]; reset: boolean } {
    const path = runPaths(e.found.dir).metrics;
    if (!this.safe(path)) return { tags: [], reset: false };
    e.tail ??= new MetricsTail(path);
    const { points, reset } = e.tail.poll();
    if (reset) {
      e.tags.clear();
      e.cache.clear();
      e.firstWall = NaN;
    }
    const touched = new Set<string>();
    for (const p of points) {
      let t = e.tags.get(p.tag);
      if (!t) e.tags.set(p.tag, (t = { step: [], epoch: [], wall: [], value: [] }));
      t.step.push(p.step);
      t.epoch.push(p.epoch);
      t.wall.push(p.wall_time);
      t.value.push(p.value);
      if (!(e.firstWall <= p.wall_time)) e.firstWall = p.wall_time;
      touched.add(p.tag);
    }
    if (touched.size || reset) e.row = { ...e.row, tags: [...e.tags.keys()].sort() };
    return { tags: [...touched], reset };
  }

  private loading: Promise<void> | undefined;

  /** How many runs' metrics are in memory. */
  loaded(): number {
    return this.byKey.filter((e) => e.tail).length;
  }

  /**
   * Loads every run's metrics not loaded yet, one run per turn of the event loop so that the table, the static files
   * and charts of the runs loaded so far are served meanwhile; progress is announced a few times a second (not per
   * run: each announcement makes every open chart fetch again). Started when the server starts.
   */
  loadAll(): Promise<void> {
    if (this.byKey.every((e) => e.tail)) return Promise.resolve();
    this.loading ??= (async () => {
      let last = performance.now();
      for (const e of this.byKey) {
        if (e.tail) continue;
        this.pull(e);
        if (performance.now() - last > 400) {
          this.emit({ type: 'loading', loaded: this.loaded(), total: this.byKey.length });
          last = performance.now();
        }
        await new Promise((r) => setImmediate(r));
      }
      this.emit({ type: 'loading', loaded: this.loaded(), total: this.byKey.length });
      this.loading = undefined;
    })();
    return this.loading;
  }

  /** One poll: new points of every run, then (with `rescan`) new runs and changed summaries. */
  poll(rescan: boolean): void {
    for (const e of this.byKey) {
      // a run found after the first read is read here (while that read goes on, it gets to it)
      if (!e.tail && this.loading) continue;
      const { tags, reset } = this.pull(e);
      if (tags.length || reset) this.emit({ type: 'metrics', key: e.row.key, tags, reset });
    }
    if (rescan) this.scan();
  }

  /** All tags over all runs, sorted. */
  tags(): string[] {
    const all = new Set<string>();
    for (const e of this.byKey) for (const t of e.tags.keys()) all.add(t);
    return [...all].sort();
  }

  /**
   * A run's points of `tag` with x in the given mode (epoch tags log the epoch as their step), smoothed with
   * TensorBoard's weight when `weight` > 0. Cached until the tag gets points or an epoch ends (charts ask again
   * for every run at every refresh).
   */
  series(key: number, tag: string, mode: XMode, weight = 0): { x: Float64Array; y: Float64Array } | undefined {
    const e = this.byKey[key];
    const t = e?.tags.get(tag);
    if (!e || !t) return undefined;
    const id = `${tag}\0${mode}\0${weight}`;
    const version = `${t.value.length}:${e.summary?.history?.length ?? 0}:${e.firstWall}`;
    const hit = e.cache.get(id);
    if (hit?.version === version) return hit;
    const base = weight > 0 ? this.series(key, tag, mode, 0)! : this.compute(e, t, tag, mode);
    const out = { version, x: base.x, y: weight > 0 ? smooth(base.y, weight) : base.y };
    e.cache.set(id, out);
    return out;
  }

  private compute(e: RunEntry, t: TagSeries, tag: string, mode: XMode): { x: Float64Array; y: Float64Array } {
    const n = t.value.length;
    const x = new Float64Array(n);
    const perEpoch = EPOCH_TAGS.has(tag);
    const hist = e.summary?.history ?? [];
    const spe = hist.length && hist[0]!.epoch > 0 ? hist[0]!.global_step / hist[0]!.epoch : NaN;
    for (let i = 0; i < n; i++) {
      if (mode === 'wall') x[i] = t.wall[i]!;
      else if (mode === 'relative') x[i] = t.wall[i]! - e.firstWall;
      else if (mode === 'epoch') x[i] = perEpoch ? t.epoch[i]! : Number.isFinite(spe) ? t.step[i]! / spe : t.epoch[i]!;
      else x[i] = perEpoch ? (hist.find((h) => h.epoch === t.epoch[i])?.global_step ?? (Number.isFinite(spe) ? t.epoch[i]! * spe : t.step[i]!)) : t.step[i]!;
    }
    return { x, y: Float64Array.from(t.value) };
  }

  /** The run page: summary, configs, accepted changes, checkpoints, error text. */
  detail(key: number): Record<string, unknown> | undefined {
    const e = this.byKey[key];
    if (!e) return undefined;
    const dir = e.found.dir;
    const p = runPaths(dir);
    const text = (path: string, read: () => string | undefined) => (this.safe(path) ? (read() ?? null) : null);
    const checkpoints = this.safe(p.checkpoints)
      ? listCheckpoints(dir).map((name) => {
          const cdir = `${p.checkpoints}${sep}${name}`;
          let bytes = 0;
          let files = 0;
          try {
            for (const f of Object.values(CHECKPOINT_FILES)) {
              const st = lstatSync(`${cdir}${sep}${f}`, { throwIfNoEntry: false });
              if (st?.isFile()) (bytes += st.size), files++;
            }
          } catch {
            // unreadable: shown as 0 files
          }
          return { name, files, bytes };
        })
      : [];
    return {
      row: e.row,
      summary: e.summary ?? null,
      config: text(p.config, () => readConfigText(dir)),
      config_original: text(p.originalConfig, () => readConfigText(dir, 'original')),
      config_history: this.safe(p.configHistory) ? readHistory(dir).map((h) => ({ time: h.time, epoch: h.epoch, checkpoint: h.checkpoint, changes: h.changes })) : [],
      error: text(p.error, () => readErrorText(dir)),
      checkpoints,
      last: this.safe(p.checkpoints) ? (checkpointLink(dir, 'last') ?? null) : null,
      best: this.safe(p.checkpoints) ? (checkpointLink(dir, 'best') ?? null) : null,
    };
  }

  /** A run's config (config.yaml) as key paths → value, for the hparams table and the config diff. */
  flatConfig(key: number): Record<string, unknown> {
    const e = this.byKey[key];
    if (!e) return {};
    const path = runPaths(e.found.dir).config;
    const st = this.safe(path) ? stamp(path) : '';
    if (st !== e.configStamp) {
      e.configStamp = st;
      let doc: unknown;
      try {
        doc = st ? parseYaml(readConfigText(e.found.dir) ?? '') : undefined;
      } catch {
        doc = undefined;
      }
      e.config = doc && typeof doc === 'object' ? Object.fromEntries(flattenConfig(doc)) : undefined;
    }
    return e.config ?? {};
  }
}
