/**
 * TEI's /embed, /tokenize and OpenAI's /v1/embeddings in the browser: the real worker (WASM) behind
 * createLocalFetch, against the same routes of the Node-served sentence-embeddings Endpoint
 * (LE_SERVED=sentenceEmbeddings).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { EMBED_TEXT, ENCODER, maxAbsDiff } from '../../helpers.js';

const remote = inject('remote');
const URL_ = 'https://tei.example.endpoints.huggingface.cloud';
const TEXTS = [EMBED_TEXT, 'I live in Berlin', 'Héllo, Wolfgang! 🙂'];
const postJson = (fetchFn: typeof fetch, url: string, body: unknown) =>
  fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('TEI routes in the worker', () => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());
  const localFetch = createLocalFetch({ engine, endpoints: { [URL_]: { task: 'sentence-embeddings', model: ENCODER, device: 'wasm' } } });
  const both = async (path: string, body: unknown) => {
    const [local, node] = await Promise.all([postJson(localFetch, `${URL_}${path}`, body), postJson(fetch, `${remote.sentenceEmbeddings}${path}`, body)]);
    expect(local.status).toBe(200);
    expect(node.status).toBe(200);
    return [await local.json(), await node.json()];
  };

  it('/embed and /v1/embeddings equal the Node answers', async () => {
    const [local, node] = await both('/embed', { inputs: TEXTS });
    expect(local).toHaveLength(TEXTS.length);
    local.forEach((v: number[], i: number) => expect(maxAbsDiff(v, node[i])).toBeLessThan(1e-5));
    const [openai, openaiNode] = await both('/v1/embeddings', { input: TEXTS, encoding_format: 'base64', dimensions: 16 });
    expect(openai.usage).toEqual(openaiNode.usage);
    openai.data.forEach((d: { embedding: string; index: number }, i: number) => {
      const decode = (s: string) => Array.from(new Float32Array(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer));
      expect(d.index).toBe(i);
      expect(maxAbsDiff(decode(d.embedding), decode(openaiNode.data[i].embedding))).toBeLessThan(1e-5);
    });
  });

  it('/tokenize gives the same tokens and byte offsets; bad input is a TEI error', async () => {
    const [local, node] = await both('/tokenize', { inputs: TEXTS });
    expect(local).toEqual(node);
    const bad = await postJson(localFetch, `${URL_}/embed`, { inputs: [] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: expect.stringMatching(/inputs cannot be empty/) });
  });
});
