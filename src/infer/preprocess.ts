/**
 * A picture → the model's input, as the checkpoint's metadata says (src/run/checkpoint-files.ts,
 * `InferenceMetadata`): decoded and resized like the dataset's images (src/data/decode-image.ts), each 8-bit value
 * mapped to the dataset's own levels (raw = round(p · max_value / 255): digits have 17), then normalised with the
 * training pipeline's own table, so a picture of a dataset image is the very input the model saw. No tfjs.
 */
import { decodeImage, type ImageInput } from '../data/decode-image.js';
import { normalizationTable } from '../data/index.js';
import type { InferenceMetadata } from '../run/checkpoint-files.js';

export type { ImageInput, RawImage } from '../data/decode-image.js';

/** table[c · 256 + p]: the model input value of 8-bit value p in channel c. */
export function inputTable(meta: InferenceMetadata): Float32Array {
  const [height, width, channels] = meta.input.shape;
  const max = meta.input.max_value;
  const lut = normalizationTable({ height, width, channels, classes: meta.classes.length, classNames: meta.classes, maxValue: max }, meta.input.normalize);
  const table = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) for (let p = 0; p < 256; p++) table[c * 256 + p] = lut[c * 256 + Math.round((p * max) / 255)]!;
  return table;
}

/** The 8-bit picture value that stands for a dataset value (the inverse of the mapping above; for writing pictures). */
export function pictureValue(raw: number, maxValue: number): number {
  return Math.round((raw * 255) / maxValue);
}

/** One picture → h·w·c float32 values (HWC), into `out` at `offset` when given. */
export async function preprocessPicture(
  input: ImageInput,
  meta: InferenceMetadata,
  table = inputTable(meta),
  name?: string,
  out?: Float32Array,
  offset = 0,
): Promise<Float32Array> {
  const [h, w, c] = meta.input.shape;
  const bytes = await decodeImage(input, h, w, c, name);
  const dst = out ?? new Float32Array(h * w * c);
  for (let k = 0; k < bytes.length; k++) dst[offset + k] = table[(k % c) * 256 + bytes[k]!]!;
  return dst;
}
