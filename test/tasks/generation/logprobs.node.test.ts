/**
 * Log-probabilities against an independent forward pass: the whole sequence run through the model
 * at once, without a KV cache, and log-softmaxed here. Then their shapes on the OpenAI routes
 * (chat's `logprobs.content`, completions' legacy object) and the 400s of bad requests.
 */
import { describe, expect, it } from 'vitest';
import { AutoTokenizer, env, pipeline, Tensor } from '@huggingface/transformers';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { chatCompletions, completions } from '../../../src/tasks/generation/openai.js';
import { logprobHook, topIds } from '../../../src/tasks/generation/openai-logprobs.js';
import type { StreamEvent } from '../../../src/protocol/stream.js';
import { expectSchema } from '../../openapi/validate.js';
import { CHAT_MESSAGES, GPT2, LLAMA, QWEN_CHAT, expectBadRequest as rejects } from '../../helpers.js';

const MODELS = '.fixtures/models';
const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
const PROMPT = 'My name is Wolfgang and I live in';
const TOLERANCE = 1e-4;

async function call(task: string, inputs: unknown, model = LLAMA) {
  const result = await engine.infer({ task, model, endpointTask: 'text-generation', inputs: inputs as never });
  if (!result.ok) throw new Error(`${result.status}: ${result.error}`);
  return result.output as any;
}

/** log-softmax of every position of `ids`, from one forward pass without a cache. */
async function referenceLogprobs(model: string, ids: number[]): Promise<Float64Array[]> {
  env.localModelPath = `${MODELS}/`;
  env.allowRemoteModels = false;
  const pipe: any = await pipeline('text-generation', model, { device: 'cpu', dtype: 'fp32' });
  const dims = [1, ids.length];
  const out = await pipe.model.forward({
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), dims),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims),
  });
  const vocab = out.logits.dims.at(-1);
  const data = out.logits.data as Float32Array;
  await pipe.dispose();
  return ids.map((_, i) => {
    const row = Float64Array.from(data.subarray(i * vocab, (i + 1) * vocab));
    const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
    const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    return row.map((v) => v - logZ);
  });
}

describe('log-probabilities', () => {
  it.each([LLAMA, GPT2, QWEN_CHAT])('equal a forward pass without cache, prompt and generated tokens (%s)', async (model) => {
    for (const parameters of [
      { max_new_tokens: 10, do_sample: false },
      // Sampling settings change the choice, not the model's probability of the token chosen.
      { max_new_tokens: 10, do_sample: true, temperature: 1.7, top_k: 20, top_p: 0.9, repetition_penalty: 1.3, seed: 3 },
    ]) {
      const { details } = await call('tgi-generate', { inputs: PROMPT, parameters: { ...parameters, decoder_input_details: true, top_n_tokens: 5 } }, model);
      const promptIds = details.prefill.map((t: any) => t.id);
      const ids = [...promptIds, ...details.tokens.map((t: any) => t.id)];
      const reference = await referenceLogprobs(model, ids);
      let worst = 0;
      let sum = 0;
      let referenceSum = 0;
      details.prefill.slice(1).forEach((t: any, i: number) => {
        worst = Math.max(worst, Math.abs(t.logprob - reference[i]![t.id]!));
      });
      details.tokens.forEach((t: any, i: number) => {
        const row = reference[promptIds.length - 1 + i]!;
        worst = Math.max(worst, Math.abs(t.logprob - row[t.id]!));
        sum += t.logprob;
        referenceSum += row[t.id]!;
        // The top 5, in order, as the reference ranks them.
        const top = details.top_tokens[i];
        expect(top.map((x: any) => x.id)).toEqual(topIds(Float32Array.from(row), 5));
        top.forEach((x: any) => (worst = Math.max(worst, Math.abs(x.logprob - row[x.id]!))));
        if (!parameters.do_sample) expect(top[0].id).toBe(t.id);
      });
      expect(worst).toBeLessThan(TOLERANCE);
      expect(Math.abs(sum - referenceSum)).toBeLessThan(TOLERANCE * details.tokens.length);
      console.log(`${model} ${parameters.do_sample ? 'sampled' : 'greedy'}: ${ids.length} tokens, max |Δ logprob| ${worst.toExponential(2)}, Σ ${sum.toFixed(5)} vs ${referenceSum.toFixed(5)}`);
    }
  });
});

describe('the prompt\'s log-probabilities without the first step\'s logits', () => {
  it('are scored by a forward pass of their own (models that keep only the last position\'s logits)', async () => {
    env.localModelPath = `${MODELS}/`;
    env.allowRemoteModels = false;
    const pipe: any = await pipeline('text-generation', LLAMA, { device: 'cpu', dtype: 'fp32' });
    const ids = pipe.tokenizer.encode(PROMPT) as number[];
    const prefill = await logprobHook(pipe, 0, true).prefill(ids);
    await pipe.dispose();
    const reference = await referenceLogprobs(LLAMA, ids);
    expect(prefill.map((t) => t.id)).toEqual(ids);
    expect(prefill[0]!.logprob).toBeNull();
    for (let i = 1; i < ids.length; i++) expect(Math.abs(prefill[i]!.logprob! - reference[i - 1]![ids[i]!]!)).toBeLessThan(TOLERANCE);
  });
});

