/**
 * Encoder-decoder generation in the worker: text2text-generation (T5), summarization (BART),
 * translation (Marian, and M2M100 with src_lang/tgt_lang), raw and through the official client,
 * against the Node-served Endpoints.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { BART, M2M100, MARIAN, T5, postJson as post } from '../../helpers.js';

const remote = inject('remote');
const URLS = {
  t5: 'https://t5.example.endpoints.huggingface.cloud',
  t5summary: 'https://t5-summary.example.endpoints.huggingface.cloud',
  bart: 'https://bart.example.endpoints.huggingface.cloud',
  marian: 'https://marian.example.endpoints.huggingface.cloud',
  m2m: 'https://m2m.example.endpoints.huggingface.cloud',
};
const TEXT = 'My name is Wolfgang and I live in Berlin';

const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [URLS.t5]: { task: 'text2text-generation', model: T5, device: 'wasm' },
    [URLS.t5summary]: { task: 'summarization', model: T5, device: 'wasm' },
    [URLS.bart]: { task: 'summarization', model: BART, device: 'wasm' },
    [URLS.marian]: { task: 'translation', model: MARIAN, device: 'wasm' },
    [URLS.m2m]: { task: 'translation', model: M2M100, device: 'wasm' },
  },
});
const hf = (endpointUrl: string) => new InferenceClient('', { fetch: localFetch, endpointUrl });

describe('seq2seq tasks', () => {
  it('summarization: raw and through summarization(), identical to the Node-served Endpoint', async () => {
    const raw = await post(localFetch, URLS.bart, { inputs: TEXT });
    expect(raw.status).toBe(200);
    expect(raw.body).toEqual([{ summary_text: expect.any(String) }]);
    expect(raw.body[0].summary_text.length).toBeGreaterThan(3);
    expect(await hf(URLS.bart).summarization({ inputs: TEXT })).toEqual(raw.body[0]);
    expect(await post(fetch, remote.summarization, { inputs: TEXT })).toEqual(raw);
    // Another text, another summary.
    const other = await post(localFetch, URLS.bart, { inputs: 'The weather in Paris is rainy today' });
    expect(other.body[0].summary_text).not.toBe(raw.body[0].summary_text);
  });

  it('text2text-generation answers [{generated_text}], identical to the Node-served Endpoint; T5 summarization adds its prefix', async () => {
    const raw = await post(localFetch, URLS.t5, { inputs: TEXT, parameters: { max_new_tokens: 20 } });
    expect(raw.body).toEqual([{ generated_text: expect.any(String) }]);
    expect(await post(fetch, remote.text2textGeneration, { inputs: TEXT, parameters: { max_new_tokens: 20 } })).toEqual(raw);
    const summary = await post(localFetch, URLS.t5summary, { inputs: TEXT, parameters: { max_new_tokens: 20 } });
    const prefixed = await post(localFetch, URLS.t5, { inputs: `summarize: ${TEXT}`, parameters: { max_new_tokens: 20 } });
    expect(summary.body[0].summary_text).toBe(prefixed.body[0].generated_text);
    expect(summary.body[0].summary_text).not.toBe(raw.body[0].generated_text);
  });

  it('max_new_tokens bounds the output: the short greedy answer is the start of the long one', async () => {
    const short = await post(localFetch, URLS.m2m, { inputs: TEXT, parameters: { tgt_lang: 'de', max_new_tokens: 4 } });
    const long = await post(localFetch, URLS.m2m, { inputs: TEXT, parameters: { tgt_lang: 'de', max_new_tokens: 12 } });
    const s: string = short.body[0].translation_text;
    const l: string = long.body[0].translation_text;
    expect(s.length).toBeGreaterThan(0);
    expect(l.startsWith(s)).toBe(true);
    expect(l.length).toBeGreaterThan(s.length);
    // Stop sequences work on encoder-decoders too.
    const word = l.split(' ')[2]!;
    const stopped = await post(localFetch, URLS.m2m, { inputs: TEXT, parameters: { tgt_lang: 'de', max_new_tokens: 12, stop: [word] } });
    expect(stopped.body[0].translation_text).toBe(l.slice(0, l.indexOf(word) + word.length));
  });

  it('translation on a one-pair model (Marian) needs no languages, through translation()', async () => {
    const raw = await post(localFetch, URLS.marian, { inputs: TEXT });
    expect(raw.body).toEqual([{ translation_text: expect.any(String) }]);
    expect(await hf(URLS.marian).translation({ inputs: TEXT })).toEqual(raw.body[0]);
  });

  it('translation on a multilingual model (M2M100): tgt_lang picks the language, src_lang does not stick', async () => {
    const de = await post(localFetch, URLS.m2m, { inputs: TEXT, parameters: { src_lang: 'en', tgt_lang: 'de', max_new_tokens: 10 } });
    const fr = await post(localFetch, URLS.m2m, { inputs: TEXT, parameters: { src_lang: 'en', tgt_lang: 'fr', max_new_tokens: 10 } });
    expect(de.status).toBe(200);
    expect(fr.body[0].translation_text).not.toBe(de.body[0].translation_text);
    const viaClient = await hf(URLS.m2m).translation({ inputs: TEXT, parameters: { src_lang: 'en', tgt_lang: 'de', max_new_tokens: 10 } as never });
    expect(viaClient).toEqual(de.body[0]);
    expect(await post(fetch, remote.translation, { inputs: TEXT, parameters: { src_lang: 'en', tgt_lang: 'de', max_new_tokens: 10 } })).toEqual(de);
    // A request naming another source language does not change the next one that names none.
    const plain = { inputs: TEXT, parameters: { tgt_lang: 'de', max_new_tokens: 10 } };
    const before = await post(localFetch, URLS.m2m, plain);
    await post(localFetch, URLS.m2m, { inputs: TEXT, parameters: { src_lang: 'es', tgt_lang: 'de', max_new_tokens: 10 } });
    expect(await post(localFetch, URLS.m2m, plain)).toEqual(before);
  });

  it.each([
    [URLS.m2m, { inputs: TEXT }, /tgt_lang is required.*Languages: en, de, fr, es/],
    [URLS.m2m, { inputs: TEXT, parameters: { tgt_lang: 'xx' } }, /tgt_lang "xx" is not a language of this model/],
    [URLS.m2m, { inputs: TEXT, parameters: { src_lang: 'zz', tgt_lang: 'de' } }, /src_lang "zz" is not a language/],
    [URLS.bart, { inputs: TEXT, parameters: { tgt_lang: 'de' } }, /Unknown parameter for summarization: tgt_lang/],
    [URLS.bart, { inputs: TEXT, stream: true }, /summarization cannot stream/],
    [URLS.t5, { inputs: 42 }, /inputs must be a string, got a number/],
  ])('bad input to %s (%j) gets a 400 naming it, and the next request works', async (url, body, message) => {
    expect(await post(localFetch, url, body)).toEqual({ status: 400, body: { error: expect.stringMatching(message) } });
    expect((await post(localFetch, url, { inputs: TEXT, parameters: url === URLS.m2m ? { tgt_lang: 'de', max_new_tokens: 3 } : {} })).status).toBe(200);
  });

  it('a text longer than the encoder takes is truncated, as the Endpoint pipeline does', async () => {
    const r = await post(localFetch, URLS.bart, { inputs: 'word '.repeat(3000) });
    expect(r.status).toBe(200);
  });

  it('WebGPU gives the same greedy summary as WASM', async () => {
    const gpu = new WorkerEngine();
    try {
      const fetchGpu = createLocalFetch({ engine: gpu, endpoints: { [URLS.bart]: { task: 'summarization', model: BART, device: 'webgpu' } } });
      const onGpu = await post(fetchGpu, URLS.bart, { inputs: TEXT, parameters: { max_new_tokens: 8 } });
      const onWasm = await post(localFetch, URLS.bart, { inputs: TEXT, parameters: { max_new_tokens: 8 } });
      expect(onGpu).toEqual(onWasm);
    } finally {
      gpu.terminate();
    }
  });
});
