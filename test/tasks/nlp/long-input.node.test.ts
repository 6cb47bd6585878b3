/**
 * Over-long text is cut before it is tokenized (issue 12, defect 5): a task that truncates reads
 * only the first (or last) tokens, so a 2 MB text gives the same answer as its start (or end)
 * does, without tokenizing 2 MB. Question answering reads its whole context, window by window,
 * tokenized piece by piece: the same tokens as the whole context tokenized at once.
 * Real tokenizers and real models (the generated fixtures) on onnxruntime-node.
 */
import { AutoTokenizer, env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { cutForTokens } from '../../../src/tasks/shared/long-text.js';
import { ContextTokens } from '../../../src/tasks/nlp/question-answering.js';
import { offsetScheme, tokenSpans } from '../../../src/tasks/shared/token-offsets.js';
import type { TokenizerFn } from '../../../src/tasks/types.js';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { CLASSIFIER, CROSS_ENCODER, ENCODER, LLAMA, BART, MLM, NER, NLI, QA, ROBERTA_NER, ROBERTA_QA, TRICKY_TEXTS, ZERO_SHOT_LABELS, deepCloseTo } from '../../helpers.js';

const MODELS = '.fixtures/models';
env.localModelPath = `${MODELS}/`;
env.allowRemoteModels = false;

/** A long text of varied words, spacing, punctuation, accents and emoji (surrogate pairs), from a fixed seed. */
function longText(chars: number, seed = 7): string {
  const words = [...TRICKY_TEXTS.join(' ').split(/\s+/), 'inference', 'Nuremberg', 'sagemaker', '日本語', 'well-known', '42', '3.14'];
  const gaps = [' ', ' ', ' ', '  ', '\n', ', ', '. ', '\t'];
  let state = seed;
  const next = (n: number) => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
  const parts: string[] = [];
  for (let length = 0; length < chars; ) {
    const piece = words[next(words.length)]! + gaps[next(gaps.length)]!;
    parts.push(piece);
    length += piece.length;
  }
  return parts.join('').slice(0, chars);
}

const tokenizers = new Map<string, TokenizerFn & { tokenize(t: string): string[] }>();
async function tokenizerOf(model: string) {
  if (!tokenizers.has(model)) tokenizers.set(model, (await AutoTokenizer.from_pretrained(model)) as never);
  return tokenizers.get(model)!;
}

describe('cutForTokens', () => {
  it.each([
    ['WordPiece (BERT)', CLASSIFIER],
    ['byte-level BPE (RoBERTa)', ROBERTA_NER],
    ['SentencePiece (Llama)', LLAMA],
    ['BART', BART],
  ])('%s: the cut keeps the tokens truncation keeps, from either end, and tokenizes little', async (_, model) => {
    const tokenizer = await tokenizerOf(model);
    const text = longText(300_000);
    const whole = tokenizer.tokenize(text);
    for (const max of [16, 128, 512]) {
      const head = cutForTokens(tokenizer, text, max);
      expect(text.startsWith(head)).toBe(true);
      expect(head.length).toBeLessThan(64 * max + 256); // not the 300,000 characters
      expect(tokenizer.tokenize(head).slice(0, max)).toEqual(whole.slice(0, max));
      const tail = cutForTokens(tokenizer, text, max, 'left');
      expect(text.endsWith(tail)).toBe(true);
      expect(tail.length).toBeLessThan(64 * max + 256);
      expect(tokenizer.tokenize(tail).slice(-max)).toEqual(whole.slice(-max));
    }
    // A text short enough is not cut, nor one without any limit.
    expect(cutForTokens(tokenizer, text.slice(0, 1000), 128)).toBe(text.slice(0, 1000));
    expect(cutForTokens(tokenizer, text, undefined)).toBe(text);
  });
});

describe('question answering reads a long context piece by piece', () => {
  it.each([
    ['WordPiece', QA],
    ['byte-level BPE', ROBERTA_QA],
  ])('%s: the tokens and spans are those of the whole context tokenized at once', async (_, model) => {
    const tokenizer = await tokenizerOf(model);
    const scheme = offsetScheme(tokenizer);
    const context = longText(200_000, 11); // over six pieces
    const tokens = tokenizer.tokenize(context);
    const spans = tokenSpans(context, tokens, scheme);
    const read = new ContextTokens(tokenizer, scheme, context);
    for (let i = 0; i < tokens.length; i++) {
      if (read.token(i) !== tokens[i] || JSON.stringify(read.span(i)) !== JSON.stringify(spans[i])) {
        expect({ i, token: read.token(i), span: read.span(i) }).toEqual({ i, token: tokens[i], span: spans[i] });
      }
    }
    expect(read.has(tokens.length)).toBe(false);
  });
});

describe('tasks answer a 2 MB text as they answer its start (or end)', () => {
  const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
  const ask = async (request: Omit<EngineRequest, 'inputs'> & { inputs: unknown }) => {
    const r = await engine.infer({ ...request, noBatch: true } as EngineRequest);
    if (!r.ok) throw new Error(`${request.task}: ${r.error}`);
    return r.output;
  };
  const huge = longText(2_000_000, 3);
  const start = huge.slice(0, 1500); // past the models' 128 tokens, so truncated, but tokenized whole
  const end = huge.slice(-1500).replace(/^\S*\s/, '');

  it.each([
    ['text-classification', CLASSIFIER, (t: string) => t, { top_k: null }],
    ['token-classification', NER, (t: string) => t, {}],
    ['token-classification', ROBERTA_NER, (t: string) => t, {}],
    ['fill-mask', MLM, (t: string) => `[MASK] ${t}`, {}],
    ['feature-extraction', ENCODER, (t: string) => t, {}],
    ['ranking', CROSS_ENCODER, (t: string) => ({ query: 'what is used for inference', texts: [t, 'berlin'] }), {}],
  ] as const)('%s (%s)', async (task, model, inputs, parameters) => {
    const answer = await ask({ task, model, inputs: inputs(huge), parameters });
    expect(answer).toEqual(deepCloseTo(await ask({ task, model, inputs: inputs(start), parameters })));
  });

  it('feature-extraction truncating on the left answers as the end does', async () => {
    const parameters = { truncation_direction: 'left' };
    const answer = await ask({ task: 'feature-extraction', model: ENCODER, inputs: huge, parameters });
    expect(answer).toEqual(deepCloseTo(await ask({ task: 'feature-extraction', model: ENCODER, inputs: end, parameters })));
  });

  it('zero-shot-classification scores the start, and answers with the whole sequence', async () => {
    const parameters = { candidate_labels: ZERO_SHOT_LABELS };
    const answer = (await ask({ task: 'zero-shot-classification', model: NLI, inputs: huge, parameters })) as { sequence: string };
    const reference = (await ask({ task: 'zero-shot-classification', model: NLI, inputs: start, parameters })) as { sequence: string };
    expect(answer.sequence).toBe(huge);
    expect({ ...answer, sequence: '' }).toEqual(deepCloseTo({ ...reference, sequence: '' }));
  });

  it('summarization reads the start; text-generation with truncate reads the end; without it, a 400 at once', async () => {
    const summary = await ask({ task: 'summarization', model: BART, inputs: huge, parameters: { max_new_tokens: 5 } });
    expect(summary).toEqual(await ask({ task: 'summarization', model: BART, inputs: huge.slice(0, 20_000), parameters: { max_new_tokens: 5 } }));
    const parameters = { truncate: 32, max_new_tokens: 4, do_sample: false };
    const generated = await ask({ task: 'text-generation', model: LLAMA, inputs: huge, parameters: { ...parameters, return_full_text: false } });
    expect(generated).toEqual(await ask({ task: 'text-generation', model: LLAMA, inputs: end, parameters: { ...parameters, return_full_text: false } }));
    const refused = await engine.infer({ task: 'text-generation', model: LLAMA, inputs: huge, parameters: { max_new_tokens: 4 } });
    expect(refused).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/^The prompt has more than 2048 tokens \(2000000 characters\), but this model's context holds 2048/) });
  });
});
