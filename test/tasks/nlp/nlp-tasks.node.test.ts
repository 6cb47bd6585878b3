/** zero-shot-classification, fill-mask, ranking and multi-label text-classification on the engine in Node. */
import { describe, expect, it } from 'vitest';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import {
  CLASSIFIER, CROSS_ENCODER, MASK_TEXT, MLM, MULTILABEL, NLI, RANK_QUERY, RANK_TEXTS, ZERO_SHOT_LABELS, ZERO_SHOT_TEXT,
} from '../../helpers.js';

const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
async function answer<T>(request: EngineRequest): Promise<T> {
  const result = await engine.infer(request);
  if (!result.ok) throw new Error(`${result.status}: ${result.error}`);
  return result.output as T;
}
async function failure(request: EngineRequest) {
  const result = await engine.infer(request);
  expect(result.ok).toBe(false);
  return result as { status: number; error: string };
}

type ZeroShot = { sequence: string; labels: string[]; scores: number[] };

describe('zero-shot-classification', () => {
  const ask = (parameters: Record<string, unknown>) =>
    answer<ZeroShot>({ task: 'zero-shot-classification', model: NLI, inputs: ZERO_SHOT_TEXT, parameters });

  it('scores every candidate label, best first, summing to 1', async () => {
    const out = await ask({ candidate_labels: ZERO_SHOT_LABELS.join(', ') });
    expect(out.sequence).toBe(ZERO_SHOT_TEXT);
    expect([...out.labels].sort()).toEqual([...ZERO_SHOT_LABELS].sort());
    expect(out.scores).toEqual([...out.scores].sort((a, b) => b - a));
    expect(out.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('multi_label scores each label on its own; the hypothesis template changes the scores', async () => {
    const multi = await ask({ candidate_labels: ZERO_SHOT_LABELS, multi_label: true });
    expect(multi.scores.reduce((a, b) => a + b, 0)).not.toBeCloseTo(1, 2);
    const plain = await ask({ candidate_labels: ZERO_SHOT_LABELS });
    const templated = await ask({ candidate_labels: ZERO_SHOT_LABELS, hypothesis_template: 'The customer wants a {}.' });
    expect(templated.scores).not.toEqual(plain.scores);
  });

  it('names the problem when the model is not an NLI model', async () => {
    const { status, error } = await failure({ task: 'zero-shot-classification', model: CLASSIFIER, inputs: 'x', parameters: { candidate_labels: 'a' } });
    expect(status).toBe(400);
    expect(error).toMatch(/needs an NLI model.*\["negative","neutral","positive"\]/);
  });
});

type Filled = { sequence: string; score: number; token: number; token_str: string };

describe('fill-mask', () => {
  it('gives top_k candidates whose sequence is the text with the token filled in', async () => {
    const out = await answer<Filled[]>({ task: 'fill-mask', model: MLM, inputs: MASK_TEXT, parameters: { top_k: 3 } });
    expect(out).toHaveLength(3);
    expect(out.map((c) => c.score)).toEqual([...out.map((c) => c.score)].sort((a, b) => b - a));
    for (const c of out) expect(c.sequence).toBe(`the capital of france is ${c.token_str}.`);
    expect(await answer<Filled[]>({ task: 'fill-mask', model: MLM, inputs: MASK_TEXT })).toHaveLength(5);
  });

  it('targets restrict the candidates to those tokens', async () => {
    const out = await answer<Filled[]>({ task: 'fill-mask', model: MLM, inputs: MASK_TEXT, parameters: { targets: ['paris', 'berlin'] } });
    expect(out.map((c) => c.token_str).sort()).toEqual(['berlin', 'paris']);
  });

  it('a text with no mask, or two, gets a 400 naming the mask token', async () => {
    expect(await failure({ task: 'fill-mask', model: MLM, inputs: 'no mask here' })).toMatchObject({ status: 400, error: expect.stringMatching(/has no mask token: put \[MASK\] where/) });
    expect(await failure({ task: 'fill-mask', model: MLM, inputs: '[MASK] and [MASK]' })).toMatchObject({ status: 400, error: expect.stringMatching(/has 2 mask tokens \(\[MASK\]\); only one is supported/) });
  });
});

describe('ranking', () => {
  it('scores pairs in order, as sigmoids; raw_scores gives the logits', async () => {
    const pairs = RANK_TEXTS.map((t) => [RANK_QUERY, t]);
    const { scores } = await answer<{ scores: number[] }>({ task: 'ranking', model: CROSS_ENCODER, inputs: pairs });
    expect(scores).toHaveLength(3);
    for (const s of scores) expect(s).toBeGreaterThan(0), expect(s).toBeLessThan(1);
    const raw = await answer<{ scores: number[] }>({ task: 'ranking', model: CROSS_ENCODER, inputs: pairs, parameters: { raw_scores: true } });
    raw.scores.forEach((logit, i) => expect(1 / (1 + Math.exp(-logit))).toBeCloseTo(scores[i]!, 6));
    // Each pair is scored on its own: alone it gets the same score as in the batch.
    const alone = await answer<{ scores: number[] }>({ task: 'ranking', model: CROSS_ENCODER, inputs: [pairs[2]] });
    expect(alone.scores[0]).toBeCloseTo(scores[2]!, 5);
  });

  it('{query, texts} answers [{index, score, text?}] sorted by score, like TEI', async () => {
    const { scores } = await answer<{ scores: number[] }>({ task: 'ranking', model: CROSS_ENCODER, inputs: RANK_TEXTS.map((t) => [RANK_QUERY, t]) });
    const ranked = await answer<{ index: number; score: number; text?: string }[]>({
      task: 'ranking', model: CROSS_ENCODER, inputs: { query: RANK_QUERY, texts: RANK_TEXTS, return_documents: true },
    });
    expect(ranked.map((r) => r.score)).toEqual([...scores].sort((a, b) => b - a));
    for (const r of ranked) expect(r).toEqual({ index: r.index, score: scores[r.index], text: RANK_TEXTS[r.index] });
    const bare = await answer<object[]>({ task: 'ranking', model: CROSS_ENCODER, inputs: { query: RANK_QUERY, texts: RANK_TEXTS } });
    expect(Object.keys(bare[0]!)).toEqual(['index', 'score']);
  });

  it('refuses a model with more than one label', async () => {
    expect(await failure({ task: 'ranking', model: CLASSIFIER, inputs: [['a', 'b']] })).toMatchObject({ status: 400, error: expect.stringMatching(/one output label; this model has 3/) });
  });
});

describe('text-classification on a multi-label model', () => {
  it('uses sigmoid scores by default, as transformers does for multi_label_classification', async () => {
    const out = await answer<{ label: string; score: number }[]>({ task: 'text-classification', model: MULTILABEL, inputs: 'I hate you', parameters: { top_k: null } });
    expect(out.map((l) => l.label).sort()).toEqual(['insult', 'obscene', 'threat', 'toxic']);
    expect(out.reduce((a, b) => a + b.score, 0)).not.toBeCloseTo(1, 2);
    const softmaxed = await answer<{ score: number }[]>({ task: 'text-classification', model: MULTILABEL, inputs: 'I hate you', parameters: { top_k: null, function_to_apply: 'softmax' } });
    expect(softmaxed.reduce((a, b) => a + b.score, 0)).toBeCloseTo(1, 6);
  });
});
