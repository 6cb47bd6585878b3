/** Parsing of generative requests: pure, so every rule is checked here without a model. */
import { describe, expect, it } from 'vitest';
import { expectBadRequest as rejects } from '../../helpers.js';
import { flattenGenerationParameters, readGenerationOptions, readMessages } from '../../../src/tasks/generation/generation-parameters.js';
import { chatCompletions, completions } from '../../../src/tasks/generation/openai.js';
import { getTask } from '../../../src/tasks/registry.js';

describe('generation parameters', () => {
  it('flattens generation_parameters and generate_kwargs, as the Endpoint server does', () => {
    const flat = flattenGenerationParameters({
      return_full_text: false,
      generation_parameters: { max_new_tokens: 5 },
      generate_kwargs: { do_sample: true, seed: 3 },
    });
    expect(flat).toEqual({ return_full_text: false, max_new_tokens: 5, do_sample: true, seed: 3 });
    const options = readGenerationOptions('text-generation', flat, ['return_full_text']);
    expect(options).toMatchObject({ maxNewTokens: 5, doSample: true, seed: 3, numReturnSequences: 1, stop: [] });
  });

  it('reads every parameter and its bounds', () => {
    const options = readGenerationOptions('t', {
      max_new_tokens: 7, temperature: 0.5, top_k: 4, top_p: 0.9, do_sample: true, repetition_penalty: 1.2,
      stop: ['\n', 'END'], stop_sequences: 'x', seed: 0, num_return_sequences: 2, truncate: 10,
    });
    expect(options).toEqual({
      maxNewTokens: 7, doSample: true, temperature: 0.5, topK: 4, topP: 0.9, repetitionPenalty: 1.2,
      stop: ['\n', 'END', 'x'], seed: 0, numReturnSequences: 2, truncate: 10,
    });
    expect(readGenerationOptions('t', { temperature: 0, do_sample: true }).doSample).toBe(false);
  });

  it.each([
    [{ max_new_tokens: -1 }, /max_new_tokens must be an integer of at least 1, got -1/],
    [{ max_new_tokens: 0 }, /max_new_tokens must be an integer of at least 1/],
    [{ max_new_tokens: 2.5 }, /max_new_tokens/],
    [{ max_new_tokens: '5' }, /max_new_tokens/],
    [{ temperature: -0.1 }, /temperature must be a number at least 0/],
    [{ top_p: 0 }, /top_p must be a number above 0 and at most 1/],
    [{ top_p: 1.5 }, /top_p/],
    [{ repetition_penalty: 0 }, /repetition_penalty/],
    [{ stop: 5 }, /stop must be a string or a list of strings/],
    [{ stop: [''] }, /stop\[0\] must be a non-empty string/],
    [{ seed: -1 }, /seed/],
    [{ num_return_sequences: 2 }, /needs sampling/],
    [{ num_return_sequences: 99, do_sample: true }, /at most 8/],
    [{ nonsense: 1 }, /Unknown parameter for t: nonsense/],
    [{ generation_parameters: 3 }, /generation_parameters must be an object/],
  ])('rejects %j', (parameters, message) => {
    rejects(() => readGenerationOptions('t', flattenGenerationParameters(parameters as never)), message);
  });
});

describe('chat messages', () => {
  it('accepts roles and text parts', () => {
    expect(readMessages([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: '!' }] }]))
      .toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }]);
  });

  it.each([
    [[], /must not be empty/],
    ['hello', /must be a list of \{role, content\} messages, got a string/],
    [[{ role: 'wizard', content: 'x' }], /messages\[0\]\.role must be one of system, user, assistant, tool, developer, got "wizard"/],
    [[{ role: 'user', content: 42 }], /messages\[0\]\.content must be a string, got a number/],
    [[{ role: 'user' }], /content must be a string, got nothing/],
    [[{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }], /must be a text part/],
    [[null], /messages\[0\] must be an object/],
  ])('rejects %j', (messages, message) => rejects(() => readMessages(messages), message));
});

