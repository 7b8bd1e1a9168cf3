/** Turn a resolved layer list into a tf.Sequential model, and describe it as a summary table. */
import type * as tfjs from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../config/index.js';
import type { Shape } from './layer-kind.js';
import { getLayer } from './registry.js';
import { planLeaves, planModel, type PlanNode } from '../config/blocks.js';
import { formatPath, startsWith } from '../config/paths.js';

export interface SummaryRow {
  /** Position among the model's layers in build order; -1 for the header row of a block use or residual. */
  index: number;
  layer: string;
  outputShape: Shape;
  parameters: number;
}

/** Per-layer output shapes and parameter counts, from the registry's own shape inference (no tfjs needed). Block
 *  uses and residuals get a header row (index -1, no parameters of their own) and their layers indented below. */
export function summarize(exp: ResolvedExperiment, inputShape: Shape): SummaryRow[] {
  const plan = planFor(exp, inputShape);
  const rows: SummaryRow[] = [];
  let index = 0;
  const visit = (nodes: PlanNode[], depth: number) => {
    const pad = '  '.repeat(depth);
    for (const n of nodes) {
      if (n.node === 'layer') {
        rows.push({ index: index++, layer: pad + describeLayer(n.kind, n.options), outputShape: n.output, parameters: getLayer(n.kind).parameters(n.input, n.options) });
        continue;
      }
      const copy = n.frames[0]?.copies && n.frames[0].copies > 1 && startsWith(n.frames[0].usePath, n.path) && n.frames[0].usePath.length === n.path.length ? ` (copy ${n.frames[0].copy} of ${n.frames[0].copies})` : '';
      if (n.node === 'block') {
        rows.push({ index: -1, layer: `${pad}${describeLayer(n.block, n.options)}${copy}`, outputShape: n.output, parameters: 0 });
        visit(n.body, depth + 1);
      } else {
        rows.push({ index: -1, layer: `${pad}residual(shortcut=${n.shortcut})${copy}: x + f(x)`, outputShape: n.output, parameters: 0 });
        visit(n.body, depth + 1);
        if (n.projection.length) {
          rows.push({ index: -1, layer: `${pad}  shortcut:`, outputShape: n.output, parameters: 0 });
          visit(n.projection, depth + 2);
        }
      }
    }
  };
  visit(plan.nodes, 0);
  return rows;
}

/** The expanded model (blocks, repeats, residuals); a config that passed validation always plans. */
function planFor(exp: ResolvedExperiment, inputShape: Shape): { nodes: PlanNode[]; output: Shape } {
  const plan = planModel(exp.model, inputShape);
  if (plan.error) throw new Error(`${formatPath(plan.error.path)}: ${plan.error.message}`);
  return plan;
}

