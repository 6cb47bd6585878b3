/**
 * BMP bytes → 8-bit RGB pixels, as PIL's `Image.open(…).convert("RGB")` reads them behind the
 * Python Endpoint, the same in the worker and in Node. Pure TypeScript, no dependency.
 *
 * Why here: sharp (transformers.js's decoder in Node) cannot read BMP at all, and the npm BMP
 * decoders are narrow (fast-bmp 4 reads only V5 headers, no palette, no top-down rows; bmp-js has
 * had no release since 2018). Decoding BMP in JavaScript in both runtimes, as PNG is
 * (png-decode.ts), gives the same pixels in the browser and under `serve` by construction.
 *
 * What it reads, following Pillow's BmpImagePlugin:
 * - Headers: OS/2 v1 (12 bytes: 16-bit sizes, 3-byte palette entries), Windows v3 (40), v4 (108)
 *   and v5 (124), OS/2 v2 (64), and the 52- and 56-byte variants.
 * - Rows bottom-up (positive height) or top-down (negative height), each padded to 4 bytes.
 * - 1, 2, 4 and 8 bits a pixel with a palette (`biClrUsed` entries, or 2^bits); an index past the
 *   palette reads as gray (i, i, i), as Pillow's palette, which starts as a gray ramp, gives it.
 * - 16 bits (5-5-5 without BI_BITFIELDS; 5-5-5 or 5-6-5 with them), 24 bits, and 32 bits (the
 *   fourth byte ignored unless the masks say it is alpha; `convert("RGB")` drops alpha anyway).
 *   5- and 6-bit values are scaled as Pillow does: `v * 255 / 31` (or `/ 63`), truncated.
 * - BI_BITFIELDS (and BI_ALPHABITFIELDS) only with the masks Pillow knows (BGRX, XBGR, ABGR, RGBA,
 *   BGRA, 5-6-5, 5-5-5); other masks are refused, as Pillow refuses them.
 * - RLE8 and RLE4 (encoded runs, absolute runs, end of line, delta, end of bitmap); pixels the
 *   runs leave unset read as palette index 0.
 * - Refused, with a message naming the problem: other compressions (JPEG or PNG inside a BMP),
 *   other depths, a zero or negative width, a zero height, and pixel data cut short.
 */

import { MediaRefused } from './refused.js';

export interface RgbImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

const COMPRESSION_NAMES: Record<number, string> = { 0: 'BI_RGB', 1: 'BI_RLE8', 2: 'BI_RLE4', 3: 'BI_BITFIELDS', 4: 'BI_JPEG', 5: 'BI_PNG', 6: 'BI_ALPHABITFIELDS' };

/** Byte order of the three colours in a pixel, as offsets (red, green, blue) from its first byte. */
type Layout =
  | { kind: 'palette' }
  | { kind: 'bytes'; r: number; g: number; b: number }
  | { kind: '555' }
  | { kind: '565' };

/** Pillow's MASK_MODES: (bits, r, g, b, a masks) → how to read the pixel. */
function bitfieldLayout(bits: number, r: number, g: number, b: number, a: number): Layout | null {
  const key = `${bits}:${[r, g, b, a].map((m) => (m >>> 0).toString(16)).join(',')}`;
  switch (key) {
    case '32:ff0000,ff00,ff,0': // BGRX
    case '32:ff0000,ff00,ff,ff000000': // BGRA
    case '32:0,0,0,0': // BGRA (Pillow's reading of all-zero masks)
      return { kind: 'bytes', r: 2, g: 1, b: 0 };
    case '32:ff000000,ff0000,ff00,0': // XBGR
    case '32:ff000000,ff0000,ff00,ff': // ABGR
      return { kind: 'bytes', r: 3, g: 2, b: 1 };
    case '32:ff,ff00,ff0000,ff000000': // RGBA
      return { kind: 'bytes', r: 0, g: 1, b: 2 };
  }
  if (bits === 24 && r === 0xff0000 && g === 0xff00 && b === 0xff) return { kind: 'bytes', r: 2, g: 1, b: 0 };
  if (bits === 16 && r === 0xf800 && g === 0x7e0 && b === 0x1f) return { kind: '565' };
  if (bits === 16 && r === 0x7c00 && g === 0x3e0 && b === 0x1f) return { kind: '555' };
  return null;
}

