/**
 * Every dataset option, declared once (JSON Schema in schema order; '{only}' and '{users}' name the datasets that
 * use it). The shared ones (DATASET_SHARED) apply to every dataset; the dataset files pick the rest.
 */
import { nullablePosInt, posInt, type OptionSchema } from '../../registry.js';

const TEST_EVERY_EPOCH = { description: 'Also evaluate the test split every epoch, for its curve (nothing is chosen on it).', type: 'boolean', default: false } as const;

export const DATASET_OPTIONS = {
  root: {
    description:
      "Directory of the dataset files; relative paths resolve against the working directory. Default 'data/<name>' (digits: the shipped copy when that does not exist). Required for image-folder (root/train/<class>/*, root/test/<class>/*).",
    type: 'string',
    minLength: 1,
  },
  download: { description: 'Download the dataset into root when it is missing ({users}).', type: 'boolean', default: true },
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
    description: '{only}: images are resized to [height, width].',
    type: 'array',
    items: { type: 'integer', minimum: 1 },
    minItems: 2,
    maxItems: 2,
    default: [32, 32],
  },
  channels: { description: '{only}: 1 (greyscale) or 3 (RGB).', enum: [1, 3], default: 3 },
  shape: {
    description: '{only}: example shape [height, width, channels].',
    type: 'array',
    items: { type: 'integer', minimum: 1 },
    minItems: 3,
    maxItems: 3,
    default: [8, 8, 1],
  },
  classes: { description: '{only}: number of classes (labels are stored as bytes).', type: 'integer', minimum: 2, maximum: 256, default: 4 },
  train_size: posInt('{only}: number of training examples.', 512),
  test_size: posInt('{only}: number of test examples.', 128),
  validation: {
    description:
      "A validation split: { fraction } of each class held out of the training split (a fixed-seed stratified split, the same whatever the experiment seed; after train_limit), or { from: files }, the dataset's own validation files (image-folder: root/val/<class>/, also named valid/ or validation/, with exactly train's classes; read whole). When set, the per-epoch metrics are val_loss / val_accuracy, the best checkpoint, early stopping and the plateau schedule use them, and the test split is evaluated once at the end, on the best checkpoint. Unset: test every epoch (a val/ directory is then not read).",
    anyOf: [
      {
        type: 'object',
        additionalProperties: false,
        required: ['fraction'],
        properties: {
          fraction: { description: 'Share of each class of the training split held out for validation.', type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
          test_every_epoch: TEST_EVERY_EPOCH,
        },
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['from'],
        properties: {
          from: { description: "files: validate on the dataset's own validation files instead of holding some of train out.", enum: ['files'] },
          test_every_epoch: TEST_EVERY_EPOCH,
        },
      },
      { type: 'null' },
    ],
  },
  test_fraction: {
    description: 'digits: fraction of the 1,797 examples held out for testing (seeded split); image-folder without test/: fraction of each class of train/ held out (fixed-seed split; default: use root/test).',
    type: 'number',
    exclusiveMinimum: 0,
    exclusiveMaximum: 1,
    default: 0.2,
  },
} satisfies Record<string, OptionSchema>;

/** Options every dataset uses. */
export const DATASET_SHARED = ['root', 'normalize', 'batch_size', 'eval_batch_size', 'shuffle', 'drop_last', 'augment', 'train_limit', 'test_limit', 'validation'] as const;
