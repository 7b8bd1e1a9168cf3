/**
 * Builds the experiment JSON Schema from the registries (layer kinds, datasets, optimizers, schedules).
 * `npm run schema` writes it to schemas/experiment.schema.json, which is what ajv validates at run time.
 */
import { layerKinds } from '../model/registry.js';
import type { LayerKind } from '../model/layer-kind.js';

export const DATASET_NAMES = ['cifar10', 'mnist', 'fashion-mnist', 'digits', 'image-folder', 'synthetic'] as const;
export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'rmsprop'] as const;
export const SCHEDULE_NAMES = ['constant', 'step', 'cosine'] as const;
export const LOSS_NAMES = ['cross_entropy', 'mse'] as const;

type Json = Record<string, unknown>;

/** Schema for the options object of one layer kind. */
export function layerOptionsSchema(kind: LayerKind): Json {
  const s: Json = {
    title: `${kind.name} options`,
    description: kind.description,
    type: 'object',
    additionalProperties: false,
    properties: kind.options,
  };
  if (kind.required?.length) s.required = kind.required;
  return s;
}

/** Whether `- name` (bare string) is accepted: the kind has no required option. */
export function acceptsBare(kind: LayerKind): boolean {
  return !kind.required?.length;
}

export function layerEntrySchema(kind: LayerKind, name: string): Json {
  const ref = { $ref: `#/$defs/layer_${kind.name}_options` };
  const alts: Json[] = [ref];
  if (kind.shorthand) {
    const { description: _d, default: _x, ...shape } = kind.options[kind.shorthand]!;
    alts.push(shape);
  }
  if (acceptsBare(kind)) alts.push({ type: 'null' });
  const value = alts.length === 1 ? { ...ref } : { anyOf: alts };
  const alias = name !== kind.name ? ` (alias of ${kind.name})` : '';
  return {
    title: `${name} layer`,
    description: kind.description + alias,
    type: 'object',
    additionalProperties: false,
    required: [name],
    properties: {
      [name]: {
        description: `Options of ${name}${kind.shorthand ? `, or a value of '${kind.shorthand}' as shorthand` : ''}${
          acceptsBare(kind) ? ', or null for the defaults' : ''
        }.`,
        ...value,
      },
    },
  };
}

/** A key path as in --set and sweep keys: 'optimizer.lr', 'model.layers[2].linear.units' or 'model.layers.2.linear.units'. */
const KEY_PATH_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*(\\[[0-9]+\\])*(\\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(\\[[0-9]+\\])*)*$';

