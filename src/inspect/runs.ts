/**
 * A run as `ls`, `show` and `compare` see it: its summary and status (a dead writer reads as interrupted), its config
 * as key paths and its metrics, each read once through the run directory's layout and only when asked for.
 */
import { basename, dirname, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { UserError } from '../errors.js';
import {
  findRuns,
  flattenConfig,
  isRunDir,
  isSweepDir,
  memberDir,
  readConfigText,
  readManifest,
  readMetrics,
  readStatus,
  readSummary,
  runPaths,
  TAGS,
  type Manifest,
  type ManifestMember,
  type MetricPoint,
  type RunStatus,
  type RunSummary,
} from '../run/layout.js';

export type ListedStatus = RunStatus | 'pending';

export interface RunRecord {
  /** Absolute path of the run directory. */
  dir: string;
  /** The path shown: relative to the directory listed (or to the working directory). */
  path: string;
  /** The experiment's name; for a sweep member `<sweep>/<member label>`. */
  name: string;
  status: ListedStatus;
  summary: RunSummary | undefined;
  sweep?: { dir: string; name: string; member: ManifestMember };
  /** The config in effect (config.yaml) as key paths → values; empty when it cannot be read. */
  config(): Map<string, unknown>;
  /** Every point of metrics.jsonl, oldest first. */
  metrics(): MetricPoint[];
  /** The points of one tag, in order. */
  series(tag: string): MetricPoint[];
  /** The metric the run monitors for its best checkpoint. */
  monitor(): string;
}

function record(dir: string, root: string, sweep?: { dir: string; manifest: Manifest; member: ManifestMember }): RunRecord {
  const summary = readSummary(dir);
  const exists = isRunDir(dir);
  const status: ListedStatus = exists ? (readStatus(dir, summary) ?? 'interrupted') : 'pending';
  let config: Map<string, unknown> | undefined;
  let metrics: MetricPoint[] | undefined;
  let byTag: Map<string, MetricPoint[]> | undefined;
  const rel = relative(root, dir);
  const r: RunRecord = {
    dir,
    path: rel === '' ? basename(dir) : rel.startsWith('..') ? dir : rel,
    name: sweep ? `${sweep.manifest.name}/${sweep.member.label}` : (summary?.name ?? basename(dirname(dir))),
    status,
    summary,
    ...(sweep ? { sweep: { dir: sweep.dir, name: sweep.manifest.name, member: sweep.member } } : {}),
    config() {
      if (!config) {
        const text = readConfigText(dir);
        let obj: unknown = {};
        try {
          obj = text === undefined ? {} : parse(text);
        } catch {
          obj = {};
        }
        config = flattenConfig(obj ?? {});
      }
      return config;
    },
    metrics() {
      metrics ??= readMetrics(runPaths(dir).metrics);
      return metrics;
    },
    series(tag) {
      if (!byTag) {
        byTag = new Map();
        for (const p of r.metrics()) {
          let s = byTag.get(p.tag);
          if (!s) byTag.set(p.tag, (s = []));
          s.push(p);
        }
      }
      return byTag.get(tag) ?? [];
    },
    monitor() {
      return summary?.best?.metric ?? (r.config().get('checkpoint.monitor') as string | undefined) ?? TAGS.testAccuracy;
    },
  };
  return r;
}

/**
 * Every run under `root` (a runs directory, a sweep directory or one run directory), sweep members included; a
 * member not started yet is listed as `pending`.
 */
export function loadRuns(root: string): RunRecord[] {
  const abs = resolve(root);
  const { runs, sweeps } = findRuns(abs);
  const out: RunRecord[] = [];
  const seen = new Set<string>();
  const sweepOf = new Map(sweeps.map((s) => [s.dir, s.manifest]));
  for (const f of runs) {
    seen.add(f.dir);
    out.push(record(f.dir, abs, f.sweep ? { dir: f.sweep.dir, manifest: sweepOf.get(f.sweep.dir)!, member: f.sweep.member } : undefined));
  }
  for (const s of sweeps) {
    for (const m of s.manifest.members) {
      const dir = memberDir(s.dir, m);
      if (dir && !seen.has(dir)) out.push(record(dir, abs, { dir: s.dir, manifest: s.manifest, member: m }));
    }
  }
  // Oldest first, as they were started (members not started yet after their sweep's started ones).
  const key = (r: RunRecord) => r.summary?.started_at ?? r.sweep?.member.started_at ?? '\uffff';
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One run directory, for `show`; a directory holding several runs names the newest (by start time). */
export function loadRun(path: string): { run: RunRecord; note?: string } {
  const abs = resolve(path);
  if (isRunDir(abs)) return { run: sweepAware(abs) };
  if (isSweepDir(abs)) throw new UserError(`${path} is a sweep directory, not a run`, `compare its members with: tudui compare ${path}; list them with: tudui ls ${path}`);
  const runs = loadRuns(abs).filter((r) => r.status !== 'pending');
  if (runs.length === 0) throw new UserError(`${path} is not a run directory: it has no ${'summary.json'} and no run below it`, 'pass a directory that `tudui run` printed, e.g. runs/<name>/<timestamp>, or list them with: tudui ls');
  const newest = runs.reduce((a, b) => ((b.summary?.started_at ?? '') > (a.summary?.started_at ?? '') ? b : a));
  return { run: newest, ...(runs.length > 1 ? { note: `the newest of the ${runs.length} runs under ${path}` } : {}) };
}

/** A run directory as a record, naming its sweep when it is a member of one (its parent holds the manifest). */
function sweepAware(dir: string): RunRecord {
  const parent = dirname(dir);
  if (isSweepDir(parent)) {
    try {
      const manifest = readManifest(parent);
      const member = manifest.members.find((m) => memberDir(parent, m) === dir);
      if (member) return record(dir, process.cwd(), { dir: parent, manifest, member });
    } catch {
      // not a readable manifest: a plain run
    }
  }
  return record(dir, process.cwd());
}

/** Runs named on the command line: run directories as they are, a sweep directory as its members. */
export function loadNamedRuns(paths: string[]): { runs: RunRecord[]; sweep?: { dir: string; manifest: Manifest } } {
  const runs: RunRecord[] = [];
  let sweep: { dir: string; manifest: Manifest } | undefined;
  for (const p of paths) {
    const abs = resolve(p);
    if (isSweepDir(abs)) {
      const manifest = readManifest(abs);
      if (paths.length === 1) sweep = { dir: abs, manifest };
      for (const m of manifest.members) {
        const dir = memberDir(abs, m);
        if (dir) runs.push(record(dir, process.cwd(), { dir: abs, manifest, member: m }));
      }
    } else if (isRunDir(abs)) {
      runs.push(sweepAware(abs));
    } else {
      throw new UserError(`${p} is neither a run directory nor a sweep directory (no summary.json, no sweep.json)`, 'pass directories that `tudui run` or `tudui sweep` printed; list them with: tudui ls');
    }
  }
  return { runs, ...(sweep ? { sweep } : {}) };
}
