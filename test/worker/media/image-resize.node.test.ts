/**
 * The PIL-compatible resize (src/tasks/image-resize.ts) that replaces transformers.js's
 * RawImage.resize in the worker and in Node. The reference bytes below were made once by Pillow
 * 9.4 (`Image.resize`) from the 8×6 test pattern `pattern()` builds; CI does not need Python.
 */
import { describe, expect, it } from 'vitest';
import { RawImage, Tensor } from '@huggingface/transformers';
import { installPilResize, resampleFilter, resizePixels, type ResampleFilter } from '../../../worker/media/image-resize.js';

installPilResize(RawImage);

const FILTERS: ResampleFilter[] = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];

/** Pillow 9.4: `im.resize((w, h), resample=code).tobytes()`, base64. */
const PIL: Record<string, string> = {
  'rgb 3x2 0': 'MB7Vn4d+6RNEUWOuwMxXClgd',
  'rgb 3x2 1': 'JxrZm3qMoIk6R2W1t5liengx',
  'rgb 3x2 2': 'NyvPkHaKnoBEUmSup5Npeno2',
  'rgb 3x2 3': 'LSHWlXiKnoU9TGSzsZlleXkz',
  'rgb 3x2 4': 'MCPVjW+NlIlEUWiurrRmfHk5',
  'rgb 3x2 5': 'LiPWjnSMnHlBTWSxrKBnanUy',
  'rgb 10x7 0': 'AAD/JQfiShzFShzFbz+olHCLua9uua9u3vxRA1c0CxfyMB7VVTO4VTO4elabn4d+xMZhxMZh6RNEDm4nFi7lOzXIYEqrYEqrhW2Oqp5xz91Uz91U9Co3GYUaIUXYRky7a2Gea2GekISBtbVk2vRH2vRH/0EqJJwNIUXYRky7a2Gea2GekISBtbVk2vRH2vRH/0EqJJwNLFzLUWOudniRdniRm5t0wMxX5Qs65Qs6ClgdL7MAN3O+XHqhgY+EgY+EprJny+NK8CIt8CItFW8QOsrz',
  'rgb 10x7 1': 'AAD/FwPtOg/SVCO9ckKlkWuOp5J27fdhnNZGAEszBxH2HxXkQiHJXDW0elOcmXiFr8Ft9YRYpEA9AGwqEifqKivXTTe8Z0unhWmPpI54u9xg+mNLqBcwCIkdGzrfMz7NVkqycF6djnuFrZ9uvv9W/6BAzj8nEJoZI0zVO1DCXlyneG+SlpB6tLlj179K02o5gVsTIKoALmLIRma1aXKag4SFoattu91W/S5AbgUjAIsgOr02NnS/TniscYSRi5Z8qbxkw+xN/1Y9hScADJlYQM//',
  'rgb 10x7 2': 'AAD/GgXrOBLUVSa8c0SlkGuOrpx3zNZgnMtIA1c0CRL1IxfhQSTKXjiyfFabmX2Et65t1YNWpVA+DGkqEibqLCvWSji/Z0ynhWqQopF5wMJi3nxLrj0zFX0fHDrfNj/LVEy0cWCcj36FrKVuytZX6JBAuFEoH5EUJU3TP1K/XV+oenOQmJF5tbhi06lLw3U0gWQcKKQILmHISGa0ZnOdg4eFoaVuvsxX3EpAejcpF3giMbg0N3O+UXiqb4WTjJl7qrdkx95N5Vw2g0kfIIpUOsrz',
  'rgb 10x7 3': 'AAD/GAPsOA/UVSS8c0KlkGmOrpp33Ohgo9lHAE8zBxH2IBXiQCHKXTaye1SbmHuEtrtt5H9Wqz89A2opECbrKirXSja/Z0unhWmQopB5wNRi7nRLtScyDIEeGjrgND7MVEq0cV+cj3yFrKNuyPRX/5dAy0EnFZUSI03UPVHAXV2oenKQmJF5tbti2bdL0nM1hlwYIqgALWLJR2a1Z3KdhIeFoqZuv9dX8TFAcRwmAH4dNL0tNXS/T3irb4STjJl7qrhkx+lN+FE2gzgOEI9QPM//',
  'rgb 10x7 4': 'AAD/JQfiShzFShzFbz+olHCLua9u3vxR3vxRA1c0CxfyMB7VVTO4VTO4elabn4d+xMZh6RNE6RNEDm4nFi7lOzXIYEqrYEqrhW2Oqp5xz91U9Co39Co3GYUaIUXYRky7a2Gea2GekISBtbVk2vRH/0Eq/0EqJJwNIUXYRky7a2Gea2GekISBtbVk2vRH/0Eq/0EqJJwNLFzLUWOudniRdniRm5t0wMxX5Qs6ClgdClgdL7MAN3O+XHqhgY+EgY+EprJny+NK8CItFW8QFW8QOsrz',
  'rgb 10x7 5': 'AAD/IAbmOBLUTyDBb0ColG+LtKdyzNZgw+dNA1c0ChbzKhzaQijIWTa1eVacnoV/vr1m1nJUzShBDW0oFCnoNC/PTDu9Y0mqg2mRqJh0yNBb4H9J1zA2F4AdHDrfPEDGVEy0a1qhi3qIsKlr0OFS6JBA30EtH5EUI0rVQ1C8W1yqcmqXkop+t7lh18NI1YY2uVEjJqEKLV3KTWOxZW+ffH2MnJ1zwcxW4SQ9eTMrEGQaMLQNN3O+V3mlb4WThpOAprNny+JK6zoxg0kfGnosOsrz',
  'rgb 5x6 0': 'AAD/ShzFlHCLua9uA1c0CxfyVTO4n4d+xMZhDm4nFi7lYEqrqp5xz91UGYUaIUXYa2GetbVk2vRHJJwNLFzLdniRwMxX5Qs6L7MAN3O+gY+Ey+NK8CItOsrz',
  'rgb 5x6 1': 'CwH2RhnIfVGaz8prWp09FhjpUS27iHuN2o5eZUAwIS/cXESuk5KA5aVRcFcjLEbPZ1uhnqlz8LxEe24WN13CbnSUvbdmqTY3E40JQnS1eYuHyM5dtE0YHqSZ',
  'rgb 5x6 2': 'DwPzRx3HglmavLdsXZtAGhrmUjS6jXCNx4xfaEkzJTHZXUutmIeA0qNSc2AmMEjMaGKgo55z3bpFfncZO1+/c3mTrqpmpUM4II4MRnayfpCGucFZsForK6WW',
  'rgb 5x6 3': 'DAH2RRrJglWax8JqWpw9FxjpUDG8jXWN0o9dZUUwIi/cW0ivmIyA3aZQcFwjLUbPZl+io6Nz6L1De3MWOF3CcXaVtrRmqTk2GY4JQ3S1fI2IwctZtFAgJKWZ',
  'rgb 5x6 4': 'EwTxShzFgliaua9ucapDHhvkVTO4jW+NxMZhfEE2KTLXYEqrmIaAz91Uh1gpNEnKa2Geo51z2vRHkm8cP2C9dniRrrRm5Qs6HYYPSnewgY+EuctZ8CItKJ2C',
  'rgb 5x6 5': 'DQL1RhvIgliavbhrTo8+GBnoUTK7jW+NyKBeWU8xIzDbXEmumIaA07dRZGYkLkfOZ2Cho51z3s5Eb30XOV7BcneUrrNmuSk3IpQKRHW0fY6HucpZxEAqLaum',
  'l 3x2 0': 'MJ/pUcAK',
  'l 3x2 1': 'J5ugR7d6',
  'l 3x2 2': 'N5CeUqd6',
  'l 3x2 3': 'LZWeTLF5',
  'l 3x2 4': 'MI2UUa58',
  'l 3x2 5': 'Lo6cTaxq',
  'l 10x7 0': 'ACVKSm+UubneAwswVVV6n8TE6Q4WO2BgharPz/QZIUZra5C12tr/JCFGa2uQtdra/yQsUXZ2m8Dl5QovN1yBgabL8PAVOg==',
  'l 10x7 1': 'ABc6VHKRp+2cAAcfQlx6ma/1pAASKk1nhaS7+qgIGzNWcI6tvv/OECM7XniWtNfTgSAuRmmDobv9bgA6Nk5xi6nD/4UMQA==',
  'l 10x7 2': 'ABo4VXOQrsycAwkjQV58mbfVpQwSLEpnhaLA3q4VHDZUcY+syui4HyU/XXqYtdPDgSguSGaDob7cehcxN1FvjKrH5YMgOg==',
  'l 10x7 3': 'ABg4VXOQrtyjAAcgQF17mLbkqwMQKkpnhaLA7rUMGjRUcY+syP/LFSM9XXqYtdnShiItR2eEor/xcQA0NU9vjKrH+IMQPA==',
  'l 10x7 4': 'ACVKSm+Uud7eAwswVVV6n8Tp6Q4WO2BgharP9PQZIUZra5C12v//JCFGa2uQtdr//yQsUXZ2m8DlCgovN1yBgabL8BUVOg==',
  'l 10x7 5': 'ACA4T2+UtMzDAwoqQll5nr7WzQ0UNExjg6jI4NcXHDxUa4uw0OjfHyNDW3KSt9fVuSYtTWV8nMHheRAwN1dvhqbL64MaOg==',
  'l 5x6 0': 'AEqUuQMLVZ/EDhZgqs8ZIWu12iQsdsDlLzeBy/A6',
  'l 5x6 1': 'C0Z9z1oWUYjaZSFck+VwLGee8Hs3br2pE0J5yLQe',
  'l 5x6 2': 'D0eCvF0aUo3HaCVdmNJzMGij3X47c66lIEZ+ubAr',
  'l 5x6 3': 'DEWCx1oXUI3SZSJbmN1wLWaj6Hs4cbapGUN8wbQk',
  'l 5x6 4': 'E0qCuXEeVY3EfClgmM+HNGuj2pI/dq7lHUqBufAo',
  'l 5x6 5': 'DUaCvU4YUY3IWSNcmNNkLmej3m85cq65IkR9ucQt',
  'rgba 5x4 2': 'JRLiG1QuvFiKaJGXvrpovqrRSFQoMNZFYkyqgpaDgLq+pmNfT2whPThOxHFvapmun5pzu7eER0tLhRFpRW60m3eDjbqjpmhOl0opVimhcJM=',
  'rgba 5x4 3': 'FwvnFkshwlSGX5OYw79nza3cRVEfJ99AW0KwfpiGgMnNrGBXPFUZMzJLym9taJq0pJ9xysh5Pj1IhARqQ2+2nniFjcW5tGY+mjYYVCaldJk=',
};

