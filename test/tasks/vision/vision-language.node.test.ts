/**
 * Generative vision-language models in Node (onnxruntime-node): the tiny SmolVLM / Idefics3
 * fixture (vision encoder, embed_tokens, KV-cache decoder) for visual-question-answering and
 * image-to-text, through the real engine and through `serve` with the official client.
 *
 * The answers are checked against an independent greedy decoding written here: full forward
 * passes over prompt + answer so far (no KV cache), argmax of the last logits, log-softmax summed.
 * The engine's text must be that decoding's text, and its score the exponential of that sum.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoModelForImageTextToText, AutoProcessor, Tensor, env } from '@huggingface/transformers';
import { InferenceClient } from '@huggingface/inference';
import { Engine, type EngineRequest, type ProgressEvent } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { decodeImage } from '../../../worker/media/decode.js';
import { serve, type RunningServer } from '../../../src/node/serve.js';
import { SHARED_MEDIA } from '../../../fixtures/media-location.js';

const VLM = 'local-endpoint/tiny-smolvlm';
const MODELS = '.fixtures/models';
const JPEG = readFileSync(join(SHARED_MEDIA, 'tiger.jpeg'));
const PNG = readFileSync(join(SHARED_MEDIA, 'tiger.png'));
const IMAGE = JPEG.toString('base64');
const QUESTION = 'What animal is in the picture?';

const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
async function ask(task: string, inputs: unknown, parameters?: Record<string, unknown>, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal) {
  return engine.infer({ task, model: VLM, inputs, ...(parameters ? { parameters } : {}) } as EngineRequest, onProgress, undefined, signal);
}
async function output(task: string, inputs: unknown, parameters?: Record<string, unknown>): Promise<any> {
  const r = await ask(task, inputs, parameters);
  if (!r.ok) throw new Error(r.error);
  return r.output;
}

// -- the independent reference: greedy decoding by full forward passes -------------------------

interface Reference {
  ids: number[];
  /** log p of each generated token, in order. */
  logProbs: number[];
  decode(ids: number[]): string;
}

let reference: (text: string, image: Uint8Array, maxNew?: number) => Promise<Reference>;

