/**
 * From glob patterns to a validated list of sweep members: find the files, expand each file's grid, apply `--set`,
 * validate every member with the config layer and collect every error before anything runs.
 */
import { basename, extname, isAbsolute, relative, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { expandFilePatterns } from '../config/files.js';
import { formatError, loadExperiment, type ConfigError, type ResolvedExperiment } from '../config/index.js';
import { expandGrid, formatSweepError, overrideKey, readGrid, type GridValue } from './grid.js';
import { uniqueNames } from './naming.js';
import type { HParam } from '../run/layout.js';

export type { HParam };

export interface PlannedMember {
  /** Absolute path of the experiment file. */
  file: string;
  /** The experiment's `name`. */
  experiment: string;
  /** What distinguishes this member: `optimizer.lr=0.1,dataset.batch_size=32`, or the experiment name. */
  label: string;
  /** Its run directory's name inside the sweep directory (file-system safe, unique). */
  dir: string;
  /** Grid overrides, then `--set`: exactly what `runExperiment` gets. */
  overrides: string[];
  /** This member's grid point (key → value). */
  grid: Record<string, GridValue>;
  /** Values of the sweep's hyperparameters (see {@link Plan.hparams}) for TensorBoard and the summary. */
  hparams: Record<string, HParam>;
}

export interface Plan {
  files: string[];
  members: PlannedMember[];
  /** Hyperparameter names: `experiment` when members come from several files, the grid keys, then the config values
   * in which the files differ. */
  hparams: string[];
  /** Formatted errors (`FILE:LINE:COL: error: ...`), deduplicated; non-empty means nothing may run. */
  errors: string[];
  /** Formatted warnings (legal but suspicious settings, as validate and run print them), deduplicated. */
  warnings: string[];
}

/** Experiment files for the patterns, in pattern order: a file, a directory (its *.yaml / *.yml) or a glob. */
export function findFiles(patterns: string[], cwd: string): { files: string[]; errors: string[] } {
  const { files, errors } = expandFilePatterns(patterns, cwd);
  return { files: files.map((f) => f.abs), errors };
}

interface Draft {
  file: string;
  experiment: string;
  label: string;
  overrides: string[];
  grid: Record<string, GridValue>;
  resolved: ResolvedExperiment;
}

/** Expand and validate every member of every file. */
export function planSweep(patterns: string[], opts: { set?: string[]; cwd?: string } = {}): Plan {
  const cwd = opts.cwd ?? process.cwd();
  const set = opts.set ?? [];
  const { files, errors: findErrors } = findFiles(patterns, cwd);
  const errors: string[] = [...findErrors];
  const warnings = new Set<string>();
  const warn = (ws: ConfigError[] | undefined, file: string, shown: string, locs: Record<string, { line: number; col: number }> = {}) => {
    for (const w of ws ?? []) {
      const r = relocate(w, locs, file);
      warnings.add(formatError(r.file === file ? { ...r, file: shown } : r));
    }
  };
  const drafts: Draft[] = [];
  const gridKeys: string[] = [];
  const bases = new Map<string, ResolvedExperiment>();

  for (const file of files) {
    const shown = displayPath(file, cwd);
    const grid = readGrid(file);
    errors.push(...grid.errors.map((e) => formatSweepError({ ...e, file: shown })));
    if (grid.errors.length > 0) continue;
    const setKeys = new Set(set.map(overrideKey));
    const axisKeys = grid.axes.flatMap((a) => (a.keys ?? [a.key]).map((key) => ({ key, loc: a.locs[0] })));
    const clash = axisKeys.filter((a) => setKeys.has(a.key));
    for (const a of clash) {
      const loc = a.loc ?? { line: 1, col: 1 };
      errors.push(formatSweepError({ file: shown, line: loc.line, col: loc.col, message: `--set ${a.key}=... conflicts with the sweep grid over ${a.key}; drop one of them` }));
    }
    if (clash.length > 0) continue;
    for (const a of axisKeys) if (!gridKeys.includes(a.key)) gridKeys.push(a.key);

    const base = loadExperiment(file, { overrides: set, cwd });
    if (base.errors.length === 0) {
      bases.set(file, base.experiment);
      warn(base.warnings, file, shown);
    }
    else if (grid.axes.length === 0 || base.errors.some(isGridValueError)) {
      // errors of single grid values are reported once, at the value, not once per member that has it
      errors.push(...base.errors.map((e) => formatError(e.file === file ? { ...e, file: shown } : e)));
      continue;
    }

    // Validate each point; an error that every point of the file shares is shown once.
    const points = expandGrid(grid.axes);
    const counts = new Map<string, { n: number; labels: string[] }>();
    for (const point of points) {
      // A member is one point: its config has no grid (`sweep: null`, also in its config.yaml).
      const overrides = grid.axes.length ? ['sweep=null', ...point.overrides, ...set] : [...point.overrides, ...set];
      const loaded = loadExperiment(file, { overrides, cwd });
      if (loaded.errors.length > 0) {
        for (const e of loaded.errors) {
          const r = relocate(e, point.locs, file);
          const text = formatError(r.file === file ? { ...r, file: shown } : r);
          const c = counts.get(text) ?? { n: 0, labels: [] };
          c.n++;
          c.labels.push(point.label);
          counts.set(text, c);
        }
        continue;
      }
      warn(loaded.warnings, file, shown, point.locs);
      drafts.push({ file, experiment: loaded.experiment.name, label: point.label, overrides, grid: point.values, resolved: loaded.experiment });
    }
    for (const [text, c] of counts) {
      if (c.n === points.length || points.length === 1) errors.push(text);
      else errors.push(`${text} (sweep member ${c.labels[0]}${c.labels.length > 1 ? ` and ${c.labels.length - 1} more` : ''})`);
    }
  }

  const unique = [...new Set(errors)];
  if (unique.length > 0 || drafts.length === 0) {
    if (unique.length === 0) unique.push('tudui: error: no sweep members: no experiment files found');
    return { files, members: [], hparams: [], errors: unique, warnings: [...warnings] };
  }

  // Labels: what varies within a single file; experiment names (plus the grid point) across files.
  const multiFile = new Set(drafts.map((d) => d.file)).size > 1;
  const labels = drafts.map((d) => (multiFile ? (d.label ? `${d.experiment},${d.label}` : d.experiment) : d.label || d.experiment));
  const dirs = uniqueNames(labels);
  const uniqueLabels = labels.map((l, i) => (labels.indexOf(l) === i ? l : `${l}-${dirs[i]!.split('-').pop()}`));

  // Hyperparameters: experiment (several files), grid keys, and config values in which the files differ.
  const hparamNames: string[] = [];
  if (multiFile) hparamNames.push('experiment');
  hparamNames.push(...gridKeys);
  if (multiFile) {
    const flats = [...bases.values()].map(flatten);
    const keys = new Set(flats.flatMap((f) => Object.keys(f)));
    for (const k of keys) {
      if (hparamNames.includes(k)) continue;
      const vs = new Set(flats.map((f) => JSON.stringify(f[k] ?? null)));
      if (vs.size > 1) hparamNames.push(k);
    }
  }
  const flatMembers = drafts.map((d) => flatten(d.resolved));
  const columns = new Map<string, Array<HParam | undefined>>();
  for (const name of hparamNames) {
    const raw = drafts.map((d, i) => (name === 'experiment' ? d.experiment : name in d.grid ? toHParam(d.grid[name]!) : flatMembers[i]![name]));
    const types = new Set(raw.filter((v) => v !== undefined).map((v) => typeof v));
    columns.set(name, types.size > 1 ? raw.map((v) => (v === undefined ? v : String(v))) : raw);
  }

  const members: PlannedMember[] = drafts.map((d, i) => {
    const hparams: Record<string, HParam> = {};
    for (const name of hparamNames) {
      const v = columns.get(name)![i];
      if (v !== undefined) hparams[name] = v;
    }
    return { file: d.file, experiment: d.experiment, label: uniqueLabels[i]!, dir: dirs[i]!, overrides: d.overrides, grid: d.grid, hparams };
  });
  return { files, members, hparams: hparamNames, errors: [], warnings: [...warnings] };
}

/** An error the config layer found in one value of the file's `sweep:` grid (validated value by value). */
function isGridValueError(e: ConfigError): boolean {
  return e.override === undefined && (e.path.startsWith('sweep') || / \(with [^()]+ = .*\)$/.test(e.message));
}

/** An error caused by a grid override points at the grid value in the file instead of at the override. */
function relocate(e: ConfigError, locs: Record<string, { line: number; col: number }>, file: string): ConfigError {
  if (e.override === undefined) return e;
  const loc = locs[e.override];
  if (!loc) return e;
  const { override: _override, ...rest } = e;
  return { ...rest, file, line: loc.line, col: loc.col };
}

function toHParam(v: GridValue): HParam {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v);
}

