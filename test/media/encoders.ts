/**
 * Tiny image encoders for the formats a browser canvas cannot write (BMP, GIF), so that tests can
 * send the shared photo in every format the Endpoint accepts. Written from the format specs.
 */

/** RGBA pixels → a 24-bit BMP (bottom-up rows, padded to 4 bytes). */
export function encodeBmp(rgba: Uint8ClampedArray, width: number, height: number): Uint8Array {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, size, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, rowBytes * height, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      out[row + x * 3] = rgba[i + 2]!;
      out[row + x * 3 + 1] = rgba[i + 1]!;
      out[row + x * 3 + 2] = rgba[i]!;
    }
  }
  return out;
}

/**
 * RGBA pixels → a GIF89a with a 6×6×6 colour cube, its LZW data "uncompressed" (9-bit codes and a
 * clear code before the table would grow), which every decoder reads.
 */
export function encodeGif(rgba: Uint8ClampedArray, width: number, height: number): Uint8Array {
  const bytes: number[] = [];
  const word = (v: number) => bytes.push(v & 0xff, v >> 8);
  bytes.push(...Array.from('GIF89a', (c) => c.charCodeAt(0)));
  word(width);
  word(height);
  bytes.push(0xf7, 0, 0); // global colour table of 256 entries
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = i < 216 ? [Math.floor(i / 36), Math.floor(i / 6) % 6, i % 6].map((v) => v * 51) : [0, 0, 0];
    bytes.push(r!, g!, b!);
  }
  bytes.push(0x2c);
  word(0);
  word(0);
  word(width);
  word(height);
  bytes.push(0, 8); // no local table; LZW minimum code size 8
  const codes: number[] = [];
  const clear = 256;
  for (let p = 0; p < width * height; p++) {
    if (p % 250 === 0) codes.push(clear);
    const i = p * 4;
    const q = (v: number) => Math.round(v / 51);
    codes.push(q(rgba[i]!) * 36 + q(rgba[i + 1]!) * 6 + q(rgba[i + 2]!));
  }
  codes.push(257); // end of information
  const data: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const code of codes) {
    acc |= code << bits;
    bits += 9;
    while (bits >= 8) {
      data.push(acc & 0xff);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) data.push(acc & 0xff);
  for (let i = 0; i < data.length; i += 255) {
    const block = data.slice(i, i + 255);
    bytes.push(block.length, ...block);
  }
  bytes.push(0, 0x3b);
  return new Uint8Array(bytes);
}

/**
 * A 16-bit PCM mono WAV of `count` samples declared at `rate` (which may be a rate no real file
 * has, such as 0): sample `i` is `sample(i)`, in [-1, 1].
 */
export function encodeWav(count: number, rate: number, sample: (i: number) => number): Uint8Array {
  const out = new Uint8Array(44 + count * 2);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string) => out.set(Array.from(text, (c) => c.charCodeAt(0)), at);
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + count * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, count * 2, true);
  for (let i = 0; i < count; i++) view.setInt16(44 + i * 2, Math.round(32767 * Math.max(-1, Math.min(1, sample(i)))), true);
  return out;
}

/**
 * The start of a PNG (signature, IHDR, IEND) declaring a gray image of `width` × `height`: what a
 * decompression bomb shows before its pixel data, which a size check must refuse unread.
 */
export function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25 + 12);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set(new TextEncoder().encode('IHDR'), 12);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 0, 0, 0, 0], 24); // 8-bit gray, no interlace (the CRC is left zero)
  bytes.set(new TextEncoder().encode('IEND'), 8 + 25 + 4);
  return bytes;
}
