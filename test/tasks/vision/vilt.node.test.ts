/**
 * ViLT visual-question-answering in Node: ViltImageProcessor's rules against transformers' own
 * expectations (tests/models/vilt/test_image_processing_vilt.py), the tiny ViLT fixture's graph
 * (pixel_mask honoured), the engine on onnxruntime-node (answers from id2label, sigmoid scores,
 * top_k, truncation to max_position_embeddings), and `serve` over HTTP with the official client's
 * visualQuestionAnswering, bad inputs answered 400 while the server keeps serving.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { AutoTokenizer, RawImage, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { encode as encodePng } from 'fast-png';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { decodeImage } from '../../../worker/media/decode.js';
import { serve, type RunningServer } from '../../../src/node/serve.js';
import {
  VILT_IMAGE_DEFAULTS,
  preprocessViltImage,
  questionIds,
  readViltImageConfig,
  viltPixelMask,
  viltPixelValues,
  viltResizeSize,
  type ViltRawImage,
} from '../../../src/tasks/vision/vilt.js';
import { TINY_VILT_ANSWERS } from '../../../fixtures/vilt.js';
import { SHARED_MEDIA } from '../../../fixtures/media-location.js';
import { pngHeader } from '../../media/encoders.js';

const MODELS = '.fixtures/models';
const VILT = 'local-endpoint/tiny-vilt';
const DIR = `${MODELS}/${VILT}`;
const TASK = 'visual-question-answering';
const QUESTION = 'What animal is in the picture?';
const PNG = readFileSync(join(SHARED_MEDIA, 'tiger.png'));
const JPEG = readFileSync(join(SHARED_MEDIA, 'tiger.jpeg'));
const config = JSON.parse(readFileSync(`${DIR}/config.json`, 'utf8')) as { id2label: Record<string, string> };
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * transformers' ViltImageProcessingTester.get_expected_values, ported line by line: the
 * (height, width) ViltImageProcessor gives an image, for `size` (shortest edge) and `divisor`.
 */
function expectedValues(h: number, w: number, size: number, divisor: number): [number, number] {
  const scale = size / Math.min(w, h);
  let [newh, neww] = h < w ? [size, scale * w] : [scale * h, size];
  const maxSize = Math.trunc((1333 / 800) * size);
  if (Math.max(newh, neww) > maxSize) {
    const s = maxSize / Math.max(newh, neww);
    newh *= s;
    neww *= s;
  }
  [newh, neww] = [Math.trunc(newh + 0.5), Math.trunc(neww + 0.5)];
  return [Math.floor(newh / divisor) * divisor, Math.floor(neww / divisor) * divisor];
}

