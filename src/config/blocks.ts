/**
 * The nested model language: user-defined layer kinds (`model.blocks`), `repeat: N` and `residual`.
 *
 * Resolution keeps the structure as written (a block use stays `{ kind: 'cbr', options: { f: 32, stride: 1 } }`, a
 * residual `{ kind: 'residual', options: { shortcut, layers } }`), so config.yaml, `--set` and sweep key paths speak
 * the user's language. `planModel` expands it into the tree that shape checking, the summary, the builder and the
 * bench use: `$name` values substituted, copies made, shapes inferred, the shortcut projection chosen. A flat list
 * plans to the same layers, names (`l3_conv2d`) and order as before blocks existed.
 */
import { findLayer, getLayer, layerNames } from '../model/registry.js';
import type { Shape } from '../model/layer-kind.js';
import { didYouMean, show, startsWith, type Seg } from './paths.js';
import { resolveLayer } from './layer-entry.js';
import type { ResolvedLayer } from './types.js';
import type { RawError, SchemaWalker } from './check.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const RESIDUAL = 'residual';
/** The `params` value that marks a parameter without a default. */
export const REQUIRED = 'required';
export const BLOCK_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]*$';
const BLOCK_NAME = new RegExp(BLOCK_NAME_PATTERN);
const REF = /^\$([A-Za-z_][A-Za-z0-9_]*)$/;

/** A block as resolved: its params (name → default, or 'required') and its layers as written (`$name` values kept). */
export interface ResolvedBlock {
  description?: string;
  params: Record<string, unknown>;
  layers: unknown[];
}

/** One enclosing use, innermost first: a block use (with its copy) or a plain `repeat` copy. */
export interface UseFrame {
  block?: string;
  usePath: Seg[];
  copy: number;
  copies: number;
}

interface ModelLike {
  layers: ResolvedLayer[];
  blocks?: Record<string, ResolvedBlock>;
}

const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The kind an entry names ('- relu', '- conv2d: {...}'), or undefined when it is not a one-key map or string. */
export function entryName(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (isMap(entry) && Object.keys(entry).length === 1) return Object.keys(entry)[0];
  return undefined;
}

function entryValue(entry: unknown): unknown {
  return isMap(entry) ? entry[Object.keys(entry)[0]!] : null;
}

/** Whether the model needs more than the flat path: blocks, residuals or repeats. */
export function isNested(model: ModelLike): boolean {
  const nested = (ls: ResolvedLayer[]): boolean => ls.some((l) => l.kind === RESIDUAL || l.repeat !== undefined || nested(residualLayers(l)));
  return (model.blocks !== undefined && Object.keys(model.blocks).length > 0) || nested(model.layers);
}

function residualLayers(l: ResolvedLayer): ResolvedLayer[] {
  return l.kind === RESIDUAL ? ((l.options.layers as ResolvedLayer[] | undefined) ?? []) : [];
}

/** `v` with every whole `$name` value replaced from `values` (unknown names are left for the checks to report). */
export function substitute(v: unknown, values: Json): unknown {
  if (typeof v === 'string') {
    const m = REF.exec(v);
    return m && m[1]! in values ? structuredClone(values[m[1]!]) : v;
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, values));
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, values)]));
  return v;
}

/** A block's parameter values for a use: its defaults, then the options given. */
function paramValues(block: ResolvedBlock, given: Json): Json {
  const out: Json = {};
  for (const [k, d] of Object.entries(block.params)) {
    if (k in given) out[k] = structuredClone(given[k]);
    else if (d !== REQUIRED) out[k] = structuredClone(d);
  }
  return out;
}

function withRepeat(l: ResolvedLayer, repeat: unknown): ResolvedLayer {
  return typeof repeat === 'number' && repeat !== 1 ? { ...l, repeat } : l;
}

/** A schema-valid entry as written → ResolvedLayer (block uses and residuals keep their structure). */
export function resolveEntry(entry: unknown, blocks: Record<string, ResolvedBlock> | undefined): ResolvedLayer {
  const name = entryName(entry)!;
  const value = entryValue(entry);
  if (name === RESIDUAL) {
    const m: Json = Array.isArray(value) ? { layers: value } : (value as Json);
    const layers = (m.layers as unknown[]).map((e) => resolveEntry(e, blocks));
    return withRepeat({ kind: RESIDUAL, options: { shortcut: m.shortcut ?? 'identity', layers } }, m.repeat);
  }
  const block = !findLayer(name) ? blocks?.[name] : undefined;
  if (block) {
    const given: Json = isMap(value) ? value : {};
    return withRepeat({ kind: name, options: paramValues(block, given) }, given.repeat);
  }
  return resolveLayer(entry);
}

