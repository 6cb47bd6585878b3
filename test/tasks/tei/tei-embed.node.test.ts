/**
 * TEI's embedding routes and OpenAI's /v1/embeddings on an embedding endpoint, in Node: the tiny
 * sentence-transformers encoder behind an in-process `serve` (sentence-embeddings), raw HTTP and
 * the real `openai` SDK, and the engine on feature-extraction and sentence-similarity endpoints for
 * the answers TEI's must equal. A copy of the encoder with `prompts` tests `prompt_name`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { serve, type RunningServer } from '../../../src/node/serve.js';
import { expectSchema } from '../../openapi/validate.js';
import { EMBED_TEXT, ENCODER, maxAbsDiff, norm, TRICKY_TEXTS } from '../../helpers.js';

const PROMPTED = 'local-endpoint/tiny-bert-encoder-prompts';
const PROMPTS = { query: 'query: ', passage: 'passage: ' };
const TEXTS = [EMBED_TEXT, 'I live in Berlin', 'a great day'];
/** Over the encoder's 128 tokens. */
const LONG = Array.from({ length: 200 }, (_, i) => ['berlin', 'movie', 'day', 'great', 'city'][i % 5]).join(' ');

let models: string;
let server: RunningServer;
let engine: Engine;

beforeAll(async () => {
  models = await mkdtemp(join(tmpdir(), 'tei-embed-'));
  await cp(join('.fixtures/models', ENCODER), join(models, ENCODER), { recursive: true });
  await cp(join('.fixtures/models', ENCODER), join(models, PROMPTED), { recursive: true });
  await writeFile(join(models, PROMPTED, 'config_sentence_transformers.json'), JSON.stringify({ prompts: PROMPTS, default_prompt_name: null }));
  server = await serve({ task: 'sentence-embeddings', model: ENCODER, modelsDir: models, port: 0 });
  engine = new Engine(nodeRuntime(), { localModelPath: models });
});
afterAll(async () => {
  await server?.close();
  await rm(models, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
async function ok(path: string, body: unknown): Promise<any> {
  const r = await post(path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}
/** The engine's answer for a task on an endpoint of `endpointTask`. */
async function infer(task: string, endpointTask: string, inputs: unknown, parameters?: unknown, model = ENCODER): Promise<any> {
  const r = await engine.infer({ task, model, endpointTask, inputs, parameters } as EngineRequest);
  if (!r.ok) throw Object.assign(new Error(`${r.status}: ${r.error}`), { status: r.status });
  return r.output;
}
const unit = (v: number[]) => v.map((x) => x / norm(v));
const close = (a: number[], b: number[], tolerance = 1e-6) => expect(maxAbsDiff(a, b)).toBeLessThan(tolerance);

describe('POST /embed', () => {
  it('equals the sentence-embeddings answer (normalised), one input as [[…]] and a batch', async () => {
    const one = await ok('/embed', { inputs: EMBED_TEXT });
    expectSchema('tei', 'EmbedResponse', one);
    const { embeddings } = await ok('/', { inputs: EMBED_TEXT });
    expect(one).toHaveLength(1);
    close(one[0], embeddings);
    expect(norm(one[0])).toBeCloseTo(1, 5);
    const batch = await ok('/embed', { inputs: TEXTS });
    const reference = (await ok('/', { inputs: TEXTS })).embeddings as number[][];
    batch.forEach((v: number[], i: number) => close(v, reference[i]!));
  });

  it('normalize false is the raw pooled vector', async () => {
    const [raw] = await ok('/embed', { inputs: EMBED_TEXT, normalize: false });
    const { embeddings } = await ok('/', { inputs: EMBED_TEXT, parameters: { normalize: false } });
    close(raw, embeddings, 1e-5);
    expect(norm(raw)).not.toBeCloseTo(1, 2);
  });

  it('runs token ids exactly: the ids /tokenize gives embed as the text does; ids outside the vocabulary are a 400', async () => {
    const ids = (await ok('/tokenize', { inputs: EMBED_TEXT }))[0].map((t: { id: number }) => t.id);
    const [fromIds, fromText] = await ok('/embed', { inputs: [ids, EMBED_TEXT] });
    close(fromIds, fromText);
    // Without the special tokens, the ids are not re-wrapped in them: another vector.
    const [bare] = await ok('/embed', { inputs: ids.slice(1, -1) });
    expect(maxAbsDiff(bare, fromText)).toBeGreaterThan(1e-3);
    const bad = await post('/embed', { inputs: [[1, 2, 791]] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/inputs\[0\]\[2\] is token id 791, outside the vocabulary of 791 tokens/);
  });

  it('truncates at the model maximum from the right or the left, keeping the special tokens; truncate false is a 400', async () => {
    const tokens = (await ok('/tokenize', { inputs: LONG, add_special_tokens: false }))[0].map((t: { id: number }) => t.id);
    expect(tokens.length).toBeGreaterThan(128);
    const [cls, sep] = (await ok('/tokenize', { inputs: 'x' }))[0].filter((t: { special: boolean }) => t.special).map((t: { id: number }) => t.id);
    const [right, left, rightIds, leftIds] = await ok('/embed', {
      inputs: [LONG, LONG, [cls, ...tokens.slice(0, 126), sep], [cls, ...tokens.slice(-126), sep]],
    });
    close(right, rightIds);
    const [leftText] = await ok('/embed', { inputs: [LONG], truncation_direction: 'Left' });
    close(leftText, leftIds);
    expect(maxAbsDiff(right, leftText)).toBeGreaterThan(1e-3);
    expect(left).toEqual(right); // the default is Right
    const refused = await post('/embed', { inputs: LONG, truncate: false });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/inputs is \d+ tokens long, over the model's maximum of 128, and truncate is false/);
    const huge = await post('/embed', { inputs: 'word '.repeat(10_000), truncate: false });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatch(/inputs is 50000 characters long, over the limit of 32000/);
    const [cut] = await ok('/embed', { inputs: 'word '.repeat(200_000) }); // 1 MB of text: only its start is tokenized
    expect(cut).toHaveLength(32);
  });

  it('dimensions keeps the first components and normalises them; past the hidden size is a 400 naming both', async () => {
    const [raw] = await ok('/embed', { inputs: EMBED_TEXT, normalize: false });
    const [d8] = await ok('/embed', { inputs: EMBED_TEXT, dimensions: 8 });
    close(d8, unit(raw.slice(0, 8)));
    const too = await post('/embed', { inputs: EMBED_TEXT, dimensions: 33 });
    expect(too.status).toBe(400);
    expect(too.body.error).toMatch(/dimensions is 33, larger than this model's embedding size of 32/);
  });
});

describe('POST /embed_all and /similarity', () => {
  it('/embed_all equals feature-extraction with pooling none (not normalised), one [tokens][hidden] per input', async () => {
    const all = await ok('/embed_all', { inputs: [EMBED_TEXT, 'I live in Berlin'] });
    expectSchema('tei', 'EmbedAllResponse', all);
    for (const [i, text] of [EMBED_TEXT, 'I live in Berlin'].entries()) {
      const [tokens] = await infer('feature-extraction', 'feature-extraction', text, { pooling: 'none', normalize: false });
      expect(all[i]).toHaveLength(tokens.length);
      tokens.forEach((row: number[], k: number) => close(all[i][k], row, 1e-5));
    }
    // The same route on a feature-extraction endpoint.
    const onFeatures = await infer('tei-embed-all', 'feature-extraction', { inputs: EMBED_TEXT });
    onFeatures[0].forEach((row: number[], k: number) => close(row, all[0][k], 1e-5));
  });

  it('/similarity equals sentence-similarity, on this endpoint and on a sentence-similarity one', async () => {
    const inputs = { source_sentence: EMBED_TEXT, sentences: [EMBED_TEXT, 'I live in Berlin', 'a great day'] };
    const answer = await ok('/similarity', { inputs });
    expectSchema('tei', 'SimilarityResponse', answer);
    const { similarities } = await infer('sentence-similarity', 'sentence-similarity', inputs);
    close(answer, similarities);
    close(await infer('tei-similarity', 'sentence-similarity', { inputs, parameters: { truncate: true } }), similarities);
    expect(answer[0]).toBeCloseTo(1, 5);
  });

  it('/embed on a feature-extraction endpoint equals the feature-extraction answer', async () => {
    const [a] = await infer('tei-embed', 'feature-extraction', { inputs: EMBED_TEXT });
    close(a, await infer('feature-extraction', 'feature-extraction', EMBED_TEXT));
  });
});

describe('POST /tokenize and /decode, GET /info', () => {
  it('/tokenize gives the tokenizer\'s ids, UTF-8 byte offsets whose bytes are the token\'s text, and special tokens without offsets', async () => {
    const answer = await ok('/tokenize', { inputs: TRICKY_TEXTS });
    expectSchema('tei', 'TokenizeResponse', answer);
    const withText = await infer('feature-extraction', 'feature-extraction', TRICKY_TEXTS[0], { pooling: 'none' });
    expect(answer[0]).toHaveLength(withText[0].length); // as many tokens as the model sees
    for (const [i, text] of TRICKY_TEXTS.entries()) {
      const bytes = Buffer.from(text);
      const tokens = answer[i] as { id: number; text: string; special: boolean; start: number | null; stop: number | null }[];
      expect(tokens[0]).toMatchObject({ special: true, start: null, stop: null, text: '[CLS]' });
      expect(tokens.at(-1)).toMatchObject({ special: true, text: '[SEP]' });
      for (const t of tokens.filter((t) => !t.special)) {
        expect(t.start, JSON.stringify(t)).not.toBeNull();
        expect(bytes.subarray(t.start!, t.stop!).toString()).toBe(t.text);
      }
    }
    // "Héllo": é is two bytes.
    expect(answer[1][1]).toMatchObject({ text: 'Héllo', start: 0, stop: 6 });
    const bare = await ok('/tokenize', { inputs: TRICKY_TEXTS[0], add_special_tokens: false });
    expect(bare[0]).toEqual(answer[0].slice(1, -1));
  });

  it('/decode inverts /tokenize, and keeps special tokens when asked', async () => {
    const text = 'my name is berlin and i live in berlin';
    const ids = (await ok('/tokenize', { inputs: text }))[0].map((t: { id: number }) => t.id);
    const answer = await ok('/decode', { ids });
    expectSchema('tei', 'DecodeResponse', answer);
    expect(answer).toEqual([text]);
    expect(await ok('/decode', { ids: [ids, ids.slice(1, 3)], skip_special_tokens: false })).toEqual([`[CLS] ${text} [SEP]`, 'my name']);
    const bad = await post('/decode', { ids: [[5, 100000]] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/ids\[0\]\[1\] is token id 100000, outside the vocabulary/);
  });

  it('GET /info is TEI\'s Info with the embedding model type', async () => {
    const info = await (await fetch(`${server.url}/info`)).json();
    expectSchema('tei', 'Info', info);
    expect(info).toMatchObject({ model_id: ENCODER, model_type: { embedding: { pooling: 'mean' } }, max_input_length: 128, max_client_batch_size: 32, auto_truncate: true });
  });
});

describe('prompt_name', () => {
  it('prepends the prompt from config_sentence_transformers.json, on /embed, /embed_all, /similarity and /tokenize', async () => {
    const [prompted, plain] = await infer('tei-embed', 'sentence-embeddings', { inputs: [EMBED_TEXT, `query: ${EMBED_TEXT}`], prompt_name: 'query' }, undefined, PROMPTED);
    const [direct] = await infer('tei-embed', 'sentence-embeddings', { inputs: [`query: ${EMBED_TEXT}`] }, undefined, PROMPTED);
    close(prompted, direct);
    expect(maxAbsDiff(plain, direct)).toBeGreaterThan(1e-4); // the prompt went before a text that had it already
    const all = await infer('tei-embed-all', 'sentence-embeddings', { inputs: EMBED_TEXT, prompt_name: 'passage' }, undefined, PROMPTED);
    const allDirect = await infer('tei-embed-all', 'sentence-embeddings', { inputs: `passage: ${EMBED_TEXT}` }, undefined, PROMPTED);
    expect(all).toEqual(allDirect);
    const sims = await infer('tei-similarity', 'sentence-embeddings', { inputs: { source_sentence: 'a', sentences: ['a'] }, parameters: { prompt_name: 'query' } }, undefined, PROMPTED);
    expect(sims[0]).toBeCloseTo(1, 5);
    const [tokens] = await infer('tei-tokenize', 'sentence-embeddings', { inputs: 'berlin', prompt_name: 'query' }, undefined, PROMPTED);
    const last = tokens.at(-2);
    expect(last).toMatchObject({ text: 'berlin', start: 7, stop: 13 }); // offsets into "query: berlin"
  });

  it('an unknown prompt, or a model without prompts, is a 400 naming the prompts', async () => {
    await expect(infer('tei-embed', 'sentence-embeddings', { inputs: 'a', prompt_name: 'doc' }, undefined, PROMPTED)).rejects.toThrow(
      /400: prompt_name "doc" is unknown. This model's prompts: query, passage/,
    );
    const none = await post('/embed', { inputs: 'a', prompt_name: 'query' });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatch(/prompt_name "query" is unknown. This model's prompts: none/);
    await expect(infer('tei-embed', 'sentence-embeddings', { inputs: [[2, 5, 3]], prompt_name: 'query' }, undefined, PROMPTED)).rejects.toThrow(/400: prompt_name cannot be used with token ids/);
  });
});

/** base64 of little-endian float32 → numbers. */
const fromBase64 = (s: string) => Array.from(new Float32Array(new Uint8Array(Buffer.from(s, 'base64')).buffer));

describe('POST /v1/embeddings', () => {
  it('answers OpenAI\'s shape, with /embed\'s vectors and the token count as usage', async () => {
    const answer = await ok('/v1/embeddings', { input: TEXTS, model: ENCODER });
    expectSchema('tei', 'OpenAICompatResponse', answer);
    expect(answer).toMatchObject({ object: 'list', model: ENCODER });
    const embedded = await ok('/embed', { inputs: TEXTS });
    answer.data.forEach((d: { object: string; index: number; embedding: number[] }, i: number) => {
      expect(d).toMatchObject({ object: 'embedding', index: i });
      expect(d.embedding).toEqual(embedded[i]);
    });
    const tokens = (await ok('/tokenize', { inputs: TEXTS })).reduce((n: number, list: unknown[]) => n + list.length, 0);
    expect(answer.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('base64 is the little-endian float32 bytes; dimensions re-normalises; token ids run as given', async () => {
    const floats = (await ok('/v1/embeddings', { input: EMBED_TEXT })).data[0].embedding;
    const b64 = (await ok('/v1/embeddings', { input: EMBED_TEXT, encoding_format: 'base64' })).data[0].embedding;
    expect(typeof b64).toBe('string');
    expect(fromBase64(b64)).toEqual(floats);
    const [raw] = await ok('/embed', { inputs: EMBED_TEXT, normalize: false });
    close((await ok('/v1/embeddings', { input: EMBED_TEXT, dimensions: 16 })).data[0].embedding, unit(raw.slice(0, 16)));
    const ids = (await ok('/tokenize', { inputs: EMBED_TEXT }))[0].map((t: { id: number }) => t.id);
    const fromIds = await ok('/v1/embeddings', { input: [ids] });
    close(fromIds.data[0].embedding, floats);
    expect(fromIds.usage.prompt_tokens).toBe(ids.length);
  });

  it('refuses bad input with OpenAI-shaped errors', async () => {
    for (const [body, status, message] of [
      [{ input: '' }, 400, /input cannot be empty/],
      [{ input: 'a', dimensions: 64 }, 400, /dimensions is 64, larger than this model's embedding size of 32/],
      [{ input: [[1, 9999]] }, 400, /input\[0\]\[1\] is token id 9999, outside the vocabulary/],
      [{ input: Array.from({ length: 33 }, () => 'a') }, 413, /batch size 33 > maximum allowed batch size 32/],
    ] as const) {
      const r = await post('/v1/embeddings', body);
      expect(r.status).toBe(status);
      expectSchema('tei', 'OpenAICompatErrorResponse', r.body);
      expect(r.body.message).toMatch(message);
    }
  });

  it('serves the openai SDK\'s embeddings.create, float and base64', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none' });
    const reference = await ok('/embed', { inputs: TEXTS });
    // The SDK asks for base64 unless told, and decodes it to numbers.
    const byDefault = await client.embeddings.create({ model: ENCODER, input: TEXTS });
    byDefault.data.forEach((d, i) => close(d.embedding, reference[i], 1e-7));
    const asFloat = await client.embeddings.create({ model: ENCODER, input: EMBED_TEXT, encoding_format: 'float' });
    expect(asFloat.data[0]!.embedding).toEqual(reference[0]);
    expect(asFloat.usage.prompt_tokens).toBeGreaterThan(2);
    const asBase64 = await client.embeddings.create({ model: ENCODER, input: EMBED_TEXT, encoding_format: 'base64' });
    expect(fromBase64(asBase64.data[0]!.embedding as unknown as string)).toEqual(reference[0]);
    const short = await client.embeddings.create({ model: ENCODER, input: EMBED_TEXT, dimensions: 8 });
    expect(short.data[0]!.embedding).toHaveLength(8);
    await expect(client.embeddings.create({ model: ENCODER, input: EMBED_TEXT, dimensions: 100 })).rejects.toMatchObject({ status: 400 });
  });
});

describe('bad input on every embedding route: a 4xx in TEI\'s shape, never a 500', () => {
  it.each([
    ['/embed', 'a number', { inputs: 42 }],
    ['/embed', 'a bad direction', { inputs: 'a', truncation_direction: 'Up' }],
    ['/embed_all', 'an empty list', { inputs: [] }],
    ['/similarity', 'no sentences', { inputs: { source_sentence: 'a' } }],
    ['/tokenize', 'an empty string', { inputs: '' }],
    ['/tokenize', '35,000 characters (a 413)', { inputs: 'word '.repeat(7000) }],
    ['/decode', 'a negative id', { ids: [-1] }],
    ['/embed', 'a list for a body', [1, 2]],
  ])('%s: %s', async (path, _what, body) => {
    const r = await post(path, body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expectSchema('tei', 'ErrorResponse', r.body);
    expect(r.body.error).not.toMatch(/\/tmp|\/work|\.fixtures/);
  });
});
