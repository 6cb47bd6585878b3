/**
 * Property tests of payload parsing and the local fetch (fast-check): whatever JSON value stands
 * in any field of a request, or whatever bytes stand for the body, the Endpoint answers, or
 * refuses with a 4xx and a JSON `{"error"}` under 64 KB. Never a 5xx, never a throw, and the
 * engine answers a good request the same afterwards. Real engine, real models (the generated
 * fixtures), in process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createLocalFetch, createNodeEngine } from '../../src/node/index.js';
import { CLASSIFIER, CROSS_ENCODER, ENCODER, MLM, NER, NLI, QA } from '../helpers.js';

const TASKS: { task: string; model: string; good: unknown; parameters: string[] }[] = [
  { task: 'text-classification', model: CLASSIFIER, good: { inputs: 'I love you' }, parameters: ['top_k', 'function_to_apply', 'truncation'] },
  { task: 'zero-shot-classification', model: NLI, good: { inputs: 'a refund please', parameters: { candidate_labels: ['refund', 'faq'] } }, parameters: ['candidate_labels', 'multi_label', 'hypothesis_template'] },
  { task: 'token-classification', model: NER, good: { inputs: 'my name is wolfgang and i live in berlin' }, parameters: ['aggregation_strategy', 'ignore_labels', 'stride'] },
  { task: 'question-answering', model: QA, good: { inputs: { question: 'where do i live?', context: 'my name is wolfgang and i live in berlin' } }, parameters: ['top_k', 'max_answer_len', 'doc_stride', 'handle_impossible_answer'] },
  { task: 'fill-mask', model: MLM, good: { inputs: 'the capital of france is [MASK].' }, parameters: ['top_k', 'targets'] },
  { task: 'feature-extraction', model: ENCODER, good: { inputs: 'an embedding' }, parameters: ['pooling', 'normalize', 'truncate', 'prompt_name'] },
  { task: 'sentence-similarity', model: ENCODER, good: { inputs: { source_sentence: 'a', sentences: ['a', 'b'] } }, parameters: ['normalize'] },
  { task: 'ranking', model: CROSS_ENCODER, good: { inputs: { query: 'capital of germany', texts: ['berlin', 'a movie'] } }, parameters: ['raw_scores', 'return_text', 'truncate'] },
];

const URL_ = 'http://property.invalid';
const engine = createNodeEngine({ modelsDir: '.fixtures/models' });

async function ask(task: string, model: string, body: string): Promise<{ status: number; text: string }> {
  const localFetch = createLocalFetch({ engine, endpoints: { [URL_]: { task, model } } });
  const response = await localFetch(`${URL_}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

/** An answer, or a 4xx with a short JSON error: the property every request must keep. */
function expectAnswerOrRefusal({ status, text }: { status: number; text: string }, sent: string): void {
  const context = `${status} for ${sent.slice(0, 300)}: ${text.slice(0, 300)}`;
  expect(status, context).toBeLessThan(500);
  expect(text.length, context).toBeLessThan(64 * 1024);
  const body = JSON.parse(text) as { error?: unknown };
  if (status >= 400) expect(typeof body.error, context).toBe('string');
}

describe.each(TASKS)('the local fetch for $task: any payload', ({ task, model, good, parameters }) => {
  let reference: string;
  beforeAll(async () => {
    const answer = await ask(task, model, JSON.stringify(good));
    expect(answer.status, answer.text).toBe(200);
    reference = answer.text;
  });

  it('any JSON value as inputs, and any values for its parameters (known names and others): an answer or a 4xx', async () => {
    const parameter = fc.oneof(fc.constantFrom(...parameters), fc.string({ maxLength: 12 }));
    const payload = fc.record(
      {
        inputs: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ maxLength: 200 }), fc.constant((good as { inputs: unknown }).inputs)),
        parameters: fc.oneof(fc.constant(undefined), fc.dictionary(parameter, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), fc.jsonValue({ maxDepth: 2 })),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(payload, async (value) => {
        const sent = JSON.stringify(value);
        expectAnswerOrRefusal(await ask(task, model, sent), sent);
      }),
      { numRuns: 200, seed: 20261201 },
    );
  });

  it('any bytes as the body (truncated JSON, not JSON, lone surrogates): an answer or a 4xx; then the same answer to a good request', async () => {
    const good = JSON.stringify(TASKS.find((t) => t.task === task)!.good);
    const body = fc.oneof(
      fc.string({ maxLength: 300, unit: 'binary' }),
      fc.integer({ min: 0, max: good.length - 1 }).map((n) => good.slice(0, n)), // truncated
      fc.string({ maxLength: 20 }).map((s) => `{"inputs": "${s}\\ud800", "parameters": {"x": NaN}}`),
    );
    await fc.assert(
      fc.asyncProperty(body, async (sent) => {
        expectAnswerOrRefusal(await ask(task, model, sent), sent);
      }),
      { numRuns: 100, seed: 20261201 },
    );
    expect((await ask(task, model, good)).text).toBe(reference);
  });
});
