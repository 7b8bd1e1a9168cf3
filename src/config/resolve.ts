/** Fills in defaults and expands shorthands: schema-valid input → ResolvedExperiment. */
import { getLayer } from '../model/registry.js';
import type { Experiment } from './experiment.generated.js';
import type { ResolvedDataset, ResolvedExperiment, ResolvedLayer, SourceLoc } from './types.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `obj`'s keys in the schema's property order. */
function ordered(props: Json, obj: Json): Json {
  const out: Json = {};
  for (const k of Object.keys(props)) if (k in obj) out[k] = obj[k];
  return out;
}

function defaults(props: Json): Json {
  const out: Json = {};
  for (const [k, s] of Object.entries<Json>(props)) if ('default' in s) out[k] = structuredClone(s.default);
  return out;
}

/** Entry as written → { kind, options }. */
export function resolveLayer(entry: unknown): ResolvedLayer {
  let name: string;
  let value: unknown = null;
  if (typeof entry === 'string') name = entry;
  else {
    name = Object.keys(entry as Json)[0]!;
    value = (entry as Json)[name];
  }
  const kind = getLayer(name);
  let given: Json = {};
  if (value !== null && value !== undefined) {
    if (typeof value === 'object' && !Array.isArray(value)) given = value as Json;
    else if (kind.shorthand) given = { [kind.shorthand]: value };
  }
  const dflt = defaults(kind.options);
  const options: Json = {};
  for (const k of Object.keys(kind.options)) {
    if (k in given) options[k] = structuredClone(given[k]);
    else if (k in dflt) options[k] = dflt[k];
  }
  return { kind: kind.name, options };
}

export function resolveExperiment(input: Experiment, schema: Json, layerLoc?: (i: number) => SourceLoc | undefined): ResolvedExperiment {
  const defs = schema.$defs as Json;
  const top = schema.properties as Json;
  const d = (input.dataset ?? {}) as Json;
  const dsDefaults = defaults(defs.dataset.properties);
  const name = d.name as ResolvedDataset['name'];
  const rc = d.augment?.random_crop;
  const dataset: ResolvedDataset = {
    name,
    root: d.root ?? `data/${name}`,
    download: d.download ?? dsDefaults.download,
    normalize: d.normalize ? { mean: [...d.normalize.mean], std: [...d.normalize.std] } : null,
    batch_size: d.batch_size ?? dsDefaults.batch_size,
    eval_batch_size: d.eval_batch_size ?? d.batch_size ?? dsDefaults.batch_size,
    shuffle: d.shuffle ?? dsDefaults.shuffle,
    drop_last: d.drop_last ?? dsDefaults.drop_last,
    augment: {
      random_crop: rc === null || rc === undefined ? null : typeof rc === 'number' ? { padding: rc } : { padding: rc.padding },
      horizontal_flip: d.augment?.horizontal_flip ?? false,
    },
    train_limit: d.train_limit ?? null,
    test_limit: d.test_limit ?? null,
  };
  if (name === 'image-folder') {
    dataset.image_size = d.image_size ?? dsDefaults.image_size;
    dataset.channels = d.channels ?? dsDefaults.channels;
  }
  if (name === 'synthetic') {
    dataset.shape = d.shape ?? dsDefaults.shape;
    dataset.classes = d.classes ?? dsDefaults.classes;
    dataset.train_size = d.train_size ?? dsDefaults.train_size;
    dataset.test_size = d.test_size ?? dsDefaults.test_size;
  }
  if (name === 'digits') dataset.test_fraction = d.test_fraction ?? dsDefaults.test_fraction;
  if (name === 'image-folder' && d.test_fraction !== undefined) dataset.test_fraction = d.test_fraction;

  const rawLoss = input.loss ?? top.loss.default;
  const lossObj: Json = typeof rawLoss === 'string' ? { name: rawLoss } : rawLoss;
  const loss: ResolvedExperiment['loss'] =
    lossObj.name === 'mse' ? { name: 'mse' } : { name: 'cross_entropy', label_smoothing: lossObj.label_smoothing ?? 0 };

  const o = input.optimizer as Json;
  const optimizer = ordered(defs.optimizer.properties, {
    ...defaults(defs.optimizer.properties),
    weight_decay: o.name === 'adamw' ? 0.01 : 0,
    ...structuredClone(o),
  }) as ResolvedExperiment['optimizer'];

  const rawSched = input.schedule ?? top.schedule.default;
  const schedule = ordered(defs.schedule.properties, {
    ...defaults(defs.schedule.properties),
    ...(typeof rawSched === 'string' ? { name: rawSched } : structuredClone(rawSched)),
  }) as ResolvedExperiment['schedule'];

  const layers = (input.model?.layers ?? []).map((entry, i) => {
    const l = resolveLayer(entry);
    const loc = layerLoc?.(i);
    return loc ? { ...l, loc } : l;
  });

  const exp: ResolvedExperiment = {
    name: input.name,
    seed: input.seed ?? top.seed.default,
    device: input.device ?? top.device.default,
    dataset,
    model: { init: input.model?.init ?? top.model.properties.init.default, layers },
    loss,
    optimizer,
    schedule,
    epochs: input.epochs,
    log: { train_loss_every: input.log?.train_loss_every ?? 200 },
    checkpoint: ordered(top.checkpoint.properties, { ...defaults(top.checkpoint.properties), ...structuredClone(input.checkpoint ?? {}) }) as ResolvedExperiment['checkpoint'],
    on_nan: input.on_nan ?? top.on_nan.default,
    on_nan_patience: input.on_nan_patience ?? top.on_nan_patience.default,
    sweep: input.sweep ? structuredClone(input.sweep) as ResolvedExperiment['sweep'] : null,
  };
  if (input.description !== undefined) exp.description = input.description;
  return exp;
}
