/**
 * The board's view of DIR, read-only: the runs and sweeps under it (src/run/layout.ts finds and reads them), their
 * metrics held in memory per tag (points.ts), and a poll that tails each metrics.jsonl by byte offset and re-reads
 * summaries whose file changed, telling listeners what moved. Nothing outside DIR is read: run directories and the
 * files read in them must resolve (symbolic links included) inside DIR's real path.
 */
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CHECKPOINT_FILES,
  EPOCH_TAGS,
  MetricsTail,
  checkpointLink,
  scanMetricLines,
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
import type { LoadJob, LoadReply } from './load-worker.js';
import { RunPoints, type TagColumns } from './points.js';

export type XMode = 'step' | 'epoch' | 'relative' | 'wall';
export const X_MODES: readonly XMode[] = ['step', 'epoch', 'relative', 'wall'];

/** yaml costs ~50 ms to import: only a config's first parse loads it. */
let parseYaml: ((text: string) => unknown) | undefined;
const yaml = () => (parseYaml ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse);

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
  /** Whether its metrics had their first read (a run without a readable metrics.jsonl counts once tried). */
  read: boolean;
  points: RunPoints;
  config: Record<string, unknown> | undefined;
  configStamp: string;
  /** Chart series by tag, x mode and smoothing (see `series`). */
  cache: Map<string, { version: string; x: Float64Array; y: Float64Array }>;
}

