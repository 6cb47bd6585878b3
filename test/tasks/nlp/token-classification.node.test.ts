import { describe, expect, it } from 'vitest';
import { aggregate, tokenClassification, type PreEntity } from '../../../src/tasks/nlp/token-classification.js';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { NER, ROBERTA_NER, TRICKY_TEXTS } from '../../helpers.js';

const LABELS = { 0: 'O', 1: 'B-PER', 2: 'I-PER', 3: 'B-LOC', 4: 'I-LOC' };
// "Wolfgang lives in Berlinnnnn": scores over [O, B-PER, I-PER, B-LOC, I-LOC] per token.
const TEXT = 'Wolfgang lives in Berlinnnnn';
const p = (word: string, start: number, index: number, isSubword: boolean, scores: number[]): PreEntity => ({
  word, start, end: start + word.length, index, isSubword, scores,
});
const PRE: PreEntity[] = [
  p('Wolf', 0, 1, false, [0.1, 0.7, 0.1, 0.05, 0.05]),
  p('gang', 4, 2, true, [0.1, 0.1, 0.6, 0.1, 0.1]),
  p('lives', 9, 3, false, [0.9, 0.025, 0.025, 0.025, 0.025]),
  p('in', 15, 4, false, [0.8, 0.05, 0.05, 0.05, 0.05]),
  p('Berlin', 18, 5, false, [0.1, 0.1, 0.1, 0.6, 0.1]),
  p('nnnn', 24, 6, true, [0.05, 0.05, 0.8, 0.05, 0.05]),
];

describe('aggregate (transformers semantics, words from offsets)', () => {
  it('none: one entity per token, "O" left out, with its index', () => {
    expect(aggregate(TEXT, PRE, 'none', LABELS, ['O'])).toEqual([
      { entity: 'B-PER', score: 0.7, index: 1, word: 'Wolf', start: 0, end: 4 },
      { entity: 'I-PER', score: 0.6, index: 2, word: 'gang', start: 4, end: 8 },
      { entity: 'B-LOC', score: 0.6, index: 5, word: 'Berlin', start: 18, end: 24 },
      { entity: 'I-PER', score: 0.8, index: 6, word: 'nnnn', start: 24, end: 28 },
    ]);
  });
  it('simple: B- then I- of one tag group; a tag change starts a new group', () => {
    expect(aggregate(TEXT, PRE, 'simple', LABELS, ['O'])).toEqual([
      { entity_group: 'PER', score: expect.closeTo(0.65, 12), word: 'Wolfgang', start: 0, end: 8 },
      { entity_group: 'LOC', score: 0.6, word: 'Berlin', start: 18, end: 24 },
      { entity_group: 'PER', score: 0.8, word: 'nnnn', start: 24, end: 28 },
    ]);
  });
  it('first: a word takes its first token’s label and score', () => {
    expect(aggregate(TEXT, PRE, 'first', LABELS, ['O'])).toEqual([
      { entity_group: 'PER', score: 0.7, word: 'Wolfgang', start: 0, end: 8 },
      { entity_group: 'LOC', score: 0.6, word: 'Berlinnnnn', start: 18, end: 28 },
    ]);
  });
  it('max: a word takes its most confident token’s label', () => {
    expect(aggregate(TEXT, PRE, 'max', LABELS, ['O'])).toEqual([
      { entity_group: 'PER', score: 0.7, word: 'Wolfgang', start: 0, end: 8 },
      { entity_group: 'PER', score: 0.8, word: 'Berlinnnnn', start: 18, end: 28 },
    ]);
  });
  it('average: a word takes the label of its averaged scores', () => {
    const out = aggregate(TEXT, PRE, 'average', LABELS, ['O']) as { entity_group: string; score: number; word: string }[];
    expect(out.map((e) => [e.entity_group, e.word])).toEqual([['PER', 'Wolfgang'], ['PER', 'Berlinnnnn']]);
    expect(out[1]!.score).toBeCloseTo((0.1 + 0.8) / 2, 10); // I-PER averaged over "Berlin" + "nnnn"
  });
  it('ignore_labels removes groups by label; an empty list keeps "O"', () => {
    expect(aggregate(TEXT, PRE, 'simple', LABELS, ['O', 'PER']).map((e) => (e as { entity_group: string }).entity_group)).toEqual(['LOC']);
    expect(aggregate(TEXT, PRE, 'simple', LABELS, []).map((e) => (e as { entity_group: string }).entity_group)).toEqual(['PER', 'O', 'LOC', 'PER']);
  });
});

