/** Fills in defaults and expands shorthands: schema-valid input → ResolvedExperiment. */
import { datasets } from '../data/registry.js';
import { losses } from '../train/loss-registry.js';
import { optimizers } from '../train/optimizer-registry.js';
import { schedules } from '../train/schedule-registry.js';
import { resolveBlocks, resolveEntry } from './blocks.js';
import { defaults, resolveLayer } from './layer-entry.js';
import type { Experiment } from './experiment.generated.js';
import type { ResolvedDataset, ResolvedExperiment, SourceLoc } from './types.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `obj`'s keys in the schema's property order. */
function ordered(props: Json, obj: Json): Json {
  const out: Json = {};
  for (const k of Object.keys(props)) if (k in obj) out[k] = obj[k];
  return out;
}

export { resolveLayer };

export function resolveExperiment(input: Experiment, schema: Json, layerLoc?: (i: number) => SourceLoc | undefined): ResolvedExperiment {
  const defs = schema.$defs as Json;
  const top = schema.properties as Json;
  const d = (input.dataset ?? {}) as Json;
  const name = d.name as ResolvedDataset['name'];
  const kind = datasets.find(name);
  const dsDefaults = datasets.defaults(kind);
  const rc = d.augment?.random_crop;
  const special: Json = {
    root: d.root ?? `data/${name}`,
    eval_batch_size: d.eval_batch_size ?? d.batch_size ?? dsDefaults.batch_size,
    augment: {
      random_crop: rc === null || rc === undefined ? null : typeof rc === 'number' ? { padding: rc } : { padding: rc.padding },
      horizontal_flip: d.augment?.horizontal_flip ?? (dsDefaults.augment as Json).horizontal_flip,
    },
  };
  const dataset: Json = { name };
  // The shared options, download (in every resolved dataset) and the dataset's own, in the schema's order.
  for (const k of Object.keys(datasets.table)) {
    if (k !== 'download' && !datasets.uses(kind, k)) continue;
    if (k in special) dataset[k] = special[k];
    else if (d[k] !== undefined || k in dsDefaults) dataset[k] = structuredClone(d[k] ?? dsDefaults[k]);
  }

  const rawLoss = input.loss ?? top.loss.default;
  const lossObj: Json = typeof rawLoss === 'string' ? { name: rawLoss } : rawLoss;
  const lossKind = losses.find(lossObj.name);
  const lossDefaults = losses.defaults(lossKind, true);
  const loss = { name: lossObj.name } as Json;
  for (const k of Object.keys(lossKind?.options ?? {})) loss[k] = structuredClone(lossObj[k] ?? lossDefaults[k]);

  const o = input.optimizer as Json;
  const optimizer = ordered(defs.optimizer.properties, {
    ...optimizers.defaults(optimizers.find(o.name)),
    ...structuredClone(o),
  }) as ResolvedExperiment['optimizer'];

  const rawSched = input.schedule ?? top.schedule.default;
  const sched: Json = typeof rawSched === 'string' ? { name: rawSched } : structuredClone(rawSched);
  const schedule = ordered(defs.schedule.properties, { ...schedules.defaults(schedules.find(sched.name)), ...sched }) as ResolvedExperiment['schedule'];

  const blocks = resolveBlocks((input.model as Json | undefined)?.blocks);
  const layers = (input.model?.layers ?? []).map((entry, i) => {
    const l = resolveEntry(entry, blocks);
    const loc = layerLoc?.(i);
    return loc ? { ...l, loc } : l;
  });

  const exp: ResolvedExperiment = {
    name: input.name,
    seed: input.seed ?? top.seed.default,
    device: input.device ?? top.device.default,
    dataset: dataset as ResolvedDataset,
    model: { init: input.model?.init ?? top.model.properties.init.default, ...(blocks ? { blocks } : {}), layers },
    loss: loss as ResolvedExperiment['loss'],
    optimizer,
    schedule,
    epochs: input.epochs,
    log: { train_loss_every: input.log?.train_loss_every ?? top.log.properties.train_loss_every.default },
    checkpoint: ordered(top.checkpoint.properties, { ...defaults(top.checkpoint.properties), ...structuredClone(input.checkpoint ?? {}) }) as ResolvedExperiment['checkpoint'],
    on_nan: input.on_nan ?? top.on_nan.default,
    on_nan_patience: input.on_nan_patience ?? top.on_nan_patience.default,
    sweep: input.sweep ? structuredClone(input.sweep) as ResolvedExperiment['sweep'] : null,
  };
  if (input.description !== undefined) exp.description = input.description;
  const esIn = (input as Json).early_stopping as Json | undefined;
  if (esIn) {
    const es = top.early_stopping.properties;
    // default monitor: the checkpoint's, read on the validation split when there is one (as the loop reads it)
    const monitor = esIn.monitor ?? (dataset.validation ? exp.checkpoint.monitor.replace(/^test_/, 'val_') : exp.checkpoint.monitor);
    exp.early_stopping = { monitor, patience: esIn.patience ?? es.patience.default, min_delta: esIn.min_delta ?? es.min_delta.default };
  }
  return exp;
}
