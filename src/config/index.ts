/**
 * The config layer: experiment files (YAML with positions) + `--set` overrides → ResolvedExperiment, with every
 * problem reported as FILE:LINE:COL. Never imports TensorFlow at run time.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { SchemaWalker, type RawError } from './check.js';
import { applyOverrides, type Override } from './overrides.js';
import { formatPath, parsePath, show, startsWith, didYouMean, type Seg } from './paths.js';
import { resolveExperiment } from './resolve.js';
import { getSchema, getValidator } from './schema.js';
import { runChecks } from './semantic.js';
import { blockKeyPathError, framesText, RESIDUAL } from './blocks.js';
import './blocks-checks.js';
import { exactNode, locate, parseSource, posOf, type Source } from './source.js';
import { findLayer } from '../model/registry.js';
import type { Experiment } from './experiment.generated.js';
import type { ConfigError, ResolvedExperiment } from './types.js';

export type * from './types.js';
export type { Experiment } from './experiment.generated.js';
export { parseOverride, applyOverrides, type Override, type OverrideError } from './overrides.js';
export { resolvedToYaml, experimentHash, resolvedToObject } from './emit.js';
export { inputInfo, type InputInfo } from './datasets.js';
export { registerCheck, type SemanticCheck, type CheckContext } from './semantic.js';
export { getSchema } from './schema.js';
export { formatPath, parsePath } from './paths.js';

export interface LoadOptions {
  overrides?: string[];
  /** Working directory for relative dataset paths (default: process.cwd()). */
  cwd?: string;
}

export interface LoadResult {
  /** The resolved experiment; only meaningful when `errors` is empty (undefined at run time otherwise). */
  experiment: ResolvedExperiment;
  errors: ConfigError[];
  /** Legal but suspicious settings (printed by validate and run, never fatal); absent when there are none. */
  warnings?: ConfigError[];
  /** The file's text ('' when it could not be read). */
  source: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One-line rendering: 'FILE:LINE:COL: error: key.path: message', or '--set ARG: error: ...' for overrides. */
export function formatError(e: ConfigError): string {
  const where = e.override !== undefined ? `--set ${e.override}` : e.line !== undefined ? `${e.file}:${e.line}:${e.col}` : e.file;
  return `${where}: ${e.warning ? 'warning' : 'error'}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

function fail(file: string, message: string, text = ''): LoadResult {
  return { experiment: undefined as unknown as ResolvedExperiment, errors: [{ file, path: '', message }], source: text };
}

/** Loads, overrides, validates and resolves one experiment file. Never throws for bad input. */
export function loadExperiment(file: string, opts: LoadOptions = {}): LoadResult {
  const cwd = opts.cwd ?? process.cwd();
  let text: string;
  try {
    const st = statSync(resolvePath(cwd, file));
    if (st.isDirectory()) return fail(file, 'is a directory, expected an experiment file (.yaml)');
    text = readFileSync(resolvePath(cwd, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(file, code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`);
  }
  return loadExperimentText(file, text, opts);
}

