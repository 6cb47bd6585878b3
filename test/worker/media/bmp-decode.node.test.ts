/**
 * BMP decoding (worker/media/bmp-decode.ts), the same code in the worker and in Node: sharp, which
 * `serve` used before, cannot read BMP (issue 12, defect 7: a 400 "unsupported image format").
 * The BMPs are written here from the shared tiger.png (read by fast-png) and by hand, in the
 * layouts Pillow reads: 24 and 32 bits, bottom-up and top-down, palettes of 1, 4 and 8 bits,
 * 16 bits (5-5-5 and 5-6-5), BI_BITFIELDS, RLE8 and RLE4, and the OS/2 header.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBmpToRgb } from '../../../worker/media/bmp-decode.js';
import { decodePngToRgb } from '../../../worker/media/png-decode.js';
import { decodeImage } from '../../../worker/media/decode.js';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { EndpointError } from '../../../src/protocol/errors.js';
import { encodeBmp } from '../../media/encoders.js';
import { SHARED_MEDIA } from '../../../fixtures/media-location.js';

const VIT = 'local-endpoint/tiny-vit-classifier';
const tigerPng = new Uint8Array(readFileSync(join(SHARED_MEDIA, 'tiger.png')));

/** tiger.png as RGBA, for encodeBmp (test/media/encoders.ts, the browser tests' BMP writer). */
function tigerRgba(): { rgba: Uint8ClampedArray; width: number; height: number } {
  const { data, width, height } = decodePngToRgb(tigerPng);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = data[i * 3]!;
    rgba[i * 4 + 1] = data[i * 3 + 1]!;
    rgba[i * 4 + 2] = data[i * 3 + 2]!;
    rgba[i * 4 + 3] = 255;
  }
  return { rgba, width, height };
}

interface BmpSpec {
  width: number;
  height: number; // negative: top-down
  bits: number;
  compression?: number;
  /** BGR colours, for 1–8 bits. */
  palette?: [number, number, number][];
  /** Masks after a 40-byte header (BI_BITFIELDS). */
  masks?: number[];
  headerSize?: 40 | 108 | 124;
  /** The pixel data as stored (rows padded by the caller, or RLE codes). */
  pixels: number[] | Uint8Array;
}

/** A BMP from its parts: file header, info header, masks, palette, pixel data. */
function bmp(spec: BmpSpec): Uint8Array {
  const headerSize = spec.headerSize ?? 40;
  const masks = headerSize === 40 ? (spec.masks ?? []) : [];
  const palette = spec.palette ?? [];
  const offset = 14 + headerSize + masks.length * 4 + palette.length * 4;
  const out = new Uint8Array(offset + spec.pixels.length);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, offset, true);
  view.setUint32(14, headerSize, true);
  view.setInt32(18, spec.width, true);
  view.setInt32(22, spec.height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, spec.bits, true);
  view.setUint32(30, spec.compression ?? 0, true);
  view.setUint32(34, spec.pixels.length, true);
  view.setUint32(46, palette.length, true);
  if (headerSize > 40 && spec.masks) spec.masks.forEach((m, i) => view.setUint32(54 + i * 4, m, true));
  let at = 14 + headerSize;
  for (const m of masks) {
    view.setUint32(at, m, true);
    at += 4;
  }
  for (const [b, g, r] of palette) {
    out.set([b, g, r, 0], at);
    at += 4;
  }
  out.set(spec.pixels, offset);
  return out;
}

const rgbOf = (bytes: Uint8Array) => Array.from(decodeBmpToRgb(bytes).data);