/** `model.blocks` as written → resolved blocks (params default to none). */
export function resolveBlocks(raw: unknown): Record<string, ResolvedBlock> | undefined {
  if (!isMap(raw) || !Object.keys(raw).length) return undefined;
  const out: Record<string, ResolvedBlock> = {};
  for (const [name, b] of Object.entries(raw as Json)) {
    out[name] = { ...(b.description !== undefined ? { description: b.description } : {}), params: structuredClone(b.params ?? {}), layers: structuredClone(b.layers) };
  }
  return out;
}

/** A resolved layer in the input language ('- kind: {options}'); residuals and repeats included. */
export function layerToObject(l: ResolvedLayer): unknown {
  const repeat = l.repeat !== undefined ? { repeat: l.repeat } : {};
  if (l.kind === RESIDUAL) {
    return { [RESIDUAL]: { shortcut: l.options.shortcut, ...repeat, layers: residualLayers(l).map(layerToObject) } };
  }
  const builtin = findLayer(l.kind);
  const hasOptions = builtin ? Object.keys(builtin.options).length > 0 : Object.keys(l.options).length > 0;
  if (!hasOptions && l.repeat === undefined) return l.kind;
  return { [l.kind]: { ...l.options, ...repeat } };
}

/** Layers without source positions, for hashing (a flat layer is `{ kind, options }`, exactly as before blocks). */
export function stripLocs(layers: ResolvedLayer[]): unknown[] {
  return layers.map((l) => ({
    kind: l.kind,
    options: l.kind === RESIDUAL ? { ...l.options, layers: stripLocs(residualLayers(l)) } : l.options,
    ...(l.repeat !== undefined ? { repeat: l.repeat } : {}),
  }));
}

// --- The plan: the expanded tree with shapes ------------------------------------------------------------------------

export interface PlanLayer {
  node: 'layer';
  kind: string;
  options: Record<string, unknown>;
  /** Unique tf.layers name prefix: 'l3_conv2d' for a flat entry, 'l2_cbr_0_conv2d' inside a block use. */
  name: string;
  /** Where the entry is written: ['model', 'layers', 3] or ['model', 'blocks', 'cbr', 'layers', 0]. */
  path: Seg[];
  frames: UseFrame[];
  input: Shape;
  output: Shape;
  /** Set on the 1×1 conv and batchnorm of a `shortcut: conv`. */
  projection?: true;
}

export interface PlanResidual {
  node: 'residual';
  shortcut: 'identity' | 'conv';
  body: PlanNode[];
  /** The shortcut's layers: none (identity) or 1×1 conv + batchnorm. */
  projection: PlanLayer[];
  name: string;
  path: Seg[];
  frames: UseFrame[];
  input: Shape;
  output: Shape;
}

/** A group header for the summary: one copy of a block use. */
export interface PlanBlock {
  node: 'block';
  block: string;
  options: Record<string, unknown>;
  body: PlanNode[];
  name: string;
  path: Seg[];
  frames: UseFrame[];
  input: Shape;
  output: Shape;
}

export type PlanNode = PlanLayer | PlanResidual | PlanBlock;

export interface PlanError {
  message: string;
  path: Seg[];
  at: 'key' | 'value';
  frames: UseFrame[];
}

export type Plan = { nodes: PlanNode[]; output: Shape; error?: undefined } | { error: PlanError; nodes?: undefined; output?: undefined };

const fmt = (s: Shape) => s.join('×');

class PlanFailed extends Error {
  constructor(readonly detail: PlanError) {
    super(detail.message);
  }
}

/**
 * Expands and shape-checks a model. `raw` (the experiment as written) only refines error paths: the kind key of a
 * map entry, the list or map form of a residual; without it paths assume the map forms.
 */
