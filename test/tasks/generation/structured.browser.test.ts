/**
 * Structured output and tools in the real worker (WASM, Chromium): xgrammar is imported there on
 * the first request that needs a grammar, a json_schema answer validates, a tool call comes back as
 * `tool_calls`, and greedy answers equal the Node-served Endpoint's (global setup: `conversational`).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import Ajv from 'ajv';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { QWEN_CHAT, postJson as post } from '../../helpers.js';

const remote = inject('remote');
const URL = 'https://qwen.example.endpoints.huggingface.cloud';
const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({ engine, endpoints: { [URL]: { task: 'conversational', model: QWEN_CHAT, device: 'wasm' } } });
const ajv = new Ajv({ strict: false });

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 120 }, role: { enum: ['admin', 'user'] } },
  required: ['name', 'age', 'role'],
  additionalProperties: false,
};
const WEATHER = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 10 } }, required: ['city'], additionalProperties: false } },
};
const ASK = [{ role: 'user', content: 'What is the weather in Paris?' }];

describe('structured output in the worker', () => {
  it('a json_schema answer validates (greedy and 5 seeds), and greedy equals the Node-served answer', async () => {
    const body = { messages: ASK, temperature: 0, max_tokens: 120, response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON } } };
    const local = await post(localFetch, `${URL}/v1/chat/completions`, body);
    expect(local.status, JSON.stringify(local.body)).toBe(200);
    const content = local.body.choices[0].message.content;
    expect(ajv.validate(PERSON, JSON.parse(content)), content).toBe(true);
    const served = await post(fetch, `${remote.conversational}/v1/chat/completions`, body);
    expect(served.body.choices[0].message.content).toBe(content);
    for (const seed of [1, 2, 3, 4, 5]) {
      const sampled = await post(localFetch, `${URL}/v1/chat/completions`, { ...body, temperature: 1, seed });
      const text = sampled.body.choices[0].message.content;
      expect(ajv.validate(PERSON, JSON.parse(text)), text).toBe(true);
    }
  });

  it('a named tool call comes back as tool_calls, plain and streamed, as the Node-served one', async () => {
    const body = { messages: ASK, temperature: 0, max_tokens: 120, tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } };
    const local = await post(localFetch, `${URL}/v1/chat/completions`, body);
    expect(local.status, JSON.stringify(local.body)).toBe(200);
    const choice = local.body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    const [call] = choice.message.tool_calls;
    expect(call.function.name).toBe('get_weather');
    expect(ajv.validate(WEATHER.function.parameters, JSON.parse(call.function.arguments))).toBe(true);
    const served = await post(fetch, `${remote.conversational}/v1/chat/completions`, body);
    expect(served.body.choices[0].message.tool_calls.map((c: any) => c.function)).toEqual([call.function]);

    const response = await localFetch(`${URL}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
    const events = (await response.text()).split('\n\n').filter((e) => e.startsWith('data: ') && !e.includes('[DONE]')).map((e) => JSON.parse(e.slice(6)));
    const deltas = events.flatMap((e) => e.choices[0]?.delta.tool_calls ?? []);
    expect(deltas).toEqual([{ index: 0, id: expect.stringMatching(/^call-/), type: 'function', function: call.function }]);
    expect(events.at(-1).choices[0].finish_reason).toBe('tool_calls');
  });

  it('an uncompilable schema is a 400 naming the problem, and the worker answers the next request', async () => {
    const bad = await post(localFetch, `${URL}/v1/chat/completions`, { messages: ASK, max_tokens: 5, response_format: { type: 'json_schema', json_schema: { name: 'b', schema: { type: 'bogus' } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/Unsupported type "bogus"/);
    expect(bad.body.error).not.toMatch(/\/Users|\.cc:/);
    const next = await post(localFetch, `${URL}/v1/chat/completions`, { messages: ASK, temperature: 0, max_tokens: 120, response_format: { type: 'json_object' } });
    expect(next.status).toBe(200);
    expect(typeof JSON.parse(next.body.choices[0].message.content)).toBe('object');
  });
});
