/**
 * The real `openai` npm SDK on the page, with `fetch: createLocalFetch(...)`: every method the
 * OpenAI routes serve (chat plain, streamed, with a JSON schema and with tools; completions;
 * embeddings as floats and base64; models), answered by the worker (WASM), with greedy parity to
 * the Node-served Endpoints, and nothing sent off the page's origin.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import OpenAI from 'openai';
import Ajv from 'ajv';
import { WorkerEngine, createLocalFetch } from '../../src/index.js';
import { CHAT_MESSAGES, ENCODER, LLAMA, QWEN_CHAT, maxAbsDiff } from '../helpers.js';

const remote = inject('remote');
const URLS = {
  chat: 'https://chat.example.endpoints.huggingface.cloud',
  completions: 'https://llama.example.endpoints.huggingface.cloud',
  embedder: 'https://embedder.example.endpoints.huggingface.cloud',
};

const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [URLS.chat]: { task: 'conversational', model: QWEN_CHAT, device: 'wasm' },
    [URLS.completions]: { task: 'text-generation', model: LLAMA, device: 'wasm' },
    [URLS.embedder]: { task: 'sentence-embeddings', model: ENCODER, device: 'wasm' },
  },
});
const local = (url: string) => new OpenAI({ apiKey: 'none', baseURL: `${url}/v1`, fetch: localFetch, dangerouslyAllowBrowser: true, maxRetries: 0 });
const served = (url: string) => new OpenAI({ apiKey: 'none', baseURL: `${url}/v1`, dangerouslyAllowBrowser: true, maxRetries: 0 });

const ajv = new Ajv({ strict: false });
const WEATHER = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 12 }, celsius: { type: 'integer', minimum: -50, maximum: 50 }, sunny: { type: 'boolean' } },
  required: ['city', 'celsius', 'sunny'],
  additionalProperties: false,
};
const TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city', 'unit'] },
    },
  },
];

describe('the openai SDK through the local fetch, in the worker', () => {
  it('chat.completions.create answers as the Node-served Endpoint does (greedy), plain and streamed', async () => {
    const body = { model: QWEN_CHAT, messages: CHAT_MESSAGES as OpenAI.ChatCompletionMessageParam[], max_tokens: 8, temperature: 0 };
    const answer = await local(URLS.chat).chat.completions.create(body);
    expect(answer.object).toBe('chat.completion');
    expect(answer.usage?.completion_tokens).toBe(8);
    const remoteAnswer = await served(remote.conversational).chat.completions.create(body);
    expect(answer.choices[0]!.message.content).toBe(remoteAnswer.choices[0]!.message.content);

    const stream = await local(URLS.chat).chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(answer.choices[0]!.message.content);
    expect(usage?.completion_tokens).toBe(8);
  });

  it('response_format json_schema: the answer parses and validates, sampled with several seeds', async () => {
    const validate = ajv.compile(WEATHER);
    for (const seed of [1, 2, 3]) {
      const answer = await local(URLS.chat).chat.completions.create({
        model: QWEN_CHAT,
        messages: [{ role: 'user', content: 'The weather in Paris, as JSON.' }],
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: WEATHER, strict: true } },
        max_tokens: 80,
        seed,
      });
      const content = answer.choices[0]!.message.content!;
      expect(validate(JSON.parse(content)), `${content} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('tools with tool_choice required: a tool call whose arguments validate, plain and through the stream helper', async () => {
    const validate = ajv.compile(TOOLS[0]!.function.parameters);
    const body = { model: QWEN_CHAT, messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }], tools: TOOLS, tool_choice: 'required' as const, max_tokens: 80, temperature: 0 };
    const answer = await local(URLS.chat).chat.completions.create(body);
    expect(answer.choices[0]!.finish_reason).toBe('tool_calls');
    const call = answer.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(validate(JSON.parse(call.function.arguments))).toBe(true);

    const streamed = await local(URLS.chat).chat.completions.stream(body).finalChatCompletion();
    expect(streamed.choices[0]!.finish_reason).toBe('tool_calls');
    const streamedCall = streamed.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(streamedCall.function).toEqual(call.function);
  });

  it('completions.create, plain and streamed, as the Node-served Endpoint answers', async () => {
    const body = { model: LLAMA, prompt: 'The weather in Berlin', max_tokens: 6, temperature: 0 };
    const answer = await local(URLS.completions).completions.create(body);
    expect(answer.object).toBe('text_completion');
    const remoteAnswer = await served(remote.textGeneration).completions.create(body);
    expect(answer.choices[0]!.text).toBe(remoteAnswer.choices[0]!.text);
    let text = '';
    for await (const chunk of await local(URLS.completions).completions.create({ ...body, stream: true })) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(answer.choices[0]!.text);
  });

  it('embeddings.create as floats, as base64 (little-endian float32), and by default (base64 the SDK decodes): equal, and equal to Node’s', async () => {
    const input = ['The weather in Berlin', 'A sunny day'];
    const floats = await local(URLS.embedder).embeddings.create({ model: ENCODER, input, encoding_format: 'float' });
    // Asked for explicitly, base64 comes back as the string; by default the SDK asks for it and decodes it.
    const base64 = await local(URLS.embedder).embeddings.create({ model: ENCODER, input, encoding_format: 'base64' });
    const byDefault = await local(URLS.embedder).embeddings.create({ model: ENCODER, input });
    const node = await served(remote.sentenceEmbeddings).embeddings.create({ model: ENCODER, input, encoding_format: 'float' });
    const decode = (text: string) => Array.from(new Float32Array(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer));
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    for (const i of [0, 1]) {
      expect(floats.data[i]!.embedding).toHaveLength(32);
      expect(typeof base64.data[i]!.embedding).toBe('string');
      expect(maxAbsDiff(floats.data[i]!.embedding, decode(base64.data[i]!.embedding as unknown as string))).toBe(0);
      expect(maxAbsDiff(floats.data[i]!.embedding, byDefault.data[i]!.embedding)).toBe(0);
      expect(maxAbsDiff(floats.data[i]!.embedding, node.data[i]!.embedding)).toBeLessThan(1e-4);
    }
    expect(floats.usage.prompt_tokens).toBe(node.usage.prompt_tokens);
  });

  it('models.list names each endpoint’s model, and nothing left the page’s origin', async () => {
    await commands.startNetworkRecording();
    const ids: string[] = [];
    for (const url of Object.values(URLS)) for await (const m of local(url).models.list()) ids.push(m.id);
    await local(URLS.chat).chat.completions.create({ model: QWEN_CHAT, messages: CHAT_MESSAGES as never, max_tokens: 2 });
    await local(URLS.embedder).embeddings.create({ model: ENCODER, input: 'x' });
    const requests = await commands.stopNetworkRecording();
    expect(ids).toEqual([QWEN_CHAT, LLAMA, ENCODER]);
    expect(requests.filter((r) => new URL(r).origin !== location.origin)).toEqual([]);
  });
});
