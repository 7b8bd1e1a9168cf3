/**
 * `tudui eval`: a checkpoint on a split of its dataset — loss, accuracy, top-k, per-class precision / recall / F1
 * and the confusion matrix (also as a PNG next to the checkpoint). The model and the batches are the training
 * loop's own (evaluateSplit), so on the same backend the numbers are the ones the run logged for that checkpoint.
 */
import { join } from 'node:path';
import type { ResolvedExperiment } from '../config/index.js';
import { checkDataset, expandRoot, loadDataset, type ImageSplit } from '../data/index.js';
import { UserError } from '../errors.js';
import { writeConfusionPng } from './confusion-png.js';
import { loadModel, type LoadedModel } from './load.js';
import { evaluateSplit } from '../train/evaluate.js';
import { classReport, type ClassStats } from './metrics.js';

import { SPLITS, type SplitName } from './locate.js';

export { SPLITS, type SplitName };

export interface EvalReport {
  checkpoint: string;
  label: string;
  split: SplitName;
  dataset: { name: string; source: string };
  count: number;
  loss: number;
  accuracy: number;
  top_k: { k: number; accuracy: number };
  classes: ClassStats[];
  macro: Omit<ClassStats, 'name'>;
  weighted: Omit<ClassStats, 'name'>;
  /** confusion[true][predicted]. */
  confusion: number[][];
  /** What the run logged for this checkpoint and split (`test_loss` …), when it did. */
  logged: { loss: number; accuracy: number; epoch: number } | null;
  /** Where the confusion matrix PNG was written (null: it could not be, see `warnings`). */
  confusion_png: string | null;
  warnings: string[];
}

export interface EvalOptions {
  split?: SplitName;
  /** Read the dataset from this directory instead of the one it was trained from. */
  data?: string;
  topK?: number;
  cwd?: string;
  log?: (line: string) => void;
}

/** The dataset config to read: `--data`, else the root as written (from the cwd), else where training read it. */
function datasetFor(m: LoadedModel, data: string | undefined, cwd: string, split: SplitName): ResolvedExperiment['dataset'] {
  const trained = m.experiment.dataset;
  // validation files are only needed (and only read) for --split val; a fraction stays, it shapes the train split
  const ds = trained.validation?.from === 'files' && split !== 'val' ? { ...trained, validation: null } : trained;
  if (data !== undefined) {
    const cfg = { ...ds, root: expandRoot(data, cwd), download: false };
    const problem = checkDataset(cfg, { cwd })[0];
    if (problem) throw new UserError(`--data ${data}: ${problem.message}`);
    return cfg;
  }
  const candidates = [ds, { ...ds, root: m.metadata.dataset.root }];
  return candidates.find((c) => checkDataset(c, { cwd }).length === 0) ?? ds;
}

function splitOf(exp: ResolvedExperiment, data: { train: ImageSplit; test: ImageSplit; val?: ImageSplit }, split: SplitName): ImageSplit {
  if (split === 'val') {
    if (!data.val) throw new UserError(`--split val: this run has no validation split (set dataset.validation: { fraction: 0.1 } in ${exp.name}'s config to hold one out of train)`);
    return data.val;
  }
  return data[split];
}