export function planModel(model: ModelLike, input: Shape, raw?: Json): Plan {
  const names = new Set<string>();
  const unique = (n: string) => {
    let name = n;
    for (let k = 2; names.has(name); k++) name = `${n}_${k}`;
    names.add(name);
    return name;
  };
  const rawAt = (path: Seg[]): unknown => path.reduce<unknown>((v, k) => (v === null || v === undefined ? undefined : (v as Json)[k as string]), raw);
  const keyPath = (path: Seg[]): Seg[] => {
    const e = rawAt(path);
    return isMap(e) && Object.keys(e).length === 1 ? [...path, Object.keys(e)[0]!] : path;
  };
  const fail = (message: string, path: Seg[], frames: UseFrame[], at: 'key' | 'value' = 'key'): never => {
    throw new PlanFailed({ message, path, at, frames });
  };

  const planList = (layers: ResolvedLayer[], listPath: Seg[], prefix: string, frames: UseFrame[], shape: Shape, stack: string[]): { nodes: PlanNode[]; shape: Shape } => {
    const nodes: PlanNode[] = [];
    layers.forEach((l, i) => {
      const path = [...listPath, i];
      const copies = l.repeat ?? 1;
      const block = !findLayer(l.kind) && l.kind !== RESIDUAL ? model.blocks?.[l.kind] : undefined;
      for (let copy = 1; copy <= copies; copy++) {
        const p = `${prefix}${i}${copies > 1 ? `r${copy}` : ''}`;
        const here: UseFrame[] = block ? [{ block: l.kind, usePath: path, copy, copies }, ...frames] : copies > 1 ? [{ usePath: path, copy, copies }, ...frames] : frames;
        if (block) {
          if (stack.includes(l.kind)) fail(`block '${l.kind}' uses itself (${[...stack, l.kind].join(' → ')})`, keyPath(path), frames);
          const bodyPath: Seg[] = ['model', 'blocks', l.kind, 'layers'];
          const body = block.layers.map((e) => resolveEntry(substitute(e, l.options), model.blocks));
          const r = planList(body, bodyPath, `${p}_${l.kind}_`, here, shape, [...stack, l.kind]);
          nodes.push({ node: 'block', block: l.kind, options: l.options, body: r.nodes, name: `${p}_${l.kind}`, path, frames: here, input: shape, output: r.shape });
          shape = r.shape;
        } else if (l.kind === RESIDUAL) {
          const form = rawAt([...keyPath(path)]);
          const bodyPath = Array.isArray(form) ? [...path, RESIDUAL] : [...path, RESIDUAL, 'layers'];
          const r = planList(residualLayers(l), bodyPath, `${p}_res_`, here, shape, stack);
          const shortcut = l.options.shortcut as 'identity' | 'conv';
          const projection = shortcut === 'conv' ? projectionLayers(shape, r.shape, `${p}_res_sc`, path, here, (m) => fail(m, keyPath(path), here)) : [];
          if (shortcut === 'identity' && fmt(shape) !== fmt(r.shape)) {
            const hint = shape.length === 3 && r.shape.length === 3 ? projectionHint(shape, r.shape) : '';
            fail(
              `its layers turn ${fmt(shape)} into ${fmt(r.shape)}, but an identity shortcut needs the same shape; ` +
                (hint ? `write 'residual: { shortcut: conv, layers: [...] }' (${hint}), or keep the shape inside the branch` : 'keep the shape inside the branch'),
              keyPath(path),
              here,
            );
          }
          for (const q of projection) names.add(q.name);
          nodes.push({ node: 'residual', shortcut, body: r.nodes, projection, name: unique(`${p}_res`), path, frames: here, input: shape, output: r.shape });
          shape = r.shape;
        } else {
          const kind = getLayer(l.kind);
          const out = kind.outputShape(shape, l.options);
          if (!out.shape) fail(out.error ?? `cannot apply ${l.kind} to shape ${fmt(shape)}`, keyPath(path), here);
          nodes.push({ node: 'layer', kind: kind.name, options: l.options, name: unique(`${p}_${kind.name}`), path, frames: here, input: shape, output: out.shape! });
          shape = out.shape!;
        }
      }
    });
    return { nodes, shape };
  };
  try {
    const r = planList(model.layers, ['model', 'layers'], 'l', [], input, []);
    return { nodes: r.nodes, output: r.shape };
  } catch (e) {
    if (e instanceof PlanFailed) return { error: e.detail };
    throw e;
  }
}

/** The stride a 1×1 valid conv needs to map `from` onto `to` (per axis), or undefined. */
function projectionStride(from: Shape, to: Shape): [number, number] | undefined {
  const s: number[] = [];
  for (const a of [0, 1]) {
    const st = Math.ceil(from[a]! / to[a]!);
    if (!(st >= 1) || Math.floor((from[a]! - 1) / st) + 1 !== to[a]) return undefined;
    s.push(st);
  }
  return [s[0]!, s[1]!];
}

function strideText(s: [number, number]): string {
  return s[0] === s[1] ? `stride ${s[0]}` : `stride ${s[0]}×${s[1]}`;
}

