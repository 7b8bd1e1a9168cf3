/**
 * One image → the bytes a dataset stores: decoded with sharp (PNG, JPEG, WebP, GIF, TIFF, AVIF, SVG: whatever
 * libvips reads), resized to [h, w] ignoring the aspect ratio (torchvision `Resize((h, w))`), converted to sRGB
 * with alpha dropped, then for 1 channel to luma exactly like PIL's `convert('L')` (R·299 + G·587 + B·114)/1000.
 * image-folder decodes its files with it and `tudui predict` decodes pictures with it, so a picture is seen the
 * same way in training and in inference. No tfjs.
 */
import { UserError } from '../errors.js';

/** Raw pixels already in memory: `channels` interleaved values per pixel (4 for a browser ImageData). */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: number;
}

/** What to decode: a file path, the bytes of an encoded image, or raw pixels. */
export type ImageInput = string | Uint8Array | RawImage;

/** `input` → h×w×c bytes (HWC). Failures are UserErrors naming `name` (default: the path, or 'image'). */
export async function decodeImage(input: ImageInput, h: number, w: number, c: number, name?: string): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp');
  const what = name ?? (typeof input === 'string' ? input : 'image');
  let data: Buffer;
  let got: number;
  try {
    let img;
    if (typeof input === 'string' || input instanceof Uint8Array) img = sharp(input, { failOn: 'error' });
    else {
      const channels = input.channels ?? input.data.length / (input.width * input.height);
      if (![1, 2, 3, 4].includes(channels) || input.data.length !== input.width * input.height * channels) {
        throw new Error(`raw image of ${input.width}×${input.height} has ${input.data.length} values, not 1 to 4 per pixel`);
      }
      img = sharp(Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength), { raw: { width: input.width, height: input.height, channels: channels as 1 | 2 | 3 | 4 } });
    }
    const r = await img.resize(w, h, { fit: 'fill' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    data = r.data;
    got = r.info.channels;
    if (r.info.width !== w || r.info.height !== h) throw new Error(`decoded to ${r.info.width}×${r.info.height}`);
  } catch (e) {
    throw new UserError(`cannot decode image ${what}: ${(e as Error).message}`);
  }
  const n = h * w;
  if (got === c) return new Uint8Array(data.buffer, data.byteOffset, n * c);
  const out = new Uint8Array(n * c);
  if (got === 1 && c === 3) for (let p = 0; p < n; p++) out.fill(data[p]!, 3 * p, 3 * p + 3);
  else if (got >= 3 && c === 1) {
    // PIL's convert('L') (what torchvision's Grayscale does): ITU-R 601-2 luma on the gamma-encoded values
    for (let p = 0; p < n; p++) out[p] = (data[p * got]! * 19595 + data[p * got + 1]! * 38470 + data[p * got + 2]! * 7471 + 0x8000) >>> 16;
  } else throw new Error(`${what}: sharp returned ${got} channels, wanted ${c}`);
  return out;
}
