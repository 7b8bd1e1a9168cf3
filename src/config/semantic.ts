/**
 * Semantic checks run after the schema pass (Ludwig style: a list of registered checks). Each check declares the
 * top-level sections it reads and is skipped when one of them has schema errors.
 */
import { getLayer } from '../model/registry.js';
import type { Shape } from '../model/layer-kind.js';
import type { RawError } from './check.js';
import { inputInfo } from './datasets.js';
import { checkDataset, datasetWarnings, staticTrainCount, trainCountText } from '../data/index.js';
import { datasets } from '../data/registry.js';
import type { Kind, Registry } from '../registry.js';
import { losses } from '../train/loss-registry.js';
import { optimizers } from '../train/optimizer-registry.js';
import { schedules } from '../train/schedule-registry.js';
import type { Seg } from './paths.js';
import type { ResolvedExperiment } from './types.js';
import { getSchema } from './schema.js';
import { isNested } from './blocks.js';

/** Whether a key was written with a value other than its schema default (irrelevant defaults are harmless). */
function givenNonDefault(obj: Json | undefined, key: string, def: string): boolean {
  if (!obj || typeof obj !== 'object' || !(key in obj)) return false;
  const s = getSchema().$defs[def]?.properties?.[key];
  return !(s && 'default' in s && JSON.stringify(s.default) === JSON.stringify(obj[key]));
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CheckContext {
  exp: ResolvedExperiment;
  /** The experiment as written (after overrides), to know which keys were given and how layers were spelled. */
  raw: Json;
  cwd: string;
}

export interface SemanticCheck {
  name: string;
  needs: string[];
  run(ctx: CheckContext): RawError[];
}

const checks: SemanticCheck[] = [];

export function registerCheck(check: SemanticCheck): void {
  checks.push(check);
}

export function runChecks(ctx: CheckContext, brokenSections: Set<string>): RawError[] {
  const out: RawError[] = [];
  for (const c of checks) {
    if (c.needs.some((s) => brokenSections.has(s))) continue;
    out.push(...c.run(ctx));
  }
  return out;
}

/** Path of a layer entry's kind key as written ('model.layers[3].dense'), or of the entry for a bare kind. */
export function layerPath(raw: Json, i: number): Seg[] {
  const entry = raw.model?.layers?.[i];
  return entry && typeof entry === 'object' ? ['model', 'layers', i, Object.keys(entry)[0]!] : ['model', 'layers', i];
}

function layerOptionPath(raw: Json, i: number, option: string): { path: Seg[]; at: 'key' | 'value' } {
  const p = layerPath(raw, i);
  const entry = raw.model?.layers?.[i];
  const v = entry && typeof entry === 'object' ? entry[p[3] as string] : undefined;
  if (v && typeof v === 'object' && option in v) return { path: [...p, option], at: 'value' };
  if (v !== null && v !== undefined && typeof v !== 'object') return { path: p, at: 'value' }; // shorthand value
  return { path: p, at: 'key' };
}

const fmt = (s: Shape) => s.join('×');

/**
 * Options of a family given (with a value other than their default) to a kind that does not use them; the
 * registry knows which kinds use which option. `message` gets the kinds that do.
 */
function unusedOptions<K extends Kind>(reg: Registry<K>, section: string, given: unknown, name: string, message: (users: string[]) => string): RawError[] {
  const kind = reg.find(name);
  const errs: RawError[] = [];
  for (const k of Object.keys(reg.table)) {
    if (reg.uses(kind, k) || !givenNonDefault(given as Json | undefined, k, section)) continue;
    errs.push({ path: [section, k], at: 'key', message: message(reg.users(k)) });
  }
  return errs;
}

registerCheck({
  name: 'dataset-fields',
  needs: ['dataset'],
  run: ({ raw, exp }) =>
    unusedOptions(datasets, 'dataset', raw.dataset, exp.dataset.name, (names) => `only used by the ${names.join(', ')} dataset${names.length > 1 ? 's' : ''}, not ${exp.dataset.name}`),
});

/** The data layer's own pre-load checks (files present, image-folder structure, bounds, batch vs train size). */
registerCheck({
  name: 'dataset-files',
  needs: ['dataset'],
  run({ raw, exp, cwd }) {
    const given = raw.dataset && typeof raw.dataset === 'object' ? raw.dataset : {};
    const problems = checkDataset(exp.dataset, { cwd });
    if (!problems.length) {
      const warnings = datasetWarnings(exp.dataset, { cwd }).map((p): RawError => ({ path: ['dataset'], at: 'key', warning: true, message: `${p.key}: ${p.message}` }));
      const known = exp.dataset.drop_last ? undefined : staticTrainCount(exp.dataset, { cwd });
      const b = exp.dataset.batch_size;
      if (known && b > known.count) {
        const where: Seg[] = 'batch_size' in given ? ['dataset', 'batch_size'] : ['dataset'];
        const single = known.exact ? ` of ${known.count}` : '';
        warnings.push({ path: where, at: 'batch_size' in given ? 'value' : 'key', warning: true, message: `${b} is larger than ${trainCountText(exp.dataset, known)}: every epoch is a single batch${single}` });
      }
      return warnings;
    }
    return problems.map((p): RawError => {
      if (p.key === 'root' && !('root' in given)) {
        return { path: ['dataset'], at: 'key', message: exp.dataset.name === 'image-folder' ? "image-folder needs 'root' (a directory with train/<class>/ and test/<class>/ subdirectories)" : p.message };
      }
      return p.key in given ? { path: ['dataset', p.key], at: 'value', message: p.message } : { path: ['dataset'], at: 'key', message: `${p.key}: ${p.message}` };
    });
  },
});

registerCheck({
  name: 'normalize-channels',
  needs: ['dataset'],
  run({ exp, cwd }) {
    const n = exp.dataset.normalize;
    if (!n) return [];
    const channels = inputInfo(exp.dataset, cwd).shape[2]!;
    const errs: RawError[] = [];
    for (const k of ['mean', 'std'] as const) {
      if (n[k].length !== channels) {
        errs.push({
          path: ['dataset', 'normalize', k],
          at: 'value',
          message: `expected ${channels} value${channels > 1 ? 's' : ''} (one per channel of ${exp.dataset.name}), received ${n[k].length}`,
        });
      }
    }
    return errs;
  },
});

/** A val_ metric needs a validation split; early stopping on the test split is model selection on it. */
registerCheck({
  name: 'validation-metrics',
  needs: ['dataset', 'checkpoint', 'early_stopping', 'schedule'],
  run({ raw, exp }) {
    const errs: RawError[] = [];
    const hint = 'add dataset.validation: { fraction: 0.1 } to hold one out of the training split';
    if (!exp.dataset.validation) {
      if (exp.checkpoint.monitor.startsWith('val_')) errs.push({ path: ['checkpoint', 'monitor'], at: 'value', message: `${exp.checkpoint.monitor} needs a validation split: ${hint}` });
      if (raw.early_stopping?.monitor?.startsWith?.('val_')) errs.push({ path: ['early_stopping', 'monitor'], at: 'value', message: `${raw.early_stopping.monitor} needs a validation split: ${hint}` });
    } else if (raw.early_stopping?.monitor?.startsWith?.('test_')) {
      errs.push({ path: ['early_stopping', 'monitor'], at: 'value', message: `with dataset.validation the test split is only evaluated at the end; use ${raw.early_stopping.monitor.replace(/^test_/, 'val_')}` });
    }
    return errs;
  },
});

registerCheck({
  name: 'optimizer-fields',
  needs: ['optimizer'],
  run({ raw, exp }) {
    const name = exp.optimizer.name;
    const errs = unusedOptions(optimizers, 'optimizer', raw.optimizer, name, (names) => `not used by ${name} (only ${names.join(', ')})`);
    for (const p of optimizers.find(name)?.check?.(exp.optimizer) ?? []) errs.push({ path: ['optimizer', p.key], at: 'value', message: p.message });
    return errs;
  },
});

registerCheck({
  name: 'loss-and-schedule-fields',
  needs: ['loss', 'schedule', 'epochs'],
  run({ raw, exp }) {
    const errs = [
      ...unusedOptions(losses, 'loss', raw.loss, exp.loss.name, (names) => `only used by ${names.join(', ')}`),
      ...unusedOptions(schedules, 'schedule', raw.schedule, exp.schedule.name, (names) => `only used by the ${names.join(', ')} schedule${names.length > 1 ? 's' : ''}, not ${exp.schedule.name}`),
    ];
    if (exp.schedule.warmup_epochs >= exp.epochs && exp.schedule.warmup_epochs > 0) {
      errs.push({ path: ['schedule', 'warmup_epochs'], at: 'value', message: `expected fewer warm-up epochs than epochs (${exp.epochs}), received ${exp.schedule.warmup_epochs}` });
    }
    return errs;
  },
});

registerCheck({
  name: 'shapes',
  needs: ['dataset', 'model', 'loss'],
  run({ raw, exp, cwd }) {
    if (isNested(exp.model)) return []; // blocks, residuals, repeats: the 'nested-shapes' check (blocks-checks.ts)
    const info = inputInfo(exp.dataset, cwd);
    let shape = info.shape;
    const layers = exp.model.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      const r = getLayer(l.kind).outputShape(shape, l.options);
      if (!r.shape) {
        return [{ path: layerPath(raw, i), at: 'key', message: r.error ?? `cannot apply ${l.kind} to shape ${fmt(shape)}` }];
      }
      shape = r.shape;
    }
    if (info.classes === undefined) return [];
    // The layer that decides the output size: the last one that changes the shape.
    let decisive = layers.length - 1;
    let s = info.shape;
    const shapes: Shape[] = [];
    for (const l of layers) shapes.push((s = getLayer(l.kind).outputShape(s, l.options).shape!));
    while (decisive > 0 && fmt(shapes[decisive]!) === fmt(shapes[decisive - 1]!)) decisive--;
    const last = layers[decisive]!;
    if (shape.length !== 1) {
      return [{ path: layerPath(raw, layers.length - 1), at: 'key', message: `the model outputs shape ${fmt(shape)}; ${exp.loss.name} needs ${info.classes} values (one per class), e.g. end with '- flatten' and '- linear: ${info.classes}'` }];
    }
    if (shape[0] !== info.classes) {
      const option = last.kind === 'linear' ? 'units' : last.kind === 'conv2d' ? 'filters' : undefined;
      const where = option ? layerOptionPath(raw, decisive, option) : { path: layerPath(raw, decisive), at: 'key' as const };
      return [{ ...where, message: `the model outputs ${shape[0]} values but ${exp.dataset.name} has ${info.classes} classes; the last layer must output ${info.classes}` }];
    }
    return [];
  },
});

registerCheck({
  name: 'softmax-before-cross-entropy',
  needs: ['model', 'loss'],
  run({ raw, exp }) {
    const layers = exp.model.layers;
    const last = layers.length - 1;
    if (exp.loss.name !== 'cross_entropy' || layers[last]?.kind !== 'softmax') return [];
    return [{
      path: layerPath(raw, last),
      at: 'key',
      warning: true,
      message: "cross_entropy applies softmax itself (like PyTorch's CrossEntropyLoss); a final softmax layer squashes the logits twice and slows learning: remove it",
    }];
  },
});