beforeAll(async () => {
  env.localModelPath = `${MODELS}/`;
  env.allowRemoteModels = false;
  const processor: any = await AutoProcessor.from_pretrained(VLM);
  const model: any = await AutoModelForImageTextToText.from_pretrained(VLM, { device: 'cpu', dtype: 'fp32' });
  const config = JSON.parse(readFileSync(`${MODELS}/${VLM}/generation_config.json`, 'utf8'));
  reference = async (text, bytes, maxNew = 64) => {
    const prompt = processor.apply_chat_template([{ role: 'user', content: [{ type: 'image' }, { type: 'text', text }] }], { add_generation_prompt: true });
    const inputs = await processor(prompt, [await decodeImage(bytes)]);
    const promptIds: bigint[] = Array.from(inputs.input_ids.data as BigInt64Array);
    const ids: number[] = [];
    const logProbs: number[] = [];
    while (ids.length < maxNew) {
      const all = [...promptIds, ...ids.map(BigInt)];
      const { logits } = await model.forward({
        input_ids: new Tensor('int64', BigInt64Array.from(all), [1, all.length]),
        attention_mask: new Tensor('int64', new BigInt64Array(all.length).fill(1n), [1, all.length]),
        pixel_values: inputs.pixel_values,
        pixel_attention_mask: inputs.pixel_attention_mask,
      });
      const vocab = logits.dims.at(-1);
      const row = Array.from((logits.data as Float32Array).subarray((all.length - 1) * vocab, all.length * vocab));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      const id = row.indexOf(max);
      ids.push(id);
      logProbs.push(row[id]! - lse);
      if (id === config.eos_token_id) break;
    }
    return { ids, logProbs, decode: (some) => processor.tokenizer.decode(some, { skip_special_tokens: true }).trim() };
  };
});

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('visual-question-answering with a generative model (SmolVLM / Idefics3)', () => {
  it('answers [{answer, score}]: the greedy text, scored by its sequence probability (EOS included)', async () => {
    const answers = await output('visual-question-answering', { image: IMAGE, question: QUESTION });
    const ref = await reference(QUESTION, JPEG);
    expect(ref.ids.length).toBeGreaterThanOrEqual(4); // a few words, then EOS
    expect(ref.ids.length).toBeLessThan(64);
    expect(answers).toHaveLength(1); // greedy: one answer, though top_k defaults to 5
    expect(answers[0].answer).toBe(ref.decode(ref.ids));
    expect(answers[0].answer).toMatch(/^\S.*\S$/);
    expect(answers[0].score).toBeGreaterThan(0);
    expect(answers[0].score).toBeLessThan(1);
    expect(Math.log(answers[0].score)).toBeCloseTo(sum(ref.logProbs), 3);
    // Without the EOS token's probability the score would be this, measurably different:
    expect(Math.abs(sum(ref.logProbs.slice(0, -1)) - Math.log(answers[0].score))).toBeGreaterThan(1e-3);
  });

  it('is deterministic, and the image and the question both change what it generates', async () => {
    const first = await output('visual-question-answering', { image: IMAGE, question: QUESTION });
    expect(await output('visual-question-answering', { image: IMAGE, question: QUESTION })).toEqual(first);
    const question = 'Is it a cat?';
    const other = await output('visual-question-answering', { image: IMAGE, question });
    const ref = await reference(question, JPEG);
    expect(other[0].answer).toBe(ref.decode(ref.ids));
    expect(other[0]).not.toEqual(first[0]);
    // An upside-down picture: other pixels, another score at least.
    const flipped = await (await import('sharp')).default(JPEG).rotate(180).jpeg().toBuffer();
    const turned = await output('visual-question-answering', { image: flipped.toString('base64'), question: QUESTION });
    expect(Math.abs(Math.log(turned[0].score) - Math.log(first[0].score))).toBeGreaterThan(1e-3);
  });

  it('honours max_new_tokens and stop, scoring exactly the tokens it kept', async () => {
    const ref = await reference(QUESTION, JPEG);
    const [capped] = await output('visual-question-answering', { image: IMAGE, question: QUESTION }, { max_new_tokens: 2 });
    expect(capped.answer).toBe(ref.decode(ref.ids.slice(0, 2)));
    expect(Math.log(capped.score)).toBeCloseTo(sum(ref.logProbs.slice(0, 2)), 3);
    const word = ref.decode(ref.ids).split(' ')[1]!;
    const [stopped] = await output('visual-question-answering', { image: IMAGE, question: QUESTION }, { stop: [word] });
    expect(stopped.answer.endsWith(word)).toBe(true);
    expect(stopped.answer.length).toBeLessThan(ref.decode(ref.ids).length);
    // Generation parameters nested under generation_parameters are read too.
    expect(await output('visual-question-answering', { image: IMAGE, question: QUESTION }, { generation_parameters: { max_new_tokens: 2 } })).toEqual([capped]);
  });

  it('samples with a seed: the same seed gives the same answers; num_return_sequences gives distinct answers, best first, at most top_k', async () => {
    const sampled = { do_sample: true, temperature: 1.5, seed: 5, num_return_sequences: 6 };
    const a = await output('visual-question-answering', { image: IMAGE, question: QUESTION }, sampled);
    expect(await output('visual-question-answering', { image: IMAGE, question: QUESTION }, sampled)).toEqual(a);
    expect(a.length).toBeGreaterThan(1);
    expect(a.length).toBeLessThanOrEqual(5);
    expect(new Set(a.map((x: any) => x.answer)).size).toBe(a.length);
    for (let i = 1; i < a.length; i++) expect(a[i].score).toBeLessThanOrEqual(a[i - 1].score);
    expect(await output('visual-question-answering', { image: IMAGE, question: QUESTION }, { ...sampled, seed: 6 })).not.toEqual(a);
    const two = await output('visual-question-answering', { image: IMAGE, question: QUESTION }, { ...sampled, top_k: 2 });
    expect(two).toEqual(a.slice(0, 2));
  });

  it('reports a step per token, and an abort stops a long generation within a token; the next request is answered', async () => {
    const steps: number[] = [];
    await ask('visual-question-answering', { image: IMAGE, question: QUESTION }, undefined, (e) => e.status === 'step' && steps.push(e.step!));
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(steps.length).toBeGreaterThanOrEqual(4);
    // Sampling at temperature 100 over the whole vocabulary (top_k above its size) is near
    // uniform, so EOS is rare: image-to-text runs to max_new_tokens.
    const long = { do_sample: true, temperature: 100, top_k: 100_000, seed: 1, max_new_tokens: 400 };
    let all = 0;
    await ask('image-to-text', IMAGE, long, (e) => void (e.status === 'step' && all++));
    expect(all).toBeGreaterThan(100);
    const controller = new AbortController();
    let seen = 0;
    const aborted = ask('image-to-text', IMAGE, long, (e) => {
      if (e.status === 'step' && ++seen === 2) controller.abort();
    }, controller.signal);
    expect(await aborted).toMatchObject({ ok: false, cancelled: true });
    expect(seen).toBeLessThanOrEqual(3);
    expect((await ask('visual-question-answering', { image: IMAGE, question: QUESTION })).ok).toBe(true);
  });
});