describe('decodeBmpToRgb: the pixels Pillow reads', () => {
  it('reads a 24-bit bottom-up BMP of tiger.png back to the PNG\'s pixels exactly', () => {
    const { rgba, width, height } = tigerRgba();
    const decoded = decodeBmpToRgb(encodeBmp(rgba, width, height));
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(decodePngToRgb(tigerPng).data))).toBe(true);
  });

  it('reads 32-bit top-down rows (BGRX; the fourth byte ignored) to the same pixels', () => {
    const { rgba, width, height } = tigerRgba();
    const pixels = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) pixels.set([rgba[i * 4 + 2]!, rgba[i * 4 + 1]!, rgba[i * 4]!, i & 0xff], i * 4);
    const decoded = decodeBmpToRgb(bmp({ width, height: -height, bits: 32, pixels }));
    expect(Buffer.from(decoded.data).equals(Buffer.from(decodePngToRgb(tigerPng).data))).toBe(true);
    // The same rows bottom-up, with BI_BITFIELDS masks in a V5 header.
    const flipped = new Uint8Array(pixels.length);
    for (let y = 0; y < height; y++) flipped.set(pixels.subarray(y * width * 4, (y + 1) * width * 4), (height - 1 - y) * width * 4);
    const v5 = decodeBmpToRgb(bmp({ width, height, bits: 32, compression: 3, headerSize: 124, masks: [0xff0000, 0xff00, 0xff, 0xff000000], pixels: flipped }));
    expect(Buffer.from(v5.data).equals(Buffer.from(decoded.data))).toBe(true);
  });

  it('reads an 8-bit palette image (tiger.png on a 6×6×6 cube) as its colours, rows padded to 4 bytes', () => {
    const { rgba, width, height } = tigerRgba();
    const cube: [number, number, number][] = Array.from({ length: 216 }, (_, i) => [(i % 6) * 51, (Math.floor(i / 6) % 6) * 51, Math.floor(i / 36) * 51]);
    const stride = Math.ceil(width / 4) * 4;
    const pixels = new Uint8Array(stride * height);
    const expected: number[] = [];
    const q = (v: number) => Math.round(v / 51);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        const index = q(rgba[i]!) * 36 + q(rgba[i + 1]!) * 6 + q(rgba[i + 2]!);
        pixels[(height - 1 - y) * stride + x] = index;
        expected.push(q(rgba[i]!) * 51, q(rgba[i + 1]!) * 51, q(rgba[i + 2]!) * 51);
      }
    }
    expect(rgbOf(bmp({ width, height, bits: 8, palette: cube, pixels }))).toEqual(expected);
  });

  it('reads 1- and 4-bit palettes, an index past the palette as gray (Pillow\'s ramp)', () => {
    // 3×2, 1 bit: rows of 4 bytes; bottom row first.
    const one = bmp({ width: 3, height: 2, bits: 1, palette: [[0, 0, 255], [255, 0, 0]], pixels: [0b01000000, 0, 0, 0, 0b10100000, 0, 0, 0] });
    expect(rgbOf(one)).toEqual([0, 0, 255, 255, 0, 0, 0, 0, 255, /**/ 255, 0, 0, 0, 0, 255, 255, 0, 0]);
    // 3×1, 4 bits: indices 1, 0, 9 (9 is past the 2-colour palette).
    const four = bmp({ width: 3, height: 1, bits: 4, palette: [[1, 2, 3], [4, 5, 6]], pixels: [0x10, 0x90, 0, 0] });
    expect(rgbOf(four)).toEqual([6, 5, 4, 3, 2, 1, 9, 9, 9]);
  });

  it('reads 16 bits as 5-5-5 (BI_RGB) or 5-6-5 (BI_BITFIELDS), scaled as Pillow does (v × 255 / 31, truncated)', () => {
    const px = (v: number) => [v & 0xff, v >> 8];
    const rgb555 = bmp({ width: 2, height: 1, bits: 16, pixels: [...px(0x7fff), ...px((1 << 10) | (2 << 5) | 3)] });
    expect(rgbOf(rgb555)).toEqual([255, 255, 255, 8, 16, 24]);
    const rgb565 = bmp({ width: 2, height: 1, bits: 16, compression: 3, masks: [0xf800, 0x7e0, 0x1f], pixels: [...px(0xffff), ...px((1 << 11) | (1 << 5) | 30)] });
    expect(rgbOf(rgb565)).toEqual([255, 255, 255, 8, 4, 246]);
  });

  it('reads RLE8 and RLE4: runs, absolute runs, end of line, delta and end of bitmap', () => {
    const palette: [number, number, number][] = Array.from({ length: 16 }, (_, i) => [i, i * 2, i * 3]);
    const colour = (i: number) => [i * 3, i * 2, i];
    // 4×3, bottom row first: [5 5 5 5], then an absolute run [1 2 3] and end of line, then a delta
    // of 2 right on the top row, a run of 2 of index 7, end of bitmap.
    const rle8 = bmp({ width: 4, height: 3, bits: 8, compression: 1, palette, pixels: [4, 5, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 2, 2, 0, 2, 7, 0, 1] });
    expect(rgbOf(rle8)).toEqual([
      ...colour(0), ...colour(0), ...colour(7), ...colour(7), // top row (delta 2 right, a run of two 7s)
      ...colour(1), ...colour(2), ...colour(3), ...colour(0), // middle row (absolute run, end of line)
      ...colour(5), ...colour(5), ...colour(5), ...colour(5), // bottom row (a run of four 5s)
    ]);
    // 3×1 RLE4: a run of 3 alternating 0xA, 0xB; end of bitmap.
    const rle4 = bmp({ width: 3, height: 1, bits: 4, compression: 2, palette, pixels: [3, 0xab, 0, 1] });
    expect(rgbOf(rle4)).toEqual([...colour(10), ...colour(11), ...colour(10)]);
  });

  it('reads the OS/2 12-byte header (3-byte palette entries)', () => {
    const out = new Uint8Array(14 + 12 + 2 * 3 + 4);
    const view = new DataView(out.buffer);
    out.set([0x42, 0x4d]);
    view.setUint32(10, 14 + 12 + 6, true);
    view.setUint32(14, 12, true);
    view.setUint16(18, 2, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, 1, true);
    view.setUint16(24, 1, true);
    out.set([10, 20, 30, 40, 50, 60], 26); // BGR, BGR
    out.set([0b01000000], 32);
    expect(rgbOf(out)).toEqual([30, 20, 10, 60, 50, 40]);
  });

  it.each([
    ['JPEG inside a BMP', bmp({ width: 1, height: 1, bits: 24, compression: 4, pixels: [0, 0, 0, 0] }), /Unsupported BMP compression \(BI_JPEG\)/],
    ['masks Pillow does not know', bmp({ width: 1, height: 1, bits: 32, compression: 3, masks: [0xff, 0xff00, 0xff0000], pixels: [0, 0, 0, 0] }), /Unsupported BMP bitfields layout/],
    ['a depth of 7 bits', bmp({ width: 1, height: 1, bits: 7, pixels: [0, 0, 0, 0] }), /Unsupported BMP pixel depth \(7 bits\)/],
    ['a width of 0', bmp({ width: 0, height: 1, bits: 24, pixels: [] }), /declares 0×1 pixels; an image needs at least one pixel/],
    ['pixel data cut short', bmp({ width: 4, height: 4, bits: 24, pixels: new Uint8Array(20) }), /The BMP is truncated: its pixel data/],
  ])('refuses %s, naming the problem', (_, bytes, message) => {
    expect(() => decodeBmpToRgb(bytes)).toThrow(message);
  });
});

