/**
 * image-classification in the worker: the shared photo as a raw body in every accepted format,
 * with and without a Content-Type, as base64 JSON, through the official client, against the
 * Node-served Endpoint, and bad bodies that must get a 400 while the worker keeps serving.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { encodeBmp, encodeGif, pngHeader } from '../../media/encoders.js';
import { decodeMask, toBase64 } from '../../media/masks.js';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { pngChunk } from '../../../src/tasks/vision/mask-png.js';

const remote = inject('remote');
const VIT = 'local-endpoint/tiny-vit-classifier';
const URL_ = 'https://vit.example.endpoints.huggingface.cloud';
const YOLOS = 'local-endpoint/tiny-yolos';
const SEGFORMER = 'local-endpoint/tiny-segformer';
const DETECT_URL = 'https://detect.example.endpoints.huggingface.cloud';
const SEGMENT_URL = 'https://segment.example.endpoints.huggingface.cloud';
const CLIP_URL = 'https://clip.example.endpoints.huggingface.cloud';
const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [URL_]: { task: 'image-classification', model: VIT, device: 'wasm' },
    [DETECT_URL]: { task: 'object-detection', model: YOLOS, device: 'wasm' },
    [SEGMENT_URL]: { task: 'image-segmentation', model: SEGFORMER, device: 'wasm' },
    [CLIP_URL]: { task: 'zero-shot-image-classification', model: 'local-endpoint/tiny-clip', device: 'wasm' },
  },
});

const formats: Record<string, { type: string; bytes: Uint8Array }> = {};

async function media(name: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(`/models/test-media/${name}`)).arrayBuffer());
}

beforeAll(async () => {
  formats.jpeg = { type: 'image/jpeg', bytes: await media('tiger.jpeg') };
  formats.png = { type: 'image/png', bytes: await media('tiger.png') };
  // The other formats, made from the same photo here: webp by the canvas, BMP and GIF by code.
  const bitmap = await createImageBitmap(new Blob([formats.png.bytes as Uint8Array<ArrayBuffer>]));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  const webp = await canvas.convertToBlob({ type: 'image/webp', quality: 0.95 });
  formats.webp = { type: 'image/webp', bytes: new Uint8Array(await webp.arrayBuffer()) };
  const { data, width, height } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  formats.bmp = { type: 'image/bmp', bytes: encodeBmp(data, width, height) };
  formats.gif = { type: 'image/gif', bytes: encodeGif(data, width, height) };
});

async function postBody(body: BodyInit, type?: string, path = '', url = URL_) {
  const r = await localFetch(url + path, { method: 'POST', body, ...(type ? { headers: { 'content-type': type } } : {}) });
  return { status: r.status, body: await r.json() };
}


describe('image-classification', () => {
  it.each(['jpeg', 'png', 'webp', 'bmp', 'gif'])('takes a raw %s body with its Content-Type and answers [{label, score}] best first', async (format) => {
    const { type, bytes } = formats[format]!;
    const r = await postBody(bytes.slice() as Uint8Array<ArrayBuffer>, type);
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(5); // top_k 5 by default
    const config = await (await fetch(`/models/${VIT}/config.json`)).json();
    for (const entry of r.body) expect(Object.values(config.id2label)).toContain(entry.label);
    const scores = r.body.map((e: { score: number }) => e.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // Every format is the same photo: the same best label.
    const reference = await postBody(formats.png!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/png');
    expect(r.body[0].label).toBe(reference.body[0].label);
  });

  it('reads the format from the bytes when there is no Content-Type, as the official client sends a Blob', async () => {
    const bare = await postBody(new Blob([formats.jpeg!.bytes as Uint8Array<ArrayBuffer>]));
    const typed = await postBody(formats.jpeg!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/jpeg');
    expect(bare).toEqual(typed);
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: URL_ });
    expect(await hf.imageClassification({ data: new Blob([formats.jpeg!.bytes as Uint8Array<ArrayBuffer>]) })).toEqual(typed.body);
  });

  it('takes base64 in JSON, with parameters, and top_k / function_to_apply change the answer', async () => {
    const b64 = toBase64(formats.png!.bytes);
    const all = await postBody(JSON.stringify({ inputs: b64, parameters: { top_k: null } }), 'application/json');
    const config = await (await fetch(`/models/${VIT}/config.json`)).json();
    expect(all.body).toHaveLength(Object.keys(config.id2label).length);
    expect(all.body.reduce((s: number, e: { score: number }) => s + e.score, 0)).toBeCloseTo(1, 5);
    const two = await postBody(JSON.stringify({ inputs: { image: b64 }, parameters: { top_k: 2 } }), 'application/json');
    expect(two.body).toEqual(all.body.slice(0, 2));
    const sigmoid = await postBody(JSON.stringify({ inputs: b64, parameters: { function_to_apply: 'sigmoid', top_k: null } }), 'application/json');
    expect(sigmoid.body.reduce((s: number, e: { score: number }) => s + e.score, 0)).not.toBeCloseTo(1, 2);
    // Query-string parameters apply to a raw body, as on the Endpoint server.
    const query = await postBody(formats.png!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/png', '?top_k=2');
    expect(query.body).toEqual(two.body);
  });

  // Both sides resize with the same PIL-compatible code (src/tasks/image-resize.ts), and the PNG
  // decodes to the same pixels, so only float rounding in the two ONNX runtimes remains.
  it('agrees with the Node-served Endpoint on the PNG: the same labels in the same order, scores within 1e-4', async () => {
    const local = await postBody(formats.png!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/png');
    const response = await fetch(remote.imageClassification, { method: 'POST', headers: { 'content-type': 'image/png' }, body: formats.png!.bytes.slice() as Uint8Array<ArrayBuffer> });
    const fromRemote = await response.json();
    expect(fromRemote.map((e: { label: string }) => e.label)).toEqual(local.body.map((e: { label: string }) => e.label));
    fromRemote.forEach((e: { score: number }, i: number) => expect(Math.abs(e.score - local.body[i].score)).toBeLessThan(1e-4));
  });

  it('moves the body to the worker in the transfer list, not as a copy', async () => {
    const { readMediaBody } = await import('../../../src/wire/media.js');
    const body = readMediaBody(formats.png!.bytes.slice(), 'image/png', 'image');
    const result = await engine.infer({ task: 'image-classification', model: VIT, device: 'wasm', inputs: body });
    expect(result.ok).toBe(true);
    expect(body.bytes.buffer.byteLength).toBe(0); // detached: it now belongs to the worker
  });

  it('reads a PNG as PIL does, like the Node-served Endpoint: the colour under transparent pixels kept, a gAMA chunk ignored', async () => {
    const plain = decodePng(formats.png!.bytes);
    // The photo with an alpha ramp (0 to 255 across it) and a gamma of 1.0 declared.
    const rgba = new Uint8Array(WIDTH * HEIGHT * 4);
    for (let i = 0; i < WIDTH * HEIGHT; i++) rgba.set([...plain.data.subarray(i * 3, i * 3 + 3), (i % WIDTH) % 256], i * 4);
    const encoded = encodePng({ width: WIDTH, height: HEIGHT, channels: 4, depth: 8, data: rgba });
    const gamma = new Uint8Array(4);
    new DataView(gamma.buffer).setUint32(0, 100000);
    const ihdrEnd = 8 + 25;
    const tagged = new Uint8Array([...encoded.subarray(0, ihdrEnd), ...pngChunk('gAMA', gamma), ...encoded.subarray(ihdrEnd)]);
    const parameters = { top_k: null, function_to_apply: 'none' }; // the raw logits: the most sensitive
    const ask = async (bytes: Uint8Array) => (await postBody(JSON.stringify({ inputs: toBase64(bytes), parameters }), 'application/json')).body as { label: string; score: number }[];
    const [reference, local] = [await ask(formats.png!.bytes), await ask(tagged)];
    const fromRemote = await (await fetch(remote.imageClassification, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: toBase64(tagged), parameters }) })).json();
    for (const answer of [local, fromRemote]) {
      expect(answer.map((e: { label: string }) => e.label)).toEqual(reference.map((e) => e.label));
      answer.forEach((e: { score: number }, i: number) => expect(Math.abs(e.score - reference[i]!.score)).toBeLessThan(1e-4));
    }
  });

  it.each([
    ['a zero-byte body', () => new Uint8Array(0), 'image/png', /The request body is empty; expected an image/],
    ['a truncated jpeg', () => formats.jpeg!.bytes.slice(0, 3000), 'image/jpeg', /The image could not be decoded/],
    ['a text file sent as image/png', () => new TextEncoder().encode('just some text, not a picture'), 'image/png', /not a recognisable image/],
    ['audio sent as an image', () => new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x41, 0x56, 0x45, 0, 0, 0, 0]), 'image/png', /holds wav audio, but this task takes an image/],
    ['an unsupported Content-Type', () => formats.png!.bytes.slice(), 'image/svg+xml', /Unsupported Content-Type "image\/svg\+xml"/],
    ['bad base64 in JSON', () => new TextEncoder().encode(JSON.stringify({ inputs: 'not an image!' })), 'application/json', /inputs is not valid base64 image data/],
    ['a small PNG that declares 20000×20000 pixels', () => pngHeader(20000, 20000), 'image/png', /20000×20000 pixels, over the limit of 67108864 pixels/],
  ] as const)('%s gets a 400 naming it, and the next request works', async (_, make, type, message) => {
    const r = await postBody(make() as Uint8Array<ArrayBuffer>, type);
    expect(r).toEqual({ status: 400, body: { error: expect.stringMatching(message) } });
    expect((await postBody(formats.png!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/png')).status).toBe(200);
  });

  it('a 50 MB body gets a 413 naming the limit (as serve answers it), and the next request works', async () => {
    const big = new Uint8Array(50 * 1024 * 1024 + 10);
    big.set(formats.png!.bytes);
    expect(await postBody(big, 'image/png')).toEqual({ status: 413, body: { error: expect.stringMatching(/over the limit of 52428800 bytes/) } });
    expect((await postBody(formats.png!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/png')).status).toBe(200);
  });
});


/** The photo's size: tiger.jpeg and tiger.png are 612×408. */
const WIDTH = 612;
const HEIGHT = 408;