describe('ViltImageProcessor (as transformers)', () => {
  it('resizes to the shortest edge, the longer side capped at int(1333/800 × it), multiples of size_divisor', () => {
    // The tester's settings (shortest_edge 30, size_divisor 2) over its resolutions 30…400, and ViLT's (384, 32).
    const sizes: [number, number][] = [[30, 30], [30, 400], [400, 30], [87, 301], [399, 212], [18, 18], [408, 612], [612, 408], [100, 1000], [1000, 100], [480, 640], [5000, 4999]];
    for (const [h, w] of sizes) {
      for (const [size, divisor] of [[30, 2], [384, 32], [800, 32]] as const) {
        const got = viltResizeSize(h, w, size, divisor);
        expect([got.height, got.width], `${h}×${w} at ${size}/${divisor}`).toEqual(expectedValues(h, w, size, divisor));
      }
    }
    // Values worked out by hand from image_processing_vilt.py.
    expect(viltResizeSize(408, 612, 384, 32)).toEqual({ height: 384, width: 576 }); // the shared photo
    expect(viltResizeSize(612, 408, 384, 32)).toEqual({ height: 576, width: 384 });
    expect(viltResizeSize(100, 1000, 384, 32)).toEqual({ height: 64, width: 608 }); // longer side capped at 639
    expect(viltResizeSize(40, 30, 384, 32)).toEqual({ height: 512, width: 384 }); // small images grow
    expect(viltResizeSize(10, 2000, 384, 32).height).toBe(0); // too narrow: nothing left
  });

  it('pixel_mask: 1 over the image, 0 over the padding (make_pixel_mask), shaped [H, W]', () => {
    const mask = viltPixelMask(2, 3, 4, 5);
    expect(mask.length).toBe(20);
    expect(Array.from(mask, Number)).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(viltPixelMask(2, 2), Number)).toEqual([1, 1, 1, 1]);
  });

  it('rescales by 1/255 and normalises by mean/std 0.5 in float32, channels first', () => {
    // Two pixels, RGB: (0, 128, 255) and (255, 0, 64).
    const values = viltPixelValues([0, 128, 255, 255, 0, 64], 1, 2, VILT_IMAGE_DEFAULTS);
    const f = Math.fround;
    const norm = (v: number) => f(f(f(v / 255) - 0.5) / 0.5);
    expect(Array.from(values)).toEqual([norm(0), norm(255), norm(128), norm(0), norm(255), norm(64)]);
    expect(values[0]).toBe(-1);
    expect(values[1]).toBe(1);
    const raw = viltPixelValues([10, 20, 30], 1, 1, { ...VILT_IMAGE_DEFAULTS, doRescale: false, doNormalize: false });
    expect(Array.from(raw)).toEqual([10, 20, 30]);
  });

  it('reads preprocessor_config.json as ViltImageProcessor does: size as {shortest_edge} or a bare number (dandelin’s file), defaults, errors', () => {
    const fixture = readViltImageConfig(JSON.parse(readFileSync(`${DIR}/preprocessor_config.json`, 'utf8')));
    expect(fixture).toEqual(VILT_IMAGE_DEFAULTS);
    // dandelin/vilt-b32-finetuned-vqa's preprocessor_config.json (ViltFeatureExtractor era).
    const dandelin = { crop_pct: 0.9, do_normalize: true, do_resize: true, feature_extractor_type: 'ViltFeatureExtractor', image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], resample: 3, size: 384, size_divisor: 32 };
    expect(readViltImageConfig(dandelin)).toEqual(VILT_IMAGE_DEFAULTS);
    expect(readViltImageConfig({ size: { shortest_edge: 30 }, size_divisor: 2, image_mean: 0.25, do_pad: false })).toMatchObject({ shortestEdge: 30, sizeDivisor: 2, mean: [0.25, 0.25, 0.25], doPad: false });
    expect(readViltImageConfig(null)).toEqual(VILT_IMAGE_DEFAULTS);
    expect(() => readViltImageConfig({ size: { height: 384, width: 384 } })).toThrow(/size must have "shortest_edge"/);
    expect(() => readViltImageConfig({ image_std: [0.5, 0, 0.5] })).toThrow(/image_std must not be 0/);
  });

  it('a decoded photo becomes pixel_values [3, 384, 576] in [-1, 1] and a mask of ones', async () => {
    new Engine(nodeRuntime(), { localModelPath: MODELS }); // installs the PIL-exact RawImage.resize
    const image = (await decodeImage(new Uint8Array(PNG))) as ViltRawImage;
    const pixels = await preprocessViltImage(image, VILT_IMAGE_DEFAULTS, 32);
    expect([pixels.height, pixels.width]).toEqual([384, 576]);
    expect(pixels.pixelValues.length).toBe(3 * 384 * 576);
    expect(pixels.pixelValues.every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(new Set(pixels.pixelValues).size).toBeGreaterThan(200);
    expect(pixels.pixelMask.every((v) => v === 1n)).toBe(true);
    // An RGBA image is read as RGB (PIL's convert("RGB") drops alpha).
    const rgba = new RawImage(new Uint8ClampedArray([10, 20, 30, 0, 40, 50, 60, 255]), 2, 1, 4) as unknown as ViltRawImage;
    const small = await preprocessViltImage(rgba, { ...VILT_IMAGE_DEFAULTS, doResize: false, doNormalize: false, doRescale: false }, 1);
    expect(Array.from(small.pixelValues)).toEqual([10, 40, 20, 50, 30, 60]);
  });
});