describe('image-to-text with the same model', () => {
  it('answers [{generated_text}]: the default prompt "Describe this image.", or parameters.prompt', async () => {
    const [caption] = await output('image-to-text', { bytes: new Uint8Array(PNG), contentType: 'image/png' });
    expect(Object.keys(caption)).toEqual(['generated_text']);
    const ref = await reference('Describe this image.', PNG);
    expect(caption.generated_text).toBe(ref.decode(ref.ids));
    expect(caption.generated_text.length).toBeGreaterThan(0);
    const prompt = 'What is it?';
    const [prompted] = await output('image-to-text', IMAGE, { prompt });
    const refPrompt = await reference(prompt, JPEG);
    expect(prompted.generated_text).toBe(refPrompt.decode(refPrompt.ids));
    const one = await reference('Describe this image.', JPEG, 1);
    expect(await output('image-to-text', IMAGE, { max_new_tokens: 1 })).toEqual([{ generated_text: one.decode(one.ids) }]);
  });
});

describe('vision-language models through serve', () => {
  let vqa: RunningServer;
  let captions: RunningServer;
  beforeAll(async () => {
    [vqa, captions] = await Promise.all([
      serve({ task: 'visual-question-answering', model: VLM, modelsDir: MODELS, port: 0 }),
      serve({ task: 'image-to-text', model: VLM, modelsDir: MODELS, port: 0 }),
    ]);
    expect(await vqa.ready).toBe(true);
    expect(await captions.ready).toBe(true);
  });
  afterAll(() => Promise.all([vqa?.close(), captions?.close()]));
  const post = (server: RunningServer, body: unknown) =>
    fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('serves the official client’s visualQuestionAnswering and imageToText, the same answers as the engine', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: vqa.url });
    const answer = await client.visualQuestionAnswering({ inputs: { image: new Blob([JPEG], { type: 'image/jpeg' }), question: QUESTION } });
    expect(answer).toEqual((await output('visual-question-answering', { image: IMAGE, question: QUESTION }))[0]);
    const described = await new InferenceClient(undefined, { endpointUrl: captions.url }).imageToText({ data: new Blob([PNG], { type: 'image/png' }) });
    expect(described).toEqual((await output('image-to-text', { bytes: new Uint8Array(PNG), contentType: 'image/png' }))[0]);
  });

  it('answers raw Endpoint requests: a data URL image, a raw image body for image-to-text', async () => {
    const r = await post(vqa, { inputs: { image: `data:image/jpeg;base64,${IMAGE}`, question: QUESTION }, parameters: { max_new_tokens: 3 } });
    expect(r.status).toBe(200);
    const [only] = (await r.json()) as { answer: string; score: number }[];
    expect(only).toEqual((await output('visual-question-answering', { image: IMAGE, question: QUESTION }, { max_new_tokens: 3 }))[0]);
    const raw = await fetch(captions.url, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: JPEG });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual(await output('image-to-text', IMAGE));
  });

  it.each([
    ['no question', { inputs: { image: IMAGE } }, /inputs.question is missing/],
    ['a blank question', { inputs: { image: IMAGE, question: '  ' } }, /inputs.question must not be empty/],
    ['a number for a question', { inputs: { image: IMAGE, question: 7 } }, /inputs.question must be a string/],
    ['no image', { inputs: { question: QUESTION } }, /inputs.image is missing/],
    ['bytes that are no image', { inputs: { image: Buffer.from('not an image at all').toString('base64'), question: QUESTION } }, /not a recognisable image/],
    ['top_k 0', { inputs: { image: IMAGE, question: QUESTION }, parameters: { top_k: 0 } }, /top_k/],
    ['max_new_tokens -1', { inputs: { image: IMAGE, question: QUESTION }, parameters: { max_new_tokens: -1 } }, /max_new_tokens must be an integer of at least 1/],
    ['num_return_sequences without sampling', { inputs: { image: IMAGE, question: QUESTION }, parameters: { num_return_sequences: 3 } }, /needs sampling/],
    ['an unknown parameter', { inputs: { image: IMAGE, question: QUESTION }, parameters: { bogus: 1 } }, /bogus/],
    ['a question longer than the context', { inputs: { image: IMAGE, question: 'x'.repeat(3000) } }, /context holds 512/],
  ] as const)('refuses %s with a 400 naming it, and serves on', async (_, body, message) => {
    const r = await post(vqa, body);
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: string };
    expect(error).toMatch(message);
    expect(error).not.toMatch(/\/work\/|\.fixtures/);
    expect((await post(vqa, { inputs: { image: IMAGE, question: QUESTION }, parameters: { max_new_tokens: 1 } })).status).toBe(200);
  });

  it('refuses a bad image-to-text prompt, and a model of no vision-language family, with a 400', async () => {
    const r = await post(captions, { inputs: IMAGE, parameters: { prompt: 5 } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/parameters.prompt must be a string/);
    const other = await engine.infer({ task: 'visual-question-answering', model: 'local-endpoint/tiny-vit-classifier', inputs: { image: IMAGE, question: QUESTION } });
    expect(other).toMatchObject({ ok: false, status: 400 });
    expect((other as { error: string }).error).toMatch(/model_type "vit".*"vilt".*"idefics3", "smolvlm"/);
  });
});

