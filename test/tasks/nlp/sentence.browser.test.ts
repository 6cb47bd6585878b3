/** sentence-embeddings and sentence-similarity in the worker, against the Node-served Endpoints. */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { EMBED_TEXT, ENCODER, maxAbsDiff } from '../../helpers.js';

const remote = inject('remote');
const SIM_URL = 'https://similarity.example.endpoints.huggingface.cloud';
const EMB_URL = 'https://embeddings.example.endpoints.huggingface.cloud';
const SIMILARITY = { source_sentence: 'Lets create an embedding', sentences: ['Lets create an embedding', 'I live in Berlin'] };
const postJson = (fetchFn: typeof fetch, url: string, body: unknown) =>
  fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe.each(['wasm', 'webgpu'] as const)('sentence tasks on %s', (device) => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());
  const localFetch = createLocalFetch({
    engine,
    endpoints: {
      [SIM_URL]: { task: 'sentence-similarity', model: ENCODER, device },
      [EMB_URL]: { task: 'sentence-embeddings', model: ENCODER, device },
    },
  });

  it('sentence-similarity: the official client gets a number list, a raw request {similarities}; both match the remote', async () => {
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: SIM_URL });
    const viaClient = await hf.sentenceSimilarity({ inputs: SIMILARITY });
    expect(viaClient).toHaveLength(2);
    expect(viaClient[0]).toBeCloseTo(1, 5);
    expect(viaClient[1]).toBeLessThan(0.99);

    const raw = await (await postJson(localFetch, SIM_URL, { inputs: SIMILARITY })).json();
    expect(Object.keys(raw)).toEqual(['similarities']);
    expect(maxAbsDiff(raw.similarities, viaClient)).toBeLessThan(1e-6);

    const fromRemote = await (await postJson(fetch, remote.sentenceSimilarity, { inputs: SIMILARITY })).json();
    expect(maxAbsDiff(fromRemote.similarities, raw.similarities)).toBeLessThan(1e-4);
  });

  it('sentence-embeddings: {embeddings} for a string and a list, matching the remote', async () => {
    const one = await (await postJson(localFetch, EMB_URL, { inputs: EMBED_TEXT })).json();
    expect(Object.keys(one)).toEqual(['embeddings']);
    expect(one.embeddings).toHaveLength(32);
    const many = await (await postJson(localFetch, EMB_URL, { inputs: [EMBED_TEXT, 'I live in Berlin'] })).json();
    expect(many.embeddings).toHaveLength(2);
    expect(maxAbsDiff(many.embeddings[0], one.embeddings)).toBeLessThan(1e-5);
    const fromRemote = await (await postJson(fetch, remote.sentenceEmbeddings, { inputs: EMBED_TEXT })).json();
    expect(maxAbsDiff(fromRemote.embeddings, one.embeddings)).toBeLessThan(1e-4);
  });

  it('bad input: a string for sentence-similarity and an empty list for embeddings get 400', async () => {
    const wrong = await postJson(localFetch, SIM_URL, { inputs: 'just a string' });
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error).toMatch(/inputs must be an object/);
    const empty = await postJson(localFetch, EMB_URL, { inputs: [] });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error).toMatch(/inputs must not be an empty list/);
  });
});
