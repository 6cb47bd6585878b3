/**
 * Images decoded the same in the browser as under `serve` (issue 12, defects 7 and 12): BMP by
 * local-endpoint's own decoder in both runtimes (sharp cannot read BMP; Node answered 400), and
 * the PNGs PIL refuses (0×0, bad header CRCs) refused in the browser as in Node.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { decodeImage } from '../../../worker/media/decode.js';
import { decodePngToRgb } from '../../../worker/media/png-decode.js';
import { pngChunk } from '../../../src/tasks/vision/mask-png.js';
import { encodeBmp } from '../../media/encoders.js';

const remote = inject('remote');
const VIT = 'local-endpoint/tiny-vit-classifier';
const URL_ = 'https://vit-formats.example.endpoints.huggingface.cloud';
const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({ engine, endpoints: { [URL_]: { task: 'image-classification', model: VIT, device: 'wasm' } } });

let png: Uint8Array;
let bmp: Uint8Array;

beforeAll(async () => {
  png = new Uint8Array(await (await fetch('/models/test-media/tiger.png')).arrayBuffer());
  const { data, width, height } = decodePngToRgb(png);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!, 255], i * 4);
  bmp = encodeBmp(rgba, width, height);
});

type Image = { data: Uint8ClampedArray; width: number; height: number; channels: number };

async function post(url: string, fetchFn: typeof fetch, body: Uint8Array, type: string) {
  const r = await fetchFn(url + '?top_k=10', { method: 'POST', headers: { 'content-type': type }, body: body.slice() as Uint8Array<ArrayBuffer> });
  return { status: r.status, body: await r.json() };
}

describe('BMP in the browser and under serve', () => {
  it('decodeImage in the browser gives the BMP the PNG\'s RGB pixels, not the canvas\'s RGBA', async () => {
    const fromBmp = (await decodeImage(bmp)) as Image;
    const fromPng = (await decodeImage(png)) as Image;
    expect([fromBmp.width, fromBmp.height, fromBmp.channels]).toEqual([fromPng.width, fromPng.height, 3]);
    expect(fromBmp.data).toEqual(fromPng.data);
  });

  it('the worker and the Node-served Endpoint answer the BMP as they answer the PNG', async () => {
    const localPng = await post(URL_, localFetch, png, 'image/png');
    const localBmp = await post(URL_, localFetch, bmp, 'image/bmp');
    expect(localPng.status).toBe(200);
    expect(localBmp).toEqual(localPng);
    const remotePng = await post(remote.imageClassification, fetch, png, 'image/png');
    const remoteBmp = await post(remote.imageClassification, fetch, bmp, 'image/bmp');
    expect(remotePng.status).toBe(200);
    expect(remoteBmp).toEqual(remotePng);
  });
});

describe('PNGs PIL refuses, refused in the worker as under serve', () => {
  const empty = () => {
    const ihdr = new Uint8Array(13);
    ihdr.set([8, 2, 0, 0, 0], 8); // 0×0, 8-bit RGB
    const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), pngChunk('IEND', new Uint8Array(0))];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const badCrc = () => {
    const copy = png.slice();
    copy[8 + 8 + 13] ^= 0x5a; // the IHDR chunk's CRC
    return copy;
  };

  it.each([
    ['a 0×0 PNG', empty, /^The PNG declares 0×0 pixels; an image needs at least one pixel\.$/],
    ['a PNG with a bad IHDR CRC', badCrc, /^The PNG is corrupt: the CRC of its "IHDR" chunk/],
  ])('%s: 400 from the worker and from the Node-served Endpoint, with the same message', async (_, make, message) => {
    const local = await post(URL_, localFetch, make(), 'image/png');
    const fromRemote = await post(remote.imageClassification, fetch, make(), 'image/png');
    expect(local.status).toBe(400);
    expect(local.body.error).toMatch(message);
    expect(fromRemote).toEqual(local);
  });
});
