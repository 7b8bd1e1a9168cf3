/**
 * One kind of layer, as the registry knows it. Everything but `build` is plain data and pure functions, so the
 * config layer (schema generation, validation, shape inference) can use the registry without loading TensorFlow.
 */
import type * as tfjs from '@tensorflow/tfjs';

/** JSON Schema fragment (2020-12) for one option; `description` is mandatory, `default` where there is one. */
export interface OptionSchema {
  description: string;
  default?: unknown;
  [keyword: string]: unknown;
}

/** Shape of one example, without the batch dimension: [height, width, channels] or [features]. */
export type Shape = number[];

export interface ShapeResult {
  shape?: Shape;
  /** A user-facing explanation when the layer cannot apply to its input, e.g. 'kernel 5×5 is larger than its input 3×3'. */
  error?: string;
}

export interface BuildContext {
  /** Weight initialisation scheme of the experiment. */
  init: 'torch' | 'glorot' | 'he';
  /** Input shape of this layer (no batch dimension). */
  inputShape: Shape;
  /** Deterministic seed for this layer's initialisers. */
  seed: number;
  /** Unique, stable prefix for tf.layers names, e.g. 'l3_conv2d'. */
  name: string;
}

export interface LayerKind<O extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  aliases?: string[];
  description: string;
  /** Options as JSON Schema properties; `required` lists those without a default. */
  options: Record<string, OptionSchema>;
  required?: string[];
  /**
   * Shorthand: the name of the option a scalar value stands for (`maxpool2d: 2` → pool_size 2).
   * Layers without options accept the bare string form (`- flatten`).
   */
  shorthand?: string;
  /** Output shape for an input shape, or an error when the layer cannot apply. */
  outputShape(input: Shape, options: O): ShapeResult;
  /** Number of trainable parameters for the given input shape. */
  parameters(input: Shape, options: O): number;
  /** tf.layers layers implementing this kind (possibly several, e.g. explicit zero padding then conv). */
  build(tf: typeof tfjs, options: O, ctx: BuildContext): tfjs.layers.Layer[];
}
