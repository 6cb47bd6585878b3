/**
 * TEI's /rerank and /predict in Node: the tiny cross-encoder behind an in-process `serve`
 * (ranking), and the engine on text-classification endpoints (the tiny classifier and the
 * multi-label one), against the ranking and text-classification tasks' answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { serve, type RunningServer } from '../../../src/node/serve.js';
import { softmax } from '../../../src/tasks/shared/scores.js';
import { expectSchema } from '../../openapi/validate.js';
import { byLabel, CLASSIFIER, CLASSIFY_TEXT, CROSS_ENCODER, LABELS, MULTILABEL, RANK_QUERY, RANK_TEXTS } from '../../helpers.js';

const MODELS = '.fixtures/models';
let server: RunningServer;
const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });

beforeAll(async () => {
  server = await serve({ task: 'ranking', model: CROSS_ENCODER, modelsDir: MODELS, port: 0 });
});
afterAll(async () => {
  await server?.close();
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
async function infer(task: string, model: string, endpointTask: string, inputs: unknown, parameters?: unknown): Promise<any> {
  const r = await engine.infer({ task, model, endpointTask, inputs, parameters } as EngineRequest);
  if (!r.ok) throw Object.assign(new Error(`${r.status}: ${r.error}`), { status: r.status });
  return r.output;
}
const isSortedDown = (scores: number[]) => scores.every((s, i) => i === 0 || scores[i - 1]! >= s);

describe('POST /rerank (ranking endpoint)', () => {
  it('gives the ranking task\'s scores, best first, with the texts when asked', async () => {
    const ranks = await ok('/rerank', { query: RANK_QUERY, texts: RANK_TEXTS, return_text: true });
    expectSchema('tei', 'RerankResponse', ranks);
    const reference = (await ok('/', { inputs: { query: RANK_QUERY, texts: RANK_TEXTS } })) as { index: number; score: number }[];
    expect(ranks.map((r: { index: number }) => r.index)).toEqual(reference.map((r) => r.index));
    for (const r of ranks) {
      expect(r.text).toBe(RANK_TEXTS[r.index]);
      expect(r.score).toBeCloseTo(reference.find((x) => x.index === r.index)!.score, 6);
    }
    expect(isSortedDown(ranks.map((r: { score: number }) => r.score))).toBe(true);
    const plain = await ok('/rerank', { query: RANK_QUERY, texts: RANK_TEXTS });
    expect(plain.every((r: object) => !('text' in r))).toBe(true);
  });

  it('raw_scores gives the logits (the ranking task\'s raw scores); ties keep TEI\'s order', async () => {
    const raw = await ok('/rerank', { query: RANK_QUERY, texts: RANK_TEXTS, raw_scores: true });
    const { scores } = await ok('/', { inputs: RANK_TEXTS.map((t) => [RANK_QUERY, t]), parameters: { raw_scores: true } });
    for (const r of raw) expect(r.score).toBeCloseTo(scores[r.index], 5);
    // Equal texts score alike: TEI sorts ascending and reverses, so the later index comes first.
    const ties = await ok('/rerank', { query: RANK_QUERY, texts: ['same text', 'same text', 'same text'] });
    expect(ties.map((r: { index: number }) => r.index)).toEqual([2, 1, 0]);
  });

  it('truncates a long pair longest-first from either side (truncate false refuses it), and /predict scores a pair as /rerank does', async () => {
    const words = Array.from({ length: 301 }, (_, i) => ['berlin', 'day', 'city'][i % 3]!);
    const long = words.join(' ');
    const [query] = await ok('/tokenize', { inputs: RANK_QUERY, add_special_tokens: false });
    const [pieces] = await ok('/tokenize', { inputs: long, add_special_tokens: false });
    expect(pieces).toHaveLength(words.length); // one token a word
    const room = 128 - 3 - query.length; // [CLS] query [SEP] text [SEP]: the short query is kept whole
    const [right, left, keptStart, keptEnd] = (await ok('/rerank', {
      query: RANK_QUERY,
      texts: [long, long, words.slice(0, room).join(' '), words.slice(-room).join(' ')],
      raw_scores: true,
    })).sort((a: { index: number }, b: { index: number }) => a.index - b.index);
    expect(right.score).toBeCloseTo(keptStart.score, 5);
    const [fromLeft] = await ok('/rerank', { query: RANK_QUERY, texts: [long], raw_scores: true, truncation_direction: 'Left' });
    expect(fromLeft.score).toBeCloseTo(keptEnd.score, 5);
    expect(left.score).toBe(right.score);
    expect(Math.abs(fromLeft.score - right.score)).toBeGreaterThan(1e-4);
    const refused = await post('/rerank', { query: RANK_QUERY, texts: [long], truncate: false });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/texts\[0\] is \d+ tokens long, over the model's maximum of 128, and truncate is false/);
    const predicted = await ok('/predict', { inputs: [RANK_QUERY, RANK_TEXTS[0]] });
    expectSchema('tei', 'PredictResponse', predicted);
    const [ranked] = await ok('/rerank', { query: RANK_QUERY, texts: [RANK_TEXTS[0]] });
    expect(predicted).toEqual([{ score: ranked.score, label: 'LABEL_0' }]);
  });

  it('/info names a reranker; /tokenize and /decode work on this endpoint', async () => {
    const info = await (await fetch(`${server.url}/info`)).json();
    expectSchema('tei', 'Info', info);
    expect(info.model_type).toEqual({ reranker: { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } } });
    const [tokens] = await ok('/tokenize', { inputs: RANK_QUERY });
    expect(await ok('/decode', { ids: tokens.map((t: { id: number }) => t.id) })).toEqual([RANK_QUERY]);
  });

  it('bad bodies are 4xx in TEI\'s shape', async () => {
    for (const [path, body, status] of [
      ['/rerank', { query: RANK_QUERY, texts: [] }, 400],
      ['/rerank', { query: RANK_QUERY, texts: Array.from({ length: 40 }, () => 'a') }, 413],
      ['/rerank', { query: 1, texts: ['a'] }, 400],
      ['/predict', { inputs: ['a', 'b', 'c'] }, 400],
      ['/rerank', { query: RANK_QUERY, texts: ['a'], truncation_direction: 'Down' }, 400],
    ] as const) {
      const r = await post(path, body);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expectSchema('tei', 'ErrorResponse', r.body);
    }
  });
});

describe('POST /predict (text-classification endpoints)', () => {
  it('returns every label, best first, with the task\'s softmax scores; raw_scores gives the logits', async () => {
    const answer = await infer('tei-predict', CLASSIFIER, 'text-classification', { inputs: CLASSIFY_TEXT });
    expectSchema('tei', 'PredictResponse', answer);
    expect(answer.map((p: { label: string }) => p.label).sort()).toEqual([...LABELS].sort());
    expect(isSortedDown(answer.map((p: { score: number }) => p.score))).toBe(true);
    const reference = byLabel(await infer('text-classification', CLASSIFIER, 'text-classification', CLASSIFY_TEXT, { top_k: null }));
    for (const p of answer) expect(p.score).toBeCloseTo(reference[p.label]!, 6);
    const raw = await infer('tei-predict', CLASSIFIER, 'text-classification', { inputs: CLASSIFY_TEXT, raw_scores: true });
    const logits = byLabel(await infer('text-classification', CLASSIFIER, 'text-classification', CLASSIFY_TEXT, { top_k: null, function_to_apply: 'none' }));
    for (const p of raw) expect(p.score).toBeCloseTo(logits[p.label]!, 5);
  });

  it('a batch of texts and pairs gives a list per input', async () => {
    const batch = await infer('tei-predict', CLASSIFIER, 'text-classification', { inputs: [[CLASSIFY_TEXT], ['I hate you', 'I love you'], ['a great day']] });
    expectSchema('tei', 'PredictResponse', batch);
    expect(batch).toHaveLength(3);
    const [one] = [await infer('tei-predict', CLASSIFIER, 'text-classification', { inputs: CLASSIFY_TEXT })];
    for (const p of batch[0]) expect(p.score).toBeCloseTo(one.find((q: { label: string }) => q.label === p.label).score, 6);
  });

  it('softmaxes a multi-label model too, as TEI does (the Endpoint\'s task gives sigmoids)', async () => {
    const answer = await infer('tei-predict', MULTILABEL, 'text-classification', { inputs: CLASSIFY_TEXT });
    const logits = byLabel(await infer('text-classification', MULTILABEL, 'text-classification', CLASSIFY_TEXT, { top_k: null, function_to_apply: 'none' }));
    const labels = Object.keys(logits);
    const expected = Object.fromEntries(softmax(labels.map((l) => logits[l]!)).map((s, i) => [labels[i], s]));
    for (const p of answer) expect(p.score).toBeCloseTo(expected[p.label]!, 6);
    expect(answer.reduce((s: number, p: { score: number }) => s + p.score, 0)).toBeCloseTo(1, 5);
  });

  it('/info names a classifier; /rerank and /embed are refused on this endpoint', async () => {
    const info = await infer('tei-info', CLASSIFIER, 'text-classification', null);
    expectSchema('tei', 'Info', info);
    expect(info.model_type).toEqual({ classifier: { id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' }, label2id: { negative: 0, neutral: 1, positive: 2 } } });
    await expect(infer('tei-rerank', CLASSIFIER, 'text-classification', { query: 'a', texts: ['b'] })).rejects.toThrow(/400: POST \/rerank is served on ranking endpoints/);
    await expect(infer('tei-embed', CLASSIFIER, 'text-classification', { inputs: 'a' })).rejects.toThrow(/400: POST \/embed is served on feature-extraction/);
  });
});
