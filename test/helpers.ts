import { expect } from 'vitest';
import { EndpointError } from '../src/protocol/errors.js';

/** Names and inputs shared by the tests. The texts are the Endpoint's own test payloads. */
export const CLASSIFIER = 'local-endpoint/tiny-bert-classifier';
export const ENCODER = 'local-endpoint/tiny-bert-encoder';
export const CORRUPT = 'test-broken/corrupt-classifier';
export const OVERLONG = 'test-broken/overlong-tokenizer-classifier';
export const FP16_ONLY = 'test-broken/fp16-classifier';
export const LABELS = ['negative', 'neutral', 'positive'];

/** Decoders: GPT-2 (never ends on its own), Llama (ends with EOS after a few tokens, own chat template), Qwen3 (real tokenizer and chat template). */
export const GPT2 = 'local-endpoint/tiny-gpt2';
export const LLAMA = 'local-endpoint/tiny-llama';
export const QWEN_CHAT = 'local-endpoint/tiny-qwen3-chat';
/** Encoder-decoders: T5 (task prefixes), BART (summarization), Marian (en→de), M2M100 (needs src_lang/tgt_lang). */
export const T5 = 'local-endpoint/tiny-t5';
export const BART = 'local-endpoint/tiny-bart';
export const MARIAN = 'local-endpoint/tiny-marian';
export const M2M100 = 'local-endpoint/tiny-m2m100';
/** conversational's payload in the Endpoint server's own test suite. */
export const CHAT_MESSAGES = [{ role: 'user', content: 'Which movie is the best ?' }];

/** text-classification's payload in the Endpoint server's own test suite. */
export const CLASSIFY_TEXT = 'I love you. I like you';
/** sentence-similarity's payload in the same suite, used here for embeddings. */
export const EMBED_TEXT = 'Lets create an embedding';

/** Distinct texts for concurrency tests: each must get its own answer back. */
export const VARIED_TEXTS = Array.from({ length: 20 }, (_, i) =>
  ['I love this movie', 'I hate you', 'The good and the bad', 'my name is berlin', 'a great day'][i % 5] +
  ` ${'again '.repeat(Math.floor(i / 5))}`.trimEnd(),
);

export function norm(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

export function maxAbsDiff(a: number[], b: number[]): number {
  expectSameLength(a, b);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

function expectSameLength(a: unknown[], b: unknown[]) {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
}

/** Scores by label, for comparing two classification answers whatever their order. */
export function byLabel(list: { label: string; score: number }[]): Record<string, number> {
  return Object.fromEntries(list.map((x) => [x.label, x.score]));
}

export const NLI = 'local-endpoint/tiny-bert-nli';
export const MULTILABEL = 'local-endpoint/tiny-bert-multilabel';
export const MLM = 'local-endpoint/tiny-bert-mlm';
export const CROSS_ENCODER = 'local-endpoint/tiny-bert-cross-encoder';

/** zero-shot-classification's payload in the Endpoint server's own test suite. */
export const ZERO_SHOT_TEXT =
  'Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!';
export const ZERO_SHOT_LABELS = ['refund', 'legal', 'faq'];
export const MASK_TEXT = 'The capital of France is [MASK].';
export const RANK_QUERY = 'what is the capital of germany';
export const RANK_TEXTS = ['berlin is the capital of germany', 'i love this movie', 'a good day in the city'];
export const NER = 'local-endpoint/tiny-bert-ner';
export const QA = 'local-endpoint/tiny-bert-qa';
export const ROBERTA_NER = 'local-endpoint/tiny-roberta-ner';
export const ROBERTA_QA = 'local-endpoint/tiny-roberta-qa';

/** Texts whose offsets are easy to get wrong: accents, punctuation, repeats, emoji, spacing. */
export const TRICKY_TEXTS = [
  'My name is Wolfgang and I live in Berlin',
  'Héllo, Wolfgang! I live in Berlin 🙂',
  'Berlin, Berlin, berlin... and BERLIN again!',
  'Zoë  and  Renée live in Malmö 👩‍👩‍👧 (really).',
  'a-b c’d "quoted" end.',
];

/**
 * An expectation that matches `value` with every number to within 1e-5: a padded batch and a
 * single run of the same input differ in the last float digits.
 */
export function deepCloseTo(value: unknown): unknown {
  if (typeof value === 'number') return expect.closeTo(value, 5);
  if (Array.isArray(value)) return value.map(deepCloseTo);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCloseTo(v)]));
  return value;
}

/** POSTs a JSON body and reads the status and the JSON answer. */
export async function postJson(fetchFn: typeof fetch, url: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

/** Runs `run` and expects it to throw a 400 EndpointError whose message matches. */
export function expectBadRequest(run: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(EndpointError);
  expect((caught as EndpointError).status).toBe(400);
  expect((caught as EndpointError).message).toMatch(message);
}
