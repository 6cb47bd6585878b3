/**
 * ViLT visual-question-answering in a real module Worker in real Chromium: the tiny ViLT fixture
 * on onnxruntime-web (WASM) through the local fetch: the official client's visualQuestionAnswering,
 * the raw Endpoint request (base64 and data URL), top_k, bad inputs answered 400 with the worker
 * serving on, and parity with the same requests to `serve` in Node (onnxruntime-node).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { encode as encodePng } from 'fast-png';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { toBase64 } from '../../media/masks.js';
import { pngHeader } from '../../media/encoders.js';

const remote = inject('remote');
const VILT = 'local-endpoint/tiny-vilt';
const URL_ = 'https://vilt.example.endpoints.huggingface.cloud';
const QUESTION = 'What animal is in the picture?';

const engine = new WorkerEngine();
const localFetch = createLocalFetch({ engine, endpoints: { [URL_]: { task: 'visual-question-answering', model: VILT, device: 'wasm' } } });
afterAll(() => engine.terminate());

type Answer = { score: number; answer: string };
const media: Record<string, Uint8Array> = {};
let labels: string[] = [];
beforeAll(async () => {
  for (const name of ['tiger.png', 'tiger.jpeg']) media[name] = new Uint8Array(await (await fetch(`/models/test-media/${name}`)).arrayBuffer());
  const config = (await (await fetch(`/models/${VILT}/config.json`)).json()) as { id2label: Record<string, string> };
  labels = Object.values(config.id2label);
});

const request = (image: string, question = QUESTION, parameters?: Record<string, unknown>) =>
  JSON.stringify({ inputs: { image, question }, ...(parameters ? { parameters } : {}) });
async function post(fetchFn: typeof fetch, url: string, body: string) {
  const r = await fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, body: (await r.json()) as Answer[] & { error?: string } };
}

describe('visual-question-answering (ViLT) in the worker', () => {
  it('answers the raw Endpoint request: [{score, answer}] best first, 5 by default, answers from id2label, sigmoid scores in (0, 1)', async () => {
    const r = await post(localFetch, URL_, request(toBase64(media['tiger.png']!)));
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(5);
    for (const a of r.body) {
      expect(Object.keys(a)).toEqual(['score', 'answer']);
      expect(labels).toContain(a.answer);
      expect(a.score).toBeGreaterThan(0);
      expect(a.score).toBeLessThan(1);
    }
    expect(r.body.map((a) => a.score)).toEqual([...r.body.map((a) => a.score)].sort((a, b) => b - a));
    // top_k, and a data URL for the same image.
    const three = await post(localFetch, URL_, request(`data:image/png;base64,${toBase64(media['tiger.png']!)}`, QUESTION, { top_k: 3 }));
    expect(three).toEqual({ status: 200, body: r.body.slice(0, 3) });
    const all = await post(localFetch, URL_, request(toBase64(media['tiger.png']!), QUESTION, { top_k: 50 }));
    expect(all.body.map((a) => a.answer).sort()).toEqual([...labels].sort());
    // The question matters.
    const other = await post(localFetch, URL_, request(toBase64(media['tiger.png']!), 'How many cats are there?', { top_k: 50 }));
    expect(other.body.map((a) => a.score)).not.toEqual(all.body.map((a) => a.score));
  });

  it('serves the official client’s visualQuestionAnswering (it sends the image as base64) through the local fetch', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: URL_, fetch: localFetch });
    const answer = await client.visualQuestionAnswering({ inputs: { image: new Blob([media['tiger.png']! as Uint8Array<ArrayBuffer>], { type: 'image/png' }), question: QUESTION } });
    const raw = await post(localFetch, URL_, request(toBase64(media['tiger.png']!)));
    expect(answer).toEqual(raw.body[0]);
  });

  it('matches serve in Node (onnxruntime-node): the same answers, scores within 1e-4', async () => {
    for (const [name, question] of [['tiger.png', QUESTION], ['tiger.png', 'Is this a cat?'], ['tiger.jpeg', QUESTION]] as const) {
      const body = request(toBase64(media[name]!), question, { top_k: 16 });
      const [local, node] = await Promise.all([post(localFetch, URL_, body), post(fetch, remote.visualQuestionAnswering, body)]);
      expect(local.status).toBe(200);
      expect(node.status).toBe(200);
      const worst = Math.max(...local.body.map((a, i) => Math.abs(a.score - node.body[i]!.score)));
      console.info(`visual-question-answering, ${name}, WASM against onnxruntime-node: largest score difference ${worst.toExponential(2)}`);
      // (JPEG too: Chromium's decoder and sharp's give this photo the same pixels.)
      expect(local.body.map((a) => a.answer)).toEqual(node.body.map((a) => a.answer));
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it('on WebGPU (SwiftShader here) gives the answers WASM gives, scores within 1e-4', async () => {
    const gpuFetch = createLocalFetch({ engine, endpoints: { [URL_]: { task: 'visual-question-answering', model: VILT, device: 'webgpu' } } });
    const body = request(toBase64(media['tiger.png']!), QUESTION, { top_k: 16 });
    const gpu = await gpuFetch(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(gpu.headers.get('x-compute-type')).toBe('webgpu');
    const [a, b] = [(await gpu.json()) as Answer[], (await post(localFetch, URL_, body)).body];
    expect(a.map((x) => x.answer)).toEqual(b.map((x) => x.answer));
    const worst = Math.max(...a.map((x, i) => Math.abs(x.score - b[i]!.score)));
    console.info(`visual-question-answering, WebGPU (SwiftShader) against WASM: largest score difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });

  it('refuses bad input with a 400 naming it, and the worker serves on', async () => {
    const png = toBase64(media['tiger.png']!);
    const narrow = toBase64(encodePng({ width: 3000, height: 10, data: new Uint8Array(3000 * 10 * 3).fill(90), channels: 3, depth: 8 }));
    const cases: [string, RegExp][] = [
      [JSON.stringify({ inputs: { question: QUESTION } }), /inputs\.image is missing/],
      [request('not base64 at all!'), /inputs\.image is not valid base64/],
      [request(btoa('just some text, not a picture')), /not a recognisable image/],
      [request(png, ''), /inputs\.question must not be empty/],
      [request(png, QUESTION, { top_k: 0 }), /top_k must be a positive integer/],
      [request(toBase64(pngHeader(20000, 20000))), /20000×20000 pixels, over the limit/],
      [request(narrow), /3000×10 pixels: too narrow for this model/],
    ];
    for (const [body, message] of cases) {
      const r = await post(localFetch, URL_, body);
      expect(r.status, body.slice(0, 80)).toBe(400);
      expect(r.body.error).toMatch(message);
      const node = await post(fetch, remote.visualQuestionAnswering, body);
      expect(node.status).toBe(400); // the same as the Node-served Endpoint
    }
    expect((await post(localFetch, URL_, request(png))).status).toBe(200);
  });
});