function projectionHint(from: Shape, to: Shape): string {
  const s = projectionStride(from, to);
  return s ? `a 1×1 conv to ${to[2]} channels with batchnorm, ${strideText(s)}` : '';
}

function projectionLayers(from: Shape, to: Shape, name: string, path: Seg[], frames: UseFrame[], fail: (m: string) => never): PlanLayer[] {
  if (from.length !== 3 || to.length !== 3) fail(`shortcut: conv needs image shapes (h×w×c) on both ends, received ${fmt(from)} → ${fmt(to)}`);
  const stride = projectionStride(from, to);
  if (!stride) fail(`shortcut: conv: no 1×1 conv stride maps ${fmt(from)} onto ${fmt(to)} (the branch must shrink h and w by whole strides)`);
  const conv = resolveLayer({ conv2d: { filters: to[2], kernel_size: 1, stride: stride![0] === stride![1] ? stride![0] : stride, padding: 0, bias: false } });
  const bn = resolveLayer('batchnorm');
  return [
    { node: 'layer', kind: 'conv2d', options: conv.options, name: `${name}_conv2d`, path, frames, input: from, output: to, projection: true },
    { node: 'layer', kind: 'batchnorm', options: bn.options, name: `${name}_batchnorm`, path, frames, input: to, output: to, projection: true },
  ];
}

/** The plan's layers in build order (body before projection, as the functional model applies them). */
export function planLeaves(nodes: PlanNode[]): PlanLayer[] {
  return nodes.flatMap((n) => (n.node === 'block' ? planLeaves(n.body) : n.node === 'residual' ? [...planLeaves(n.body), ...n.projection] : [n]));
}

/** The plan as nested `{ kind, options }` (residuals as `{ kind: 'residual', options: { shortcut, layers, projection } }`), for the bench twin. */
export function planToJson(nodes: PlanNode[]): unknown[] {
  return nodes.flatMap((n): unknown[] => {
    if (n.node === 'block') return planToJson(n.body);
    if (n.node === 'residual') return [{ kind: RESIDUAL, options: { shortcut: n.shortcut, layers: planToJson(n.body), projection: planToJson(n.projection) } }];
    return [{ kind: n.kind, options: n.options }];
  });
}

/** '(block 'cbr' (line 5) used at line 12, copy 2 of 2)' for an error inside blocks or repeats. */
export function framesText(frames: UseFrame[], lineOf: (path: Seg[]) => number | undefined, blockLine: (name: string) => number | undefined): string {
  const parts = frames.map((f) => {
    const copy = f.copies > 1 ? `copy ${f.copy} of ${f.copies}` : '';
    const use = lineOf(f.usePath);
    if (f.block === undefined) return `${copy} of the entry at line ${use ?? '?'}`;
    const def = blockLine(f.block);
    return `block '${f.block}'${def !== undefined ? ` (line ${def})` : ''} used at line ${use ?? '?'}${copy ? `, ${copy}` : ''}`;
  });
  return parts.join(', in ');
}

// --- Checks of the language as written (called by the schema walker) -------------------------------------------------

const LAYER_FORMS = "('- kind', '- kind: value' or '- kind: { options }')";

/** Every `$...` string in a value, with its path relative to `v`. */
function refs(v: unknown, at: Seg[] = []): Array<{ path: Seg[]; text: string }> {
  if (typeof v === 'string') return v.startsWith('$') ? [{ path: at, text: v }] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => refs(x, [...at, i]));
  if (isMap(v)) return Object.entries(v).flatMap(([k, x]) => refs(x, [...at, k]));
  return [];
}

/** Names of blocks an entry uses (through residuals too). */
export function usedBlocks(entry: unknown, blocks: Json): string[] {
  const name = entryName(entry);
  if (name === undefined) return [];
  if (name === RESIDUAL) {
    const v = entryValue(entry);
    const list = Array.isArray(v) ? v : isMap(v) && Array.isArray(v.layers) ? v.layers : [];
    return list.flatMap((e: unknown) => usedBlocks(e, blocks));
  }
  return !findLayer(name) && name in blocks ? [name] : [];
}