/** Like loadExperiment, for text already in memory (`file` names it in errors). */
export function loadExperimentText(file: string, text: string, opts: LoadOptions = {}): LoadResult {
  const cwd = opts.cwd ?? process.cwd();
  const src = parseSource(file, text);
  const errors: ConfigError[] = [];
  if (src.doc.errors.length) {
    // The first syntax error, explained; the parser's later ones almost always follow from it.
    const { offset, message } = yamlSyntaxError(text, src.doc.errors[0]!);
    const p = posOf(src, offset);
    errors.push({ file, line: p.line, col: p.col, path: '', message: `YAML syntax: ${message}` });
    return { experiment: undefined as unknown as ResolvedExperiment, errors, source: text };
  }
  let raw: unknown;
  try {
    raw = src.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return fail(file, `YAML: ${(e as Error).message}`, text);
  }
  // Top-level `x-...` keys are ignored: a place for YAML anchors (`x-conv: &conv {...}`, then `<<: *conv`).
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const k of Object.keys(raw)) if (k.startsWith('x-')) delete (raw as Json)[k];
  }
  const { doc, errors: oErrs, applied } = applyOverrides(raw, opts.overrides ?? []);
  for (const e of oErrs) errors.push({ file, override: e.override, path: '', message: e.message });
  const rawErrors = checkDocument(raw === null || typeof raw !== 'object' ? raw : doc, cwd, (i) => {
    const p = locate(src, ['model', 'layers', i], 'value');
    return p ? { file, ...p } : undefined;
  });
  const experiment = rawErrors.experiment;
  // Where dataset.root was written, for errors found while loading the data (none when --set gave it).
  if (experiment && exactNode(src, ['dataset', 'root']) !== undefined && !findOverride(applied, ['dataset', 'root'])) {
    const p = locate(src, ['dataset', 'root'], 'value');
    if (p) Object.defineProperty(experiment.dataset, 'loc', { value: { root: { file, ...p } }, enumerable: false });
  }
  const convert = (r: RawError, at?: { path: Seg[]; at: 'key' | 'value' }): ConfigError => {
    const ov = findOverride(applied, r.path) ?? (exactNode(src, r.path) === undefined ? createdBy(applied, r.path) : undefined);
    const w = r.warning ? { warning: true } : {};
    // Inside a block: the line of each use (and copy), after the line inside the block that the error points at.
    if (r.frames?.length) {
      const line = (p: Seg[]) => locate(src, p, 'key')?.line;
      r = { ...r, message: `${r.message} (${framesText(r.frames, line, (b) => line(['model', 'blocks', b]))})` };
    }
    if (ov) return { file, override: ov.text, path: formatPath(r.path), message: r.message, ...w };
    const p = locate(src, at?.path ?? r.path, at?.at ?? r.at);
    return { file, ...(p ?? { line: 1, col: 1 }), path: formatPath(r.path), message: r.message, ...w };
  };
  for (const r of rawErrors.errors) errors.push(convert(r));
  // Sweep: every key path must exist, every value must give a valid experiment.
  if (experiment && doc.sweep && !rawErrors.broken.has('sweep')) {
    const seen = new Set(errors.map((e) => `${e.path}|${e.message}`));
    // Each choice is one value of an axis, or one member of a members list (several keys at once).
    type Choice = { sets: Array<{ key: string; path: Seg[]; value: unknown; keyAt: Seg[] }>; at: Seg[] };
    const axes: Choice[][] = [];
    const memberChoices = (list: unknown, at: Seg[]): Choice[] =>
      (Array.isArray(list) ? list : []).map((m, i) => ({
        at: [...at, i],
        sets: Object.entries(m && typeof m === 'object' && !Array.isArray(m) ? (m as Json) : {}).map(([key, value]) => ({ key, path: parsePath(key) ?? [key], value, keyAt: [...at, i, key] })),
      }));
    if (Array.isArray(doc.sweep)) axes.push(memberChoices(doc.sweep, ['sweep']));
    else {
      for (const [key, values] of Object.entries(doc.sweep as Record<string, unknown[]>)) {
        if (key === 'members') axes.push(memberChoices(values, ['sweep', 'members']));
        else axes.push(values.map((value, i) => ({ at: ['sweep', key, i], sets: [{ key, path: parsePath(key) ?? [key], value, keyAt: ['sweep', key] }] })));
      }
    }
    const badKeys = new Set<string>();
    if (!Array.isArray(doc.sweep) && Array.isArray((doc.sweep as Json).members)) {
      const axisKeys = new Set(Object.keys(doc.sweep as Json).filter((k) => k !== 'members'));
      for (const c of memberChoices((doc.sweep as Json).members, ['sweep', 'members'])) {
        for (const x of c.sets) {
          if (!axisKeys.has(x.key)) continue;
          badKeys.add(formatPath(x.keyAt));
          errors.push(convert({ path: x.keyAt, at: 'key', message: `${x.key} is both an axis of the sweep and set by this member; set it in one place` }));
        }
      }
    }
    for (const choices of axes) {
      for (const c of choices) {
        for (const x of c.sets) {
          const bad = parsePath(x.key) ? pathError(x.path, doc) : `malformed key path '${x.key}' (expected e.g. optimizer.lr)`;
          if (bad && !badKeys.has(formatPath(x.keyAt))) {
            badKeys.add(formatPath(x.keyAt));
            errors.push(convert({ path: x.keyAt, at: 'key', message: bad }));
          }
        }
      }
    }
    for (const choices of axes) {
      for (const c of choices) {
        if (c.sets.some((x) => badKeys.has(formatPath(x.keyAt)))) continue;
        const { doc: d2, errors: e2 } = applyOverrides(doc, c.sets.map((x) => ({ text: `${x.key}=${JSON.stringify(x.value)}`, path: x.path, value: x.value })));
        if (e2.length) {
          errors.push(convert({ path: c.at, at: 'value', message: e2[0]!.message }));
          continue;
        }
        const with_ = c.sets.map((x) => `${x.key} = ${show(x.value)}`).join(', ');
        for (const r of checkDocument(d2, cwd).errors) {
          if (r.warning) continue;
          if (seen.has(`${formatPath(r.path)}|${r.message}`)) continue;
          seen.add(`${formatPath(r.path)}|${r.message}`);
          errors.push(convert({ ...r, message: `${r.message} (with ${with_})` }, { path: c.at, at: 'value' }));
        }
      }
    }
  }
  const argIndex = (e: ConfigError) => (e.override === undefined ? -1 : (opts.overrides ?? []).indexOf(e.override));
  errors.sort((a, b) => argIndex(a) - argIndex(b) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  const all = errors.filter((e, i) => errors.findIndex((x) => formatError(x) === formatError(e)) === i);
  const unique = all.filter((e) => !e.warning);
  const warnings = all.filter((e) => e.warning);
  return {
    experiment: (unique.length ? undefined : experiment) as ResolvedExperiment,
    errors: unique,
    ...(warnings.length && !unique.length ? { warnings } : {}),
    source: text,
  };
}