describe('object-detection', () => {
  it('finds boxes in whole pixels inside the image, raw and through objectDetection, like the Node-served Endpoint', async () => {
    const r = await postBody(formats.jpeg!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/jpeg', '', DETECT_URL);
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThan(0);
    for (const { label, score, box } of r.body) {
      expect(typeof label).toBe('string');
      expect(score).toBeGreaterThanOrEqual(0.5); // the default threshold
      for (const v of Object.values(box) as number[]) expect(Number.isInteger(v)).toBe(true);
      expect(box.xmin).toBeGreaterThanOrEqual(0);
      expect(box.ymin).toBeGreaterThanOrEqual(0);
      expect(box.xmax).toBeLessThanOrEqual(WIDTH);
      expect(box.ymax).toBeLessThanOrEqual(HEIGHT);
      expect(box.xmax).toBeGreaterThan(box.xmin);
      expect(box.ymax).toBeGreaterThan(box.ymin);
    }
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: DETECT_URL });
    expect(await hf.objectDetection({ data: new Blob([formats.jpeg!.bytes as Uint8Array<ArrayBuffer>]) })).toEqual(r.body);
    // A higher threshold keeps fewer boxes; base64 JSON gives the same answer.
    const strict = await postBody(JSON.stringify({ inputs: toBase64(formats.jpeg!.bytes), parameters: { threshold: 0.9 } }), 'application/json', '', DETECT_URL);
    expect(strict.body.length).toBeLessThan(r.body.length);
    expect(strict.body).toEqual(r.body.filter((d: { score: number }) => d.score >= 0.9));
    // The Node-served Endpoint resizes with the same PIL-compatible code: the same detections in the
    // same order, the same boxes to the pixel, scores within 1e-4.
    const fromRemote = await (await fetch(remote.objectDetection, { method: 'POST', headers: { 'content-type': 'image/png' }, body: formats.png!.bytes.slice() as Uint8Array<ArrayBuffer> })).json();
    const local = await postBody(formats.png!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/png', '', DETECT_URL);
    expect(fromRemote.length).toBeGreaterThan(0);
    expect(fromRemote.map((d: { label: string; box: unknown }) => [d.label, d.box])).toEqual(local.body.map((d: { label: string; box: unknown }) => [d.label, d.box]));
    fromRemote.forEach((d: { score: number }, i: number) => expect(Math.abs(d.score - local.body[i].score)).toBeLessThan(1e-4));
    const bad = await postBody(JSON.stringify({ inputs: toBase64(formats.png!.bytes), parameters: { threshold: 2 } }), 'application/json', '', DETECT_URL);
    expect(bad).toEqual({ status: 400, body: { error: 'parameters.threshold must be a number from 0 to 1, got 2.' } });
  });
});