describe('OpenAI logprobs', () => {
  it('chat: logprobs.content per token, top_logprobs sorted and of the asked length, streamed the same', async () => {
    const body = { messages: CHAT_MESSAGES, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 4 };
    const answer = await call('chat-completions', body, QWEN_CHAT);
    expectSchema('tgi', 'ChatCompletion', answer);
    const { content } = answer.choices[0].logprobs;
    expect(content.map((c: any) => c.token).join('')).toBe(answer.choices[0].message.content);
    for (const c of content) {
      expect(c.top_logprobs).toHaveLength(4);
      expect(c.top_logprobs[0]).toEqual({ token: c.token, logprob: c.logprob, bytes: c.bytes });
      for (let i = 1; i < 4; i++) expect(c.top_logprobs[i - 1].logprob).toBeGreaterThanOrEqual(c.top_logprobs[i].logprob);
      expect(c.bytes).toEqual([...new TextEncoder().encode(c.token)]);
    }
    // The same values as TGI's details of the same prompt (Qwen3 adds no BOS: the same ids).
    const tokenizer = await AutoTokenizer.from_pretrained(QWEN_CHAT);
    const rendered = tokenizer.apply_chat_template(CHAT_MESSAGES as never, { tokenize: false, add_generation_prompt: true }) as string;
    const generate = await call('tgi-generate', { inputs: rendered, parameters: { max_new_tokens: 8, details: true } }, QWEN_CHAT);
    const plain = generate.details.tokens.filter((t: any) => !t.special);
    expect(content.map((c: any) => c.logprob)).toEqual(plain.map((t: any) => t.logprob));

    // Streamed: each chunk carries its token's entry.
    const parsed = chatCompletions.parse({ inputs: { ...body, stream: true } });
    const meta = { model: QWEN_CHAT, id: 'chatcmpl-1', created: 0, promptTokens: 0 };
    const chunks: any[] = [];
    await engine.infer({ task: 'chat-completions', model: QWEN_CHAT, inputs: { ...body, stream: true } as never }, undefined, (e) => {
      if ((e as StreamEvent).type === 'token') chunks.push(...chatCompletions.stream!.token(e as never, parsed, meta));
    });
    for (const chunk of chunks) expectSchema('tgi', 'ChatCompletionChunk', chunk);
    expect(chunks.flatMap((c) => c.choices[0].logprobs.content)).toEqual(content);
    // Not asked: null, as before.
    const without = await call('chat-completions', { messages: CHAT_MESSAGES, max_tokens: 2, temperature: 0 }, QWEN_CHAT);
    expect(without.choices[0].logprobs).toBeNull();
  });

  it('completions: the legacy {tokens, token_logprobs, top_logprobs, text_offset}', async () => {
    const answer = await call('completions', { prompt: PROMPT, max_tokens: 8, temperature: 0, logprobs: 3 }, GPT2);
    const { logprobs, text, ...choice } = answer.choices[0];
    // TGI's schema types `logprobs` as a list of numbers (TGI sends null): the rest is checked against it.
    expectSchema('tgi', 'CompletionFinal', { ...answer, choices: [{ ...choice, text, logprobs: null }] });
    expect(logprobs.tokens.join('')).toBe(text);
    expect(logprobs.token_logprobs).toHaveLength(logprobs.tokens.length);
    logprobs.tokens.forEach((token: string, i: number) => {
      expect(text.slice(logprobs.text_offset[i], logprobs.text_offset[i] + token.length)).toBe(token);
      const top = Object.values(logprobs.top_logprobs[i]) as number[];
      expect(top.length).toBeGreaterThanOrEqual(1); // tokens of the same text share a key
      expect(Math.max(...top)).toBe(logprobs.token_logprobs[i]);
    });
    const generate = await call('tgi-generate', { inputs: PROMPT, parameters: { max_new_tokens: 8, details: true } }, GPT2);
    expect(logprobs.token_logprobs).toEqual(generate.details.tokens.map((t: any) => t.logprob));
  });

  it('refuses bad logprobs requests with a 400 naming the field', () => {
    const chat = (extra: Record<string, unknown>) => () => chatCompletions.parse({ inputs: { messages: CHAT_MESSAGES, ...extra } });
    const completion = (extra: Record<string, unknown>) => () => completions.parse({ inputs: { prompt: 'x', ...extra } });
    rejects(chat({ logprobs: true, top_logprobs: 21 }), /top_logprobs must be an integer from 0 to 20, got 21/);
    rejects(chat({ top_logprobs: 2 }), /top_logprobs needs "logprobs": true/);
    rejects(chat({ logprobs: false, top_logprobs: 2 }), /top_logprobs needs "logprobs": true/);
    rejects(chat({ logprobs: 'yes' }), /logprobs must be a boolean/);
    rejects(chat({ logprobs: true, top_logprobs: 1.5 }), /top_logprobs must be an integer/);
    rejects(completion({ logprobs: 6 }), /logprobs must be an integer from 0 to 5, got 6/);
    rejects(completion({ logprobs: true }), /logprobs must be an integer from 0 to 5/);
    rejects(completion({ top_logprobs: 2 }), /top_logprobs is a \/v1\/chat\/completions field/);
    rejects(completion({ logprobs: 2, echo: true }), /"echo": true is not supported/);
    expect(chatCompletions.parse({ inputs: { messages: CHAT_MESSAGES, logprobs: true } }).logprobs).toEqual({ top: 0 });
    expect(completions.parse({ inputs: { prompt: 'x', logprobs: 0 } }).logprobs).toEqual({ top: 0 });
  });
});
