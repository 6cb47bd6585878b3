/**
 * Generative vision-language models in a real module Worker in real Chromium: the tiny SmolVLM /
 * Idefics3 fixture on onnxruntime-web (WASM) for visual-question-answering and image-to-text,
 * through the local fetch (the official client's visualQuestionAnswering and imageToText, raw
 * requests with base64, a data URL and raw image bodies), and parity with the same requests to
 * `serve` in Node (onnxruntime-node), where the scores are checked against a reference decoding.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';

const remote = inject('remote');
const VLM = 'local-endpoint/tiny-smolvlm';
const VQA_URL = 'https://vqa.example.endpoints.huggingface.cloud';
const CAPTION_URL = 'https://caption.example.endpoints.huggingface.cloud';
const QUESTION = 'What animal is in the picture?';

const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [VQA_URL]: { task: 'visual-question-answering', model: VLM, device: 'wasm' },
    [CAPTION_URL]: { task: 'image-to-text', model: VLM, device: 'wasm' },
  },
});

let png: Uint8Array<ArrayBuffer>;
let jpeg: Uint8Array<ArrayBuffer>;
const toBase64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
beforeAll(async () => {
  png = new Uint8Array(await (await fetch('/models/test-media/tiger.png')).arrayBuffer());
  jpeg = new Uint8Array(await (await fetch('/models/test-media/tiger.jpeg')).arrayBuffer());
});

const postJson = async (url: string, body: unknown) => {
  const r = await localFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as any };
};
const postRemote = async (url: string, body: BodyInit, type = 'application/json') =>
  (await fetch(url, { method: 'POST', headers: { 'content-type': type }, body })).json() as Promise<any>;

describe('visual-question-answering with SmolVLM in the worker', () => {
  it('answers the official client’s visualQuestionAnswering through the local fetch: {answer, score}', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: VQA_URL, fetch: localFetch });
    const answer = await client.visualQuestionAnswering({ inputs: { image: new Blob([png], { type: 'image/png' }), question: QUESTION } });
    expect(Object.keys(answer).sort()).toEqual(['answer', 'score']);
    expect(answer.answer).toMatch(/^\S.*\S$/);
    expect(answer.score).toBeGreaterThan(0);
    expect(answer.score).toBeLessThan(1);
    const raw = await postJson(VQA_URL, { inputs: { image: toBase64(png), question: QUESTION } });
    expect(raw).toEqual({ status: 200, body: [answer] }); // the Endpoint's list, greedy: one answer
  });

  it('takes the image as base64 or a data URL alike, and generation parameters', async () => {
    const base64 = await postJson(VQA_URL, { inputs: { image: toBase64(jpeg), question: QUESTION }, parameters: { max_new_tokens: 2 } });
    const dataUrl = await postJson(VQA_URL, { inputs: { image: `data:image/jpeg;base64,${toBase64(jpeg)}`, question: QUESTION }, parameters: { max_new_tokens: 2 } });
    expect(base64.status).toBe(200);
    expect(dataUrl).toEqual(base64);
    const full = await postJson(VQA_URL, { inputs: { image: toBase64(jpeg), question: QUESTION } });
    expect(full.body[0].answer.startsWith(base64.body[0].answer)).toBe(true);
    expect(full.body[0].answer.length).toBeGreaterThan(base64.body[0].answer.length);
    expect(full.body[0].score).toBeLessThan(base64.body[0].score); // more tokens, less probable
  });

  it('matches serve in Node: the same answer, the same score within 1e-4 in log', async () => {
    for (const parameters of [{}, { do_sample: true, seed: 9, num_return_sequences: 3, temperature: 1.5 }]) {
      const body = { inputs: { image: toBase64(png), question: QUESTION }, parameters };
      const local = await postJson(VQA_URL, body);
      const served = await postRemote(remote.visionLanguage, JSON.stringify(body));
      expect(local.body.map((a: any) => a.answer)).toEqual(served.map((a: any) => a.answer));
      local.body.forEach((a: any, i: number) => expect(Math.abs(Math.log(a.score) - Math.log(served[i].score))).toBeLessThan(1e-4));
    }
  });

  it('on WebGPU (SwiftShader here) gives the answer WASM gives', async () => {
    const gpuFetch = createLocalFetch({ engine, endpoints: { [VQA_URL]: { task: 'visual-question-answering', model: VLM, device: 'webgpu' } } });
    const body = JSON.stringify({ inputs: { image: toBase64(png), question: QUESTION } });
    const gpu = await gpuFetch(VQA_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(gpu.headers.get('x-compute-type')).toBe('webgpu');
    const [onGpu] = (await gpu.json()) as { answer: string; score: number }[];
    const [onWasm] = (await postJson(VQA_URL, JSON.parse(body))).body;
    expect(onGpu!.answer).toBe(onWasm.answer);
    expect(Math.abs(Math.log(onGpu!.score) - Math.log(onWasm.score))).toBeLessThan(1e-2);
  });

  it('refuses bad input with a 400 naming it, and serves on', async () => {
    for (const [body, message] of [
      [{ inputs: { image: toBase64(png) } }, /inputs.question is missing/],
      [{ inputs: { image: 'not base64 at all!', question: QUESTION } }, /inputs.image is not valid base64/],
      [{ inputs: { image: toBase64(png), question: QUESTION }, parameters: { temperature: -1 } }, /temperature/],
      [{ inputs: 'just text' }, /inputs must be an object/],
    ] as const) {
      const r = await postJson(VQA_URL, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(message);
    }
    expect((await postJson(VQA_URL, { inputs: { image: toBase64(png), question: QUESTION }, parameters: { max_new_tokens: 1 } })).status).toBe(200);
  });
});

describe('image-to-text with SmolVLM in the worker', () => {
  it('answers the official client’s imageToText ({generated_text}) and raw image bodies ([{generated_text}])', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: CAPTION_URL, fetch: localFetch });
    const described = await client.imageToText({ data: new Blob([png], { type: 'image/png' }) });
    expect(Object.keys(described)).toEqual(['generated_text']);
    expect(described.generated_text).toMatch(/\S/);
    const raw = await localFetch(CAPTION_URL, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png.slice() });
    expect(await raw.json()).toEqual([described]);
    const json = await postJson(CAPTION_URL, { inputs: toBase64(png) });
    expect(json.body).toEqual([described]);
    const prompted = await postJson(CAPTION_URL, { inputs: toBase64(png), parameters: { prompt: 'What is it?', max_new_tokens: 3 } });
    expect(prompted.status).toBe(200);
    expect(prompted.body).toHaveLength(1);
  });

  it('stops a long generation within a token when aborted, then answers the next request', async () => {
    const steps: number[] = [];
    const watched = createLocalFetch({
      engine,
      endpoints: { [CAPTION_URL]: { task: 'image-to-text', model: VLM, device: 'wasm' } },
      onProgress: (e) => void (e.status === 'step' && steps.push(e.step!)),
    });
    const controller = new AbortController();
    // At temperature 100 over the whole vocabulary the samples are near uniform, so EOS is rare: up to 400 tokens.
    const body = { inputs: toBase64(png), parameters: { do_sample: true, temperature: 100, top_k: 100_000, seed: 1, max_new_tokens: 400 } };
    const long = watched(CAPTION_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal });
    for (let i = 0; i < 400 && steps.length < 3; i++) await new Promise((ok) => setTimeout(ok, 25));
    expect(steps.slice(0, 3)).toEqual([1, 2, 3]);
    controller.abort();
    await expect(long).rejects.toThrow();
    const at = steps.length;
    await new Promise((ok) => setTimeout(ok, 500));
    const settled = steps.length;
    // The token under way, and step events already on their way when the cancel left the page
    // (two more were seen once on a loaded CI machine); then nothing more: it stopped.
    expect(settled - at).toBeLessThanOrEqual(3);
    await new Promise((ok) => setTimeout(ok, 500));
    expect(steps.length).toBe(settled);
    expect(settled).toBeLessThan(100);
    expect((await postJson(CAPTION_URL, { inputs: toBase64(png), parameters: { max_new_tokens: 1 } })).status).toBe(200);
  });

  it('matches serve in Node for a raw PNG and a raw JPEG body', async () => {
    for (const [bytes, type] of [[png, 'image/png'], [jpeg, 'image/jpeg']] as const) {
      const local = await (await localFetch(CAPTION_URL, { method: 'POST', headers: { 'content-type': type }, body: bytes.slice() })).json();
      const served = await postRemote(remote.imageToText, bytes.slice(), type);
      expect(local).toEqual(served);
    }
  });

  it('refuses a non-image body with a 400, and serves on', async () => {
    const r = await localFetch(CAPTION_URL, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new TextEncoder().encode('no picture') });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/image could not be decoded|not a recognisable image/);
    expect((await postJson(CAPTION_URL, { inputs: toBase64(png), parameters: { max_new_tokens: 1 } })).status).toBe(200);
  });
});
