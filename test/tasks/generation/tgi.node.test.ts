/**
 * TGI's routes on a generative endpoint (`/generate`, `/generate_stream`, `/tokenize`, `/info`),
 * through the engine in Node, each answer checked against TGI's own OpenAPI schemas.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { getTask } from '../../../src/tasks/registry.js';
import { LOCAL_ENDPOINT_VERSION } from '../../../src/tasks/generation/tgi.js';
import type { StreamEvent } from '../../../src/protocol/stream.js';
import { expectSchema } from '../../openapi/validate.js';
import { GPT2, LLAMA, TRICKY_TEXTS } from '../../helpers.js';

const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
const PROMPT = 'My name is Wolfgang and I live in';

async function call(task: string, body: unknown, model = LLAMA) {
  // The Endpoint's own route takes the body's parts; TGI's routes take it whole.
  const payload = task === 'text-generation' ? (body as object) : { inputs: body };
  const result = await engine.infer({ task, model, endpointTask: 'text-generation', ...payload } as never);
  if (!result.ok) throw new Error(`${result.status}: ${result.error}`);
  return result.output as any;
}

/** The SSE messages of a route's stream, as the local fetch shapes them from the engine's events. */
async function stream(task: string, body: Record<string, unknown>, model = LLAMA) {
  const spec = getTask(task);
  // The Endpoint's own route takes the body's parts; TGI's routes take it whole.
  const payload = task === 'text-generation' ? { inputs: body.inputs, parameters: body.parameters, stream: true } : { inputs: body };
  const parsed = spec.parse(payload as never);
  const meta = { model, id: 'gen-1', created: 0, promptTokens: 0 };
  const messages: any[] = [];
  const result = await engine.infer({ task, model, endpointTask: 'text-generation', ...(payload as object) } as never, undefined, (event) => {
    const e = event as StreamEvent;
    if (e.type === 'start') meta.promptTokens = e.promptTokens;
    else messages.push(...spec.stream!.token(e, parsed, meta));
  });
  expect(result.ok).toBe(true);
  return { messages, meta };
}

