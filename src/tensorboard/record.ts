/**
 * TFRecord framing (tensorflow/core/lib/io/record_writer.cc):
 *
 *   uint64 LE  length of data
 *   uint32 LE  masked CRC32C of the 8 length bytes
 *   bytes      data
 *   uint32 LE  masked CRC32C of data
 *
 * mask(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8, all uint32.
 */
import CRC32C from 'crc-32/crc32c.js';

const MASK_DELTA = 0xa282ead8;

/** CRC-32C (Castagnoli) of `data`, as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array): number {
  return CRC32C.buf(data) >>> 0;
}

/** TensorFlow's masked CRC: rotate right by 15 bits and add a constant (mod 2^32). */
export function maskCrc(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + MASK_DELTA) >>> 0;
}

/** Inverse of {@link maskCrc}. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}

/** One TFRecord holding `data`. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** The records of a TFRecord file, up to the first incomplete or corrupt one. */
export function readRecords(buf: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off + 12 <= buf.length) {
    const len = Number(buf.readBigUInt64LE(off));
    if (buf.readUInt32LE(off + 8) !== maskedCrc32c(buf.subarray(off, off + 8))) break;
    const end = off + 12 + len + 4;
    if (end > buf.length) break;
    const data = buf.subarray(off + 12, off + 12 + len);
    if (buf.readUInt32LE(off + 12 + len) !== maskedCrc32c(data)) break;
    out.push(data);
    off = end;
  }
  return out;
}