describe('the tiny ViLT fixture', () => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(`${DIR}/onnx/model.onnx`);
  });

  const feeds = (height: number, width: number, pixel: (c: number, y: number, x: number) => number, valid: (y: number, x: number) => boolean) => {
    const values = new Float32Array(3 * height * width);
    const mask = new BigInt64Array(height * width);
    for (let c = 0; c < 3; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) values[(c * height + y) * width + x] = pixel(c, y, x);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) mask[y * width + x] = valid(y, x) ? 1n : 0n;
    const ids = BigInt64Array.from([2n, 300n, 301n, 3n]);
    return {
      input_ids: new ort.Tensor('int64', ids, [1, 4]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(4).fill(1n), [1, 4]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(4), [1, 4]),
      pixel_values: new ort.Tensor('float32', values, [1, 3, height, width]),
      pixel_mask: new ort.Tensor('int64', mask, [1, height, width]),
    };
  };
  const pattern = (c: number, y: number, x: number) => Math.sin(c * 7.1 + y * 0.37 + x * 0.23);
  const logits = async (f: Record<string, ort.Tensor>) => Array.from((await session.run(f)).logits!.data as Float32Array);

  it('has the ViLT layout: five inputs, logits over the 16 answers of id2label', async () => {
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids', 'pixel_values', 'pixel_mask']);
    expect(session.outputNames).toEqual(['logits']);
    expect(Object.values(config.id2label)).toEqual(TINY_VILT_ANSWERS);
    const started = performance.now();
    expect(await logits(feeds(384, 576, pattern, () => true))).toHaveLength(16);
    console.info(`tiny-vilt, 384×576 image on onnxruntime-node: ${Math.round(performance.now() - started)} ms`);
  });

  it('masked pixels are not attended: an image padded with a mask answers as the image alone, whatever the padding holds', async () => {
    const valid = (_y: number, x: number) => x < 288;
    const padded = await logits(feeds(384, 576, pattern, valid));
    const otherPadding = await logits(feeds(384, 576, (c, y, x) => (x < 288 ? pattern(c, y, x) : 0.9), valid));
    const alone = await logits(feeds(384, 288, pattern, () => true)); // the positions interpolated to 12 × 9 patches, as visual_embed does
    expect(otherPadding).toEqual(padded);
    for (let i = 0; i < 16; i++) expect(padded[i]).toBeCloseTo(alone[i]!, 4);
    // …while the unmasked pixels and the question matter.
    const changed = await logits(feeds(384, 576, (c, y, x) => (x < 288 ? 0.9 : pattern(c, y, x)), valid));
    expect(changed).not.toEqual(padded);
  });
});