/** The static checks of `model.blocks`: names, params, kinds and `$name` references in the bodies, cycles. */
export function checkBlocks(walker: SchemaWalker, value: unknown, path: Seg[], errs: RawError[]): void {
  if (!isMap(value)) {
    errs.push({ path, at: 'value', message: `expected a map of block name → { params, layers }, received ${show(value)}` });
    return;
  }
  const builtins = [...layerNames(true), RESIDUAL];
  for (const [name, def] of Object.entries(value)) {
    const at = [...path, name];
    if (findLayer(name) || name === RESIDUAL) {
      errs.push({ path: at, at: 'key', message: `block name '${name}' shadows the built-in layer kind ${name === RESIDUAL ? RESIDUAL : findLayer(name)!.name}; rename the block (e.g. 'my_${name}')` });
      continue;
    }
    if (!BLOCK_NAME.test(name)) {
      errs.push({ path: at, at: 'key', message: `expected a block name of letters, digits and '_' starting with a letter, received ${show(name)}` });
      continue;
    }
    const before = errs.length;
    walker.walk(def, walker.root.$defs.block, at, errs);
    if (errs.length > before || !isMap(def)) continue;
    const params = isMap(def.params) ? def.params : {};
    for (const p of Object.keys(params)) {
      if (p === 'repeat') errs.push({ path: [...at, 'params', p], at: 'key', message: "'repeat' is reserved: every use accepts 'repeat: N' already" });
      else if (!REF.test(`$${p}`)) errs.push({ path: [...at, 'params', p], at: 'key', message: `expected a parameter name of letters, digits and '_', received ${show(p)}` });
    }
    (def.layers as unknown[]).forEach((entry, j) => {
      const ep: Seg[] = [...at, 'layers', j];
      const kind = entryName(entry);
      if (kind === undefined) {
        errs.push({ path: ep, at: 'value', message: `expected a layer ${LAYER_FORMS}, received ${show(entry)}` });
        return;
      }
      if (!findLayer(kind) && kind !== RESIDUAL && !(kind in value)) {
        const known = [...builtins, ...Object.keys(value)];
        errs.push({ path: typeof entry === 'string' ? ep : [...ep, kind], at: typeof entry === 'string' ? 'value' : 'key', message: `unknown layer ${show(kind)}${didYouMean(kind, known)}; valid kinds: ${known.join(', ')}` });
      }
      for (const r of refs(entry)) {
        const m = REF.exec(r.text);
        if (!m) errs.push({ path: [...ep, ...r.path], at: 'value', message: `${show(r.text)}: '$name' replaces a whole value, e.g. 'filters: $f'` });
        else if (!(m[1]! in params)) {
          const declared = Object.keys(params);
          errs.push({ path: [...ep, ...r.path], at: 'value', message: `unknown parameter '$${m[1]}'${didYouMean(m[1]!, declared).replace(/'([^']+)'\?\)$/, "'$$$1'?)")}; block '${name}' declares ${declared.length ? declared.map((d) => `$${d}`).join(', ') : 'none'} (in its params)` });
        }
      }
    });
  }
  // Cycles: a block that uses itself, directly or through others.
  const graph = new Map<string, Array<{ to: string; path: Seg[] }>>();
  for (const [name, def] of Object.entries(value)) {
    const edges: Array<{ to: string; path: Seg[] }> = [];
    if (isMap(def) && Array.isArray(def.layers)) def.layers.forEach((e: unknown, j: number) => usedBlocks(e, value).forEach((to) => edges.push({ to, path: [...path, name, 'layers', j] })));
    graph.set(name, edges);
  }
  for (const start of graph.keys()) {
    const seen = new Set<string>();
    const visit = (n: string, trail: string[]): string[] | undefined => {
      for (const e of graph.get(n) ?? []) {
        if (e.to === start) return [...trail, e.to];
        if (seen.has(e.to)) continue;
        seen.add(e.to);
        const r = visit(e.to, [...trail, e.to]);
        if (r) return r;
      }
      return undefined;
    };
    const cycle = visit(start, [start]);
    if (cycle) {
      const first = graph.get(start)!.find((e) => e.to === cycle[1])!;
      errs.push({ path: first.path, at: 'value', message: `block '${start}' uses itself (${cycle.join(' → ')}); blocks cannot be recursive` });
    }
  }
}

/** Whether `name` is a block of the document being checked (and not a built-in). */
export function isBlockUse(name: string, blocks: Json | undefined): boolean {
  return !findLayer(name) && name !== RESIDUAL && isMap(blocks) && name in blocks && isMap(blocks[name]);
}

/**
 * A use of a block: its options against the block's params, then every layer of the body with the values
 * substituted, checked as a layer in its own place; errors inside carry the use as a frame.
 */
