/**
 * PNGs PIL refuses, refused here too (issue 12, defect 12): a PNG of 0×0 pixels (PIL: "cannot
 * identify image file") and one whose chunk CRCs before the image data do not match (PIL: "broken
 * PNG file (bad header checksum …)"). Both were classified before. PNG is decoded by the same
 * code in the worker and in Node (worker/media/png-decode.ts), so the check holds in both.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkPng, decodePngToRgb } from '../../../worker/media/png-decode.js';
import { decodeImage } from '../../../worker/media/decode.js';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { EndpointError } from '../../../src/protocol/errors.js';
import { pngChunk } from '../../../src/tasks/vision/mask-png.js';
import { SHARED_MEDIA } from '../../../fixtures/media-location.js';

const VIT = 'local-endpoint/tiny-vit-classifier';
const tiger = new Uint8Array(readFileSync(join(SHARED_MEDIA, 'tiger.png')));
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG of `width`×`height` RGB pixels, every chunk with its right CRC. */
function png(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = new Uint8Array(height * (1 + width * 3)); // filter 0 on every row, black pixels
  return concat(new Uint8Array(SIGNATURE), pngChunk('IHDR', ihdr), pngChunk('IDAT', new Uint8Array(deflateSync(raw))), pngChunk('IEND', new Uint8Array(0)));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The offset of the first `type` chunk's CRC. */
function crcOffset(bytes: Uint8Array, type: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    if (String.fromCharCode(...bytes.subarray(at + 4, at + 8)) === type) return at + 8 + length;
    at += 12 + length;
  }
  throw new Error(`no ${type} chunk`);
}

function withBadCrc(bytes: Uint8Array, type: string): Uint8Array {
  const copy = bytes.slice();
  copy[crcOffset(copy, type)]! ^= 0x5a;
  return copy;
}

async function rejection(run: Promise<unknown>): Promise<EndpointError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EndpointError);
  expect((err as EndpointError).status).toBe(400);
  return err as EndpointError;
}

describe('PNGs PIL refuses', () => {
  it('a PNG of 0×0 (or 0×N, N×0) pixels is a 400 saying it has no pixels', async () => {
    for (const [w, h] of [[0, 0], [0, 5], [5, 0]] as const) {
      expect(() => checkPng(png(w, h))).toThrow(`The PNG declares ${w}×${h} pixels; an image needs at least one pixel.`);
      expect((await rejection(decodeImage(png(w, h)))).message).toBe(`The PNG declares ${w}×${h} pixels; an image needs at least one pixel.`);
    }
  });

  it.each(['IHDR', 'pHYs', 'tEXt', 'zTXt'])('a bad CRC in the %s chunk (before the image data) is a 400 naming the chunk', async (type) => {
    const bad = withBadCrc(tiger, type);
    const err = await rejection(decodeImage(bad));
    expect(err.message).toMatch(new RegExp(`^The PNG is corrupt: the CRC of its "${type}" chunk \\(at byte \\d+\\) does not match its contents \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)\\.$`));
  });

  it('a bad CRC in IDAT or IEND is read, as PIL reads it (zlib\'s checksum guards the pixels)', async () => {
    const good = decodePngToRgb(tiger).data;
    for (const type of ['IDAT', 'IEND']) expect(Buffer.from(decodePngToRgb(withBadCrc(tiger, type)).data).equals(Buffer.from(good))).toBe(true);
  });

  it('a 1×1 PNG is still read', async () => {
    expect(decodePngToRgb(png(1, 1))).toMatchObject({ width: 1, height: 1 });
  });
});

describe('through the engine (Node, as `serve` runs it)', () => {
  const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
  const ask = (bytes: Uint8Array) => engine.infer({ task: 'image-classification', model: VIT, inputs: Buffer.from(bytes).toString('base64') });

  it('image-classification answers a 0×0 PNG and a PNG with a bad IHDR CRC with 400s, and serves the next request', async () => {
    expect(await ask(png(0, 0))).toMatchObject({ ok: false, status: 400, error: 'The PNG declares 0×0 pixels; an image needs at least one pixel.' });
    expect(await ask(withBadCrc(tiger, 'IHDR'))).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/^The PNG is corrupt: the CRC of its "IHDR" chunk/) });
    expect(await ask(tiger)).toMatchObject({ ok: true });
  });
});
