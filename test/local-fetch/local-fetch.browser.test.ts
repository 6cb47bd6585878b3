/**
 * createLocalFetch in a real browser, over the real worker: under the official client, as a raw
 * Endpoint request, with bad input, and under concurrency.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../src/index.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER, LABELS, VARIED_TEXTS, deepCloseTo, norm } from '../helpers.js';
import { supportedTasks } from '../../src/tasks/registry.js';

const CLASSIFY_URL = 'https://classifier.example.endpoints.huggingface.cloud';
const EMBED_URL = 'https://embedder.example.endpoints.huggingface.cloud';

describe.each(['wasm', 'webgpu'] as const)('createLocalFetch on %s', (device) => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());
  const localFetch = createLocalFetch({
    engine,
    endpoints: {
      [CLASSIFY_URL]: { task: 'text-classification', model: CLASSIFIER, device },
      [EMBED_URL]: { task: 'feature-extraction', model: ENCODER, device },
    },
  });

  it('runs unchanged InferenceClient code locally', async () => {
    const hf = new InferenceClient('hf_not_a_real_token', { fetch: localFetch });
    const labels = await hf.endpoint(CLASSIFY_URL).textClassification({ inputs: CLASSIFY_TEXT });
    expect(labels).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    expect(LABELS).toContain(labels[0]!.label);

    const embedding = (await hf.endpoint(EMBED_URL).featureExtraction({ inputs: EMBED_TEXT })) as number[];
    expect(embedding).toHaveLength(32);
    expect(norm(embedding)).toBeCloseTo(1, 5);
  });

  it('answers a raw POST shaped like the Endpoint docs’ curl example, in the server’s shape', async () => {
    // curl https://….endpoints.huggingface.cloud -X POST -d '{"inputs": "…"}'
    //   -H "Authorization: Bearer hf_…" -H "Content-Type: application/json"
    const response = await localFetch(CLASSIFY_URL, {
      method: 'POST',
      headers: { Authorization: 'Bearer hf_not_a_real_token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: CLASSIFY_TEXT }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-compute-type')).toBe(device);
    expect(Number(response.headers.get('x-compute-time'))).toBeGreaterThan(0);
    const body = await response.json();
    expect(body).toEqual([{ label: expect.any(String), score: expect.any(Number) }]); // not [[…]]

    const embed = await localFetch(`${EMBED_URL}/predict`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [EMBED_TEXT, CLASSIFY_TEXT], parameters: { normalize: false } }),
    });
    const vectors = (await embed.json()) as number[][];
    expect(vectors).toHaveLength(2);
    expect(Math.abs(norm(vectors[0]!) - 1)).toBeGreaterThan(1e-3); // normalize: false was honoured
  });

  it('answers GET / and GET /health with Ok', async () => {
    for (const path of ['', '/', '/health']) {
      const response = await localFetch(`${CLASSIFY_URL}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('Ok');
    }
  });

  it('gives each of 20 concurrent requests its own answer', async () => {
    const post = (inputs: string) =>
      localFetch(CLASSIFY_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs, parameters: { top_k: 3 } }),
      }).then((r) => r.json());
    const sequential: unknown[] = [];
    for (const text of VARIED_TEXTS) sequential.push(await post(text));
    const concurrent = await Promise.all(VARIED_TEXTS.map(post));
    expect(concurrent).toEqual(deepCloseTo(sequential)); // batched calls agree to float precision
    // The texts really differ, so a mix-up would show.
    expect(new Set(sequential.map((s) => JSON.stringify(s))).size).toBeGreaterThan(10);
  });
});

describe('createLocalFetch errors', () => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());
  const localFetch = createLocalFetch({
    engine,
    endpoints: {
      [CLASSIFY_URL]: { task: 'text-classification', model: CLASSIFIER, device: 'wasm' },
      'https://unknown-task.example/': { task: 'not-a-task', model: CLASSIFIER },
      'https://missing-model.example/': { task: 'text-classification', model: 'local-endpoint/no-such-model', device: 'wasm' },
    },
  });
  const post = (body: BodyInit, contentType = 'application/json', url = CLASSIFY_URL) =>
    localFetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });

  it.each([
    ['invalid JSON', () => post('{"inputs": "unclosed'), /not valid JSON/],
    ['a body that is not an object', () => post('["I love you"]'), /must be a JSON object.*an array/],
    ['missing inputs', () => post(JSON.stringify({ input: CLASSIFY_TEXT })), /no "inputs" key/],
    ['inputs of the wrong type', () => post(JSON.stringify({ inputs: 42 })), /inputs must be a string or a list of strings, got a number/],
    ['a list with a non-string', () => post(JSON.stringify({ inputs: ['ok', null] })), /inputs\[1\] must be a string, got null/],
    ['a bad parameter', () => post(JSON.stringify({ inputs: 'x', parameters: { top_k: 0 } })), /parameters.top_k must be a positive integer, got 0/],
    ['an unknown parameter', () => post(JSON.stringify({ inputs: 'x', parameters: { topk: 2 } })), /Unknown parameter for text-classification: topk. Supported: top_k/],
    ['an unknown task', () => post(JSON.stringify({ inputs: 'x' }), 'application/json', 'https://unknown-task.example/'), new RegExp(`Unknown task "not-a-task". Supported tasks: ${supportedTasks.join(', ')}`)],
    ['a model that does not exist', () => post(JSON.stringify({ inputs: 'x' }), 'application/json', 'https://missing-model.example/'), /Model "local-endpoint\/no-such-model" could not be found/],
    ['an unsupported Content-Type', () => post('x', 'image/png'), /Unsupported Content-Type "image\/png". Supported: application\/json, text\/plain/],
  ])('%s gets 400 naming the problem, and the next request succeeds', async (_, send, message) => {
    const response = await send();
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = await response.json();
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(message);

    const good = await post(JSON.stringify({ inputs: CLASSIFY_TEXT }));
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
  });

  it('answers 404 for a URL it does not serve, and 405 for other methods', async () => {
    const unknown = await localFetch('https://elsewhere.example/', { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toMatch(/No local endpoint at https:\/\/elsewhere.example\//);
    const put = await localFetch(CLASSIFY_URL, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
  });

  it('surfaces a 400 through the official client as its own error type', async () => {
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: CLASSIFY_URL });
    await expect(hf.textClassification({ inputs: 42 as unknown as string })).rejects.toThrow(
      /Failed to perform inference: inputs must be a string/,
    );
  });
});

describe('createLocalFetch dialects', () => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());
  const endpoints = { [CLASSIFY_URL]: { task: 'text-classification', model: CLASSIFIER, device: 'wasm' as const } };
  const ask = (fetchFn: ReturnType<typeof createLocalFetch>, headers: Record<string, string> = {}) =>
    fetchFn(CLASSIFY_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ inputs: CLASSIFY_TEXT }),
    }).then((r) => r.json());

  it('recognises the official client by its User-Agent, and a caller can ask with x-endpoint-dialect', async () => {
    const auto = createLocalFetch({ engine, endpoints });
    const server = await ask(auto);
    expect(server).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    expect(await ask(auto, { 'User-Agent': '@huggingface/inference/4.13.30 Mozilla/5.0' })).toEqual([server]);
    expect(await ask(auto, { 'x-endpoint-dialect': 'client' })).toEqual([server]);
  });

  it('an option forces either dialect whatever the request says', async () => {
    const endpointOnly = createLocalFetch({ engine, endpoints, dialect: 'endpoint' });
    const clientOnly = createLocalFetch({ engine, endpoints, dialect: 'client' });
    const server = await ask(endpointOnly, { 'User-Agent': '@huggingface/inference/4.13.30' });
    expect(server).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    expect(await ask(clientOnly)).toEqual([server]);
  });
});