describe('BMP in Node, as `serve` decodes it (sharp cannot)', () => {
  const { rgba, width, height } = tigerRgba();
  const tigerBmp = encodeBmp(rgba, width, height);

  it('decodeImage gives the same RawImage for the BMP as for the PNG of the same picture', async () => {
    const fromBmp = (await decodeImage(tigerBmp)) as { data: Uint8ClampedArray; width: number; height: number; channels: number };
    const fromPng = (await decodeImage(tigerPng)) as typeof fromBmp;
    expect([fromBmp.width, fromBmp.height, fromBmp.channels]).toEqual([fromPng.width, fromPng.height, fromPng.channels]);
    expect(Buffer.from(fromBmp.data).equals(Buffer.from(fromPng.data))).toBe(true);
  });

  it('a BMP that cannot be read is a 400 naming the problem', async () => {
    const err = await decodeImage(bmp({ width: 1, height: 1, bits: 24, compression: 5, pixels: [0, 0, 0, 0] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointError);
    expect((err as EndpointError).status).toBe(400);
    expect((err as EndpointError).message).toBe('Unsupported BMP compression (BI_PNG).');
  });

  it('image-classification through the engine: the BMP gets the PNG\'s answer exactly', async () => {
    const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
    const ask = (bytes: Uint8Array) => engine.infer({ task: 'image-classification', model: VIT, inputs: Buffer.from(bytes).toString('base64'), parameters: { top_k: null } });
    const fromPng = await ask(tigerPng);
    const fromBmp = await ask(tigerBmp);
    expect(fromPng).toMatchObject({ ok: true });
    expect(fromBmp).toMatchObject({ ok: true });
    expect((fromBmp as { output: unknown }).output).toEqual((fromPng as { output: unknown }).output);
  });
});
