/**
 * sentence-embeddings: a string or a list of strings → `{"embeddings": …}`, one pooled vector per
 * sentence, as a sentence-transformers Endpoint answers. Pooling and normalisation come from the
 * model's sentence-transformers files; a plain model is mean-pooled.
 */
import type { ModelContext, TaskModule } from '../types.js';
import {
  featureExtraction,
  readSentenceTransformersDefaults,
  type EmbeddingDefaults,
  type FeatureExtractionRequest,
} from './feature-extraction.js';
import { badRequest } from '../../protocol/errors.js';

/** Sentence tasks always pool: a model without a pooling config gets mean pooling. */
export async function sentenceDefaults(model: ModelContext): Promise<EmbeddingDefaults> {
  const defaults = await readSentenceTransformersDefaults(model);
  return defaults.pooling === 'none' ? { ...defaults, pooling: 'mean' } : defaults;
}

export const sentenceEmbeddings: TaskModule<FeatureExtractionRequest, EmbeddingDefaults> = {
  id: 'sentence-embeddings',
  pipeline: 'feature-extraction',

  parse(payload) {
    const request = featureExtraction.parse(payload);
    if (request.pooling === 'none') {
      throw badRequest('parameters.pooling "none" gives token embeddings: use the feature-extraction task for those.');
    }
    return request;
  },

  setup: sentenceDefaults,

  async run(pipe, request, defaults) {
    return { embeddings: await featureExtraction.run(pipe, request, defaults) };
  },

  batch: {
    key: (request, defaults) => featureExtraction.batch!.key(request, defaults),
    tokens: (pipe, request) => featureExtraction.batch!.tokens(pipe, request),
    async run(pipe, requests, defaults) {
      const answers = await featureExtraction.batch!.run(pipe, requests, defaults);
      return answers.map((embeddings) => ({ embeddings }));
    },
  },
};
