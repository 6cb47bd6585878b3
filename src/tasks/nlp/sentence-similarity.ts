/**
 * sentence-similarity: `{source_sentence, sentences}` → the cosine similarity of each sentence to
 * the source. The Endpoint answers `{"similarities": […]}`; the official client wants the plain list.
 */
import type { TaskRunner, TaskSpec } from '../types.js';
import { checkKnownParameters, readParameters } from '../shared/parameters.js';
import { embed, sentenceDefaults, type EmbeddingDefaults } from './embeddings-core.js';
import { badRequest, describeType } from '../../protocol/errors.js';

export interface SentenceSimilarityRequest {
  source: string;
  sentences: string[];
}

export const sentenceSimilarity = {
  id: 'sentence-similarity',
  client: ['sentenceSimilarity'],
  example: { inputs: { source_sentence: 'Lets create an embedding', sentences: ['Lets create an embedding', 'I live in Berlin'] } },

  parse(payload) {
    checkKnownParameters('sentence-similarity', readParameters(payload.parameters), []);
    const inputs = payload.inputs as Record<string, unknown> | null;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw badRequest(`inputs must be an object {"source_sentence": …, "sentences": […]}, got ${describeType(inputs)}.`);
    }
    const { source_sentence: source, sentences } = inputs;
    if (typeof source !== 'string') throw badRequest(`inputs.source_sentence must be a string, got ${describeType(source)}.`);
    if (!Array.isArray(sentences) || sentences.length === 0) {
      throw badRequest(`inputs.sentences must be a non-empty list of strings, got ${describeType(sentences)}.`);
    }
    const bad = sentences.findIndex((s) => typeof s !== 'string');
    if (bad >= 0) throw badRequest(`inputs.sentences[${bad}] must be a string, got ${describeType(sentences[bad])}.`);
    return { source, sentences: sentences as string[] };
  },

  toClient(answer) {
    return (answer as { similarities: number[] }).similarities;
  },
} satisfies TaskSpec<SentenceSimilarityRequest>;

export const sentenceSimilarityRunner: TaskRunner<SentenceSimilarityRequest, EmbeddingDefaults> = {
  spec: sentenceSimilarity,
  pipeline: 'feature-extraction',
  setup: sentenceDefaults,

  async run(pipe, request, defaults) {
    const vectors = (await embed(
      pipe,
      { inputs: [request.source, ...request.sentences], pooling: defaults.pooling, normalize: true, truncate: true, truncationDirection: 'right' },
      defaults,
    )) as number[][];
    const [source, ...others] = vectors;
    return { similarities: others.map((v) => dot(source!, v)) };
  },
};

/** Cosine similarity of unit vectors. */
function dot(a: number[], b: number[]): number {
  return a.reduce((sum, x, i) => sum + x * b[i]!, 0);
}
