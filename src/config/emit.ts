/** Resolved experiment → YAML in the input language, and a stable hash of it. */
import { createHash } from 'node:crypto';
import { Document, isMap, isSeq, visit } from 'yaml';
import { layerToObject, stripLocs } from './blocks.js';
import type { ResolvedExperiment } from './types.js';

type Json = Record<string, unknown>;

/** The resolved experiment as a plain object in the input language (layers as '- kind: {options}'), no source positions. */
export function resolvedToObject(exp: ResolvedExperiment): Json {
  const layers = exp.model.layers.map(layerToObject);
  const out: Json = { name: exp.name };
  if (exp.description !== undefined) out.description = exp.description;
  Object.assign(out, {
    seed: exp.seed,
    device: exp.device,
    dataset: exp.dataset,
    model: { init: exp.model.init, ...(exp.model.blocks ? { blocks: exp.model.blocks } : {}), layers },
    loss: exp.loss,
    optimizer: exp.optimizer,
    schedule: exp.schedule,
    epochs: exp.epochs,
    log: exp.log,
    checkpoint: exp.checkpoint,
    on_nan: exp.on_nan,
    on_nan_patience: exp.on_nan_patience,
  });
  if (exp.early_stopping) out.early_stopping = exp.early_stopping;
  if (exp.sweep) out.sweep = exp.sweep;
  return structuredClone(out);
}

/** YAML that is itself a valid experiment file resolving to `exp` (minus source positions). */
export function resolvedToYaml(exp: ResolvedExperiment): string {
  const doc = new Document(resolvedToObject(exp));
  visit(doc, {
    Seq(_k, node) {
      if (node.items.every((i) => !isMap(i) && !isSeq(i))) node.flow = true;
    },
  });
  const layers = doc.getIn(['model', 'layers']);
  if (isSeq(layers)) {
    for (const item of layers.items) {
      // '- conv2d: { filters: 32, ... }'
      if (isMap(item)) for (const pair of item.items) if (isMap(pair.value)) pair.value.flow = true;
    }
  }
  return `# Resolved experiment (every default filled in); a valid tudui experiment file.\n${doc.toString({ lineWidth: 0 })}`;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Json)
        .filter((k) => (v as Json)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((v as Json)[k])]),
    );
  }
  return v;
}

/** sha256 (hex) of the canonical JSON of the resolved experiment, ignoring source positions. */
export function experimentHash(exp: ResolvedExperiment): string {
  const { model, ...rest } = exp;
  const stripped = { ...rest, model: { ...model, layers: stripLocs(model.layers) } };
  return createHash('sha256').update(JSON.stringify(canonical(stripped))).digest('hex');
}
