/**
 * A small PNG encoder for masks (8-bit grayscale) and generated images (8-bit RGB), the same in the worker and in Node: the image
 * data is zlib-compressed by the platform's CompressionStream. Written from the PNG spec.
 */
/** The masks travel as base64 (the test helpers import it from here). */
export { toBase64 } from '../shared/base64.js';

// Pure: a bundle without the PNG encoder (the page's) drops the table too.
const CRC_TABLE = /* @__PURE__ */ (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data and CRC. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function zlib(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** 8-bit grayscale pixels (row by row) → PNG bytes. */
export function encodeGrayPng(pixels: ArrayLike<number>, width: number, height: number): Promise<Uint8Array> {
  return encodePng(pixels, width, height, 1);
}

/** 8-bit RGB pixels (row by row, 3 bytes a pixel) → PNG bytes (text-to-image's answer). */
export function encodeRgbPng(pixels: ArrayLike<number>, width: number, height: number): Promise<Uint8Array> {
  return encodePng(pixels, width, height, 3);
}

async function encodePng(pixels: ArrayLike<number>, width: number, height: number, channels: 1 | 3): Promise<Uint8Array> {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = channels === 1 ? 0 : 2; // grayscale, or RGB
  const row = width * channels;
  const raw = new Uint8Array((row + 1) * height); // each row: filter type 0, then its pixels
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < row; x++) raw[y * (row + 1) + 1 + x] = pixels[y * row + x]!;
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', await zlib(raw)),
    pngChunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