describe('vision-language model folders that cannot serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vlm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A copy of the fixture with `change` applied, served by an engine of its own. */
  function variant(name: string, change: (folder: string) => void) {
    const folder = join(dir, 'test', name);
    cpSync(join(MODELS, VLM), folder, { recursive: true });
    change(folder);
    return new Engine(nodeRuntime(), { localModelPath: dir }).infer({ task: 'visual-question-answering', model: `test/${name}`, inputs: { image: IMAGE, question: QUESTION } });
  }

  it('a missing processor file or ONNX session is a 400 naming it, without a local path', async () => {
    const noProcessor = await variant('no-processor', (f) => rmSync(join(f, 'processor_config.json')));
    expect(noProcessor).toMatchObject({ ok: false, status: 400 });
    expect((noProcessor as { error: string }).error).toMatch(/processor_config.json is missing/);
    const noEmbeddings = await variant('no-embed-tokens', (f) => rmSync(join(f, 'onnx/embed_tokens.onnx')));
    expect((noEmbeddings as { error: string }).error).toMatch(/onnx\/embed_tokens.onnx is missing/);
    for (const r of [noProcessor, noEmbeddings]) expect((r as { error: string }).error).not.toContain(dir);
  });

  it('another generative family (Qwen2-VL) is a 400 naming the supported ones', async () => {
    const r = await variant('qwen2-vl', (f) => {
      const config = JSON.parse(readFileSync(join(f, 'config.json'), 'utf8'));
      writeFileSync(join(f, 'config.json'), JSON.stringify({ ...config, model_type: 'qwen2_vl' }));
    });
    expect(r).toMatchObject({ ok: false, status: 400 });
    expect((r as { error: string }).error).toMatch(/model_type "qwen2_vl".*"idefics3", "smolvlm"/);
  });
});
