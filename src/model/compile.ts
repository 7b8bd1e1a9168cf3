/** Turn a resolved layer list into a tf.Sequential model, and describe it as a summary table. */
import type * as tfjs from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../config/index.js';
import type { Shape } from './layer-kind.js';
import { getLayer } from './registry.js';

export interface SummaryRow {
  index: number;
  layer: string;
  outputShape: Shape;
  parameters: number;
}

/** Per-layer output shapes and parameter counts, from the registry's own shape inference (no tfjs needed). */
export function summarize(exp: ResolvedExperiment, inputShape: Shape): SummaryRow[] {
  let shape = inputShape;
  return exp.model.layers.map((l, index) => {
    const kind = getLayer(l.kind);
    const parameters = kind.parameters(shape, l.options);
    const out = kind.outputShape(shape, l.options);
    if (!out.shape) throw new Error(`layer ${index} (${l.kind}): ${out.error ?? 'cannot infer its shape'}`);
    shape = out.shape;
    return { index, layer: describeLayer(l.kind, l.options), outputShape: shape, parameters };
  });
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
    ...rows.map((r) => [String(r.index), r.layer, r.outputShape.join('×'), r.parameters.toLocaleString('en-US')]),
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

/** Build the tf.layers model; initialisers are seeded from the experiment seed and the layer index. */
export function buildModel(tf: typeof tfjs, exp: ResolvedExperiment, inputShape: Shape): tfjs.Sequential {
  const model = new (fastSequential(tf))({ name: sanitize(exp.name) });
  model.add(tf.layers.inputLayer({ inputShape, name: 'input' }));
  let shape = inputShape;
  exp.model.layers.forEach((l, index) => {
    const kind = getLayer(l.kind);
    const name = `l${index}_${l.kind}`;
    for (const layer of kind.build(tf, l.options, { init: exp.model.init, inputShape: shape, seed: exp.seed * 1000 + index, name })) {
      model.add(layer);
    }
    shape = kind.outputShape(shape, l.options).shape ?? shape;
  });
  return model;
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}