export function checkBlockUse(walker: SchemaWalker, value: unknown, path: Seg[], errs: RawError[], blocks: Json): void {
  const stack = walker.blockStack;
  const name = entryName(value)!;
  const def = blocks[name] as Json;
  const params: Json = isMap(def.params) ? def.params : {};
  const declared = Object.keys(params);
  const opts = typeof value === 'string' ? null : entryValue(value);
  const p = typeof value === 'string' ? path : [...path, name];
  const want = declared.length ? declared.join(', ') : 'none';
  if (opts !== null && !isMap(opts)) {
    errs.push({ path: p, at: 'value', message: `expected a map of the parameters of block '${name}' (${want}, repeat), received ${show(opts)}` });
    return;
  }
  const given: Json = opts ?? {};
  const before = errs.length;
  for (const [k, v] of Object.entries(given)) {
    if (k === 'repeat') walker.walk(v, walker.root.$defs.repeat, [...p, k], errs);
    else if (!(k in params)) errs.push({ path: [...p, k], at: 'key', message: `unknown parameter of block '${name}'${didYouMean(k, [...declared, 'repeat'])}; its parameters: ${want} (and repeat)` });
  }
  const missing = declared.filter((k) => params[k] === REQUIRED && !(k in given));
  if (missing.length) {
    const write = `${name}: { ${missing.map((m) => `${m}: ...`).join(', ')} }`;
    errs.push({ path: p, at: typeof value === 'string' ? 'value' : 'key', message: `block '${name}' needs ${missing.length > 1 ? 'parameters' : 'parameter'} ${missing.join(', ')} (write '${write}')` });
  }
  if (errs.length > before || stack.includes(name) || !Array.isArray(def.layers)) return;
  const values = paramValues({ params, layers: def.layers }, given);
  (def.layers as unknown[]).forEach((entry, j) => {
    const bodyPath: Seg[] = ['model', 'blocks', name, 'layers', j];
    const kind = entryName(entry);
    if (kind === undefined || (!findLayer(kind) && kind !== RESIDUAL && !isBlockUse(kind, blocks))) return; // reported by checkBlocks
    const inner: RawError[] = [];
    stack.push(name);
    try {
      walker.layer(substitute(entry, values), bodyPath, inner);
    } finally {
      stack.pop();
    }
    for (const e of inner) {
      // A bad value that came from a parameter: say which one (an undeclared one is reported once, statically).
      if (startsWith(e.path, bodyPath) && !e.frames?.length) {
        const written = e.path.slice(bodyPath.length).reduce<unknown>((v, k) => (v === null || v === undefined ? undefined : (v as Json)[k as string]), entry);
        const m = typeof written === 'string' ? REF.exec(written) : null;
        if ((m && !(m[1]! in params)) || (!m && typeof written === 'string' && written.startsWith('$'))) continue; // reported by checkBlocks
        if (m) e.message += ` from $${m[1]}`;
      }
      e.frames = [...(e.frames ?? []), { block: name, usePath: path, copy: 1, copies: 1 }];
      errs.push(e);
    }
  });
}

/**
 * A `--set` / sweep key path through a block use ('model.layers[2].cbr.f'): undefined when it exists, a message
 * when it does not, false when `name` is no block of this document (the caller handles built-in kinds).
 */
export function blockKeyPathError(name: string, option: Seg | undefined, written: unknown, where: string, doc: Json): string | undefined | false {
  const blocks = doc.model?.blocks;
  if (!isBlockUse(name, blocks)) return false;
  if (written !== undefined && written !== name) return `${where} is a ${String(written)} layer, not ${name}`;
  if (option === undefined || option === 'repeat') return undefined;
  const params = Object.keys(isMap(blocks[name].params) ? blocks[name].params : {});
  if (params.includes(String(option))) return undefined;
  return `unknown parameter '${option}' of block '${name}'${didYouMean(String(option), [...params, 'repeat'])}; its parameters: ${params.join(', ') || 'none'} (and repeat)`;
}

/** Blocks that no entry of model.layers reaches (directly or through other blocks). */
export function unusedBlocks(doc: Json): string[] {
  const blocks = doc.model?.blocks;
  if (!isMap(blocks)) return [];
  const used = new Set<string>();
  const collect = (list: unknown) => {
    for (const e of Array.isArray(list) ? list : []) {
      for (const b of usedBlocks(e, blocks)) {
        if (used.has(b)) continue;
        used.add(b);
        collect(blocks[b]?.layers);
      }
    }
  };
  collect(doc.model?.layers);
  return Object.keys(blocks).filter((name) => !used.has(name) && isBlockUse(name, blocks));
}
