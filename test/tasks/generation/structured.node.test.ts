/**
 * Structured output and tools by constrained decoding, on the fixture models in Node: every JSON
 * answer parses and validates against its schema (Ajv), over many seeds, greedy and sampled; tool
 * calls come back as OpenAI's `tool_calls`; bad requests are 400s that name the problem. In the
 * engine in-process, then over HTTP (`serve`) with the real `openai` SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { AutoTokenizer } from '@huggingface/transformers';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { serve, type RunningServer } from '../../../src/node/serve.js';
import { readStructured } from '../../../src/tasks/generation/structured.js';
import { readToolCalls, visibleBeforeCall } from '../../../src/tasks/generation/tool-call-text.js';
import { GPT2, LLAMA, QWEN_CHAT } from '../../helpers.js';

const MODELS = '.fixtures/models';
const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
const ajv = new Ajv({ strict: false });
const SEEDS = Array.from({ length: 20 }, (_, i) => i * 7 + 1);
/** The loops over seeds run many generations: a loaded machine (2 cores, shared) needs room. */
const LONG = 300_000;

/** Strings and numbers bounded, so that an answer always fits in the budget. */
const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 12 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    role: { enum: ['admin', 'user', 'guest'] },
    active: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 3 },
    address: { type: 'object', properties: { city: { type: 'string', maxLength: 10 } }, required: ['city'], additionalProperties: false },
  },
  required: ['name', 'age', 'role', 'active', 'address'],
  additionalProperties: false,
};
const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city.',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 10 }, unit: { enum: ['c', 'f'] } }, required: ['city', 'unit'], additionalProperties: false },
  },
} as const;
const TIME = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', maxLength: 8 } }, required: ['zone'] } },
} as const;
const ASK = [{ role: 'user', content: 'What is the weather in Paris?' }];

async function chat(inputs: Record<string, unknown>, model = QWEN_CHAT) {
  return (await engine.infer({ task: 'chat-completions', model, inputs: { messages: ASK, ...inputs } })) as any;
}