/** `maxPixels`: the most pixels the caller takes, checked before the pixels are allocated. */
export function decodeBmpToRgb(bytes: Uint8Array, maxPixels = Number.POSITIVE_INFINITY): RgbImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (end: number, what: string) => {
    if (end > bytes.length) throw new MediaRefused(`The BMP is truncated: its ${what} ends at byte ${end}, but the file has ${bytes.length} bytes.`);
  };
  need(18, 'file header');
  if (bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new MediaRefused('Not a BMP file (no "BM" signature).');
  let dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (![12, 40, 52, 56, 64, 108, 124].includes(headerSize)) throw new MediaRefused(`Unsupported BMP header size (${headerSize} bytes).`);
  need(14 + headerSize, 'info header');

  let width: number;
  let height: number;
  let bits: number;
  let compression = 0;
  let colours = 0;
  let topDown = false;
  let paletteEntry = 4;
  let paletteAt = 14 + headerSize;
  let masks: [number, number, number, number] | null = null;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    height = view.getUint16(20, true);
    bits = view.getUint16(24, true);
    paletteEntry = 3;
  } else {
    width = view.getInt32(18, true);
    const rawHeight = view.getInt32(22, true);
    topDown = rawHeight < 0;
    height = Math.abs(rawHeight);
    bits = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colours = view.getUint32(46, true);
    if (compression === 3 || compression === 6) {
      if (headerSize >= 52) {
        masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true), headerSize >= 56 ? view.getUint32(66, true) : 0];
      } else {
        // A 40-byte header is followed by the three colour masks (and, for BI_ALPHABITFIELDS, alpha's).
        const count = compression === 6 ? 4 : 3;
        need(paletteAt + count * 4, 'colour masks');
        masks = [view.getUint32(paletteAt, true), view.getUint32(paletteAt + 4, true), view.getUint32(paletteAt + 8, true), count === 4 ? view.getUint32(paletteAt + 12, true) : 0];
        paletteAt += count * 4;
      }
    }
  }
  if (width <= 0 || height <= 0) throw new MediaRefused(`The BMP declares ${width}×${height} pixels; an image needs at least one pixel.`);
  if (width * height > maxPixels) throw new MediaRefused(`The BMP is ${width}×${height} pixels, over the limit of ${maxPixels} pixels.`);

  let layout: Layout;
  if (bits === 1 || bits === 2 || bits === 4 || bits === 8) layout = { kind: 'palette' };
  else if (bits === 16) layout = { kind: '555' };
  else if (bits === 24 || bits === 32) layout = { kind: 'bytes', r: 2, g: 1, b: 0 };
  else throw new MediaRefused(`Unsupported BMP pixel depth (${bits} bits).`);

  const rle = compression === 1 || compression === 2;
  if (masks) {
    const fields = bitfieldLayout(bits, ...masks);
    if (!fields) {
      throw new MediaRefused(`Unsupported BMP bitfields layout (${bits} bits, masks ${masks.map((m) => '0x' + m.toString(16)).join(', ')}); Pillow refuses it too.`);
    }
    layout = fields;
  } else if (rle) {
    if ((compression === 1 && bits !== 8) || (compression === 2 && bits !== 4)) throw new MediaRefused(`A BMP with ${COMPRESSION_NAMES[compression]} compression must have ${compression === 1 ? 8 : 4} bits a pixel, not ${bits}.`);
    if (topDown) throw new MediaRefused('A run-length encoded BMP cannot be stored top-down (negative height).');
  } else if (compression !== 0) {
    throw new MediaRefused(`Unsupported BMP compression (${COMPRESSION_NAMES[compression] ?? compression}).`);
  }

  let palette: Uint8Array | null = null;
  if (layout.kind === 'palette') {
    const count = colours || 1 << bits;
    if (count > 65536) throw new MediaRefused(`Unsupported BMP palette size (${count} colours).`);
    const used = Math.min(count, 256);
    need(paletteAt + used * paletteEntry, 'palette');
    // Pillow's palette starts as a gray ramp, so an index past the file's palette reads as gray.
    palette = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));
    for (let i = 0; i < used; i++) {
      const at = paletteAt + i * paletteEntry;
      palette[i * 3] = bytes[at + 2]!;
      palette[i * 3 + 1] = bytes[at + 1]!;
      palette[i * 3 + 2] = bytes[at]!;
    }
    // Pillow's fix for files whose data offset points at the palette.
    if (dataOffset === 14 + headerSize) dataOffset += 4 * count;
  }
  if (dataOffset === 0) dataOffset = paletteAt + (palette ? (colours || 1 << bits) * paletteEntry : 0);

  const out = new Uint8ClampedArray(width * height * 3);
  if (rle) {
    decodeRle(bytes, dataOffset, width, height, compression === 2, palette!, out);
    return { data: out, width, height };
  }
  const stride = Math.floor((width * bits + 31) / 32) * 4;
  need(dataOffset + stride * height, `pixel data (${height} rows of ${stride} bytes from byte ${dataOffset})`);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    if (layout.kind === 'palette') {
      const perByte = 8 / bits;
      const mask = (1 << bits) - 1;
      for (let x = 0; x < width; x++, o += 3) {
        const byte = bytes[row + Math.floor(x / perByte)]!;
        const index = (byte >> (8 - bits - (x % perByte) * bits)) & mask;
        out[o] = palette![index * 3]!;
        out[o + 1] = palette![index * 3 + 1]!;
        out[o + 2] = palette![index * 3 + 2]!;
      }
    } else if (layout.kind === 'bytes') {
      const step = bits / 8;
      for (let x = 0, at = row; x < width; x++, at += step, o += 3) {
        out[o] = bytes[at + layout.r]!;
        out[o + 1] = bytes[at + layout.g]!;
        out[o + 2] = bytes[at + layout.b]!;
      }
    } else {
      const wide = layout.kind === '565';
      for (let x = 0, at = row; x < width; x++, at += 2, o += 3) {
        const pixel = bytes[at]! | (bytes[at + 1]! << 8);
        out[o] = Math.floor((((pixel >> (wide ? 11 : 10)) & 31) * 255) / 31);
        out[o + 1] = wide ? Math.floor((((pixel >> 5) & 63) * 255) / 63) : Math.floor((((pixel >> 5) & 31) * 255) / 31);
        out[o + 2] = Math.floor(((pixel & 31) * 255) / 31);
      }
    }
  }
  return { data: out, width, height };
}

