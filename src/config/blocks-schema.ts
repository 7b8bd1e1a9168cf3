/**
 * JSON Schema parts of the nested model language (`model.blocks`, `residual`, `repeat`), merged into the experiment
 * schema by schema-build.ts. ajv only needs to accept what is valid; the walker (check.ts → blocks.ts) checks each
 * block use against the block of the same file, which a static schema cannot name.
 */
import { BLOCK_NAME_PATTERN, REQUIRED, RESIDUAL } from './blocks.js';

type Json = Record<string, unknown>;

export const REPEAT_SCHEMA: Json = {
  description: 'Stack N copies of this entry, each with its own weights.',
  type: 'integer',
  minimum: 1,
  maximum: 1000,
  default: 1,
};

/** `$defs` to add, and the layer `anyOf` branches for residuals and block uses. `builtins`: every kind name and alias. */
export function nestedSchema(builtins: string[]): { defs: Json; layerBranches: Json[]; bareBranch: Json; blocksProperty: Json } {
  const reserved = [...builtins, RESIDUAL];
  const list = (description: string): Json => ({ description, type: 'array', minItems: 1, items: { $ref: '#/$defs/layer' } });
  const residualOptions: Json = {
    title: 'residual options',
    description: 'x + f(x): the layers are the branch f; the shortcut is the identity unless `shortcut: conv`.',
    type: 'object',
    additionalProperties: false,
    required: ['layers'],
    properties: {
      shortcut: {
        description:
          "identity: x as it is (the branch must keep the shape; a mismatch is an error, never a silent projection); conv: a 1×1 conv (no bias) with batchnorm, its stride and channels inferred from the branch's output shape.",
        enum: ['identity', 'conv'],
        default: 'identity',
      },
      repeat: { $ref: '#/$defs/repeat' },
      layers: list('The branch, in order.'),
    },
  };
  const defs: Json = {
    repeat: REPEAT_SCHEMA,
    layer_residual_options: residualOptions,
    layer_residual: {
      title: 'residual layer',
      description: 'A residual block: the output is shortcut(x) + branch(x). A list of layers (identity shortcut) or { shortcut, repeat, layers }.',
      type: 'object',
      additionalProperties: false,
      required: [RESIDUAL],
      properties: { [RESIDUAL]: { description: 'The branch as a list of layers, or { shortcut, repeat, layers }.', anyOf: [list('The branch, in order (identity shortcut).'), { $ref: '#/$defs/layer_residual_options' }] } },
    },
    block_use: {
      title: 'block use',
      description: "A block of model.blocks used as a layer: '- name: { param: value, ..., repeat: N }' (or '- name' when no parameter is required).",
      type: 'object',
      minProperties: 1,
      maxProperties: 1,
      propertyNames: { pattern: BLOCK_NAME_PATTERN, not: { enum: reserved } },
      additionalProperties: { anyOf: [{ type: 'object' }, { type: 'null' }] },
    },
    block: {
      title: 'Block',
      description: "A user-defined layer kind: parameters and the layers they fill in ('$name' as a whole value).",
      type: 'object',
      additionalProperties: false,
      required: ['layers'],
      properties: {
        description: { description: 'Free text describing the block.', type: 'string' },
        params: {
          description: `Parameter name → default value, or '${REQUIRED}' for one every use must give. Used in the layers as '$name' (a whole value).`,
          type: 'object',
          additionalProperties: {},
          default: {},
        },
        layers: { description: "The block's layers, in order; any option value may be '$param'.", type: 'array', minItems: 1, items: { $ref: '#/$defs/block_layer' } },
      },
    },
    block_layer: {
      title: 'BlockLayer',
      description: "A layer inside a block, as in model.layers, where any option value may be '$param' (checked at each use).",
      anyOf: [{ type: 'string' }, { type: 'object', minProperties: 1, maxProperties: 1 }],
    },
  };
  return {
    defs,
    layerBranches: [{ $ref: '#/$defs/layer_residual' }, { $ref: '#/$defs/block_use' }],
    bareBranch: { description: 'A block of model.blocks without required parameters.', type: 'string', pattern: BLOCK_NAME_PATTERN, not: { enum: reserved } },
    blocksProperty: {
      title: 'Blocks',
      description: "User-defined layer kinds: name → { params, layers }. Used in model.layers (and in other blocks) like a built-in kind: '- name: { param: value }'. A name may not shadow a built-in kind.",
      type: 'object',
      propertyNames: { pattern: BLOCK_NAME_PATTERN },
      additionalProperties: { $ref: '#/$defs/block' },
    },
  };
}