describe('token-classification parse', () => {
  it.each([
    [{ inputs: '' }, /inputs must not be empty/],
    [{ inputs: 7 }, /inputs must be a string or a list of strings/],
    [{ inputs: 'x', parameters: { aggregation_strategy: 'longest' } }, /aggregation_strategy must be one of none, simple, first, average, max/],
    [{ inputs: 'x', parameters: { ignore_labels: 'O' } }, /ignore_labels must be a list of labels, got a string/],
  ])('rejects %j', (payload, message) => expect(() => tokenClassification.parse(payload as never)).toThrow(message));
  it('asks for entity groups when the official client calls', () => {
    expect(tokenClassification.clientParameters).toEqual({ aggregation_strategy: 'simple' });
  });
});

describe.each([['WordPiece', NER], ['byte-level BPE', ROBERTA_NER]])('token-classification on a %s model (Node)', (_, model) => {
  const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
  const ask = async (inputs: string | string[], parameters: Record<string, unknown> = {}) => {
    const r = await engine.infer({ task: 'token-classification', model, inputs, parameters } as EngineRequest);
    if (!r.ok) throw new Error(r.error);
    return r.output as { entity?: string; entity_group?: string; word: string; start: number; end: number; score: number; index?: number }[];
  };

  it.each(['none', 'simple', 'first', 'average', 'max'])('%s: every entity’s word is the text between its offsets', async (aggregation_strategy) => {
    for (const text of TRICKY_TEXTS) {
      const entities = await ask(text, { aggregation_strategy, ignore_labels: [] });
      expect(entities.length).toBeGreaterThan(0);
      for (const e of entities) {
        expect(e.word).toBe(text.slice(e.start, e.end));
        expect(e.word.trim()).not.toBe('');
        expect(e.score).toBeGreaterThan(0);
        if (aggregation_strategy === 'none') expect(typeof e.index).toBe('number');
        else expect(typeof e.entity_group).toBe('string');
      }
      // Entities come in text order and do not overlap, except byte pieces of one character (none).
      for (let i = 1; i < entities.length; i++) expect(entities[i]!.start).toBeGreaterThanOrEqual(entities[i - 1]!.start);
    }
  });

  it('the Endpoint’s payload: "O" is left out by default, and a list gives one list per text', async () => {
    const text = 'My name is Wolfgang and I live in Berlin';
    const all = await ask(text, { ignore_labels: [] });
    const tagged = await ask(text);
    expect(tagged.every((e) => e.entity !== 'O')).toBe(true);
    expect(tagged.length).toBe(all.filter((e) => e.entity !== 'O').length);
    const many = (await ask([text, 'I live in Berlin'])) as unknown as unknown[][];
    expect(many).toHaveLength(2);
    expect(many[0]).toEqual(tagged);
  });

  it('an input far over the model’s maximum is truncated, never a crash', async () => {
    const long = 'Wolfgang lives in Berlin. '.repeat(200);
    const entities = await ask(long, { aggregation_strategy: 'simple', ignore_labels: [] });
    for (const e of entities) expect(e.word).toBe(long.slice(e.start, e.end));
    expect(Math.max(...entities.map((e) => e.end))).toBeLessThan(long.length / 2);
  });
});