/** The override that created the (missing from the file) node at `path`: the first one whose path goes through it. */
function createdBy(applied: Override[], path: Seg[]): Override | undefined {
  return path.length ? applied.find((o) => startsWith(o.path, path)) : undefined;
}

function findOverride(applied: Override[], path: Seg[]): Override | undefined {
  let best: Override | undefined;
  for (const o of applied) if (startsWith(path, o.path) && (!best || o.path.length >= best.path.length)) best = o;
  return best;
}

/** Schema pass (ajv decides, the walker explains), then resolution and the semantic checks. */
function checkDocument(
  doc: unknown,
  cwd: string,
  layerLoc?: (i: number) => { file: string; line: number; col: number } | undefined,
): { errors: RawError[]; experiment?: ResolvedExperiment; broken: Set<string> } {
  const schema = getSchema();
  const validate = getValidator();
  const valid = validate(doc) as boolean;
  const walker = new SchemaWalker(schema);
  let errors = walker.check(doc);
  if (!valid && !errors.length) {
    errors = (validate.errors ?? []).map((e) => ({
      path: e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~'))),
      at: 'value' as const,
      message: e.message ?? 'invalid',
    }));
  }
  const broken = new Set(errors.map((e) => String(e.path[0] ?? '*')));
  if (broken.has('*') || doc === null || typeof doc !== 'object') return { errors, broken };
  let experiment: ResolvedExperiment | undefined;
  try {
    experiment = resolveExperiment(doc as Experiment, schema, layerLoc);
  } catch {
    return { errors, broken };
  }
  const semantic = runChecks({ exp: experiment, raw: doc as Json, cwd }, broken);
  return { errors: [...errors, ...semantic], experiment, broken };
}

/** Why a sweep key path does not exist in the experiment language, or undefined when it does. */
function pathError(path: Seg[], doc: Json): string | undefined {
  const walker = new SchemaWalker(getSchema());
  let s: Json = walker.deref(getSchema());
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const here = formatPath(path.slice(0, i + 1));
    if (s.title === 'BlockLayer') return undefined; // inside a block: checked with the values of each use
    if (s.title === 'Layer') {
      // model.layers[i] . <kind> . <option>
      const entry = path.slice(0, i).reduce<any>((v, k) => v?.[k], doc); // eslint-disable-line @typescript-eslint/no-explicit-any
      const written = entry && typeof entry === 'object' ? Object.keys(entry)[0] : entry;
      if (seg === RESIDUAL && (written === undefined || written === RESIDUAL)) {
        s = walker.deref(getSchema().$defs.layer_residual.properties[RESIDUAL]);
        continue;
      }
      const inBlock = blockKeyPathError(String(seg), path[i + 1], written, formatPath(path.slice(0, i)), doc);
      if (inBlock !== false) return inBlock;
      const kind = findLayer(String(seg));
      if (!kind) return `unknown layer '${seg}'${didYouMean(String(seg), [String(written)])}`;
      if (written !== undefined && findLayer(String(written))?.name !== kind.name) return `${formatPath(path.slice(0, i))} is a ${written} layer, not ${seg}`;
      const opt = path[i + 1];
      if (opt === undefined) return undefined;
      if (!(String(opt) in kind.options) && opt !== 'repeat') return `unknown option '${opt}' of ${kind.name}${didYouMean(String(opt), Object.keys(kind.options))}`;
      return undefined;
    }
    if (s.anyOf) {
      const want = typeof seg === 'number' ? 'array' : 'object';
      const b = (s.anyOf as Json[]).map((x) => walker.deref(x)).find((x) => x.type === want || (want === 'object' && x.properties));
      if (!b) return `${formatPath(path.slice(0, i))} has no key '${seg}'`;
      s = b;
    }
    if (typeof seg === 'number') {
      if (s.type !== 'array') return `${formatPath(path.slice(0, i))} is not a list`;
      const arr = path.slice(0, i).reduce<any>((v, k) => v?.[k], doc); // eslint-disable-line @typescript-eslint/no-explicit-any
      if (Array.isArray(arr) && seg >= arr.length && s.items?.$ref === '#/$defs/layer') return `${formatPath(path.slice(0, i))} has ${arr.length} entries`;
      s = walker.deref(s.items ?? {});
    } else {
      const props: Json = s.properties ?? {};
      if (!(seg in props) && s.additionalProperties && typeof s.additionalProperties === 'object') {
        s = walker.deref(s.additionalProperties); // e.g. model.blocks.<name>
        continue;
      }
      if (!(seg in props)) return `unknown key '${here}'${didYouMean(seg, Object.keys(props))}`;
      s = walker.deref(props[seg]);
    }
  }
  return undefined;
}