/**
 * RLE8 / RLE4 (bottom-up), as Pillow's BmpRleDecoder reads them: a run longer than the row is cut
 * at its end; end of line moves to the next row; delta skips right and up; absolute runs are
 * padded to 16 bits. Reading stops at end of bitmap, when every pixel is set, or at the end of
 * the bytes.
 */
function decodeRle(bytes: Uint8Array, from: number, width: number, height: number, four: boolean, palette: Uint8Array, out: Uint8ClampedArray): void {
  const total = width * height;
  const indices = new Uint8Array(total); // in file order: the bottom row first
  let n = 0; // pixels written (a position in `indices`)
  let x = 0;
  let at = from;
  const put = (index: number) => {
    if (n < total) indices[n] = index;
    n++;
  };
  while (n < total && at + 1 < bytes.length) {
    const count = bytes[at]!;
    const value = bytes[at + 1]!;
    at += 2;
    if (count) {
      const run = Math.min(count, Math.max(0, width - x));
      for (let i = 0; i < run; i++) put(four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
      x += run;
    } else if (value === 0) {
      // end of line
      if (n % width) n += width - (n % width);
      x = 0;
    } else if (value === 1) {
      break; // end of bitmap
    } else if (value === 2) {
      if (at + 1 >= bytes.length) break;
      const right = bytes[at]!;
      const up = bytes[at + 1]!;
      at += 2;
      n += right + up * width;
      x = n % width;
    } else {
      const length = four ? Math.ceil(value / 2) : value;
      const run = bytes.subarray(at, at + length);
      if (four) {
        for (let i = 0; i < value && i >> 1 < run.length; i++) put(i % 2 === 0 ? run[i >> 1]! >> 4 : run[i >> 1]! & 15);
      } else {
        for (const index of run) put(index);
      }
      at += length;
      if (run.length < length) break;
      x += value;
      if ((at - from) % 2) at++; // runs are padded to a 16-bit boundary
    }
  }
  for (let i = 0; i < total; i++) {
    const row = height - 1 - Math.floor(i / width); // bottom-up
    const o = (row * width + (i % width)) * 3;
    const index = indices[i]!;
    out[o] = palette[index * 3]!;
    out[o + 1] = palette[index * 3 + 1]!;
    out[o + 2] = palette[index * 3 + 2]!;
  }
}
