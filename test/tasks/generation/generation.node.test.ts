/**
 * The generation core on real models in Node (onnxruntime-node): token counts against the
 * tokenizer, finish reasons, top_p, and cancellation through an AbortSignal in-process.
 */
import { describe, expect, it } from 'vitest';
import { AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { generationSetup, runGeneration, type StreamEvent } from '../../../src/tasks/generation/generate-core.js';
import type { PipelineFn } from '../../../src/tasks/types.js';
import { BART, CHAT_MESSAGES, GPT2, LLAMA, QWEN_CHAT } from '../../helpers.js';

const MODELS = '.fixtures/models';
const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
const quiet = { cancelled: () => false, seed: () => undefined };

async function load(task: string, model: string) {
  env.localModelPath = `${MODELS}/`;
  env.allowRemoteModels = false;
  const pipe = (await pipeline(task as never, model, { device: 'cpu', dtype: 'fp32' })) as unknown as PipelineFn;
  const setup = await generationSetup({ pipe, readJSON: async (path) => JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(`${MODELS}/${model}/${path}`, 'utf8')).catch(() => 'null')) });
  return { pipe, setup };
}

describe('generation core', () => {
  it('counts the prompt tokens of the rendered chat template as the real Qwen3 tokenizer does', async () => {
    const result = await engine.infer({ task: 'chat-completions', model: QWEN_CHAT, inputs: { messages: CHAT_MESSAGES, max_tokens: 5, temperature: 0 } });
    expect(result.ok).toBe(true);
    const usage = (result as any).output.usage;
    const tokenizer = await AutoTokenizer.from_pretrained(QWEN_CHAT);
    const rendered = tokenizer.apply_chat_template(CHAT_MESSAGES as never, { tokenize: false, add_generation_prompt: true }) as string;
    expect(rendered).toContain('<|im_start|>user\nWhich movie is the best ?<|im_end|>\n<|im_start|>assistant\n');
    expect(usage.prompt_tokens).toBe(tokenizer.encode(rendered, { add_special_tokens: false }).length);
    expect(usage.completion_tokens).toBe(5);
  });

  it('reports eos_token, stop_sequence and length, and a forced EOS at the limit counts as length (BART)', async () => {
    const { pipe, setup } = await load('summarization', BART);
    expect(setup.forcedEosId).toBe(2);
    const input = { kind: 'text' as const, text: 'My name is Wolfgang and I live in Berlin' };
    const options = { maxNewTokens: 100, doSample: false, stop: [], numReturnSequences: 1 };
    const free = await runGeneration(pipe, input, options, setup, quiet);
    expect(free.sequences[0]!.finish).toBe('eos_token');
    const n = free.sequences[0]!.generatedTokens;
    const capped = await runGeneration(pipe, input, { ...options, maxNewTokens: n - 3 }, setup, quiet);
    expect(capped.sequences[0]).toMatchObject({ finish: 'length', generatedTokens: n - 3 });
    const word = free.sequences[0]!.text.trim().split(' ')[1]!;
    const stopped = await runGeneration(pipe, input, { ...options, stop: [word] }, setup, quiet);
    expect(stopped.sequences[0]!.finish).toBe('stop_sequence');
    expect(stopped.sequences[0]!.text.endsWith(word)).toBe(true);
  });

  it('streams one event per token whose texts join to the answer, the last one carrying the finish', async () => {
    const { pipe, setup } = await load('text-generation', LLAMA);
    const events: StreamEvent[] = [];
    const result = await runGeneration(pipe, { kind: 'text', text: 'Hello' }, { maxNewTokens: 60, doSample: false, stop: [], numReturnSequences: 1 }, setup, { ...quiet, emit: (e) => events.push(e) });
    const [start, ...tokens] = events;
    expect(start).toEqual({ type: 'start', promptTokens: result.promptTokens });
    expect(tokens).toHaveLength(result.sequences[0]!.generatedTokens);
    expect(tokens.map((t) => (t as any).text).join('')).toBe(result.sequences[0]!.text);
    expect((tokens.at(-1) as any).finish).toEqual({ reason: 'eos_token', text: result.sequences[0]!.text, generatedTokens: tokens.length });
    expect(tokens.slice(0, -1).every((t) => !(t as any).finish)).toBe(true);
  });

  it('top_p near 0 samples the most likely token only: the greedy answer', async () => {
    const run = (parameters: Record<string, unknown>) =>
      engine.infer({ task: 'text-generation', model: GPT2, inputs: 'The weather', parameters: { max_new_tokens: 12, ...parameters } });
    const greedy = await run({});
    const nucleus = await run({ do_sample: true, top_p: 1e-6, temperature: 2, seed: 5 });
    const wide = await run({ do_sample: true, temperature: 2, seed: 5 });
    expect((nucleus as any).output).toEqual((greedy as any).output);
    expect((wide as any).output).not.toEqual((greedy as any).output);
  });

  it('an AbortSignal stops an in-process generation within a token, and a queued one never starts', async () => {
    const controller = new AbortController();
    let tokens = 0;
    const running = engine.infer(
      { task: 'text-generation', model: GPT2, inputs: 'The weather', parameters: { max_new_tokens: 500 }, stream: true },
      undefined,
      (e) => {
        if (e.type === 'token' && ++tokens === 3) controller.abort();
      },
      controller.signal,
    );
    const queuedSignal = AbortSignal.abort();
    const queued = engine.infer({ task: 'text-generation', model: GPT2, inputs: 'queued', parameters: { max_new_tokens: 5 } }, undefined, undefined, queuedSignal);
    expect(await running).toMatchObject({ ok: false, status: 499, cancelled: true });
    expect(tokens).toBeLessThanOrEqual(4);
    expect(await queued).toMatchObject({ ok: false, cancelled: true });
  });
});
