/**
 * Raw requests in each route's documented shape: for every path of TGI's and TEI's OpenAPI
 * documents that local-endpoint serves, a body that validates against the path's documented
 * request schema is sent to an in-process `serve`, and the answer (or each server-sent event)
 * must validate against the path's documented 200 schema. The paths not served are listed, with
 * why, so a new path in an updated document fails here until it is decided.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../src/node/serve.js';
import { routesOf } from '../../src/tasks/routes.js';
import { documentedErrors, documentedPath, documentedPaths } from './validate.js';
import { CLASSIFIER, CROSS_ENCODER, ENCODER, LLAMA } from '../helpers.js';

const MODELS = '.fixtures/models';
const servers: Record<string, RunningServer> = {};

beforeAll(async () => {
  const started = await Promise.all(
    (
      [
        ['text-generation', LLAMA],
        ['sentence-embeddings', ENCODER],
        ['ranking', CROSS_ENCODER],
        ['text-classification', CLASSIFIER],
      ] as const
    ).map(async ([task, model]) => [task, await serve({ task, model, modelsDir: MODELS, port: 0 })] as const),
  );
  for (const [task, server] of started) servers[task] = server;
  await Promise.all(Object.values(servers).map((s) => s.ready));
}, 60_000);
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

/** Documented paths this library does not serve, and why. */
const NOT_SERVED: Record<string, string> = {
  'tgi POST /chat_tokenize': 'TGI-specific chat-template debugging route, not asked for',
  'tgi POST /invocations': 'SageMaker’s entry point',
  'tei POST /embed_sparse': 'needs a SPLADE model (sparse embeddings); no such task is served',
};

type Case = { server: 'tgi' | 'tei'; task: string; method: 'get' | 'post'; path: string; body?: unknown };

const QUESTION = 'What is Deep Learning?';
const CASES: Case[] = [
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/', body: { inputs: QUESTION, parameters: { max_new_tokens: 5, details: true, seed: 1 } } },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/', body: { inputs: QUESTION, parameters: { max_new_tokens: 3 }, stream: true } },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/generate', body: { inputs: QUESTION, parameters: { max_new_tokens: 5, details: true, decoder_input_details: true, top_n_tokens: 2, do_sample: true, seed: 7, temperature: 0.8 } } },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/generate_stream', body: { inputs: QUESTION, parameters: { max_new_tokens: 4, details: true, top_n_tokens: 1 } } },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/tokenize', body: { inputs: QUESTION } },
  { server: 'tgi', task: 'text-generation', method: 'get', path: '/info' },
  { server: 'tgi', task: 'text-generation', method: 'get', path: '/health' },
  { server: 'tgi', task: 'text-generation', method: 'get', path: '/metrics' },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/v1/chat/completions', body: { model: 'tgi', messages: [{ role: 'user', content: QUESTION }], max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 2 } },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/v1/chat/completions', body: { model: 'tgi', messages: [{ role: 'user', content: QUESTION }], max_tokens: 4, stream: true } },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/v1/completions', body: { model: 'tgi', prompt: [QUESTION], max_tokens: 5, temperature: 0, seed: 1 } },
  { server: 'tgi', task: 'text-generation', method: 'post', path: '/v1/completions', body: { model: 'tgi', prompt: [QUESTION], max_tokens: 4, stream: true } },
  { server: 'tgi', task: 'text-generation', method: 'get', path: '/v1/models' },
  { server: 'tei', task: 'sentence-embeddings', method: 'post', path: '/embed', body: { inputs: [QUESTION, 'Paris'], normalize: true, truncate: true, truncation_direction: 'Left' } },
  { server: 'tei', task: 'sentence-embeddings', method: 'post', path: '/embed_all', body: { inputs: QUESTION, truncate: false } },
  { server: 'tei', task: 'sentence-embeddings', method: 'post', path: '/similarity', body: { inputs: { source_sentence: QUESTION, sentences: ['What is Machine Learning?', 'Paris'] } } },
  { server: 'tei', task: 'sentence-embeddings', method: 'post', path: '/tokenize', body: { inputs: ['test', QUESTION], add_special_tokens: true } },
  { server: 'tei', task: 'sentence-embeddings', method: 'post', path: '/decode', body: { ids: [[2, 10, 11, 3]], skip_special_tokens: true } },
  { server: 'tei', task: 'sentence-embeddings', method: 'post', path: '/v1/embeddings', body: { input: [QUESTION, 'Paris'], model: 'tei', encoding_format: 'float' } },
  { server: 'tei', task: 'sentence-embeddings', method: 'get', path: '/info' },
  { server: 'tei', task: 'sentence-embeddings', method: 'get', path: '/health' },
  { server: 'tei', task: 'sentence-embeddings', method: 'get', path: '/metrics' },
  { server: 'tei', task: 'ranking', method: 'post', path: '/rerank', body: { query: QUESTION, texts: ['Deep Learning is not...', 'Paris'], return_text: true, raw_scores: false } },
  { server: 'tei', task: 'ranking', method: 'post', path: '/predict', body: { inputs: [[QUESTION, 'Deep learning is a kind of machine learning.']], raw_scores: true } },
  { server: 'tei', task: 'ranking', method: 'get', path: '/info' },
  { server: 'tei', task: 'text-classification', method: 'post', path: '/predict', body: { inputs: 'I like you.', raw_scores: false } },
  { server: 'tei', task: 'text-classification', method: 'post', path: '/predict', body: { inputs: [['I like you.'], ['I hate you.']] } },
  { server: 'tei', task: 'text-classification', method: 'get', path: '/info' },
];