export type StoreEvent =
  | { type: 'run'; row: RunRow }
  | { type: 'metrics'; key: number; tags: string[]; reset: boolean }
  /** Progress of the first read of every run's metrics (a few times a second, and once at the end). */
  | { type: 'loading'; loaded: number; total: number; tags: string[] };

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

  /** `loader`: the compiled load-worker.js, for the first read of the metrics in `workers` threads (see loadAll). */
  constructor(dir: string, private opts: { loader?: string; workers?: number } = {}) {
    this.root = realpathSync(dir);
    // the workers start now: loading their modules overlaps the scan
    if (opts.loader) for (let i = 0; i < (opts.workers ?? 1); i++) this.spawn(opts.loader);
    try {
      this.scan();
    } catch (e) {
      this.close();
      throw e;
    }
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
        e = { found, row: undefined as unknown as RunRow, summary: undefined, summaryStamp: '-', tail: undefined, read: false, points: new RunPoints(), config: undefined, configStamp: '-', cache: new Map() };
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
      tags: [...e.points.tags.keys()].sort(),
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
    e.read = true;
    const path = runPaths(e.found.dir).metrics;
    if (!this.safe(path)) return { tags: [], reset: false };
    e.tail ??= new MetricsTail(path);
    const { bytes, reset } = e.tail.pollBytes();
    if (reset) {
      e.points.clear();
      e.cache.clear();
    }
    const before = new Map<string, number>();
    for (const [t, c] of e.points.tags) before.set(t, c.n);
    scanMetricLines(bytes, e.points.add);
    const touched: string[] = [];
    for (const [t, c] of e.points.tags) if (c.n !== (before.get(t) ?? 0)) touched.push(t);
    if (touched.length || reset) e.row = { ...e.row, tags: [...e.points.tags.keys()].sort() };
    return { tags: touched, reset };
  }

  private loading: Promise<void> | undefined;
  private workers = new Set<Worker>();
  private closed = false;

  /** How many runs had their metrics' first read. */
  loaded(): number {
    let n = 0;
    for (const e of this.byKey) if (e.read) n++;
    return n;
  }

  /**
   * Reads every run's metrics not read yet: in a worker when the server gave one (`loader`; this thread only takes
   * each run's columns as they come, and keeps serving), else, or for what the worker did not do (it failed, or runs
   * appeared meanwhile), here, one run per turn of the event loop. Progress is announced a few times a second (not
   * per run: each announcement makes every open chart fetch again), at once when a tag appears (the page adds its
   * chart), and at the end. Started when the server starts.
   */
  loadAll(): Promise<void> {
    if (this.byKey.every((e) => e.read)) return Promise.resolve();
    this.loading ??= this.readAll().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async readAll(): Promise<void> {
    let last = performance.now();
    const known = new Set(this.tags());
    const progress = (e: RunEntry) => {
      let fresh = false;
      for (const t of e.points.tags.keys()) if (!known.has(t)) (known.add(t), (fresh = true));
      if (!fresh && performance.now() - last <= 400) return;
      this.emit({ type: 'loading', loaded: this.loaded(), total: this.byKey.length, tags: [...known].sort() });
      last = performance.now();
    };
    if (this.opts.loader) await this.readInWorkers(this.opts.loader, progress);
    for (const e of this.byKey) {
      if (this.closed) return;
      if (e.read) continue;
      try {
        this.pull(e);
      } catch {
        // unreadable now: the poll tries again
      }
      progress(e);
      await new Promise((r) => setImmediate(r));
    }
    this.emit({ type: 'loading', loaded: this.loaded(), total: this.byKey.length, tags: this.tags() });
  }

  /**
   * The first read in workers (`workers` of them, each a share of the runs in table order); settles when they have
   * all ended, however they end (what one did not read is left unread).
   */
  private readInWorkers(file: string, progress: (e: RunEntry) => void): Promise<void> {
    const jobs: LoadJob[] = [];
    for (const e of this.byKey) {
      if (e.read) continue;
      const path = runPaths(e.found.dir).metrics;
      if (this.safe(path)) jobs.push({ key: e.row.key, path });
      else e.read = true; // nothing to read (yet): the poll looks again
    }
    const n = Math.min(this.opts.workers ?? 1, jobs.length);
    while (this.idle.length < n && this.spawn(file));
    const started = this.idle.splice(0, n);
    for (const w of this.idle.splice(0)) void w.terminate();
    return Promise.all(started.map((w, k) => this.readInWorker(w, jobs.filter((_, i) => i % started.length === k), progress))).then(() => undefined);
  }

  /** Workers started and not given runs yet; `gone`: those that ended (whenever they did). */
  private idle: Worker[] = [];
  private gone = new WeakSet<Worker>();

  private spawn(file: string): boolean {
    let w: Worker;
    try {
      // execArgv: [] — not the parent's flags (a test runner's loaders would load into the worker)
      w = new Worker(file, { execArgv: [] });
    } catch {
      return false;
    }
    this.workers.add(w);
    w.on('error', () => this.gone.add(w));
    w.on('exit', () => (this.gone.add(w), this.workers.delete(w)));
    this.idle.push(w);
    return true;
  }

  private readInWorker(w: Worker, jobs: LoadJob[], progress: (e: RunEntry) => void): Promise<void> {
    return new Promise((resolve) => {
      if (this.gone.has(w)) return resolve();
      // done when every run is answered (then it is stopped), or when it ends first
      let answered = 0;
      w.on('error', () => resolve());
      w.on('exit', () => resolve());
      w.postMessage(jobs);
      w.on('message', (m: LoadReply) => {
        if (++answered === jobs.length) void w.terminate().finally(resolve);
        const e = this.byKey[m.key];
        if (!e || e.read || 'error' in m || this.closed) return;
        e.tail = new MetricsTail(runPaths(e.found.dir).metrics, m.state);
        e.points = RunPoints.fromMessage(m.points);
        e.cache.clear();
        e.read = true;
        e.row = { ...e.row, tags: [...e.points.tags.keys()].sort() };
        progress(e);
      });
    });
  }

  /** Stops a first read under way (its workers are terminated). */
  close(): void {
    this.closed = true;
    for (const w of this.workers) void w.terminate();
  }

  /** One poll: new points of every run, then (with `rescan`) new runs and changed summaries. */
  poll(rescan: boolean): void {
    for (const e of this.byKey) {
      // a run found after the first read is read here (while that read goes on, it gets to it)
      if (!e.read && this.loading) continue;
      const { tags, reset } = this.pull(e);
      if (tags.length || reset) this.emit({ type: 'metrics', key: e.row.key, tags, reset });
    }
    if (rescan) this.scan();
  }

  /** All tags over all runs, sorted. */
  tags(): string[] {
    const all = new Set<string>();
    for (const e of this.byKey) for (const t of e.points.tags.keys()) all.add(t);
    return [...all].sort();
  }

  /**
   * A run's points of `tag` with x in the given mode (epoch tags log the epoch as their step), smoothed with
   * TensorBoard's weight when `weight` > 0. Cached until the tag gets points or an epoch ends (charts ask again
   * for every run at every refresh).
   */
  series(key: number, tag: string, mode: XMode, weight = 0): { x: Float64Array; y: Float64Array } | undefined {
    const e = this.byKey[key];
    const t = e?.points.tags.get(tag);
    if (!e || !t) return undefined;
    const id = `${tag}\0${mode}\0${weight}`;
    const version = `${t.n}:${e.summary?.history?.length ?? 0}:${e.points.firstWall}`;
    const hit = e.cache.get(id);
    if (hit?.version === version) return hit;
    const base = weight > 0 ? this.series(key, tag, mode, 0)! : this.compute(e, t, tag, mode);
    const out = { version, x: base.x, y: weight > 0 ? smooth(base.y, weight) : base.y };
    e.cache.set(id, out);
    return out;
  }

  /** x and y of a tag; views of the columns where x is a column as it is (columns never change below their n). */
  private compute(e: RunEntry, t: TagColumns, tag: string, mode: XMode): { x: Float64Array; y: Float64Array } {
    const n = t.n;
    const y = t.value.subarray(0, n);
    const perEpoch = EPOCH_TAGS.has(tag);
    if (mode === 'wall') return { x: t.wall.subarray(0, n), y };
    if (mode === 'step' && !perEpoch) return { x: t.step.subarray(0, n), y };
    const x = new Float64Array(n);
    const hist = e.summary?.history ?? [];
    const spe = hist.length && hist[0]!.epoch > 0 ? hist[0]!.global_step / hist[0]!.epoch : NaN;
    const firstWall = e.points.firstWall;
    for (let i = 0; i < n; i++) {
      if (mode === 'relative') x[i] = t.wall[i]! - firstWall;
      else if (mode === 'epoch') x[i] = perEpoch ? t.epoch[i]! : Number.isFinite(spe) ? t.step[i]! / spe : t.epoch[i]!;
      else x[i] = hist.find((h) => h.epoch === t.epoch[i])?.global_step ?? (Number.isFinite(spe) ? t.epoch[i]! * spe : t.step[i]!);
    }
    return { x, y };
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
        doc = st ? yaml()(readConfigText(e.found.dir) ?? '') : undefined;
      } catch {
        doc = undefined;
      }
      e.config = doc && typeof doc === 'object' ? Object.fromEntries(flattenConfig(doc)) : undefined;
    }
    return e.config ?? {};
  }
}
