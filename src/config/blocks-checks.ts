/**
 * Shape checking of nested models (blocks, residuals, repeats): the same questions as semantic.ts's 'shapes' check
 * asks of a flat list, answered on the expanded plan, each error at the line inside the block with the uses' lines.
 */
import { inputInfo } from './datasets.js';
import { isNested, planLeaves, planModel, unusedBlocks, type PlanLayer, type UseFrame } from './blocks.js';
import type { RawError } from './check.js';
import type { Seg } from './paths.js';
import { registerCheck } from './semantic.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const fmt = (s: number[]) => s.join('×');

/** Path of an entry's kind key as written (the entry itself for a bare kind). */
function keyPath(raw: Json, path: Seg[]): Seg[] {
  const e = path.reduce<any>((v, k) => v?.[k], raw); // eslint-disable-line @typescript-eslint/no-explicit-any
  return e && typeof e === 'object' && !Array.isArray(e) ? [...path, Object.keys(e)[0]!] : path;
}

registerCheck({
  name: 'nested-shapes',
  needs: ['dataset', 'model', 'loss'],
  run({ raw, exp, cwd }) {
    if (!isNested(exp.model)) return [];
    const info = inputInfo(exp.dataset, cwd);
    const plan = planModel(exp.model, info.shape, raw);
    if (plan.error) return [{ path: plan.error.path, at: plan.error.at, message: plan.error.message, frames: plan.error.frames }];
    if (info.classes === undefined) return [];
    const out = plan.output;
    const last = exp.model.layers.length - 1;
    if (out.length !== 1) {
      return [{ path: keyPath(raw, ['model', 'layers', last]), at: 'key', message: `the model outputs shape ${fmt(out)}; ${exp.loss.name} needs ${info.classes} values (one per class), e.g. end with '- flatten' and '- linear: ${info.classes}'` }];
    }
    if (out[0] === info.classes) return [];
    // The layer that decides the output size: the last one that changes the shape (outside shortcuts).
    const leaves = planLeaves(plan.nodes).filter((l) => !l.projection);
    const decisive: PlanLayer | undefined = [...leaves].reverse().find((l) => fmt(l.input) !== fmt(l.output)) ?? leaves[leaves.length - 1];
    const message = `the model outputs ${out[0]} values but ${exp.dataset.name} has ${info.classes} classes; the last layer must output ${info.classes}`;
    if (!decisive) return [{ path: keyPath(raw, ['model', 'layers', last]), at: 'key', message }];
    const option = decisive.kind === 'linear' ? 'units' : decisive.kind === 'conv2d' ? 'filters' : undefined;
    const kp = keyPath(raw, decisive.path);
    const written = kp.reduce<any>((v, k) => v?.[k], raw); // eslint-disable-line @typescript-eslint/no-explicit-any
    const frames: UseFrame[] = decisive.frames;
    const where: RawError =
      option && written && typeof written === 'object' && option in written
        ? { path: [...kp, option], at: 'value', message }
        : { path: kp, at: written !== null && written !== undefined && typeof written !== 'object' ? 'value' : 'key', message };
    return [{ ...where, ...(frames.length ? { frames } : {}) }];
  },
});



registerCheck({
  name: 'unused-blocks',
  needs: ['model'],
  run: ({ raw }) =>
    unusedBlocks(raw).map((name): RawError => ({ path: ['model', 'blocks', name], at: 'key', warning: true, message: `block '${name}' is never used in model.layers` })),
});