describe('image-segmentation', () => {
  it('answers semantic masks as base64 PNGs of the image size that cover it once, pixel for pixel like the Node-served Endpoint', async () => {
    const r = await postBody(formats.png!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/png', '', SEGMENT_URL);
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThan(0);
    let covered = 0;
    for (const segment of r.body) {
      expect(typeof segment.label).toBe('string');
      expect(segment.score).toBeNull(); // semantic segments have no score, as on the Endpoint
      const mask = await decodeMask(segment.mask);
      expect([mask.width, mask.height]).toEqual([WIDTH, HEIGHT]);
      expect(mask.gray.every((v) => v === 0 || v === 255)).toBe(true);
      covered += mask.gray.filter((v) => v === 255).length;
    }
    expect(covered).toBe(WIDTH * HEIGHT); // each pixel belongs to exactly one label
    // The official client (JSON with base64) gets the same segments, without the null scores.
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: SEGMENT_URL });
    const viaClient = await hf.imageSegmentation({ inputs: new Blob([formats.png!.bytes as Uint8Array<ArrayBuffer>]) });
    expect(viaClient.map((s) => s.label)).toEqual(r.body.map((s: { label: string }) => s.label));
    expect(viaClient.every((s) => !('score' in s))).toBe(true);
    const fromRemote = await (await fetch(remote.imageSegmentation, { method: 'POST', headers: { 'content-type': 'image/png' }, body: formats.png!.bytes.slice() as Uint8Array<ArrayBuffer> })).json();
    // The same resize on both sides: the same labels in the same order and the same mask pixels (the
    // PNG bytes themselves may differ: CompressionStream and Node's zlib deflate differently).
    expect(fromRemote.map((s: { label: string }) => s.label)).toEqual(r.body.map((s: { label: string }) => s.label));
    for (const [i, segment] of fromRemote.entries()) {
      const mask = await decodeMask(segment.mask);
      expect([mask.width, mask.height]).toEqual([WIDTH, HEIGHT]);
      const localMask = await decodeMask(r.body[i].mask);
      expect(mask.gray.every((v, j) => v === localMask.gray[j])).toBe(true);
    }
  });

  it('refuses a subtask the model does not support, and an unknown one', async () => {
    const r = await postBody(JSON.stringify({ inputs: toBase64(formats.png!.bytes), parameters: { subtask: 'panoptic' } }), 'application/json', '', SEGMENT_URL);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/subtask "panoptic"/);
    const unknown = await postBody(JSON.stringify({ inputs: toBase64(formats.png!.bytes), parameters: { subtask: 'magic' } }), 'application/json', '', SEGMENT_URL);
    expect(unknown).toEqual({ status: 400, body: { error: 'parameters.subtask must be one of semantic, instance, panoptic, got "magic".' } });
  });
});