function describeLayer(kind: string, options: Record<string, unknown>): string {
  const opts = Object.entries(options)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('x') : String(v)}`)
    .join(', ');
  return opts ? `${kind}(${opts})` : kind;
}

export function formatSummary(rows: SummaryRow[], inputShape: Shape): string {
  const table = [
    ['#', 'layer', 'output shape', 'params'],
    ['', 'input', inputShape.join('×'), ''],
    ...rows.map((r) => [r.index < 0 ? '' : String(r.index), r.layer, r.outputShape.join('×'), r.index < 0 ? '' : r.parameters.toLocaleString('en-US')]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  const total = rows.reduce((s, r) => s + r.parameters, 0);
  return [line(table[0]!), ...table.slice(1).map(line), `total trainable parameters: ${total.toLocaleString('en-US')}`].join('\n');
}

type SequentialClass = new (args: { name: string }) => tfjs.Sequential;
const sequentialClasses = new WeakMap<object, SequentialClass>();

/**
 * tf.Sequential whose `apply` on a concrete tensor calls each layer's `call` in turn. tf.layers' `apply` does
 * symbolic bookkeeping per layer and call (input specs, name scopes, masks, node records) that measured ~30% of an
 * MLP's evaluation and several ms of a conv net's step; on concrete tensors none of it is needed. Symbolic inputs
 * (building, summaries) take the stock path, and the model serialises as a plain `Sequential`.
 */
function fastSequential(tf: typeof tfjs): SequentialClass {
  const cached = sequentialClasses.get(tf);
  if (cached) return cached;
  class TuduiSequential extends tf.Sequential {
    override apply(
      inputs: tfjs.Tensor | tfjs.Tensor[] | tfjs.SymbolicTensor | tfjs.SymbolicTensor[],
      kwargs?: tfjs.serialization.ConfigDict,
    ): tfjs.Tensor | tfjs.Tensor[] | tfjs.SymbolicTensor | tfjs.SymbolicTensor[] {
      if (!(inputs instanceof tf.Tensor) || !this.built) return super.apply(inputs, kwargs);
      let h: tfjs.Tensor = inputs;
      for (const layer of this.layers) {
        if (layer.getClassName() === 'InputLayer') continue;
        h = layer.call(h, kwargs ?? {}) as tfjs.Tensor;
      }
      return h;
    }
  }
  sequentialClasses.set(tf, TuduiSequential);
  return TuduiSequential;
}

/** Steps of the functional model's direct path: a layer, or a residual (its branch, its shortcut, then the sum). */
type Step = { layer: tfjs.layers.Layer } | { body: Step[]; shortcut: Step[] };

type ModelClass = new (args: { inputs: tfjs.SymbolicTensor; outputs: tfjs.SymbolicTensor; name: string }) => tfjs.LayersModel & { steps: Step[] };
const modelClasses = new WeakMap<object, ModelClass>();

/**
 * tf.LayersModel (a functional model, serialised as a plain `Model`) whose `apply` on a concrete tensor runs its
 * layers' `call` directly, like TuduiSequential: the stock path walks the graph with feed dicts, name scopes and
 * masks per node. The sum of a residual is one tf.add (what the Add layer computes, without its clone).
 */
function fastModel(tf: typeof tfjs): ModelClass {
  const cached = modelClasses.get(tf);
  if (cached) return cached;
  const run = (steps: Step[], x: tfjs.Tensor, kwargs: tfjs.serialization.ConfigDict): tfjs.Tensor => {
    let h = x;
    for (const s of steps) h = 'layer' in s ? (s.layer.call(h, kwargs) as tfjs.Tensor) : tf.add(run(s.body, h, kwargs), run(s.shortcut, h, kwargs));
    return h;
  };
  class TuduiModel extends tf.LayersModel {
    steps: Step[] = [];
    override apply(
      inputs: tfjs.Tensor | tfjs.Tensor[] | tfjs.SymbolicTensor | tfjs.SymbolicTensor[],
      kwargs?: tfjs.serialization.ConfigDict,
    ): tfjs.Tensor | tfjs.Tensor[] | tfjs.SymbolicTensor | tfjs.SymbolicTensor[] {
      if (!(inputs instanceof tf.Tensor) || !this.built || !this.steps.length) return super.apply(inputs, kwargs);
      return run(this.steps, inputs, kwargs ?? {});
    }
  }
  modelClasses.set(tf, TuduiModel as unknown as ModelClass);
  return TuduiModel as unknown as ModelClass;
}

/**
 * Build the tf.layers model; initialisers are seeded from the experiment seed and the layer's position in build
 * order (a flat list: its index). Without residuals the model is a TuduiSequential, exactly as for a flat list;
 * with them, a functional model (tf.layers.add for each sum) that plain tf.loadLayersModel reads back.
 */
export function buildModel(tf: typeof tfjs, exp: ResolvedExperiment, inputShape: Shape): tfjs.LayersModel {
  const plan = planFor(exp, inputShape);
  let seed = 0;
  const layersOf = (n: PlanNode & { node: 'layer' }) =>
    getLayer(n.kind).build(tf, n.options, { init: exp.model.init, inputShape: n.input, seed: exp.seed * 1000 + seed++, name: n.name });
  if (!plan.nodes.some(function residual(n: PlanNode): boolean { return n.node === 'residual' || (n.node === 'block' && n.body.some(residual)); })) {
    const model = new (fastSequential(tf))({ name: sanitize(exp.name) });
    model.add(tf.layers.inputLayer({ inputShape, name: 'input' }));
    for (const leaf of planLeaves(plan.nodes)) for (const layer of layersOf(leaf)) model.add(layer);
    return model;
  }
  const input = tf.input({ shape: inputShape, name: 'input' });
  const wire = (nodes: PlanNode[], x: tfjs.SymbolicTensor, steps: Step[]): tfjs.SymbolicTensor => {
    for (const n of nodes) {
      if (n.node === 'block') x = wire(n.body, x, steps);
      else if (n.node === 'layer') {
        for (const layer of layersOf(n)) {
          x = layer.apply(x) as tfjs.SymbolicTensor;
          steps.push({ layer });
        }
      } else {
        const body: Step[] = [];
        const shortcut: Step[] = [];
        const f = wire(n.body, x, body);
        const s = wire(n.projection, x, shortcut);
        x = tf.layers.add({ name: `${n.name}_add` }).apply([f, s]) as tfjs.SymbolicTensor;
        steps.push({ body, shortcut });
      }
    }
    return x;
  };
  const steps: Step[] = [];
  const output = wire(plan.nodes, input, steps);
  const model = new (fastModel(tf))({ inputs: input, outputs: output, name: sanitize(exp.name) });
  model.steps = steps;
  return model;
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}