/** Scalar leaves of a resolved config by key path (arrays of scalars as JSON; layers as their kinds and options). */
export function flatten(exp: ResolvedExperiment): Record<string, HParam> {
  const out: Record<string, HParam> = {};
  const walk = (v: unknown, path: string) => {
    if (v === null || v === undefined) {
      out[path] = 'null';
    } else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
      out[path] = v;
    } else if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== 'object')) out[path] = JSON.stringify(v);
      else v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'loc') continue;
        walk(x, path ? `${path}.${k}` : k);
      }
    }
  };
  const { name: _n, description: _d, sweep: _s, model, ...rest } = exp;
  walk(rest, '');
  out['model.init'] = model.init;
  out['model.layers'] = model.layers.map((l) => l.kind).join(',');
  model.layers.forEach((l, i) => walk(l.options, `model.layers[${i}].${l.kind}`));
  return out;
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Default sweep name: the single file's experiment `name` (as `tudui run` names its runs), else `sweep`. */
export function defaultSweepName(files: string[]): string {
  if (files.length !== 1) return 'sweep';
  try {
    const name = parseDocument(readFileSync(files[0]!, 'utf8')).get('name');
    if (typeof name === 'string' && name) return name;
  } catch {
    // unreadable: the plan has reported it
  }
  return basename(files[0]!, extname(files[0]!));
}