describe('EXIF orientation', () => {
  it('a JPEG tagged "rotate 90°" is read upright, as PIL (exif_transpose), Chromium and sharp do: boxes and masks in the turned frame', async () => {
    const turned = withOrientation(formats.jpeg!.bytes, 6);
    // Detection: boxes inside the turned image (408 wide, 612 high), the same on the Node-served Endpoint.
    const boxes = await postBody(turned.slice() as Uint8Array<ArrayBuffer>, 'image/jpeg', '', DETECT_URL);
    expect(boxes.status).toBe(200);
    expect(boxes.body.length).toBeGreaterThan(0);
    for (const { box } of boxes.body) {
      expect(box.xmax).toBeLessThanOrEqual(HEIGHT);
      expect(box.ymax).toBeLessThanOrEqual(WIDTH);
    }
    const fromRemote = await (await fetch(remote.objectDetection, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: turned.slice() as Uint8Array<ArrayBuffer> })).json();
    expect(fromRemote.map((d: { box: unknown }) => d.box)).toEqual(boxes.body.map((d: { box: unknown }) => d.box));
    // Segmentation: masks of the turned size (408×612), here and on the Node-served Endpoint.
    const masks = await postBody(turned.slice() as Uint8Array<ArrayBuffer>, 'image/jpeg', '', SEGMENT_URL);
    expect(masks.status).toBe(200);
    const mask = await decodeMask(masks.body[0].mask);
    expect([mask.width, mask.height]).toEqual([HEIGHT, WIDTH]);
    const remoteMasks = await (await fetch(remote.imageSegmentation, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: turned.slice() as Uint8Array<ArrayBuffer> })).json();
    const remoteMask = await decodeMask(remoteMasks[0].mask);
    expect([remoteMask.width, remoteMask.height]).toEqual([HEIGHT, WIDTH]);
  });
});

