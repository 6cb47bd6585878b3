/**
 * PNG decoding as PIL's `convert("RGB")` reads it (src/tasks/png-decode.ts), on PNGs written by
 * fast-png's encoder in every colour type and bit depth.
 */
import { describe, expect, it } from 'vitest';
import { encode } from 'fast-png';
import { decodePngToRgb } from '../../../worker/media/png-decode.js';

const rgbOf = (bytes: Uint8Array) => Array.from(decodePngToRgb(bytes).data);

describe('decodePngToRgb', () => {
  it('keeps the stored colour under transparent pixels and drops alpha (RGBA)', () => {
    const png = encode({ width: 3, height: 1, channels: 4, depth: 8, data: new Uint8Array([200, 100, 50, 0, 200, 100, 50, 1, 20, 128, 230, 128]) });
    expect(rgbOf(png)).toEqual([200, 100, 50, 200, 100, 50, 20, 128, 230]);
  });

  it('copies RGB, and repeats gray (with or without alpha) in the three channels', () => {
    expect(rgbOf(encode({ width: 2, height: 1, channels: 3, depth: 8, data: new Uint8Array([1, 2, 3, 250, 251, 252]) }))).toEqual([1, 2, 3, 250, 251, 252]);
    expect(rgbOf(encode({ width: 2, height: 1, channels: 1, depth: 8, data: new Uint8Array([10, 20]) }))).toEqual([10, 10, 10, 20, 20, 20]);
    expect(rgbOf(encode({ width: 2, height: 1, channels: 2, depth: 8, data: new Uint8Array([10, 0, 20, 128]) }))).toEqual([10, 10, 10, 20, 20, 20]);
  });

  it('takes the high byte of 16-bit samples', () => {
    const png = encode({ width: 2, height: 1, channels: 3, depth: 16, data: new Uint16Array([65535, 32768, 257, 0, 255, 256]) });
    expect(rgbOf(png)).toEqual([255, 128, 1, 0, 0, 1]);
  });

  it('scales gray of 1, 2 and 4 bits to 0–255, row by row (rows start on a byte)', () => {
    // 3×2 pixels of 4 bits: each row is 12 bits, padded to 2 bytes.
    const four = encode({ width: 3, height: 2, channels: 1, depth: 4, data: new Uint8Array([0x0f, 0x80, 0x12, 0x30]) });
    expect(rgbOf(four).filter((_, i) => i % 3 === 0)).toEqual([0, 255, 136, 17, 34, 51]);
    const one = encode({ width: 3, height: 1, channels: 1, depth: 1, data: new Uint8Array([0b10100000]) });
    expect(rgbOf(one).filter((_, i) => i % 3 === 0)).toEqual([255, 0, 255]);
    const two = encode({ width: 4, height: 1, channels: 1, depth: 2, data: new Uint8Array([0b00011011]) });
    expect(rgbOf(two).filter((_, i) => i % 3 === 0)).toEqual([0, 85, 170, 255]);
  });

  it('reads palette images as their colours', () => {
    const png = encode({
      width: 3,
      height: 1,
      channels: 1,
      depth: 8,
      palette: [[255, 0, 0], [0, 0, 255], [9, 8, 7]],
      data: new Uint8Array([2, 0, 1]),
    });
    expect(rgbOf(png)).toEqual([9, 8, 7, 255, 0, 0, 0, 0, 255]);
  });

  it('refuses bytes that are no PNG, or a truncated one', () => {
    expect(() => decodePngToRgb(new TextEncoder().encode('not a png'))).toThrow();
    const png = encode({ width: 64, height: 64, channels: 3, depth: 8, data: new Uint8Array(64 * 64 * 3).map((_, i) => i * 7) });
    expect(() => decodePngToRgb(png.subarray(0, png.length / 2))).toThrow();
  });
});
