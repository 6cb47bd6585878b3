/**
 * Generative text on decoder-only models in the worker (WASM): text-generation, conversational,
 * /v1/completions and /v1/chat/completions, through the official client's methods and raw, with
 * streaming, stop sequences, seeds, token bounds, cancellation and bad input, and greedy parity
 * with the Node-served Endpoints.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import { InferenceClient } from '@huggingface/inference';
import { LocalEndpointClient, WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { CHAT_MESSAGES, GPT2, LLAMA, QWEN_CHAT, postJson as post } from '../../helpers.js';

const remote = inject('remote');
const URLS = {
  llama: 'https://llama.example.endpoints.huggingface.cloud',
  gpt2: 'https://gpt2.example.endpoints.huggingface.cloud',
  qwen: 'https://qwen.example.endpoints.huggingface.cloud',
  classifier: 'https://classifier.example.endpoints.huggingface.cloud',
};
const PROMPT = 'The weather in Berlin';

const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [URLS.llama]: { task: 'text-generation', model: LLAMA, device: 'wasm' },
    [URLS.gpt2]: { task: 'text-generation', model: GPT2, device: 'wasm' },
    [URLS.qwen]: { task: 'conversational', model: QWEN_CHAT, device: 'wasm' },
    [URLS.classifier]: { task: 'text-classification', model: 'local-endpoint/tiny-bert-classifier', device: 'wasm' },
  },
});
const hf = (endpointUrl: string) => new InferenceClient('', { fetch: localFetch, endpointUrl });
const remoteHf = (endpointUrl: string) => new InferenceClient('', { endpointUrl });

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

describe('text-generation', () => {
  it('answers the Endpoint payload raw, with and without the prompt, identical to the Node-served Endpoint', async () => {
    const payload = { inputs: PROMPT, parameters: { max_new_tokens: 12 } };
    const full = await post(localFetch, URLS.llama, payload);
    expect(full.status).toBe(200);
    expect(full.body).toHaveLength(1);
    expect(Object.keys(full.body[0])).toEqual(['generated_text']);
    expect(full.body[0].generated_text.startsWith(PROMPT)).toBe(true);
    expect(full.body[0].generated_text.length).toBeGreaterThan(PROMPT.length + 5);

    const tail = await post(localFetch, URLS.llama, { ...payload, parameters: { max_new_tokens: 12, return_full_text: false } });
    expect(PROMPT + tail.body[0].generated_text).toBe(full.body[0].generated_text);

    // Flattened generate_kwargs mean the same.
    const nested = await post(localFetch, URLS.llama, { inputs: PROMPT, parameters: { generate_kwargs: { max_new_tokens: 12 } } });
    expect(nested.body).toEqual(full.body);

    const fromRemote = await post(fetch, remote.textGeneration, payload);
    expect(fromRemote).toEqual(full);
  });

  it('textGeneration (the client posts to /v1/completions) gives the greedy text, locally and remotely alike', async () => {
    const args = { inputs: PROMPT, parameters: { max_new_tokens: 12, do_sample: false } };
    const local = await hf(URLS.llama).textGeneration(args);
    const raw = await post(localFetch, URLS.llama, { inputs: PROMPT, parameters: { max_new_tokens: 12, return_full_text: false } });
    expect(local.generated_text).toBe(raw.body[0].generated_text);
    expect(await remoteHf(remote.textGeneration).textGeneration(args)).toEqual(local);
  });

  it('textGenerationStream yields OpenAI completion chunks whose text joins to the whole answer', async () => {
    const args = { inputs: PROMPT, parameters: { max_new_tokens: 12, do_sample: false } };
    const chunks = await collect(hf(URLS.llama).textGenerationStream(args));
    const text = chunks.map((c: any) => c.choices[0].text).join('');
    expect(text).toBe((await hf(URLS.llama).textGeneration(args)).generated_text);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks as any[]) {
      expect(c).toMatchObject({ object: 'text_completion', model: LLAMA, id: (chunks[0] as any).id });
    }
    expect(chunks.slice(0, -1).every((c: any) => c.choices[0].finish_reason === null)).toBe(true);
    expect((chunks.at(-1) as any).choices[0].finish_reason).toMatch(/^(stop|length)$/);
  });

  it('streams raw requests in TGI token format, read by the official stream reader', async () => {
    const events = await collect(hf(URLS.gpt2).streamingRequest({ inputs: PROMPT, parameters: { max_new_tokens: 6 } } as never)) as any[];
    expect(events).toHaveLength(6);
    events.forEach((e, i) => {
      expect(e.index).toBe(i);
      expect(Object.keys(e.token).sort()).toEqual(['id', 'logprob', 'special', 'text']);
      expect(e.generated_text === null).toBe(i < 5);
    });
    const last = events.at(-1);
    expect(last.generated_text).toBe(PROMPT + events.map((e) => e.token.text).join(''));
    expect(last.details).toEqual({ finish_reason: 'length', generated_tokens: 6, seed: null, input_length: expect.any(Number) });
    expect(last.details.input_length).toBeGreaterThan(0);
    // The raw answer is the same text.
    const raw = await post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 6 } });
    expect(raw.body[0].generated_text).toBe(last.generated_text);
    // The same stream from the Node-served Endpoint, over real HTTP.
    const response = await fetch(remote.textGeneration, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: PROMPT, parameters: { max_new_tokens: 6 }, stream: true }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toMatch(/^data: \{"index":0,"token":/);
  });

  it('delivers the first token while the generation is still running', async () => {
    const t0 = performance.now();
    const response = await localFetch(URLS.gpt2, {
      method: 'POST',
      body: JSON.stringify({ inputs: PROMPT, parameters: { max_new_tokens: 200 }, stream: true }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('x-compute-type')).toBe('wasm');
    const reader = response.body!.getReader();
    const arrivals: number[] = [];
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      arrivals.push(performance.now() - t0);
      text += new TextDecoder().decode(r.value);
    }
    expect(text.match(/^data: /gm)).toHaveLength(200);
    // Tokens arrive spread over the generation, not in one piece at its end: the first comes
    // before a quarter of the total time, and most reads bring one token each.
    expect(arrivals[0]!).toBeLessThan(arrivals.at(-1)! / 4);
    expect(arrivals.length).toBeGreaterThan(50);
  });

  it('cuts at stop sequences as TGI does (the stop string ends the text) and says why', async () => {
    const base = await post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 20, return_full_text: false } });
    const text: string = base.body[0].generated_text;
    const words = text.trim().split(/\s+/);
    const stop = ` ${words[3]}`;
    const cut = text.slice(0, text.indexOf(stop) + stop.length);
    const stopped = await post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 20, return_full_text: false, stop: [stop, 'never-there'] } });
    expect(stopped.body[0].generated_text).toBe(cut);
    const completion = await post(localFetch, `${URLS.gpt2}/v1/completions`, { prompt: PROMPT, max_tokens: 20, temperature: 0, stop });
    expect(completion.body.choices[0]).toMatchObject({ text: cut, finish_reason: 'stop' });
    const events = await collect(hf(URLS.gpt2).streamingRequest({ inputs: PROMPT, parameters: { max_new_tokens: 20, stop: [stop] } } as never)) as any[];
    expect(events.at(-1).details.finish_reason).toBe('stop_sequence');
    // A stop string spanning two tokens (the end of one word, the start of the next) is found too.
    const across = `${words[1]!.slice(-1)} ${words[2]!.slice(0, 1)}`;
    const spanning = await post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 20, return_full_text: false, stop: across } });
    expect(spanning.body[0].generated_text).toBe(text.slice(0, text.indexOf(across) + across.length));
  });

  it('gives the same sampled text for the same seed, and another for another seed', async () => {
    const sample = (seed: number) =>
      post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 16, do_sample: true, temperature: 1.5, seed } });
    const [a, b, c] = [await sample(7), await sample(7), await sample(8)];
    expect(a.body).toEqual(b.body);
    expect(c.body).not.toEqual(a.body);
    const greedy = await post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 16 } });
    expect(a.body).not.toEqual(greedy.body);
    // num_return_sequences, with sampling, gives that many sequences.
    const three = await post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 8, do_sample: true, num_return_sequences: 3, seed: 1 } });
    expect(three.body).toHaveLength(3);
  });

  it('bounds the generated tokens: exactly max_new_tokens when the model never stops, clamped to the context when huge', async () => {
    const five = await post(localFetch, `${URLS.gpt2}/v1/completions`, { prompt: PROMPT, max_tokens: 5, temperature: 0 });
    expect(five.body.usage.completion_tokens).toBe(5);
    expect(five.body.choices[0].finish_reason).toBe('length');
    const config = await (await fetch(`/models/${GPT2}/config.json`)).json();
    const huge = await post(localFetch, `${URLS.gpt2}/v1/completions`, { prompt: PROMPT, max_tokens: 1_000_000, temperature: 0 });
    expect(huge.status).toBe(200);
    expect(huge.body.usage.total_tokens).toBe(config.n_positions);
    expect(huge.body.choices[0].finish_reason).toBe('length');
  });
});

describe('chat', () => {
  it('chatCompletion answers in OpenAI shape with real token counts, identical to the Node-served Endpoint', async () => {
    const args = { messages: CHAT_MESSAGES, max_tokens: 40, temperature: 0 };
    const answer = await hf(URLS.llama).chatCompletion(args);
    expect(answer).toMatchObject({ object: 'chat.completion', model: LLAMA, system_fingerprint: 'local-endpoint' });
    expect(answer.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(Math.abs(answer.created - Date.now() / 1000)).toBeLessThan(60);
    expect(answer.choices).toHaveLength(1);
    expect(answer.choices[0]!.message.role).toBe('assistant');
    expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
    // tiny-llama's EOS logit grows with position: greedy chat ends on EOS.
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    const { prompt_tokens, completion_tokens, total_tokens } = answer.usage;
    expect(total_tokens).toBe(prompt_tokens + completion_tokens);
    expect(completion_tokens).toBeLessThan(40);
    const remoteAnswer = await remoteHf(remote.textGeneration).chatCompletion(args);
    expect(remoteAnswer.choices).toEqual(answer.choices);
    expect(remoteAnswer.usage).toEqual(answer.usage);
  });

  it('chatCompletionStream yields chunks ending [DONE]; they join to the whole message and count as its tokens', async () => {
    const args = { messages: CHAT_MESSAGES, max_tokens: 40, temperature: 0, stream_options: { include_usage: true } };
    const whole = await hf(URLS.llama).chatCompletion(args);
    const chunks = (await collect(hf(URLS.llama).chatCompletionStream(args))) as any[];
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual(whole.usage);
    const tokens = chunks.slice(0, -1);
    expect(tokens).toHaveLength(whole.usage.completion_tokens);
    expect(tokens.map((c) => c.choices[0].delta.content).join('')).toBe(whole.choices[0]!.message.content);
    expect(tokens.at(-1).choices[0].finish_reason).toBe('stop');
    expect(tokens.every((c) => c.object === 'chat.completion.chunk' && c.choices[0].delta.role === 'assistant')).toBe(true);
    // On the wire, the stream ends with the [DONE] sentinel.
    const raw = await (await localFetch(`${URLS.llama}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...args, stream: true }) })).text();
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('conversational answers the Endpoint payload with the reply appended, using the real Qwen3 template', async () => {
    const raw = await post(localFetch, URLS.qwen, { inputs: CHAT_MESSAGES, parameters: { max_new_tokens: 10 } });
    expect(raw.status).toBe(200);
    const [{ generated_text: messages }] = raw.body;
    expect(messages.slice(0, 1)).toEqual(CHAT_MESSAGES);
    expect(messages[1]).toEqual({ role: 'assistant', content: expect.any(String) });
    expect(messages[1].content.length).toBeGreaterThan(0);
    // The same reply through the chat route of the same endpoint, and from the Node-served one.
    const viaChat = await hf(URLS.qwen).chatCompletion({ messages: CHAT_MESSAGES, max_tokens: 10, temperature: 0 });
    expect(viaChat.choices[0]!.message.content).toBe(messages[1].content);
    expect(await post(fetch, remote.conversational, { inputs: CHAT_MESSAGES, parameters: { max_new_tokens: 10 } })).toEqual(raw);
    // The rendered prompt is Qwen's ChatML: more tokens than the words sent.
    expect(viaChat.usage.prompt_tokens).toBeGreaterThan(10);
  });

  it('refuses chat input for a model without a chat template, naming the problem', async () => {
    const r = await post(localFetch, `${URLS.gpt2}/v1/chat/completions`, { messages: CHAT_MESSAGES });
    // The /v1 routes are TGI's: its error shape.
    expect(r).toEqual({ status: 400, body: { error: expect.stringMatching(/no chat template/), error_type: 'validation' } });
    await expect(hf(URLS.gpt2).chatCompletion({ messages: CHAT_MESSAGES })).rejects.toThrow(/no chat template/);
  });
});

describe('LocalEndpointClient', () => {
  it('offers the generation methods, streams as async iterators, and routes locally', async () => {
    const client = new LocalEndpointClient({ mode: 'local', model: LLAMA, device: 'wasm', engine });
    const chat = await client.chatCompletion({ messages: CHAT_MESSAGES, max_tokens: 8, temperature: 0 });
    let streamed = '';
    for await (const chunk of client.chatCompletionStream({ messages: CHAT_MESSAGES, max_tokens: 8, temperature: 0 })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe(chat.choices[0]!.message.content);
    expect(client.lastRoute).toMatchObject({ path: 'local', device: 'wasm' });
    const text = await client.textGeneration({ inputs: PROMPT, parameters: { max_new_tokens: 6, do_sample: false } });
    let pieces = '';
    for await (const chunk of client.textGenerationStream({ inputs: PROMPT, parameters: { max_new_tokens: 6, do_sample: false } })) {
      pieces += (chunk as any).choices[0].text;
    }
    expect(pieces).toBe(text.generated_text);
    // Leaving the loop early stops the generation (the official client alone would let it run on).
    const gpt2 = new LocalEndpointClient({ mode: 'local', model: GPT2, device: 'wasm', engine });
    const whole = performance.now();
    await gpt2.textGeneration({ inputs: PROMPT, parameters: { max_new_tokens: 1000, do_sample: false } });
    const wholeMs = performance.now() - whole;
    for await (const _ of gpt2.textGenerationStream({ inputs: PROMPT, parameters: { max_new_tokens: 1000 } })) break;
    const t0 = performance.now();
    const next = await engine.infer({ task: 'text-generation', model: GPT2, device: 'wasm', inputs: PROMPT, parameters: { max_new_tokens: 1 } });
    expect(next.ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(wholeMs / 4);
    const summarizer = new LocalEndpointClient({ mode: 'local', model: 'local-endpoint/tiny-bart', device: 'wasm', engine });
    expect(await summarizer.summarization({ inputs: 'My name is Wolfgang and I live in Berlin' })).toEqual({ summary_text: expect.any(String) });
  });
});

describe('cancellation', () => {
  it('an abort mid-stream stops generation within a token, and the next request runs at once', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const stream = hf(URLS.gpt2).textGenerationStream({ inputs: PROMPT, parameters: { max_new_tokens: 200 } }, { signal: controller.signal });
    const started = performance.now();
    await expect((async () => {
      for await (const chunk of stream) {
        seen.push(performance.now() - started);
        if (seen.length === 3) controller.abort();
      }
    })()).rejects.toThrow(/abort/i);
    expect(seen).toHaveLength(3);
    const perToken = (seen[2]! - seen[0]!) / 2;
    // The worker stopped: the next request waits for at most about one more token.
    const next = await engine.infer({ task: 'text-generation', model: GPT2, device: 'wasm', inputs: PROMPT, parameters: { max_new_tokens: 1 } });
    expect(next.ok).toBe(true);
    if (next.ok) expect(next.waitMs).toBeLessThan(Math.max(50, 3 * perToken));
  });

  it('without shared memory, the worker yields between tokens and still stops within one', async () => {
    const messageOnly = new WorkerEngine({ sharedCancel: false });
    try {
      const fetchMessages = createLocalFetch({ engine: messageOnly, endpoints: { [URLS.gpt2]: { task: 'text-generation', model: GPT2, device: 'wasm' } } });
      const controller = new AbortController();
      let seen = 0;
      const stream = new InferenceClient('', { fetch: fetchMessages, endpointUrl: URLS.gpt2 })
        .textGenerationStream({ inputs: PROMPT, parameters: { max_new_tokens: 500 } }, { signal: controller.signal });
      await expect((async () => {
        for await (const _ of stream) if (++seen === 3) controller.abort();
      })()).rejects.toThrow(/abort/i);
      // A status request waits for the worker: it answers as soon as the generation has stopped.
      const t0 = performance.now();
      const status = await messageOnly.status();
      expect(status.pipelines[0]!.queued).toBe(0);
      expect(performance.now() - t0).toBeLessThan(500);
    } finally {
      messageOnly.terminate();
    }
  });

  it('an abort while queued never runs the request; the others complete', async () => {
    const long = post(localFetch, URLS.gpt2, { inputs: PROMPT, parameters: { max_new_tokens: 60 } });
    const controller = new AbortController();
    const queued = localFetch(URLS.gpt2, { method: 'POST', body: JSON.stringify({ inputs: 'queued', parameters: { max_new_tokens: 60 } }), signal: controller.signal });
    const after = post(localFetch, URLS.gpt2, { inputs: 'after', parameters: { max_new_tokens: 3 } });
    controller.abort();
    await expect(queued).rejects.toThrow(/abort/i);
    const [a, c] = await Promise.all([long, after]);
    expect(a.status).toBe(200);
    expect(c.status).toBe(200);
    expect(c.body[0].generated_text.startsWith('after')).toBe(true);
  });

  it('keeps memory flat over 100 aborted generations', async () => {
    // The worker's JS heap after a full GC, read through the DevTools protocol.
    const measure = async () => (await commands.workerHeaps('worker/index')).reduce((sum, w) => sum + w.usedBytes, 0);
    const abortOne = async () => {
      const controller = new AbortController();
      const response = await localFetch(URLS.gpt2, { method: 'POST', body: JSON.stringify({ inputs: PROMPT, parameters: { max_new_tokens: 100 }, stream: true }), signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.read().catch(() => undefined);
    };
    for (let i = 0; i < 10; i++) await abortOne(); // warm up
    const before = await measure();
    for (let i = 0; i < 100; i++) await abortOne();
    const after = await measure();
    // Flat: well under what 100 leaked generations would hold (each has a KV cache and tensors).
    console.log(`worker heap over 100 aborted generations: ${before} → ${after} bytes`);
    expect(before).toBeGreaterThan(1024 * 1024);
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
    const status = await engine.status();
    expect(status.pipelines.every((p) => p.queued === 0)).toBe(true);
  });
});

describe('bad input', () => {
  it.each([
    ['a bad role', `/v1/chat/completions`, { messages: [{ role: 'wizard', content: 'hi' }] }, /role must be one of/],
    ['non-string content', `/v1/chat/completions`, { messages: [{ role: 'user', content: { text: 'hi' } }] }, /content must be a string, got an object/],
    ['negative max_tokens', `/v1/completions`, { prompt: 'hi', max_tokens: -1 }, /max_new_tokens must be an integer of at least 1, got -1/],
    ['negative max_new_tokens', '', { inputs: 'hi', parameters: { max_new_tokens: -5 } }, /max_new_tokens must be an integer of at least 1, got -5/],
    ['a prompt longer than the context', '', { inputs: 'word '.repeat(5000) }, /The prompt has \d+ tokens, but this model's context holds \d+/],
    ['an empty prompt', '', { inputs: '' }, /inputs must not be empty/],
    ['a non-boolean stream', '', { inputs: 'hi', stream: 1 }, /"stream" must be a boolean/],
  ])('%s gets a 400 naming it, and the next request works', async (_, route, body, message) => {
    const r = await post(localFetch, `${URLS.llama}${route}`, body);
    // The Endpoint's own route answers {error}; TGI's /v1 routes add TGI's error_type.
    expect(r).toEqual({ status: 400, body: { error: expect.stringMatching(message), ...(route ? { error_type: 'validation' } : {}) } });
    const ok = await post(localFetch, URLS.llama, { inputs: PROMPT, parameters: { max_new_tokens: 2 } });
    expect(ok.status).toBe(200);
  });

  it('a long prompt with truncate keeps the last tokens and answers', async () => {
    const r = await post(localFetch, `${URLS.llama}/v1/completions`, { prompt: 'word '.repeat(5000), max_tokens: 3, temperature: 0, truncate: 100 });
    expect(r.status).toBe(200);
    expect(r.body.usage.prompt_tokens).toBe(100);
  });

  it('"stream": true on a task that cannot stream gets a 400', async () => {
    const r = await post(localFetch, URLS.classifier, { inputs: 'I love you', stream: true });
    expect(r).toEqual({ status: 400, body: { error: 'text-classification cannot stream: drop "stream": true.' } });
    const chat = await post(localFetch, URLS.qwen, { inputs: CHAT_MESSAGES, stream: true });
    expect(chat).toEqual({ status: 400, body: { error: expect.stringMatching(/conversational cannot stream.*\/v1\/chat\/completions/) } });
  });

  it('the OpenAI generation routes exist only on generative endpoints: a 404 listing the routes served', async () => {
    const r = await post(localFetch, `${URLS.classifier}/v1/chat/completions`, { messages: CHAT_MESSAGES });
    expect(r.status).toBe(404);
    // A classifier is a TEI endpoint: TEI's error shape, and TEI's routes listed.
    expect(r.body).toEqual({ error: expect.stringMatching(/^No route POST \/v1\/chat\/completions on this text-classification endpoint\. It serves: .*POST \/predict.*POST \/tokenize/), error_type: 'Validation' });
  });
});

describe('WebGPU', () => {
  it('gives the same greedy tokens as WASM, streamed', async () => {
    const gpu = new WorkerEngine();
    try {
      const fetchGpu = createLocalFetch({ engine: gpu, endpoints: { [URLS.llama]: { task: 'text-generation', model: LLAMA, device: 'webgpu' } } });
      const args = { messages: CHAT_MESSAGES, max_tokens: 6, temperature: 0 };
      const onGpu = (await collect(new InferenceClient('', { fetch: fetchGpu, endpointUrl: URLS.llama }).chatCompletionStream(args))) as any[];
      const onWasm = (await collect(hf(URLS.llama).chatCompletionStream(args))) as any[];
      expect(onGpu.map((c) => c.choices[0].delta.content)).toEqual(onWasm.map((c) => c.choices[0].delta.content));
      expect((await gpu.status()).pipelines[0]?.device).toBe('webgpu');
    } finally {
      gpu.terminate();
    }
  });
});