describe('POST /generate', () => {
  it('gives the / route\'s text without the prompt, and TGI\'s details with each token\'s logprob', async () => {
    const parameters = { max_new_tokens: 12, do_sample: false };
    const plain = await call('tgi-generate', { inputs: PROMPT, parameters });
    expectSchema('tgi', 'GenerateResponse', plain);
    expect(plain).not.toHaveProperty('details');
    const [endpoint] = await call('text-generation', { inputs: PROMPT, parameters: { ...parameters, return_full_text: false } });
    expect(plain.generated_text).toBe(endpoint.generated_text);
    const full = await call('tgi-generate', { inputs: PROMPT, parameters: { ...parameters, return_full_text: true } });
    expect(full.generated_text).toBe(PROMPT + plain.generated_text);

    const answer = await call('tgi-generate', { inputs: PROMPT, parameters: { ...parameters, details: true, top_n_tokens: 3 } });
    expectSchema('tgi', 'GenerateResponse', answer);
    expect(answer.generated_text).toBe(plain.generated_text);
    const { details } = answer;
    expect(details).toMatchObject({ generated_tokens: details.tokens.length, seed: null, prefill: [] });
    expect(['length', 'eos_token']).toContain(details.finish_reason);
    expect(details.top_tokens).toHaveLength(details.tokens.length);
    details.tokens.forEach((token: any, i: number) => {
      const top = details.top_tokens[i];
      expect(top).toHaveLength(3);
      // Greedy: the chosen token is the most likely one, and the list is sorted.
      expect(top[0]).toEqual(token);
      expect(top[0].logprob).toBeGreaterThanOrEqual(top[1].logprob);
      expect(top[1].logprob).toBeGreaterThanOrEqual(top[2].logprob);
      expect(token.logprob).toBeLessThanOrEqual(0);
    });
    // The texts of the non-special tokens make the answer; a special token shows its name.
    expect(details.tokens.filter((t: any) => !t.special).map((t: any) => t.text).join('')).toBe(answer.generated_text);
    if (details.finish_reason === 'eos_token') expect(details.tokens.at(-1)).toMatchObject({ special: true, text: '<|end_of_text|>' });
  });

  it('decoder_input_details gives the prompt tokens, the first without a logprob', async () => {
    const answer = await call('tgi-generate', { inputs: PROMPT, parameters: { max_new_tokens: 2, decoder_input_details: true } });
    expectSchema('tgi', 'GenerateResponse', answer);
    const tokenizer = await AutoTokenizer.from_pretrained(LLAMA);
    const ids = tokenizer.encode(PROMPT);
    expect(answer.details.prefill.map((t: any) => t.id)).toEqual(ids);
    expect(answer.details.prefill[0].logprob).toBeNull();
    expect(answer.details.prefill.slice(1).every((t: any) => t.logprob < 0)).toBe(true);
  });

  it('refuses what it cannot do with a 400 naming it', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ inputs: 'x', parameters: { top_n_tokens: 6 } }, /top_n_tokens must be an integer from 0 to 5/],
      [{ inputs: 'x', parameters: { top_n_tokens: 'two' } }, /top_n_tokens must be an integer/],
      [{ inputs: 'x', parameters: { best_of: 2 } }, /best_of > 1 is not supported/],
      [{ inputs: 'x', parameters: { details: 'yes' } }, /details must be a boolean/],
      [{ inputs: 'x', parameters: { max_new_tokens: '5' } }, /max_new_tokens must be an integer/],
      [{ inputs: 'x', parameters: { wibble: 1 } }, /Unknown parameter for \/generate: wibble\. Supported: .*top_n_tokens/],
      [{ inputs: 'x', parameters: { watermark: true } }, /watermark is not supported/],
      [{ inputs: 'x', wibble: 1 }, /Unknown field in the body of \/generate: wibble\. Supported: inputs, parameters/],
      [{ inputs: 42 }, /inputs must be a string/],
      [{ inputs: 'x', stream: true }, /POST \/generate_stream/],
      [{ inputs: 'x', stream: 'no' }, /"stream" must be a boolean/],
      ['x', /must be a JSON object/],
    ];
    for (const [body, message] of bad) {
      const result = await engine.infer({ task: 'tgi-generate', model: LLAMA, endpointTask: 'text-generation', inputs: body as never });
      expect(result, JSON.stringify(body)).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(message) });
      expect((result as any).error).not.toMatch(/\/work\/|\.fixtures/);
    }
    const streamed = await engine.infer({ task: 'tgi-generate-stream', model: LLAMA, endpointTask: 'text-generation', inputs: { inputs: 'x', parameters: { decoder_input_details: true } } });
    expect(streamed).toMatchObject({ status: 400, error: expect.stringMatching(/decoder_input_details is not supported when streaming/) });
  });
});

describe('POST /generate_stream', () => {
  it('sends StreamResponse events from index 1, with logprobs, joining to the text, details on the last', async () => {
    const parameters = { max_new_tokens: 12, do_sample: false, details: true, top_n_tokens: 2 };
    const { messages, meta } = await stream('tgi-generate-stream', { inputs: PROMPT, parameters });
    const whole = await call('tgi-generate', { inputs: PROMPT, parameters });
    expect(messages.length).toBe(whole.details.generated_tokens);
    messages.forEach((m, i) => {
      expectSchema('tgi', 'StreamResponse', m);
      expect(m.index).toBe(i + 1);
      expect(m.token).toEqual(whole.details.tokens[i]);
      expect(m.top_tokens).toEqual(whole.details.top_tokens[i]);
      expect(m.generated_text === null).toBe(i < messages.length - 1);
      expect(m.details === null).toBe(i < messages.length - 1);
    });
    const last = messages.at(-1);
    expect(last.generated_text).toBe(whole.generated_text);
    expect(messages.filter((m) => !m.token.special).map((m) => m.token.text).join('')).toBe(last.generated_text);
    expect(last.details).toEqual({ finish_reason: whole.details.finish_reason, generated_tokens: messages.length, seed: null, input_length: meta.promptTokens });
    // Without details: no details, and no top_tokens without top_n_tokens, but logprobs still.
    const bare = (await stream('tgi-generate-stream', { inputs: PROMPT, parameters: { max_new_tokens: 3 } })).messages;
    expect(bare.at(-1)).toMatchObject({ details: null, generated_text: expect.any(String) });
    expect(bare.every((m) => !('top_tokens' in m) && typeof m.token.logprob === 'number')).toBe(true);
  });

  it('the / route\'s TGI stream carries logprobs and full details when asked', async () => {
    const { messages, meta } = await stream('text-generation', { inputs: PROMPT, parameters: { max_new_tokens: 4, details: true, top_n_tokens: 1 }, stream: true }, GPT2);
    messages.forEach((m, i) => {
      expectSchema('tgi', 'StreamResponse', m);
      expect(m.index).toBe(i); // this route's own numbering, from 0
      expect(m.top_tokens[0].logprob).toBe(m.token.logprob);
    });
    expect(messages.at(-1).details).toMatchObject({ finish_reason: 'length', generated_tokens: 4, input_length: meta.promptTokens });
  });
});