describe('visual-question-answering on the engine (Node)', () => {
  const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
  const ask = async (inputs: unknown, parameters?: Record<string, unknown>) => {
    const r = await engine.infer({ task: TASK, model: VILT, inputs, ...(parameters ? { parameters } : {}) } as EngineRequest);
    if (!r.ok) throw new Error(`${r.status}: ${r.error}`);
    return r.output as { score: number; answer: string }[];
  };
  const image = PNG.toString('base64');

  it('answers [{score, answer}] best first: answers from id2label, scores the sigmoid of the logits, 5 by default', async () => {
    const answers = await ask({ image, question: QUESTION });
    expect(answers).toHaveLength(5);
    for (const a of answers) {
      expect(Object.keys(a)).toEqual(['score', 'answer']); // the pipeline's key order
      expect(TINY_VILT_ANSWERS).toContain(a.answer);
      expect(a.score).toBeGreaterThan(0);
      expect(a.score).toBeLessThan(1);
    }
    expect(new Set(answers.map((a) => a.answer)).size).toBe(5);
    expect(answers.map((a) => a.score)).toEqual([...answers.map((a) => a.score)].sort((a, b) => b - a));

    // The same inputs straight through onnxruntime-node: the scores are sigmoid(logits), top 5.
    env.localModelPath = MODELS;
    env.allowRemoteModels = false;
    const tokenizer = await AutoTokenizer.from_pretrained(VILT);
    const pixels = await preprocessViltImage((await decodeImage(new Uint8Array(PNG))) as ViltRawImage, VILT_IMAGE_DEFAULTS, 32);
    const ids = questionIds(tokenizer as never, QUESTION, 40);
    expect(ids[0]).toBe(2); // [CLS]
    expect(ids.at(-1)).toBe(3); // [SEP]
    const session = await ort.InferenceSession.create(`${DIR}/onnx/model.onnx`);
    const n = ids.length;
    const out = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [1, n]),
      pixel_values: new ort.Tensor('float32', pixels.pixelValues, [1, 3, 384, 576]),
      pixel_mask: new ort.Tensor('int64', pixels.pixelMask, [1, 384, 576]),
    });
    const expected = Array.from(out.logits!.data as Float32Array, (logit, i) => ({ score: sigmoid(logit), answer: config.id2label[String(i)]! }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 5);
    expect(answers.map((a) => a.answer)).toEqual(expected.map((a) => a.answer));
    answers.forEach((a, i) => expect(a.score).toBeCloseTo(expected[i]!.score, 6));
    await session.release();
  });

  it('honours top_k (capped at the number of answers, as the pipeline), and the question and the image change the scores', async () => {
    const three = await ask({ image, question: QUESTION }, { top_k: 3 });
    expect(three).toEqual((await ask({ image, question: QUESTION })).slice(0, 3));
    const all = await ask({ image, question: QUESTION }, { top_k: 100 });
    expect(all.map((a) => a.answer).sort()).toEqual([...TINY_VILT_ANSWERS].sort());
    const other = await ask({ image, question: 'How many cats are there?' }, { top_k: 100 });
    expect(other.map((a) => a.score)).not.toEqual(all.map((a) => a.score));
    const flipped = await ask({ image: await mirroredPhoto(), question: QUESTION }, { top_k: 100 });
    expect(flipped.map((a) => a.score)).not.toEqual(all.map((a) => a.score));
  });

  it('truncates the question to max_position_embeddings (40 tokens, [SEP] kept), as ViltProcessor', async () => {
    const words = ['what', 'is', 'the', 'color', 'of', 'this', 'cat', 'and', 'that', 'dog'];
    const question = (n: number, tail = 'tree') => [...Array.from({ length: n }, (_, i) => words[i % words.length]), tail].join(' ');
    const at38 = await ask({ image, question: question(37) }, { top_k: 16 }); // 38 words + [CLS] + [SEP] = 40 tokens
    const long = await ask({ image, question: `${question(37)} ${'sky '.repeat(80)}` }, { top_k: 16 });
    const long2 = await ask({ image, question: `${question(37)} ${'rain snow '.repeat(30)}` }, { top_k: 16 });
    expect(long).toEqual(at38);
    expect(long2).toEqual(at38);
    // The 38th word still counts.
    expect(await ask({ image, question: question(37, 'bird') }, { top_k: 16 })).not.toEqual(at38);
  });

  it('reads JPEG as well as PNG (the same photo: close scores)', async () => {
    const fromJpeg = await ask({ image: JPEG.toString('base64'), question: QUESTION }, { top_k: 16 });
    const fromPng = await ask({ image, question: QUESTION }, { top_k: 16 });
    const score = new Map(fromPng.map((a) => [a.answer, a.score]));
    for (const a of fromJpeg) expect(Math.abs(a.score - score.get(a.answer)!)).toBeLessThan(0.05);
  });

  it('refuses what ViLT cannot read with a 400 naming it', async () => {
    const r = await engine.infer({ task: TASK, model: VILT, inputs: { image: pngOf(2000, 20), question: QUESTION } } as EngineRequest);
    expect(r).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/2000×20 pixels: too narrow for this model/) });
    expect(await ask({ image, question: QUESTION })).toHaveLength(5);
  });
});