export function buildSchema(): Json {
  const kinds = layerKinds();
  const defs: Json = {};
  const entries: Json[] = [];
  const bare: string[] = [];
  for (const k of kinds) {
    defs[`layer_${k.name}_options`] = layerOptionsSchema(k);
    for (const n of [k.name, ...(k.aliases ?? [])]) {
      defs[`layer_${n}`] = layerEntrySchema(k, n);
      entries.push({ $ref: `#/$defs/layer_${n}` });
      if (acceptsBare(k)) bare.push(n);
    }
  }
  const posInt = (description: string, dflt?: number): Json => ({ description, type: 'integer', minimum: 1, ...(dflt !== undefined ? { default: dflt } : {}) });
  const nullablePosInt = (description: string): Json => ({ description, type: ['integer', 'null'], minimum: 1, default: null });
  const dataset: Json = {
    title: 'Dataset',
    description: 'What to train and test on, how to load, normalise and batch it.',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { description: 'Which dataset.', enum: [...DATASET_NAMES] },
      root: {
        description:
          "Directory of the dataset files; relative paths resolve against the working directory. Default 'data/<name>' (digits: the shipped copy when that does not exist). Required for image-folder (root/train/<class>/*, root/test/<class>/*).",
        type: 'string',
        minLength: 1,
      },
      download: { description: 'Download the dataset into root when it is missing (cifar10, mnist, fashion-mnist).', type: 'boolean', default: true },
      normalize: {
        description: 'Per-channel normalisation after scaling to [0, 1]: (x - mean) / std. null: scale to [0, 1] only (like ToTensor()).',
        anyOf: [
          {
            type: 'object',
            additionalProperties: false,
            required: ['mean', 'std'],
            properties: {
              mean: { description: 'Mean per channel.', type: 'array', items: { type: 'number' }, minItems: 1 },
              std: { description: 'Standard deviation per channel.', type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 },
            },
          },
          { type: 'null' },
        ],
        default: null,
      },
      batch_size: posInt('Training mini-batch size.', 64),
      eval_batch_size: posInt('Batch size for evaluation; default: batch_size.'),
      shuffle: { description: 'Shuffle the training set every epoch (seeded by seed and epoch).', type: 'boolean', default: true },
      drop_last: { description: 'Drop the last incomplete training batch.', type: 'boolean', default: false },
      augment: {
        description: 'Training-split augmentation, seeded.',
        type: 'object',
        additionalProperties: false,
        properties: {
          random_crop: {
            description: 'Random crop of the original size after zero padding on every side: { padding: int }, an integer padding as shorthand, or null for none.',
            anyOf: [
              { type: 'object', additionalProperties: false, required: ['padding'], properties: { padding: { description: 'Zero padding on each side before cropping.', type: 'integer', minimum: 0 } } },
              { type: 'integer', minimum: 0 },
              { type: 'null' },
            ],
            default: null,
          },
          horizontal_flip: { description: 'Flip images left-right with probability 0.5.', type: 'boolean', default: false },
        },
        default: { random_crop: null, horizontal_flip: false },
      },
      train_limit: nullablePosInt('Use only the first N training examples (quick runs); null: all.'),
      test_limit: nullablePosInt('Use only the first N test examples; null: all.'),
      image_size: {
        description: 'image-folder only: images are resized to [height, width].',
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        minItems: 2,
        maxItems: 2,
        default: [32, 32],
      },
      channels: { description: 'image-folder only: 1 (greyscale) or 3 (RGB).', enum: [1, 3], default: 3 },
      shape: {
        description: 'synthetic only: example shape [height, width, channels].',
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        minItems: 3,
        maxItems: 3,
        default: [8, 8, 1],
      },
      classes: { description: 'synthetic only: number of classes (labels are stored as bytes).', type: 'integer', minimum: 2, maximum: 256, default: 4 },
      train_size: posInt('synthetic only: number of training examples.', 512),
      test_size: posInt('synthetic only: number of test examples.', 128),
      test_fraction: {
        description: 'digits: fraction of the 1,797 examples held out for testing (seeded split); image-folder without test/: fraction of each class of train/ held out (fixed-seed split; default: use root/test).',
        type: 'number',
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        default: 0.2,
      },
    },
  };
  const loss: Json = {
    title: 'Loss',
    description: 'Loss function, by name or as an object.',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { description: 'cross_entropy: softmax cross-entropy on logits (PyTorch nn.CrossEntropyLoss); mse: mean squared error against one-hot labels.', enum: [...LOSS_NAMES] },
      label_smoothing: { description: 'cross_entropy only: label smoothing factor.', type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
    },
  };
  const optimizer: Json = {
    title: 'Optimizer',
    description: 'Optimizer and its hyper-parameters (PyTorch semantics).',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'lr'],
    properties: {
      name: { description: 'Which optimizer.', enum: [...OPTIMIZER_NAMES] },
      lr: { description: 'Learning rate (before the schedule).', type: 'number', exclusiveMinimum: 0 },
      momentum: { description: 'sgd, rmsprop: momentum factor.', type: 'number', minimum: 0, maximum: 1, default: 0 },
      nesterov: { description: 'sgd only: Nesterov momentum (needs momentum > 0).', type: 'boolean', default: false },
      weight_decay: { description: 'L2 penalty (sgd, adam, rmsprop) or decoupled weight decay (adamw). Default 0; adamw 0.01.', type: 'number', minimum: 0 },
      betas: {
        description: 'adam, adamw: coefficients for the running averages of the gradient and its square.',
        type: 'array',
        items: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        minItems: 2,
        maxItems: 2,
        default: [0.9, 0.999],
      },
      eps: { description: 'adam, adamw, rmsprop: term added to the denominator.', type: 'number', exclusiveMinimum: 0, default: 1e-8 },
      alpha: { description: 'rmsprop only: smoothing constant.', type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.99 },
    },
  };
  const schedule: Json = {
    title: 'Schedule',
    description: 'Learning-rate schedule over epochs, by name or as an object.',
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { description: 'constant; step: multiply by gamma every step_size epochs; cosine: cosine annealing from lr to min_lr over the epochs.', enum: [...SCHEDULE_NAMES] },
      step_size: posInt('step only: epochs between decays.', 10),
      gamma: { description: 'step only: multiplicative factor applied every step_size epochs (below 1 decays; PyTorch StepLR accepts any positive value).', type: 'number', exclusiveMinimum: 0, default: 0.1 },
      min_lr: { description: 'cosine only: final learning rate.', type: 'number', minimum: 0, default: 0 },
      warmup_epochs: { description: 'Linear warm-up from lr/warmup to lr over the first epochs (any schedule).', type: 'integer', minimum: 0, default: 0 },
    },
  };
  const layerDef: Json = {
    title: 'Layer',
    description: `One layer: a single-key map '<kind>: <options>', '<kind>: <value>' (shorthand) or a bare '<kind>'. Kinds: ${kinds
      .flatMap((k) => [k.name, ...(k.aliases ?? [])])
      .join(', ')}.`,
    anyOf: [{ description: 'A kind without required options, with its defaults.', enum: bare }, ...entries],
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/tudui/tudui/schemas/experiment.schema.json',
    title: 'Experiment',
    description: 'A tudui experiment: dataset, model, loss, optimizer and training settings. Generated by `npm run schema`; do not edit.',
    type: 'object',
    additionalProperties: false,
    patternProperties: { '^x-': { description: "Ignored by tudui: a place for YAML anchors, e.g. 'x-conv: &conv { kernel_size: 3 }' then '<<: *conv'." } },
    required: ['name', 'dataset', 'model', 'optimizer', 'epochs'],
    properties: {
      $schema: { description: 'Path or URL of this schema, for editors.', type: 'string' },
      name: { description: 'Experiment name; used in run directory names.', type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
      description: { description: 'Free text describing the experiment.', type: 'string' },
      seed: { description: 'Seed for initialisation, shuffling, augmentation and dropout (at most 2^53 - 1, so that it is exact).', type: 'integer', minimum: 0, maximum: 9007199254740991, default: 0 },
      device: { description: "Where to train: auto picks the fastest backend available.", enum: ['auto', 'cpu', 'gpu'], default: 'auto' },
      dataset: { $ref: '#/$defs/dataset' },
      model: {
        title: 'Model',
        description: 'The network: a sequence of layers.',
        type: 'object',
        additionalProperties: false,
        required: ['layers'],
        properties: {
          init: { description: "Weight initialisation: torch (PyTorch defaults: U(±1/√fan_in) for weights and biases), glorot (uniform, zero biases) or he (normal, zero biases).", enum: ['torch', 'glorot', 'he'], default: 'torch' },
          layers: { description: 'Layers in order; the input shape comes from the dataset.', type: 'array', minItems: 1, items: { $ref: '#/$defs/layer' } },
        },
      },
      loss: { description: 'Loss function: a name or { name, label_smoothing }.', anyOf: [{ enum: [...LOSS_NAMES] }, { $ref: '#/$defs/loss' }], default: 'cross_entropy' },
      optimizer: { $ref: '#/$defs/optimizer' },
      schedule: { description: 'Learning-rate schedule: a name or an object.', anyOf: [{ enum: [...SCHEDULE_NAMES] }, { $ref: '#/$defs/schedule' }], default: 'constant' },
      epochs: posInt('Number of passes over the training set.'),
      log: {
        title: 'Log',
        description: 'Logging cadence.',
        type: 'object',
        additionalProperties: false,
        properties: { train_loss_every: posInt('Record the training loss every N steps.', 200) },
        default: { train_loss_every: 200 },
      },
      checkpoint: {
        title: 'Checkpoint',
        description: 'Which checkpoints to keep in the run directory.',
        type: 'object',
        additionalProperties: false,
        properties: {
          keep_last: nullablePosInt('Keep the last N epoch checkpoints; null keeps all.'),
          keep_best: { description: 'Also keep the best checkpoint by monitor.', type: 'boolean', default: true },
          monitor: { description: 'Metric that decides the best checkpoint.', enum: ['test_accuracy', 'test_loss'], default: 'test_accuracy' },
        },
        default: { keep_last: null, keep_best: true, monitor: 'test_accuracy' },
      },
      on_nan: { description: 'What to do when the training loss becomes NaN or infinite: stop the run (status diverged), or skip the batch.', enum: ['stop', 'skip'], default: 'stop' },
      on_nan_patience: posInt('on_nan: skip only: give up (status diverged) after this many consecutive skipped batches.', 10),
      sweep: {
        description:
          "Parameter grid for `tudui sweep`: key path (as for --set, e.g. 'optimizer.lr') → list of values, run as the cross product; " +
          "or a list of members, each a map of key path → value; or both: a 'members' list beside the key paths is one more axis of the product.",
        anyOf: [
          {
            type: 'object',
            propertyNames: { pattern: KEY_PATH_PATTERN },
            properties: { members: { description: 'A list of members, each a map of key path → value (one more axis of the cross product).', type: 'array', minItems: 1, items: { type: 'object', minProperties: 1, propertyNames: { pattern: KEY_PATH_PATTERN } } } },
            additionalProperties: { type: 'array', minItems: 1 },
          },
          { description: 'A list of members, each a map of key path → value.', type: 'array', minItems: 1, items: { type: 'object', minProperties: 1, propertyNames: { pattern: KEY_PATH_PATTERN } } },
          { type: 'null' },
        ],
        default: null,
      },
    },
    $defs: { dataset, loss, optimizer, schedule, layer: layerDef, ...defs },
  };
}
