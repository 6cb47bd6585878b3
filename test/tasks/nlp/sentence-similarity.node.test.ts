import { describe, expect, it } from 'vitest';
import { sentenceSimilarity } from '../../../src/tasks/nlp/sentence-similarity.js';
import { sentenceEmbeddings } from '../../../src/tasks/nlp/sentence-embeddings.js';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { EMBED_TEXT, ENCODER, maxAbsDiff, norm } from '../../helpers.js';

/** sentence-similarity's payload in the Endpoint server's own test suite. */
const SIMILARITY = { source_sentence: 'Lets create an embedding', sentences: ['Lets create an embedding'] };

describe('sentence-similarity parse', () => {
  it('takes {source_sentence, sentences}', () => {
    expect(sentenceSimilarity.parse({ inputs: SIMILARITY })).toEqual({ source: SIMILARITY.source_sentence, sentences: SIMILARITY.sentences });
  });
  it.each([
    ['a string', 'hello', /inputs must be an object \{"source_sentence": …, "sentences": \[…\]\}, got a string/],
    ['no source', { sentences: ['a'] }, /inputs.source_sentence must be a string, got nothing/],
    ['no sentences', { source_sentence: 'a' }, /inputs.sentences must be a non-empty list of strings, got nothing/],
    ['empty sentences', { source_sentence: 'a', sentences: [] }, /non-empty list/],
    ['a number sentence', { source_sentence: 'a', sentences: ['b', 3] }, /inputs.sentences\[1\] must be a string, got a number/],
  ])('rejects %s', (_, inputs, message) => expect(() => sentenceSimilarity.parse({ inputs })).toThrow(message));
  it('answers the official client with the plain list', () => {
    expect(sentenceSimilarity.toClient({ similarities: [0.5, 1] })).toEqual([0.5, 1]);
  });
  it('sentence-embeddings refuses pooling none, which is feature-extraction’s job', () => {
    expect(() => sentenceEmbeddings.parse({ inputs: 'x', parameters: { pooling: 'none' } })).toThrow(/use the feature-extraction task/);
  });
});

describe('sentence tasks on the engine (Node)', () => {
  const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });

  it('sentence-similarity: a sentence is similar to itself (1) and less to others', async () => {
    const result = await engine.infer({
      task: 'sentence-similarity',
      model: ENCODER,
      inputs: { ...SIMILARITY, sentences: [...SIMILARITY.sentences, 'I live in Berlin', 'the bad movie'] },
    });
    expect(result.ok).toBe(true);
    const { similarities } = (result as { output: { similarities: number[] } }).output;
    expect(similarities).toHaveLength(3);
    expect(similarities[0]).toBeCloseTo(1, 5);
    expect(similarities[1]).toBeLessThan(0.99);
    expect(similarities[2]).toBeLessThan(0.99);
    expect(similarities[1]).not.toBeCloseTo(similarities[2]!, 3);
  });

  it('sentence-embeddings answers {embeddings} equal to feature-extraction’s pooled vectors', async () => {
    const embeddings = (await engine.infer({ task: 'sentence-embeddings', model: ENCODER, inputs: [EMBED_TEXT, 'I live in Berlin'] })) as {
      output: { embeddings: number[][] };
    };
    const features = (await engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: [EMBED_TEXT, 'I live in Berlin'] })) as {
      output: number[][];
    };
    expect(embeddings.output.embeddings).toHaveLength(2);
    expect(norm(embeddings.output.embeddings[0]!)).toBeCloseTo(1, 5);
    expect(maxAbsDiff(embeddings.output.embeddings[1]!, features.output[1]!)).toBeLessThan(1e-6);
  });
});