/** Offset of the flow collection opener ('[' or '{') still open at `end`, skipping quoted text and comments. */
function unclosedFlow(text: string, end: number, open: '[' | '{'): number | undefined {
  const stack: Array<{ c: string; at: number }> = [];
  for (let i = 0; i < end; i++) {
    const c = text[i]!;
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < end && text[i] !== '\n') i++;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s,[{:]/.test(text[i - 1]!))) {
      for (i++; i < end && text[i] !== c; i++) if (c === '"' && text[i] === '\\') i++;
    } else if (c === '[' || c === '{') stack.push({ c, at: i });
    else if ((c === ']' || c === '}') && stack.length) stack.pop();
  }
  for (let k = stack.length - 1; k >= 0; k--) if (stack[k]!.c === open) return stack[k]!.at;
  return undefined;
}

/** One YAML syntax error as one true line, at the place to fix. */
function yamlSyntaxError(text: string, e: { code: string; message: string; pos: [number, number] }): { offset: number; message: string } {
  const msg = e.message;
  const flow = /^Flow (sequence|map) in block collection must be sufficiently indented and end with a ([\]}])/.exec(msg);
  if (flow) {
    const open = flow[1] === 'sequence' ? '[' : '{';
    const at = unclosedFlow(text, e.pos[0], open);
    if (at !== undefined) return { offset: at, message: `this '${open}' is never closed: end the ${flow[1] === 'sequence' ? 'list' : 'map'} with '${flow[2]}' on the same line (or indent its continuation lines)` };
  }
  if (e.code === 'MULTIPLE_DOCS') {
    const n = text.split(/^---\s*$/m).filter((d) => d.trim()).length;
    return { offset: e.pos[0], message: `an experiment file holds one document, this one has ${n}: remove this '---' separator (put other experiments in their own files)` };
  }
  if (/^(Nested mappings are not allowed in compact mappings|Implicit keys need to be on a single line)/.test(msg)) {
    // `key: value` followed by a line indented deeper than `key`: point at that line.
    const nl = text.indexOf('\n', e.pos[0]);
    if (nl >= 0) {
      const ind = /^[ \t]*/.exec(text.slice(nl + 1))![0].length;
      return { offset: nl + 1 + ind, message: 'wrong indentation: this line is indented deeper than the key above it, which already has a value; keys of one map start at the same column' };
    }
  }
  if (/^All mapping items must start at the same column/.test(msg)) {
    return { offset: e.pos[0], message: 'wrong indentation: keys of one map must start at the same column as the key above' };
  }
  return { offset: e.pos[0], message: yamlMessage(msg, e.code) };
}

function yamlMessage(msg: string, code: string): string {
  const first = msg.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return code === 'DUPLICATE_KEY' ? 'duplicate key (map keys must be unique)' : first;
}

export interface FileReport {
  file: string;
  ok: boolean;
  errors: ConfigError[];
  warnings?: ConfigError[];
}

/** Validates several files with the same overrides. */
export function validateFiles(files: string[], overrides: string[] = [], opts: { cwd?: string } = {}): { ok: boolean; reports: FileReport[] } {
  const reports = files.map((file) => {
    let r: LoadResult;
    try {
      r = loadExperiment(file, { overrides, cwd: opts.cwd });
    } catch (e) {
      // a check that threw is a bug, but it must not hide the other files' reports
      r = fail(file, `internal error while checking: ${(e as Error).message}`);
    }
    return { file, ok: r.errors.length === 0, errors: r.errors, ...(r.warnings ? { warnings: r.warnings } : {}) };
  });
  return { ok: reports.every((r) => r.ok), reports };
}