export async function evaluateCheckpoint(path: string, opts: EvalOptions = {}): Promise<EvalReport> {
  const cwd = opts.cwd ?? process.cwd();
  const split = opts.split ?? 'test';
  const m = await loadModel(path, { cwd });
  try {
    const exp = m.experiment;
    const data = await loadDataset(datasetFor(m, opts.data, cwd, split), { cwd, seed: exp.seed, ...(opts.log ? { log: opts.log } : {}) });
    if (data.info.classes !== m.info.classes || data.info.height !== m.info.height || data.info.width !== m.info.width || data.info.channels !== m.info.channels) {
      const shape = (i: typeof m.info) => `${i.height}×${i.width}×${i.channels}, ${i.classes} classes`;
      throw new UserError(`dataset ${data.source} (${shape(data.info)}) does not fit checkpoint ${m.checkpoint.dir} (${shape(m.info)})`);
    }
    if (data.info.classNames.join('\n') !== m.classes.join('\n')) {
      throw new UserError(`dataset ${data.source} has the classes ${data.info.classNames.join(', ')}; checkpoint ${m.checkpoint.dir} was trained on ${m.classes.join(', ')}`);
    }
    const ev = await evaluateSplit(m.model, exp, splitOf(exp, data, split), data.info, { topK: opts.topK ?? 5, confusion: true });
    const report = classReport(ev.confusion!, m.classes);
    const state = m.checkpoint.state;
    const prefix = split === 'val' ? 'val' : split;
    const loggedLoss = state.metrics[`${prefix}_loss`];
    const loggedAccuracy = state.metrics[`${prefix}_accuracy`];
    const warnings: string[] = [];
    let png: string | null = join(m.checkpoint.dir, `confusion-${split}.png`);
    try {
      await writeConfusionPng(png, ev.confusion!, m.classes, `${exp.name} ${m.checkpoint.label}: ${split} split, ${ev.count} images, accuracy ${(100 * ev.accuracy).toFixed(2)}%`);
    } catch (e) {
      warnings.push(`could not write the confusion matrix PNG ${png}: ${(e as Error).message}`);
      png = null;
    }
    return {
      checkpoint: m.checkpoint.dir,
      label: m.checkpoint.label,
      split,
      dataset: { name: exp.dataset.name, source: data.source },
      count: ev.count,
      loss: ev.loss,
      accuracy: ev.accuracy,
      top_k: ev.topK!,
      ...report,
      confusion: ev.confusion!,
      logged: loggedLoss !== undefined && loggedAccuracy !== undefined ? { loss: loggedLoss, accuracy: loggedAccuracy, epoch: state.epoch } : null,
      confusion_png: png,
      warnings,
    };
  } finally {
    m.dispose();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const f3 = (x: number) => x.toFixed(3);

/** The report as terminal text: headline, per-class table, confusion matrix. */
export function formatEvalReport(r: EvalReport): string {
  const lines = [
    `${r.label} on the ${r.split} split of ${r.dataset.name} (${r.count} images, ${r.dataset.source})`,
    `loss ${r.loss.toFixed(4)}  accuracy ${pct(r.accuracy)}  top-${r.top_k.k} ${pct(r.top_k.accuracy)}` +
      (r.logged ? `  (logged at epoch ${r.logged.epoch}: loss ${r.logged.loss.toFixed(4)}, accuracy ${pct(r.logged.accuracy)})` : ''),
    '',
  ];
  const w = Math.max(5, ...r.classes.map((c) => c.name.length), 'weighted avg'.length);
  const row = (name: string, s: Omit<ClassStats, 'name'>) => `${name.padEnd(w)}  ${f3(s.precision).padStart(9)}  ${f3(s.recall).padStart(6)}  ${f3(s.f1).padStart(5)}  ${String(s.support).padStart(7)}`;
  lines.push(`${'class'.padEnd(w)}  precision  recall     f1  support`);
  for (const c of r.classes) lines.push(row(c.name, c));
  lines.push(row('macro avg', r.macro), row('weighted avg', r.weighted), '');
  lines.push('confusion matrix (rows: true class, columns: predicted)');
  const cw = Math.max(3, ...r.confusion.flat().map((v) => String(v).length), ...r.classes.map((c) => Math.min(c.name.length, 8)));
  const head = (s: string) => s.slice(0, 8).padStart(cw);
  lines.push(`${''.padEnd(w)}  ${r.classes.map((c) => head(c.name)).join(' ')}`);
  r.confusion.forEach((rowv, i) => lines.push(`${r.classes[i]!.name.padEnd(w)}  ${rowv.map((v) => String(v).padStart(cw)).join(' ')}`));
  if (r.confusion_png) lines.push('', `confusion matrix PNG: ${r.confusion_png}`);
  return lines.join('\n');
}