describe('the servers’ documented paths', () => {
  it.each(['tgi', 'tei'] as const)('every path of %s.json is served on its endpoint kind, or listed as not served with why', (server) => {
    const kindTask = server === 'tgi' ? 'text-generation' : 'sentence-embeddings';
    const ours = new Set(['ranking', 'text-classification', kindTask].flatMap((t) => routesOf(t).map((r) => `${r.method} ${r.path || '/'}`)));
    for (const entry of documentedPaths(server)) {
      if (`${server} ${entry}` in NOT_SERVED) continue;
      // TGI's POST / is the Endpoint's own route, which every endpoint serves.
      expect(ours.has(entry), `${server} ${entry} is neither served nor listed in NOT_SERVED`).toBe(true);
    }
  });

  it.each(CASES.map((c) => [`${c.server} ${c.method.toUpperCase()} ${c.path} on ${c.task}${(c.body as { stream?: boolean })?.stream ? ' (stream)' : ''}`, c] as const))(
    '%s: the documented request answers the documented 200',
    async (_, { server, task, method, path, body }) => {
      const documented = documentedPath(server, method, path);
      if (body !== undefined) expect(documentedErrors(server, documented.request, body), 'the test’s own request is in the documented shape').toEqual([]);
      const response = await fetch(`${servers[task]!.url}${path}`, {
        method: method.toUpperCase(),
        ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      const type = response.headers.get('content-type') ?? '';
      if (type.startsWith('text/event-stream')) {
        const events = text.split('\n\n').filter((e) => e.startsWith('data:') && e !== 'data: [DONE]').map((e) => JSON.parse(e.slice(5)));
        expect(events.length).toBeGreaterThan(0);
        for (const event of events) {
          // TGI sends `finish_reason: ""` on a completion chunk that does not finish (its document
          // types it as a string); this library sends OpenAI's null, which the openai SDK and the
          // official client read. The rest of the chunk is TGI's.
          if (path === '/v1/completions' && event.choices?.[0]?.finish_reason === null) event.choices[0].finish_reason = '';
          expect(documentedErrors(server, documented.events, event), JSON.stringify(event)).toEqual([]);
        }
      } else if (type.startsWith('application/json')) {
        let answer = JSON.parse(text);
        // TGI's document declares one ModelInfo for /v1/models; its server (and OpenAI) send the list of them.
        if (path === '/v1/models') answer = answer.data[0];
        expect(documentedErrors(server, documented.json, answer), text.slice(0, 400)).toEqual([]);
      } else {
        // /health and /metrics are plain text.
        expect(type).toMatch(/^text\/plain/);
        expect(text.length).toBeGreaterThan(0);
      }
    },
  );
});
