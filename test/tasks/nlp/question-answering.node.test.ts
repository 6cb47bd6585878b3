import { describe, expect, it } from 'vitest';
import { questionAnswering } from '../../../src/tasks/nlp/question-answering.js';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { QA, ROBERTA_QA } from '../../helpers.js';

/** question-answering's payload in the Endpoint server's own test suite. */
export const QA_INPUTS = {
  question: 'What is used for inference?',
  context: 'My Name is Philipp and I live in Nuremberg. This model is used with sagemaker for inference.',
};
type Answer = { answer: string; score: number; start: number; end: number };

describe('question-answering parse', () => {
  it.each([
    [{ inputs: 'just text' }, /inputs must be an object \{"question": …, "context": …\}, got a string/],
    [{ inputs: { question: 'q' } }, /inputs.context must be a string, got nothing/],
    [{ inputs: { question: ' ', context: 'c' } }, /inputs.question must not be empty/],
    [{ inputs: QA_INPUTS, parameters: { top_k: 0 } }, /top_k must be a positive integer/],
    [{ inputs: QA_INPUTS, parameters: { stride: 3 } }, /Unknown parameter for question-answering: stride/],
  ])('rejects %j', (payload, message) => expect(() => questionAnswering.parse(payload as never)).toThrow(message));
});

describe.each([['WordPiece', QA], ['byte-level BPE', ROBERTA_QA]])('question-answering on a %s model (Node)', (_, model) => {
  const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
  const ask = async <T = Answer>(inputs: typeof QA_INPUTS, parameters: Record<string, unknown> = {}) => {
    const r = await engine.infer({ task: 'question-answering', model, inputs, parameters } as EngineRequest);
    if (!r.ok) throw new Error(r.error);
    return r.output as T;
  };

  it('answers {score, start, end, answer} with context.slice(start, end) === answer, on whole words', async () => {
    const a = await ask(QA_INPUTS);
    expect(Object.keys(a).sort()).toEqual(['answer', 'end', 'score', 'start']);
    expect(a.answer).toBe(QA_INPUTS.context.slice(a.start, a.end));
    expect(a.answer.length).toBeGreaterThan(0);
    expect(/\w/.test(QA_INPUTS.context[a.start - 1] ?? ' ')).toBe(false); // starts a word
  });

  it('top_k gives that many distinct answers, best first; top_k 1 is the first of them', async () => {
    const list = await ask<Answer[]>(QA_INPUTS, { top_k: 4 });
    expect(list).toHaveLength(4);
    expect(list.map((a) => a.score)).toEqual([...list.map((a) => a.score)].sort((x, y) => y - x));
    expect(new Set(list.map((a) => `${a.start}:${a.end}`)).size).toBe(4);
    for (const a of list) expect(a.answer).toBe(QA_INPUTS.context.slice(a.start, a.end));
    expect(await ask(QA_INPUTS)).toEqual(list[0]);
  });

  it('max_answer_len bounds the answer in tokens', async () => {
    const list = await ask<Answer[]>(QA_INPUTS, { top_k: 10, max_answer_len: 1, align_to_words: false });
    for (const a of list) expect(a.answer.split(/\s+/)).toHaveLength(1);
    const longer = await ask<Answer[]>(QA_INPUTS, { top_k: 10, max_answer_len: 30 });
    expect(Math.max(...longer.map((a) => a.answer.length))).toBeGreaterThan(Math.max(...list.map((a) => a.answer.length)));
  });

  it('handle_impossible_answer adds the empty answer, with its own score', async () => {
    const list = await ask<Answer[]>(QA_INPUTS, { top_k: 100, handle_impossible_answer: true });
    const empty = list.find((a) => a.answer === '');
    expect(empty).toMatchObject({ start: 0, end: 0 });
    expect(empty!.score).toBeGreaterThan(0);
    expect((await ask<Answer[]>(QA_INPUTS, { top_k: 100 })).some((a) => a.answer === '')).toBe(false);
  });

  it('reads a context longer than the model’s window in overlapping windows, so answers can come from its end', async () => {
    const context = Array.from({ length: 60 }, (_, i) => `Sentence ${i} says the good movie is great.`).join(' ');
    expect(context.length).toBeGreaterThan(2000); // ~600 tokens, for a model of 128 positions
    const list = await ask<Answer[]>({ question: 'What is great?', context }, { top_k: 50 });
    for (const a of list) expect(a.answer).toBe(context.slice(a.start, a.end));
    expect(Math.max(...list.map((a) => a.start))).toBeGreaterThan(context.length * 0.75);
    // Smaller windows and overlaps give answers too.
    const small = await ask<Answer>({ question: 'What is great?', context }, { max_seq_len: 48, doc_stride: 8 });
    expect(small.answer).toBe(context.slice(small.start, small.end));
  });

  it('a question over max_question_len is cut, not refused', async () => {
    const question = 'what is used '.repeat(40);
    const a = await ask({ question, context: QA_INPUTS.context }, { max_question_len: 16 });
    expect(a.answer).toBe(QA_INPUTS.context.slice(a.start, a.end));
  });
});
