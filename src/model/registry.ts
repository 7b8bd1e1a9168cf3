/**
 * The layer registry: every layer kind of the experiment language, by canonical name and alias.
 * Importing this module never loads TensorFlow (layer files only `import type` it).
 */
import type { LayerKind } from './layer-kind.js';
import { avgpool2d } from './layers/avgpool2d.js';
import { batchnorm } from './layers/batchnorm.js';
import { conv2d } from './layers/conv2d.js';
import { dropout } from './layers/dropout.js';
import { flatten } from './layers/flatten.js';
import { gelu } from './layers/gelu.js';
import { global_avgpool2d } from './layers/global_avgpool2d.js';
import { leaky_relu } from './layers/leaky_relu.js';
import { linear } from './layers/linear.js';
import { maxpool2d } from './layers/maxpool2d.js';
import { relu } from './layers/relu.js';
import { scale } from './layers/scale.js';
import { sigmoid } from './layers/sigmoid.js';
import { softmax } from './layers/softmax.js';
import { tanh } from './layers/tanh.js';

const kinds = new Map<string, LayerKind>();
const byName = new Map<string, LayerKind>();

/** Adds a kind (and its aliases); a name already taken is a bug. */
export function registerLayer<O extends Record<string, unknown>>(kind: LayerKind<O>): void {
  for (const n of [kind.name, ...(kind.aliases ?? [])]) {
    if (byName.has(n)) throw new Error(`layer name '${n}' is registered twice`);
  }
  kinds.set(kind.name, kind as unknown as LayerKind);
  for (const n of [kind.name, ...(kind.aliases ?? [])]) byName.set(n, kind as unknown as LayerKind);
}

/** The kind registered under a canonical name or alias, or undefined. */
export function findLayer(name: string): LayerKind | undefined {
  return byName.get(name);
}

/** The kind registered under a canonical name or alias; throws an Error listing the valid names otherwise. */
export function getLayer(name: string): LayerKind {
  const k = byName.get(name);
  if (!k) throw new Error(`unknown layer '${name}'; valid kinds: ${layerNames(true).join(', ')}`);
  return k;
}

/** Canonical names in registration order; with `withAliases`, aliases follow their kind. */
export function layerNames(withAliases = false): string[] {
  return [...kinds.values()].flatMap((k) => (withAliases ? [k.name, ...(k.aliases ?? [])] : [k.name]));
}

/** Every registered kind, in registration order. */
export function layerKinds(): LayerKind[] {
  return [...kinds.values()];
}

registerLayer(conv2d);
registerLayer(maxpool2d);
registerLayer(avgpool2d);
registerLayer(global_avgpool2d);
registerLayer(flatten);
registerLayer(linear);
registerLayer(relu);
registerLayer(leaky_relu);
registerLayer(gelu);
registerLayer(sigmoid);
registerLayer(tanh);
registerLayer(softmax);
registerLayer(dropout);
registerLayer(batchnorm);
registerLayer(scale);