describe('POST /tokenize and GET /info', () => {
  it('tokenizes as the tokenizer does, with offsets that slice the input to each token', async () => {
    env.localModelPath = '.fixtures/models/';
    env.allowRemoteModels = false;
    for (const model of [LLAMA, GPT2]) {
      const tokenizer = await AutoTokenizer.from_pretrained(model);
      for (const text of TRICKY_TEXTS) {
        const tokens = await call('tgi-tokenize', { inputs: text }, model);
        expectSchema('tgi', 'TokenizeResponse', tokens);
        expect(tokens.map((t: any) => t.id)).toEqual(tokenizer.encode(text));
        for (const t of tokens) expect(text.slice(t.start, t.stop)).toBe(t.text);
        // Every character of the text is in some token.
        expect(tokens.filter((t: any, i: number) => i === 0 || t.start >= tokens[i - 1].stop).map((t: any) => t.text).join('').length).toBeGreaterThan(0);
      }
      const cut = await call('tgi-tokenize', { inputs: TRICKY_TEXTS[0], parameters: { truncate: 3 } }, model);
      expect(cut.map((t: any) => t.id)).toEqual(tokenizer.encode(TRICKY_TEXTS[0]!).slice(-3));
    }
    const llama = await call('tgi-tokenize', { inputs: 'Hello world' });
    expect(llama[0]).toEqual({ id: 2485, text: '', start: 0, stop: 0 }); // the BOS the tokenizer adds
    expect(llama.slice(1).map((t: any) => t.text).join('')).toBe('Hello world');
  });

  it('describes the model and the server with every field of TGI\'s Info', async () => {
    const info = await call('tgi-info', null);
    expectSchema('tgi', 'Info', info);
    expect(info).toMatchObject({ model_id: LLAMA, model_sha: null, model_pipeline_tag: 'text-generation', max_best_of: 1, max_total_tokens: 2048, max_input_tokens: 2047 });
    expect((await call('tgi-info', null, GPT2)).max_total_tokens).toBe(1024);
    expect(LOCAL_ENDPOINT_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

describe('over HTTP (local-endpoint serve, in-process)', () => {
  it('serves the routes on the endpoint URL, the stream without [DONE], errors as TGI\'s {error, error_type}', async () => {
    const { serve } = await import('../../../src/node/serve.js');
    const server = await serve({ task: 'text-generation', model: LLAMA, modelsDir: '.fixtures/models', port: 0 });
    try {
      const post = (path: string, body: unknown) =>
        fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const body = { inputs: PROMPT, parameters: { max_new_tokens: 5, details: true } };
      const generated = await (await post('/generate', body)).json();
      expectSchema('tgi', 'GenerateResponse', generated);
      const response = await post('/generate_stream', body);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const events = (await response.text()).split('\n\n').filter(Boolean);
      expect(events.every((e) => e.startsWith('data: {'))).toBe(true); // no [DONE]
      const messages = events.map((e) => JSON.parse(e.slice(6)));
      messages.forEach((m) => expectSchema('tgi', 'StreamResponse', m));
      expect(messages.at(-1).generated_text).toBe(generated.generated_text);
      expectSchema('tgi', 'TokenizeResponse', await (await post('/tokenize', { inputs: PROMPT })).json());
      expectSchema('tgi', 'Info', await (await fetch(`${server.url}/info`)).json());
      const refused = await post('/generate', { inputs: PROMPT, parameters: { top_n_tokens: 9 } });
      expect(refused.status).toBe(400);
      const error = await refused.json();
      expectSchema('tgi', 'ErrorResponse', error);
      expect(error.error).toMatch(/top_n_tokens must be an integer from 0 to 5, got 9/);
    } finally {
      await server.close();
    }
  });
});