/**
 * A JPEG with an EXIF APP1 segment holding only the Orientation tag (6: shown turned 90°
 * clockwise), inserted right after the SOI marker.
 */
function withOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]; // "Exif\0\0" + big-endian TIFF, one IFD entry
  const length = payload.length + 2;
  const app1 = [0xff, 0xe1, length >> 8, length & 0xff, ...payload];
  const out = new Uint8Array(jpeg.length + app1.length);
  out.set(jpeg.subarray(0, 2));
  out.set(app1, 2);
  out.set(jpeg.subarray(2), 2 + app1.length);
  return out;
}

describe('zero-shot-image-classification', () => {
  const LABELS = ['tiger', 'cat', 'car'];

  it('scores the candidate labels (summing to 1), raw, as base64 and through the client, like the Node-served Endpoint', async () => {
    const raw = await postBody(formats.jpeg!.bytes.slice() as Uint8Array<ArrayBuffer>, 'image/jpeg', `?candidate_labels=${encodeURIComponent(JSON.stringify(LABELS))}`, CLIP_URL);
    expect(raw.status).toBe(200);
    expect(raw.body.map((e: { label: string }) => e.label).sort()).toEqual([...LABELS].sort());
    expect(raw.body.reduce((s: number, e: { score: number }) => s + e.score, 0)).toBeCloseTo(1, 5);
    const b64 = toBase64(formats.jpeg!.bytes);
    const json = await postBody(JSON.stringify({ inputs: { image: b64, candidate_labels: LABELS.join(', ') } }), 'application/json', '', CLIP_URL);
    expect(json.body).toEqual(raw.body);
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: CLIP_URL });
    const viaClient = await hf.zeroShotImageClassification({ inputs: { image: new Blob([formats.jpeg!.bytes as Uint8Array<ArrayBuffer>]) }, parameters: { candidate_labels: LABELS } });
    expect(viaClient).toEqual(raw.body);
    // Other labels, other scores; the hypothesis template changes them too.
    const two = await postBody(JSON.stringify({ inputs: b64, parameters: { candidate_labels: ['tiger', 'dog'] } }), 'application/json', '', CLIP_URL);
    expect(two.body).toHaveLength(2);
    const templated = await postBody(JSON.stringify({ inputs: b64, parameters: { candidate_labels: LABELS, hypothesis_template: 'A {} in the wild' } }), 'application/json', '', CLIP_URL);
    expect(templated.body).not.toEqual(raw.body);
    const fromRemote = await (await fetch(remote.zeroShotImageClassification, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: toBase64(formats.png!.bytes), parameters: { candidate_labels: LABELS } }) })).json();
    const local = await postBody(JSON.stringify({ inputs: toBase64(formats.png!.bytes), parameters: { candidate_labels: LABELS } }), 'application/json', '', CLIP_URL);
    // CLIP's bicubic resize runs the same PIL-compatible code on both sides: the same labels in the
    // same order, scores within 1e-4.
    expect(fromRemote.map((e: { label: string }) => e.label)).toEqual(local.body.map((e: { label: string }) => e.label));
    fromRemote.forEach((e: { score: number }, i: number) => expect(Math.abs(e.score - local.body[i].score)).toBeLessThan(1e-4));
    expect(fromRemote.reduce((sum: number, e: { score: number }) => sum + e.score, 0)).toBeCloseTo(1, 5);
  });

  it('needs candidate_labels and a template with {}', async () => {
    const b64 = toBase64(formats.png!.bytes);
    const none = await postBody(JSON.stringify({ inputs: b64 }), 'application/json', '', CLIP_URL);
    expect(none).toEqual({ status: 400, body: { error: expect.stringMatching(/candidate_labels is required/) } });
    const template = await postBody(JSON.stringify({ inputs: b64, parameters: { candidate_labels: ['a'], hypothesis_template: 'no slot' } }), 'application/json', '', CLIP_URL);
    expect(template.body.error).toMatch(/hypothesis_template must be a string with \{\}/);
  });
});