describe('generative tasks and routes', () => {
  it('text-generation keeps the prompt by default and streams in TGI format', () => {
    const task = getTask('text-generation');
    const request = task.parse({ inputs: 'Hello', parameters: { max_new_tokens: 3 }, stream: true });
    expect(request).toMatchObject({ returnFullText: true, stream: true, options: { maxNewTokens: 3 } });
    const meta = { model: 'm', id: 'gen-1', created: 1, promptTokens: 2 };
    const [mid] = task.stream!.token({ type: 'token', index: 0, id: 5, text: ' big', special: false }, request, meta);
    expect(mid).toEqual({ index: 0, token: { id: 5, text: ' big', logprob: null, special: false }, generated_text: null, details: null });
    const [last] = task.stream!.token(
      { type: 'token', index: 1, id: 6, text: ' cat', special: false, finish: { reason: 'length', text: ' big cat', generatedTokens: 2 } },
      request,
      meta,
    );
    expect(last).toMatchObject({ generated_text: 'Hello big cat', details: { finish_reason: 'length', generated_tokens: 2, seed: null } });
  });

  it.each(['summarization', 'translation', 'text2text-generation', 'conversational'])('%s refuses "stream": true', (id) => {
    const inputs = id === 'conversational' ? [{ role: 'user', content: 'hi' }] : 'hi';
    rejects(() => getTask(id).parse({ inputs, stream: true }), new RegExp(`${id} cannot stream`));
  });

  it('stream must be a boolean', () => {
    rejects(() => getTask('text-generation').parse({ inputs: 'x', stream: 'yes' as never }), /"stream" must be a boolean/);
  });

  it('/v1/completions maps OpenAI names and the client-passed Endpoint names', () => {
    const request = completions.parse({ inputs: { model: 'http://x', prompt: 'Hi', max_tokens: 4, temperature: 0, stop: ['.'], top_k: 3, stream: true, stream_options: { include_usage: true } } });
    expect(request).toMatchObject({ prompt: 'Hi', stream: true, includeUsage: true, echo: false, options: { maxNewTokens: 4, doSample: false, stop: ['.'], topK: 3 } });
    // OpenAI samples by default.
    expect(completions.parse({ inputs: { prompt: 'Hi' } }).options.doSample).toBe(true);
    rejects(() => completions.parse({ inputs: { max_tokens: 3 } }), /no "prompt"/);
    rejects(() => completions.parse({ inputs: { prompt: 'x', frequency_penalty: 1 } }), /frequency_penalty is not supported/);
    rejects(() => completions.parse({ inputs: { prompt: 'x', max_tokens: -2 } }), /max_new_tokens must be an integer of at least 1, got -2/);
  });

  it('/v1/chat/completions reads messages and refuses malformed tools', () => {
    const request = chatCompletions.parse({ inputs: { messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 9, n: 2 } });
    expect(request).toMatchObject({ messages: [{ role: 'user', content: 'Hi' }], options: { maxNewTokens: 9, numReturnSequences: 2, doSample: true } });
    rejects(() => chatCompletions.parse({ inputs: { messages: [{ role: 'user', content: 'x' }], tools: [{}] } }), /tools\[0\]\.type must be "function"/);
    rejects(() => chatCompletions.parse({ inputs: { messages: [{ role: 'user', content: 'x' }], n: 2, stream: true } }), /n must be 1/);
    rejects(() => chatCompletions.parse({ inputs: { messages: [{ role: 'robot', content: 'x' }] } }), /role must be one of/);
  });
});

describe('top_p', () => {
  it('keeps the smallest set of most likely tokens whose probability reaches top_p', async () => {
    const { topPProcessor } = await import('../../../src/tasks/generation/generate-core.js');
    const run = (p: number, k = 50) => {
      const logits = { dims: [2, 5], data: new Float32Array([3, 2, 1, 0, -1, -1, 0, 1, 2, 3]) };
      topPProcessor(p, k)(null, logits);
      return Array.from(logits.data, (v) => (v === -Infinity ? null : v));
    };
    // p = softmax([3,2,1,0,-1]) ≈ [0.636, 0.234, 0.086, 0.032, 0.012]
    expect(run(0.5)).toEqual([3, null, null, null, null, null, null, null, null, 3]);
    expect(run(0.8)).toEqual([3, 2, null, null, null, null, null, null, 2, 3]);
    expect(run(0.98)).toEqual([3, 2, 1, 0, null, null, 0, 1, 2, 3]);
    expect(run(1)).toEqual([3, 2, 1, 0, -1, -1, 0, 1, 2, 3]);
  });
});
