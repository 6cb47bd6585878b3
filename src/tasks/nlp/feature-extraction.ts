/**
 * feature-extraction: a string or a list of strings → embeddings.
 * Pooled (sentence-transformers models, or `pooling: mean|cls`): `number[]` for one string,
 * `number[][]` for a list. Unpooled (`pooling: none`): token embeddings `[1][tokens][hidden]` per
 * input, without padding, as transformers' pipeline answers.
 */
import type { TaskRunner, TaskSpec } from '../types.js';
import { readEmbeddingRequest, type FeatureExtractionRequest } from './embeddings-parameters.js';
import { embed, embeddingBatching, readSentenceTransformersDefaults, type EmbeddingDefaults } from './embeddings-core.js';

export type { FeatureExtractionRequest, Pooling } from './embeddings-parameters.js';
export type { EmbeddingDefaults } from './embeddings-core.js';

export const featureExtraction = {
  id: 'feature-extraction',
  client: ['featureExtraction'],
  example: { inputs: 'Lets create an embedding' },
  parse: readEmbeddingRequest,
} satisfies TaskSpec<FeatureExtractionRequest>;

export const featureExtractionRunner: TaskRunner<FeatureExtractionRequest, EmbeddingDefaults> = {
  spec: featureExtraction,
  pipeline: 'feature-extraction',
  setup: readSentenceTransformersDefaults,
  run: embed,
  batch: embeddingBatching,
};
