/**
 * The routes beside the Endpoint's own, by endpoint kind (src/tasks/routes.ts), over HTTP from
 * in-process `serve`: what a 404 lists, 405s, the error shapes of TGI and TEI, `GET /v1/models`
 * (also through the real `openai` SDK) and `GET /metrics` counting what was served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { serve, type RunningServer } from '../../src/node/serve.js';
import { routesOf } from '../../src/tasks/routes.js';
import { expectSchema } from '../openapi/validate.js';
import { ENCODER, LLAMA } from '../helpers.js';

const MODELS = '.fixtures/models';
const VIT = 'local-endpoint/tiny-vit-classifier';
let generative: RunningServer;
let encoder: RunningServer;
let vision: RunningServer;

beforeAll(async () => {
  [generative, encoder, vision] = await Promise.all([
    serve({ task: 'text-generation', model: LLAMA, modelsDir: MODELS, port: 0 }),
    serve({ task: 'feature-extraction', model: ENCODER, modelsDir: MODELS, port: 0 }),
    serve({ task: 'image-classification', model: VIT, modelsDir: MODELS, port: 0 }),
  ]);
  await Promise.all([generative.ready, encoder.ready, vision.ready]);
}, 60_000);
afterAll(async () => {
  await Promise.all([generative?.close(), encoder?.close(), vision?.close()]);
});

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** The series of a Prometheus text answer, `name{labels}` → value; checks each line's syntax. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP [a-z_:][a-z0-9_:]* .+|TYPE [a-z_:][a-z0-9_:]* (counter|gauge|histogram|summary|untyped))$/);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
    expect(match, line).not.toBeNull();
    out.set(match![1]!, Number(match![2]));
  }
  return out;
}

describe('routes by endpoint kind', () => {
  it('a route the endpoint does not serve is a 404 listing the routes it does serve, in its kind’s error shape', async () => {
    const tgi = await post(`${generative.url}/embed`, { inputs: 'x' });
    expect(tgi.status).toBe(404);
    const tgiBody = await tgi.json();
    expectSchema('tgi', 'ErrorResponse', tgiBody);
    for (const route of ['POST /generate', 'POST /generate_stream', 'GET /info', 'POST /v1/chat/completions', 'GET /v1/models', 'GET /metrics']) {
      expect(tgiBody.error).toContain(route);
    }
    expect(tgiBody.error).not.toContain('/embed,');

    const tei = await post(`${encoder.url}/generate`, { inputs: 'x' });
    expect(tei.status).toBe(404);
    const teiBody = await tei.json();
    expectSchema('tei', 'ErrorResponse', teiBody);
    for (const route of ['POST /embed', 'POST /embed_all', 'POST /similarity', 'POST /v1/embeddings', 'POST /tokenize', 'POST /decode', 'GET /info']) {
      expect(teiBody.error).toContain(route);
    }
    expect(teiBody.error).not.toContain('/rerank');

    const other = await fetch(`${vision.url}/v1/models`);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: `No route GET /v1/models on this image-classification endpoint. It serves: GET /, GET /health, POST /, POST /predict.` });
  });

  it('lists each task’s TEI routes: embeddings, rerank and TEI’s predict where the model serves them', () => {
    const paths = (task: string) => routesOf(task).map((r) => `${r.method} ${r.path}`);
    expect(paths('sentence-embeddings')).toContain('POST /embed');
    expect(paths('ranking')).toEqual(expect.arrayContaining(['POST /rerank', 'POST /predict', 'POST /tokenize']));
    expect(paths('ranking')).not.toContain('POST /embed');
    expect(paths('text-classification')).not.toContain('POST /rerank');
    expect(paths('conversational')).toContain('POST /generate_stream');
    expect(paths('token-classification')).toEqual(['GET ', 'GET /health', 'POST ', 'POST /predict']);
  });

  it('a route on the wrong method is a 405 with Allow', async () => {
    const response = await fetch(`${generative.url}/generate`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expectSchema('tgi', 'ErrorResponse', await response.json());
    const info = await post(`${encoder.url}/info`, {});
    expect(info.status).toBe(405);
    expect(info.headers.get('allow')).toBe('GET');
  });

  it('bad input on a TGI route is TGI’s {error, error_type} (a validation error), and the server keeps serving', async () => {
    const response = await post(`${generative.url}/v1/completions`, '{"prompt": ');
    expect(response.status).toBe(400);
    const body = await response.json();
    expectSchema('tgi', 'ErrorResponse', body);
    expect(body).toEqual({ error: expect.stringMatching(/not valid JSON/), error_type: 'validation' });
    const empty = await post(`${generative.url}/v1/completions`, { max_tokens: 2 });
    expect(await empty.json()).toEqual({ error: 'The request body has no "prompt".', error_type: 'validation' });
    const good = await post(`${generative.url}/v1/completions`, { prompt: 'Hello', max_tokens: 2 });
    expect(good.status).toBe(200);
  });

  it('GET /v1/models lists the endpoint’s model, as TGI’s ModelInfo and through the openai SDK', async () => {
    for (const [server, model] of [[generative, LLAMA], [encoder, ENCODER]] as const) {
      const list = await (await fetch(`${server.url}/v1/models`)).json();
      expect(list).toEqual({ object: 'list', data: [{ id: model, object: 'model', created: expect.any(Number), owned_by: 'local-endpoint' }] });
      expectSchema('tgi', 'ModelInfo', list.data[0]);
      const openai = new OpenAI({ apiKey: 'none', baseURL: `${server.url}/v1`, maxRetries: 0 });
      const models: string[] = [];
      for await (const m of openai.models.list()) models.push(m.id);
      expect(models).toEqual([model]);
    }
  });

  it('GET /metrics counts requests, failures, durations and generated tokens, in Prometheus text', async () => {
    const before = series(await (await fetch(`${generative.url}/metrics`)).text());
    const answers = await Promise.all([1, 2, 3].map((n) => post(`${generative.url}/v1/completions`, { prompt: 'Hello', max_tokens: n, temperature: 0 }).then((r) => r.json())));
    const stream = await post(`${generative.url}/v1/completions`, { prompt: 'Hello', max_tokens: 4, temperature: 0, stream: true });
    await stream.text();
    await post(`${generative.url}/v1/completions`, { prompt: 7 });
    const response = await fetch(`${generative.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = series(await response.text());
    const delta = (name: string) => after.get(name)! - (before.get(name) ?? 0);
    expect(delta('tgi_request_count')).toBe(5);
    expect(delta('tgi_request_success')).toBe(4);
    expect(delta('tgi_request_failure{method="POST",route="/v1/completions",status="400"}')).toBe(1);
    expect(delta('tgi_request_duration_count')).toBe(5);
    expect(after.get('tgi_request_duration_bucket{le="+Inf"}')).toBe(after.get('tgi_request_duration_count'));
    expect(after.get('tgi_queue_size')).toBe(0);
    const generated = answers.reduce((sum, a) => sum + a.usage.completion_tokens, 0) + 4;
    expect(delta('tgi_generated_tokens_total')).toBe(generated);
    expect(delta('tgi_request_generated_tokens_count')).toBe(4);
    expect(after.get(`tgi_model_info{model="${LLAMA}"}`)).toBe(1);

    const tei = series(await (await fetch(`${encoder.url}/metrics`)).text());
    expect(tei.has('te_request_count')).toBe(true);
    expect([...tei.keys()].some((k) => k.startsWith('tgi_'))).toBe(false);
  });
});
