/**
 * sentence-embeddings: a string or a list of strings → `{"embeddings": …}`, one pooled vector per
 * sentence, as a sentence-transformers Endpoint answers. Pooling and normalisation come from the
 * model's sentence-transformers files; a plain model is mean-pooled.
 */
import type { TaskRunner, TaskSpec } from '../types.js';
import { readEmbeddingRequest, type FeatureExtractionRequest } from './embeddings-parameters.js';
import { embed, embeddingBatching, sentenceDefaults, type EmbeddingDefaults } from './embeddings-core.js';
import { badRequest } from '../../protocol/errors.js';

export const sentenceEmbeddings = {
  id: 'sentence-embeddings',
  example: { inputs: 'Lets create an embedding' },
  parse(payload) {
    const request = readEmbeddingRequest(payload);
    if (request.pooling === 'none') {
      throw badRequest('parameters.pooling "none" gives token embeddings: use the feature-extraction task for those.');
    }
    return request;
  },
} satisfies TaskSpec<FeatureExtractionRequest>;

export const sentenceEmbeddingsRunner: TaskRunner<FeatureExtractionRequest, EmbeddingDefaults> = {
  spec: sentenceEmbeddings,
  pipeline: 'feature-extraction',
  setup: sentenceDefaults,
  async run(pipe, request, defaults) {
    return { embeddings: await embed(pipe, request, defaults) };
  },
  batch: {
    key: (request, defaults) => embeddingBatching.key(request, defaults),
    tokens: (pipe, request) => embeddingBatching.tokens(pipe, request),
    async run(pipe, requests, defaults) {
      const answers = await embeddingBatching.run(pipe, requests, defaults);
      return answers.map((embeddings) => ({ embeddings }));
    },
  },
};