/** The 8×6 pattern the reference bytes were made from: RGB, RGBA (alpha varies) or L (the red channel). */
function pattern(kind: 'rgb' | 'rgba' | 'l'): Uint8ClampedArray {
  const channels = kind === 'rgb' ? 3 : kind === 'rgba' ? 4 : 1;
  const out = new Uint8ClampedArray(8 * 6 * channels);
  for (let y = 0, o = 0; y < 6; y++) {
    for (let x = 0; x < 8; x++) {
      const rgb = [(x * 37 + y * 11) % 256, (x * x * 7 + y * 23) % 256, (((255 - x * 29 - y * 13) % 256) + 256) % 256];
      if (kind === 'l') out[o++] = rgb[0]!;
      else for (const v of kind === 'rgba' ? [...rgb, (x * 40 + y * 30) % 256] : rgb) out[o++] = v;
    }
  }
  return out;
}

const fromBase64 = (b64: string) => Uint8ClampedArray.from(Buffer.from(b64, 'base64'));

/** Deterministic pseudo-random pixels. */
function noise(length: number, seed = 1): Uint8ClampedArray {
  const out = new Uint8ClampedArray(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('PIL-compatible resize', () => {
  it.each(Object.keys(PIL))('gives the bytes Pillow gives: %s', (key) => {
    const [kind, size, code] = key.split(' ') as ['rgb' | 'rgba' | 'l', string, string];
    const [w, h] = size.split('x').map(Number) as [number, number];
    const channels = kind === 'rgb' ? 3 : kind === 'rgba' ? 4 : 1;
    const got = resizePixels(pattern(kind), 8, 6, channels, w, h, resampleFilter(Number(code)));
    expect(Array.from(got)).toEqual(Array.from(fromBase64(PIL[key]!)));
  });

  it.each([1, 2, 3, 4])('keeps a constant image constant, %i channels, every filter, down and up', (channels) => {
    // Alpha (the last of 2 or 4 channels) opaque: under a translucent alpha PIL's premultiplied
    // 8-bit colour loses precision (the RGBA reference bytes above cover that).
    const value = { 1: [200], 2: [200, 255], 3: [200, 17, 0], 4: [200, 17, 0, 255] }[channels]!;
    const src = new Uint8ClampedArray(37 * 23 * channels).map((_, i) => value[i % channels]!);
    for (const filter of FILTERS) {
      for (const [w, h] of [[5, 3], [32, 32], [64, 50], [37, 9], [1, 1]] as const) {
        const out = resizePixels(src, 37, 23, channels, w, h, filter);
        expect(out.length).toBe(w * h * channels);
        const wrong = out.findIndex((v, i) => v !== value[i % channels]);
        expect(wrong, `${filter} ${w}×${h}`).toBe(-1);
      }
    }
  });

  it.each([1, 3, 4])('box halves a %i-channel image by averaging 2×2 blocks, rounding half up in each pass as PIL does', (channels) => {
    const [W, H] = [12, 10];
    const src = noise(W * H * channels);
    if (channels === 4) for (let i = 3; i < src.length; i += 4) src[i] = 255; // opaque: no premultiplication
    const out = resizePixels(src, W, H, channels, W / 2, H / 2, 'box');
    const at = (x: number, y: number, c: number) => src[(y * W + x) * channels + c]!;
    for (let y = 0; y < H / 2; y++) {
      for (let x = 0; x < W / 2; x++) {
        for (let c = 0; c < channels; c++) {
          const top = (at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + 1) >> 1;
          const bottom = (at(2 * x, 2 * y + 1, c) + at(2 * x + 1, 2 * y + 1, c) + 1) >> 1;
          expect(out[(y * (W / 2) + x) * channels + c]).toBe((top + bottom + 1) >> 1);
        }
      }
    }
  });

  it('bilinear halves with the stretched triangle: weights 1 3 3 1 / 8 inside, 3 3 1 / 7 at the edge (not a 2×2 mean)', () => {
    // Rows all alike, so only the horizontal pass changes anything.
    const W = 16;
    const row = noise(W, 7);
    const src = new Uint8ClampedArray(W * 4).map((_, i) => row[i % W]!);
    const out = resizePixels(src, W, 4, 1, W / 2, 2, 'bilinear');
    const expected = Array.from({ length: W / 2 }, (_, x) => {
      if (x === 0) return Math.round((3 * row[0]! + 3 * row[1]! + row[2]!) / 7);
      if (x === W / 2 - 1) return Math.round((row[W - 3]! + 3 * row[W - 2]! + 3 * row[W - 1]!) / 7);
      return Math.floor((row[2 * x - 1]! + 3 * row[2 * x]! + 3 * row[2 * x + 1]! + row[2 * x + 2]! + 4) / 8);
    });
    expect(Array.from(out.subarray(0, W / 2))).toEqual(expected);
    expect(Array.from(out.subarray(W / 2))).toEqual(expected);
  });

  it('returns a copy with equal pixels at the same size, and keeps 1, 2, 3 and 4 channels through RawImage.resize', async () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const image = new RawImage(noise(20 * 15 * channels, channels), 20, 15, channels);
      for (const filter of [0, 1, 2, 3, 4, 5]) {
        const same = await image.resize(20, 15, { resample: filter as 0 });
        expect(same).not.toBe(image);
        expect(same.data).not.toBe(image.data);
        expect(Array.from(same.data)).toEqual(Array.from(image.data));
        const small = await image.resize(7, 4, { resample: filter as 0 });
        expect(small).toBeInstanceOf(RawImage);
        expect([small.width, small.height, small.channels, small.data.length]).toEqual([7, 4, channels, 7 * 4 * channels]);
        expect(Array.from(small.data)).toEqual(Array.from(resizePixels(image.data, 20, 15, channels, 7, 4, resampleFilter(filter))));
      }
    }
  });

  it('follows the aspect ratio when width or height is null, undefined or -1, and defaults to bilinear', async () => {
    const image = new RawImage(noise(64 * 48 * 3), 64, 48, 3);
    for (const [w, h] of [[16, null], [null, 12], [16, undefined], [-1, 12]] as const) {
      const out = await image.resize(w as number, h as number);
      expect([out.width, out.height]).toEqual([16, 12]);
      expect(Array.from(out.data)).toEqual(Array.from(resizePixels(image.data, 64, 48, 3, 16, 12, 'bilinear')));
    }
    const odd = await image.resize(10, null as unknown as number); // 7.5 rounds to 8
    expect([odd.width, odd.height]).toEqual([10, 8]);
    const both = await image.resize(null as unknown as number, null as unknown as number);
    expect([both.width, both.height]).toEqual([64, 48]);
    expect(Array.from(both.data)).toEqual(Array.from(image.data));
  });

  it('resizes a one-channel mask made from a tensor, as the segmentation pipeline does', async () => {
    const mask = new Uint8Array(8 * 8).map((_, i) => ((i % 8) < 4 ? 0 : 255));
    const image = RawImage.fromTensor(new Tensor('uint8', mask, [1, 8, 8]));
    const big = await image.resize(32, 24);
    expect([big.width, big.height, big.channels]).toEqual([32, 24, 1]);
    for (let y = 0; y < 24; y++) {
      expect(big.data[y * 32]).toBe(0);
      expect(big.data[y * 32 + 31]).toBe(255);
      expect(big.data[y * 32 + 14]).toBeLessThan(big.data[y * 32 + 17]!);
    }
  });

  it('refuses a resample it does not know, and sizes that are not positive whole numbers', async () => {
    expect(resampleFilter('bicubic')).toBe('bicubic');
    expect(resampleFilter(3)).toBe('bicubic');
    expect(() => resampleFilter(9)).toThrow(/Resampling method 9 is not supported/);
    const image = new RawImage(noise(4 * 4 * 3), 4, 4, 3);
    await expect(image.resize(2, 2, { resample: 'magic' as never })).rejects.toThrow(/not supported/);
    expect(() => resizePixels(image.data, 4, 4, 3, 0, 2, 'bilinear')).toThrow(/positive whole numbers/);
    expect(() => resizePixels(image.data, 4, 4, 3, 2.5, 2, 'bilinear')).toThrow(/positive whole numbers/);
  });
});