/** The photo mirrored left to right, as a base64 PNG. */
async function mirroredPhoto(): Promise<string> {
  const { data, width, height, channels } = (await decodeImage(new Uint8Array(PNG))) as ViltRawImage;
  expect(channels).toBe(3);
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = data[(y * width + (width - 1 - x)) * 3 + c]!;
  return Buffer.from(encodePng({ width, height, data: out, channels: 3, depth: 8 })).toString('base64');
}

/** A base64 PNG of `width` × `height` gray-gradient pixels. */
function pngOf(width: number, height: number): string {
  const data = new Uint8Array(width * height * 3).map((_, i) => (i * 7) % 256);
  return Buffer.from(encodePng({ width, height, data, channels: 3, depth: 8 })).toString('base64');
}


describe('visual-question-answering through serve', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ task: TASK, model: VILT, modelsDir: MODELS, port: 0 });
    expect(await server.ready).toBe(true);
  });
  afterAll(() => server?.close());
  const post = (body: unknown) => fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const image = PNG.toString('base64');

  it('answers the raw Endpoint request, and the official client’s visualQuestionAnswering (base64 image) gets its first answer', async () => {
    const raw = await post({ inputs: { image, question: QUESTION }, parameters: { top_k: 2 } });
    expect(raw.status).toBe(200);
    const answers = (await raw.json()) as { score: number; answer: string }[];
    expect(answers).toHaveLength(2);
    const client = new InferenceClient(undefined, { endpointUrl: server.url });
    const answer = await client.visualQuestionAnswering({ inputs: { image: new Blob([new Uint8Array(PNG)], { type: 'image/png' }), question: QUESTION } });
    expect(answer).toEqual(answers[0]);
    // A data URL reads as the bare base64.
    expect(await (await post({ inputs: { image: `data:image/png;base64,${image}`, question: QUESTION }, parameters: { top_k: 2 } })).json()).toEqual(answers);
  });

  it.each([
    ['a missing image', { inputs: { question: QUESTION } }, /inputs\.image is missing/],
    ['an image that is not base64', { inputs: { image: 'not base64 at all!', question: QUESTION } }, /base64/],
    ['bytes that are not an image', { inputs: { image: Buffer.from('just some text, not a picture').toString('base64'), question: QUESTION } }, /image/i],
    ['an empty question', { inputs: { image, question: '  ' } }, /inputs\.question must not be empty/],
    ['a missing question', { inputs: { image } }, /inputs\.question is missing/],
    ['inputs that are not an object', { inputs: 'What is this?' }, /inputs must be an object/],
    ['top_k 0', { inputs: { image, question: QUESTION }, parameters: { top_k: 0 } }, /top_k must be a positive integer/],
    ['a huge image (20000 × 20000 declared)', { inputs: { image: Buffer.from(pngHeader(20000, 20000)).toString('base64'), question: QUESTION } }, /20000×20000 pixels, over the limit/],
    ['an image too narrow to resize', { inputs: { image: pngOf(3000, 10), question: QUESTION } }, /too narrow for this model/],
  ])('refuses %s with a 400 naming it, and serves on', async (_, body, message) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: string };
    expect(error).toMatch(message);
    expect(error).not.toMatch(/\/work\/|\/tmp\//); // no absolute paths
    expect((await post({ inputs: { image, question: QUESTION } })).status).toBe(200);
  });
});