function validJSON(text: string, schema: object): unknown {
  const value = JSON.parse(text);
  const validate = ajv.compile(schema);
  expect(validate(value), `${text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return value;
}

describe('response_format (engine)', () => {
  it.each([
    ['greedy', { temperature: 0 }, 20],
    ['sampled', { temperature: 1 }, 20],
    ['sampled, top_p and top_k', { temperature: 1.3, top_p: 0.9, top_k: 20 }, 10],
  ])('json_schema answers validate across seeds, %s (Qwen3 chat)', async (_, sampling, seeds) => {
    for (const seed of SEEDS.slice(0, seeds)) {
      const result = await chat({ ...sampling, seed, max_tokens: 200, response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON, strict: true } } });
      expect(result.ok, result.error).toBe(true);
      const choice = result.output.choices[0];
      expect(choice.finish_reason).toBe('stop');
      validJSON(choice.message.content, PERSON);
    }
  }, LONG);

  it('json_object answers are JSON objects; TGI\'s {type: "json", value} takes a schema', async () => {
    for (const seed of SEEDS.slice(0, 8)) {
      const result = await chat({ seed, max_tokens: 120, response_format: { type: 'json_object' } });
      expect(result.ok, result.error).toBe(true);
      const { content } = result.output.choices[0].message;
      if (result.output.choices[0].finish_reason === 'stop') expect(typeof JSON.parse(content)).toBe('object');
      else expect(content.startsWith('{')).toBe(true); // an open-ended object may meet the budget
      const tgi = await chat({ seed, max_tokens: 200, response_format: { type: 'json', value: PERSON } });
      validJSON(tgi.output.choices[0].message.content, PERSON);
    }
  }, LONG);

  it('{type: "text"} is free generation, as without response_format', async () => {
    const free = await chat({ temperature: 0, max_tokens: 12 });
    const text = await chat({ temperature: 0, max_tokens: 12, response_format: { type: 'text' } });
    expect(text.output.choices[0].message.content).toBe(free.output.choices[0].message.content);
  });

  it('/v1/completions takes response_format (gpt2 and llama vocabularies), n > 1 too', async () => {
    for (const model of [GPT2, LLAMA]) {
      for (const seed of SEEDS.slice(0, 10)) {
        const result = (await engine.infer({
          task: 'completions',
          model,
          inputs: { prompt: 'The person:', seed, n: 2, max_tokens: 200, response_format: { type: 'json_schema', json_schema: { name: 'p', schema: PERSON } } },
        })) as any;
        expect(result.ok, result.error).toBe(true);
        for (const choice of result.output.choices) validJSON(choice.text, PERSON);
      }
    }
  }, LONG);

  it('an unbounded string is closed before the budget ends (the last quarter prefers closing tokens)', async () => {
    const schema = { type: 'object', properties: { text: { type: 'string' }, n: { type: 'integer' } }, required: ['text', 'n'] };
    for (const seed of SEEDS) {
      const result = await chat({ seed, temperature: 1, max_tokens: 48, response_format: { type: 'json_schema', json_schema: { name: 's', schema } } });
      expect(result.output.choices[0].finish_reason).toBe('stop');
      validJSON(result.output.choices[0].message.content, schema);
    }
  }, LONG);

  it('a budget too small for the answer ends with finish_reason "length" and the JSON cut, as OpenAI does', async () => {
    const result = await chat({ temperature: 0, max_tokens: 3, response_format: { type: 'json_schema', json_schema: { name: 'p', schema: PERSON } } });
    expect(result.output.choices[0].finish_reason).toBe('length');
    expect(result.output.choices[0].message.content.startsWith('{')).toBe(true);
  });

  it('a schema xgrammar cannot compile is a 400 naming the problem (no path of the build), and the next request works', async () => {
    const bad = await chat({ max_tokens: 5, response_format: { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'bogus' } } } });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatch(/Unsupported type "bogus"/);
    expect(bad.error).not.toMatch(/\/Users|\.cc:|Aborted/);
    const next = await chat({ temperature: 0, max_tokens: 200, response_format: { type: 'json_schema', json_schema: { name: 'p', schema: PERSON } } });
    validJSON(next.output.choices[0].message.content, PERSON);
    const badTool = await chat({ max_tokens: 5, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { x: { type: 'bogus' } } } } }], tool_choice: 'required' });
    expect(badTool.status).toBe(400);
    expect(badTool.error).toMatch(/tool.*Unsupported type "bogus"/);
  }, LONG);

  it.each([
    ['response_format not an object', { response_format: 'json' }, /response_format must be an object/],
    ['unknown response_format type', { response_format: { type: 'xml' } }, /response_format.type must be/],
    ['json_schema without an object', { response_format: { type: 'json_schema', json_schema: 3 } }, /json_schema must be an object/],
    ['schema not an object', { response_format: { type: 'json_schema', json_schema: { name: 'a', schema: [1] } } }, /schema must be a JSON Schema object/],
    ['the deprecated functions', { functions: [{ name: 'f' }] }, /functions .*not supported/],
    ['a keyword xgrammar drops (multipleOf)', { response_format: { type: 'json', value: { type: 'object', properties: { n: { type: 'integer', multipleOf: 3 } } } } }, /uses "multipleOf" at \/properties\/n, which constrained decoding does not enforce/],
    ['uniqueItems deep inside', { response_format: { type: 'json', value: { type: 'object', properties: { a: { type: 'array', items: { type: 'array', uniqueItems: true } } } } } }, /"uniqueItems" at \/properties\/a\/items/],
    ['bounds on a number', { response_format: { type: 'json', value: { type: 'number', maximum: 3 } } }, /"maximum", on a type other than "integer"/],
    ['allOf of two schemas', { response_format: { type: 'json', value: { allOf: [{ type: 'object' }, { required: ['a'] }] } } }, /"allOf", with more than one schema/],
    ['not, in a tool\'s parameters', { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { not: { type: 'null' } } } } } }] }, /tools\[0\].function.parameters uses "not" at \/properties\/a/],
  ])('%s is a 400', async (_, body, message) => {
    const result = await chat({ max_tokens: 5, ...body });
    expect(result.status).toBe(400);
    expect(result.error).toMatch(message);
  });
});

describe('tools (engine)', () => {
  it.each([
    ['named', { type: 'function', function: { name: 'get_weather' } }],
    ['required', 'required'],
  ])('tool_choice %s: a call of a listed function whose arguments validate, for 20 seeds greedy and sampled', async (_, tool_choice) => {
    for (const [seed, temperature] of [[0, 0] as const, ...SEEDS.map((s) => [s, 1] as const)]) {
      const result = await chat({ seed, temperature, max_tokens: 200, tools: [WEATHER, TIME], tool_choice });
      expect(result.ok, result.error).toBe(true);
      const choice = result.output.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      expect(choice.message.tool_calls.length).toBeGreaterThan(0);
      for (const call of choice.message.tool_calls) {
        expect(call).toMatchObject({ type: 'function', id: expect.stringMatching(/^call-/) });
        if (typeof tool_choice === 'object') expect(call.function.name).toBe('get_weather');
        const tool = [WEATHER, TIME].find((t) => t.function.name === call.function.name)!;
        validJSON(call.function.arguments, tool.function.parameters);
      }
    }
  }, LONG);

  it('parallel_tool_calls false: exactly one call', async () => {
    for (const seed of SEEDS.slice(0, 6)) {
      const result = await chat({ seed, max_tokens: 200, tools: [WEATHER, TIME], tool_choice: 'required', parallel_tool_calls: false });
      expect(result.output.choices[0].message.tool_calls).toHaveLength(1);
    }
  }, LONG);

  it('tool_choice auto: text or calls, in OpenAI\'s shape; none: text', async () => {
    for (const seed of SEEDS.slice(0, 6)) {
      const result = await chat({ seed, max_tokens: 60, tools: [WEATHER] });
      const choice = result.output.choices[0];
      if (choice.finish_reason === 'tool_calls') {
        for (const call of choice.message.tool_calls) validJSON(call.function.arguments, WEATHER.function.parameters);
      } else {
        expect(['stop', 'length']).toContain(choice.finish_reason);
        expect(typeof choice.message.content).toBe('string');
        expect(choice.message.tool_calls).toBeUndefined();
      }
    }
    const none = await chat({ temperature: 0, max_tokens: 10, tools: [WEATHER], tool_choice: 'none' });
    expect(none.output.choices[0].finish_reason).not.toBe('tool_calls');
    expect(typeof none.output.choices[0].message.content).toBe('string');
  }, LONG);

  it('the tools, an assistant turn with tool_calls and a tool turn go through the chat template', async () => {
    const messages = [
      ...ASK,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "c"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' },
    ];
    const result = await chat({ messages, temperature: 0, max_tokens: 4, tools: [WEATHER] });
    expect(result.ok, result.error).toBe(true);
    const tokenizer = await AutoTokenizer.from_pretrained(QWEN_CHAT);
    const rendered = tokenizer.apply_chat_template(
      [ASK[0], { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', unit: 'c' } } }] }, messages[2]] as never,
      { tokenize: false, add_generation_prompt: true, tools: [WEATHER] as never },
    ) as string;
    expect(rendered).toContain('"name": "get_weather"');
    expect(rendered).toContain('<tool_response>\n{"temperature": 21}\n</tool_response>');
    expect(rendered).toContain('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n</tool_call>');
    expect(result.output.usage.prompt_tokens).toBe(tokenizer.encode(rendered, { add_special_tokens: false }).length);
  });

  it.each([
    ['tool_choice naming an unknown function', { tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } } }, /tool_choice names the function "nope", which is not in tools/],
    ['tool_choice required without tools', { tool_choice: 'required' }, /needs tools/],
    ['tools not a list', { tools: { type: 'function' } }, /tools must be a list/],
    ['a tool of another type', { tools: [{ type: 'retrieval' }] }, /tools\[0\].type must be "function"/],
    ['a tool without a name', { tools: [{ type: 'function', function: { parameters: {} } }] }, /tools\[0\].function.name must be/],
    ['parameters not an object', { tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, /parameters must be a JSON Schema object/],
    ['two tools of one name', { tools: [WEATHER, WEATHER] }, /two functions named "get_weather"/],
    ['a bad tool_choice', { tools: [WEATHER], tool_choice: 'always' }, /tool_choice must be/],
    ['tools with response_format', { tools: [WEATHER], response_format: { type: 'json_object' } }, /cannot be combined/],
    ['bad tool_calls in the history', { messages: [{ role: 'assistant', content: null, tool_calls: [{ function: { name: 'f', arguments: '{' } }] }] }, /arguments must be a JSON string/],
  ])('%s is a 400', async (_, body, message) => {
    const result = await chat({ max_tokens: 5, ...body });
    expect(result.status).toBe(400);
    expect(result.error).toMatch(message);
  });

  it('tools on a model whose template has no tools support (Llama 3.0) or no template (gpt2) are a 400 saying so', async () => {
    const llama = await chat({ max_tokens: 5, tools: [WEATHER] }, LLAMA);
    expect(llama.status).toBe(400);
    expect(llama.error).toMatch(/chat template has no tools support/);
    const gpt2 = await chat({ max_tokens: 5, tools: [WEATHER] }, GPT2);
    expect(gpt2.status).toBe(400);
    expect(gpt2.error).toMatch(/no chat template/);
    const completion = (await engine.infer({ task: 'completions', model: GPT2, inputs: { prompt: 'Hi', tools: [WEATHER] } })) as any;
    expect(completion.status).toBe(400);
    expect(completion.error).toMatch(/tools are read on \/v1\/chat\/completions only/);
  });

  it('reads calls back from text (pure): both forms, the text outside them, and what a stream may show', () => {
    let n = 0;
    const id = () => `call-${n++}`;
    expect(readToolCalls('Sure. <tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>\n<tool_call>\n{"name": "g", "arguments": {}}\n</tool_call>', ['f', 'g'], id)).toEqual({
      content: 'Sure.',
      calls: [
        { id: 'call-0', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
        { id: 'call-1', type: 'function', function: { name: 'g', arguments: '{}' } },
      ],
    });
    expect(readToolCalls('{"name": "f", "parameters": {"b": "}"}}', ['f'], id).calls[0]!.function.arguments).toBe('{"b":"}"}');
    expect(readToolCalls('<tool_call>\n{"name": "unknown", "arguments": {}}', ['f'], id)).toEqual({ content: '<tool_call>\n{"name": "unknown", "arguments": {}}', calls: [] });
    expect(visibleBeforeCall('Hello <tool')).toBe(6);
    expect(visibleBeforeCall('Hello <tool_call>\n{')).toBe(6);
    expect(visibleBeforeCall('Hello')).toBe(5);
    expect(readStructured({ messages: [], response_format: { type: 'text' } })).toBeNull();
    expect(readStructured({ messages: [], tools: [WEATHER] })!.tools!.choice).toBe('auto');
  });
});

describe('over HTTP with the openai SDK', () => {
  let server: RunningServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await serve({ task: 'conversational', model: QWEN_CHAT, modelsDir: MODELS, port: 0 });
    client = new OpenAI({ apiKey: 'none', baseURL: `${server.url.replace(/\/$/, '')}/v1`, maxRetries: 0 });
  });
  afterAll(() => server?.close());
  const format = { type: 'json_schema', json_schema: { name: 'person', schema: PERSON, strict: true } } as const;

  it('chat.completions.create with a json_schema, plain and streamed, validates (5 seeds each)', async () => {
    for (const seed of SEEDS.slice(0, 5)) {
      const plain = await client.chat.completions.create({ model: QWEN_CHAT, messages: ASK as never, seed, max_tokens: 200, response_format: format });
      validJSON(plain.choices[0]!.message.content!, PERSON);
      const stream = await client.chat.completions.create({ model: QWEN_CHAT, messages: ASK as never, seed, max_tokens: 200, response_format: format, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      validJSON(text, PERSON);
    }
    const greedy = await client.chat.completions.create({ model: QWEN_CHAT, messages: ASK as never, temperature: 0, max_tokens: 200, response_format: format });
    const again = await client.chat.completions.create({ model: QWEN_CHAT, messages: ASK as never, temperature: 0, max_tokens: 200, response_format: format });
    expect(again.choices[0]!.message.content).toBe(greedy.choices[0]!.message.content);
  }, LONG);

  it('a named and a required tool call, plain and streamed (the SDK\'s stream helper assembles it)', async () => {
    for (const tool_choice of [{ type: 'function', function: { name: 'get_weather' } }, 'required'] as const) {
      for (const seed of SEEDS.slice(0, 3)) {
        const request = { model: QWEN_CHAT, messages: ASK as never, seed, max_tokens: 200, tools: [WEATHER, TIME] as never, tool_choice: tool_choice as never };
        const plain = await client.chat.completions.create(request);
        expect(plain.choices[0]!.finish_reason).toBe('tool_calls');
        const calls = plain.choices[0]!.message.tool_calls!;
        const runner = client.chat.completions.stream(request);
        const final = await runner.finalChatCompletion();
        expect(final.choices[0]!.finish_reason).toBe('tool_calls');
        const streamed = final.choices[0]!.message.tool_calls!;
        expect(streamed.map((c: any) => c.function)).toEqual(calls.map((c: any) => c.function));
        for (const call of streamed as any[]) {
          const tool = [WEATHER, TIME].find((t) => t.function.name === call.function.name)!;
          if (typeof tool_choice === 'object') expect(call.function.name).toBe('get_weather');
          validJSON(call.function.arguments, tool.function.parameters);
          expect(call.id).toMatch(/^call-/);
        }
      }
    }
  }, LONG);

  it('tool_choice auto: the plain and streamed answers have OpenAI\'s shape', async () => {
    const request = { model: QWEN_CHAT, messages: ASK as never, seed: 5, max_tokens: 40, tools: [WEATHER] as never };
    const plain = await client.chat.completions.create(request);
    const final = await client.chat.completions.stream(request).finalChatCompletion();
    for (const choice of [plain.choices[0]!, final.choices[0]!]) {
      expect(['stop', 'length', 'tool_calls']).toContain(choice.finish_reason);
      if (choice.finish_reason === 'tool_calls') expect(choice.message.tool_calls!.length).toBeGreaterThan(0);
      else expect(typeof (choice.message.content ?? '')).toBe('string'); // a stream that sent no text assembles to null
    }
    expect(final.choices[0]!.message.content ?? '').toEqual(plain.choices[0]!.message.content ?? '');
  });

  it('completions.create with response_format, plain and streamed', async () => {
    for (const seed of SEEDS.slice(0, 4)) {
      const plain = await client.completions.create({ model: QWEN_CHAT, prompt: 'A person:', seed, max_tokens: 200, response_format: format } as never);
      validJSON((plain as any).choices[0].text, PERSON);
      const stream = await client.completions.create({ model: QWEN_CHAT, prompt: 'A person:', seed, max_tokens: 200, response_format: format, stream: true } as never);
      let text = '';
      for await (const chunk of stream as any) text += chunk.choices[0]?.text ?? '';
      validJSON(text, PERSON);
    }
  }, LONG);

  it('bad requests are 400s through the SDK', async () => {
    const bad = (body: object) => client.chat.completions.create({ model: QWEN_CHAT, messages: ASK as never, max_tokens: 5, ...body } as never);
    await expect(bad({ response_format: { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'bogus' } } } })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/Unsupported type \\?"bogus/) });
    await expect(bad({ tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } } })).rejects.toMatchObject({ status: 400 });
    await expect(bad({ tools: [{ type: 'function', function: { name: 'bad name!' } }] })).rejects.toMatchObject({ status: 400 });
  });
});
