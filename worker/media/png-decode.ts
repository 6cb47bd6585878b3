/**
 * PNG bytes → 8-bit RGB pixels, as PIL's `Image.open(…).convert("RGB")` gives them behind the
 * Python Endpoint, the same in the worker and in Node. Decoded by the fast-png package (pure JS).
 *
 * Why not the browser's decoder: Chromium applies a PNG's gAMA chunk (a gamma of 1.0 turns a
 * stored 200 into 229) and its ICC profile, and a 2D canvas keeps pixels premultiplied by alpha, so
 * the colour under transparent pixels is lost (200,100,50 at alpha 0 reads 0,0,0). PIL does none of
 * this: it reads the stored values and `convert("RGB")` drops alpha.
 *
 * Conversions, as PIL's: palette → its colours (transparency ignored); gray and gray+alpha → the
 * gray in all three channels; alpha dropped; bit depths below 8 scaled to 0–255; 16 bits → the high
 * byte (PIL does so for colour; for 16-bit gray, Pillow 9.4 clips to 255 instead, which whitens
 * nearly every pixel, so the high byte is kept there too).
 *
 * Refused, as PIL refuses them (`checkPng`): a PNG of no pixels (a width or height of 0: PIL's
 * "cannot identify image file"), and a chunk before the image data whose CRC does not match
 * (PIL's "broken PNG file (bad header checksum in …)"). Like PIL, the CRCs of the IDAT chunks and
 * of the chunks after them are not checked: zlib's own checksum guards the pixels.
 */
import { convertIndexedToRgb, decode } from 'fast-png';
import { MediaRefused } from './refused.js';

export interface RgbImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

export function decodePngToRgb(bytes: Uint8Array): RgbImage {
  checkPng(bytes);
  const png = decode(bytes);
  const { width, height } = png;
  const pixels = width * height;
  if (png.palette) {
    const out = new Uint8ClampedArray(pixels * 3);
    const colours = convertIndexedToRgb(png); // 3 or 4 values a pixel (4 with transparency)
    const step = colours.length / pixels;
    for (let i = 0, at = 0, o = 0; i < pixels; i++, at += step, o += 3) {
      out[o] = colours[at]!;
      out[o + 1] = colours[at + 1]!;
      out[o + 2] = colours[at + 2]!;
    }
    return { data: out, width, height };
  }
  const out = new Uint8ClampedArray(pixels * 3);
  const channels = png.channels;
  const samples = unpack(png.data, png.depth, pixels * channels, width * channels);
  if (channels === 3) return { data: new Uint8ClampedArray(samples.buffer, samples.byteOffset, pixels * 3), width, height };
  for (let i = 0, at = 0, o = 0; i < pixels; i++, at += channels, o += 3) {
    if (channels <= 2) {
      out[o] = out[o + 1] = out[o + 2] = samples[at]!;
    } else {
      out[o] = samples[at]!;
      out[o + 1] = samples[at + 1]!;
      out[o + 2] = samples[at + 2]!;
    }
  }
  return { data: out, width, height };
}

/** The image's samples as 8-bit values, whatever their depth (rows of depth < 8 start on a byte). */
function unpack(data: ArrayLike<number>, depth: number, count: number, perRow: number): Uint8Array {
  if (depth === 8) return data instanceof Uint8Array ? data : Uint8Array.from(data);
  const out = new Uint8Array(count);
  if (depth === 16) {
    for (let i = 0; i < count; i++) out[i] = data[i]! >> 8;
    return out;
  }
  const scale = 255 / ((1 << depth) - 1);
  const rowBytes = Math.ceil((perRow * depth) / 8);
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / perRow);
    const bit = (i % perRow) * depth;
    const byte = data[row * rowBytes + (bit >> 3)]!;
    out[i] = Math.round(((byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)) * scale);
  }
  return out;
}


/**
 * What PIL checks before it decodes (PngImagePlugin's `_open` and ImageFile's size check): the
 * CRC of every chunk up to the first IDAT, and a width and height above 0. A file too short for
 * its chunks is left to the decoder, which reports it truncated.
 */
export function checkPng(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'IHDR' && length >= 8 && at + 16 <= bytes.length) {
      const width = view.getUint32(at + 8);
      const height = view.getUint32(at + 12);
      if (width === 0 || height === 0) throw new MediaRefused(`The PNG declares ${width}×${height} pixels; an image needs at least one pixel.`);
    }
    if (type === 'IDAT' || at + 12 + length > bytes.length) return;
    const stored = view.getUint32(at + 8 + length);
    const actual = crc32(bytes.subarray(at + 4, at + 8 + length));
    if (stored !== actual) {
      throw new MediaRefused(`The PNG is corrupt: the CRC of its ${JSON.stringify(type)} chunk (at byte ${at}) does not match its contents (stored ${hex(stored)}, computed ${hex(actual)}).`);
    }
    at += 12 + length;
  }
}

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

let table: Uint32Array | undefined;

/** The CRC-32 of PNG chunks (ISO 3309, the same as zlib's). */
function crc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
