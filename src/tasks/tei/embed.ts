/**
 * TEI's embedding routes, on embedding endpoints (feature-extraction, sentence-embeddings,
 * sentence-similarity):
 *
 *   POST /embed       EmbedRequest → EmbedResponse `[[f32]]`, one pooled vector per input
 *   POST /embed_all   EmbedAllRequest → EmbedAllResponse `[[[f32]]]`, every token's vector
 *   POST /similarity  SimilarityRequest → SimilarityResponse `[f32]`, cosine to the source
 *
 * Pooling is the model's (sentence-transformers' Pooling module; mean for a model without one).
 * `normalize` (default true) is TEI's: false gives the raw pooled vector, without the model's
 * Normalize module. `dimensions` keeps the first d components, before normalising.
 */
import { badRequest, describeType } from '../../protocol/errors.js';
import type { EmbeddingDefaults } from '../nlp/embeddings-core.js';
import type { PipelineFn, RunContext, TaskRunner, TaskSpec } from '../types.js';
import {
  checkBatchSize,
  readBody,
  readDimensions,
  readFlag,
  readInputs,
  readPromptName,
  readTruncation,
  type TeiInput,
  type Truncation,
} from './tei-body.js';
import { EMBEDDING_TASKS, encodeInput, promptText, requireEndpoint, teiTokenizer } from './tei-encode.js';
import { float32, hiddenStates, normalized, pooledVectors, runModel, tokenVectors } from './tei-model.js';

export interface EmbedRequest {
  inputs: TeiInput[];
  single: boolean;
  truncation: Truncation;
  promptName?: string;
  normalize: boolean;
  dimensions?: number;
}

export const teiEmbed = {
  id: 'tei-embed',
  example: { inputs: { inputs: 'What is Deep Learning?' } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /embed');
    return {
      ...readInputs(b.inputs, 'inputs'),
      truncation: readTruncation(b),
      promptName: readPromptName(b),
      normalize: readFlag(b, 'normalize', true),
      dimensions: readDimensions(b),
    };
  },
} satisfies TaskSpec<EmbedRequest>;

export type EmbedAllRequest = Omit<EmbedRequest, 'normalize' | 'dimensions'>;

export const teiEmbedAll = {
  id: 'tei-embed-all',
  example: { inputs: { inputs: 'What is Deep Learning?' } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /embed_all');
    return { ...readInputs(b.inputs, 'inputs'), truncation: readTruncation(b), promptName: readPromptName(b) };
  },
} satisfies TaskSpec<EmbedAllRequest>;

export interface SimilarityRequest {
  source: string;
  sentences: string[];
  truncation: Truncation;
  promptName?: string;
}

export const teiSimilarity = {
  id: 'tei-similarity',
  example: { inputs: { inputs: { source_sentence: 'What is Deep Learning?', sentences: ['What is Machine Learning?'] } } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /similarity');
    const inputs = b.inputs as Record<string, unknown> | null | undefined;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw badRequest(`inputs must be an object {"source_sentence": …, "sentences": […]}, got ${describeType(inputs)}.`);
    }
    const { source_sentence: source, sentences } = inputs;
    if (typeof source !== 'string') throw badRequest(`inputs.source_sentence must be a string, got ${describeType(source)}.`);
    if (source === '') throw badRequest('inputs.source_sentence cannot be empty.');
    if (!Array.isArray(sentences)) throw badRequest(`inputs.sentences must be a list of strings, got ${describeType(sentences)}.`);
    if (sentences.length === 0) throw badRequest('inputs.sentences cannot be empty.');
    checkBatchSize(sentences.length + 1); // with the source, as TEI counts
    sentences.forEach((s, i) => {
      if (typeof s !== 'string') throw badRequest(`inputs.sentences[${i}] must be a string, got ${describeType(s)}.`);
      if (s === '') throw badRequest(`inputs.sentences[${i}] cannot be empty.`);
    });
    const p = b.parameters;
    if (p !== undefined && p !== null && (typeof p !== 'object' || Array.isArray(p))) {
      throw badRequest(`parameters must be an object, got ${describeType(p)}.`);
    }
    const parameters = (p ?? {}) as Record<string, unknown>;
    return { source, sentences: sentences as string[], truncation: readTruncation(parameters), promptName: readPromptName(parameters) };
  },
} satisfies TaskSpec<SimilarityRequest>;

/** The pooled vectors of the inputs (not normalised), with their token counts. */
export async function pooledEmbeddings(
  pipe: PipelineFn,
  setup: EmbeddingDefaults | undefined,
  request: Pick<EmbedRequest, 'inputs' | 'single' | 'truncation' | 'promptName'>,
  where: (index: number) => string,
): Promise<{ vectors: number[][]; tokens: number }> {
  const t = teiTokenizer(pipe);
  const prompt = promptText(setup?.prompts, request.promptName);
  const encodings = request.inputs.map((input, i) => encodeInput(t, input, { truncation: request.truncation, prompt, where: where(i) }));
  const hidden = hiddenStates(await runModel(pipe, t, encodings));
  const pooling = setup?.pooling === 'cls' ? 'cls' : 'mean'; // a model without a Pooling module: mean, as sentence tasks do
  return { vectors: pooledVectors(hidden, encodings, pooling), tokens: encodings.reduce((n, e) => n + e.ids.length, 0) };
}

/** How an input is named in errors: `inputs` for one, `inputs[2]` in a list. */
export function inputsField(field: string, single: boolean): (index: number) => string {
  return (i) => (single ? field : `${field}[${i}]`);
}

/** Matryoshka: the first `dimensions` components; a 400 past the model's size. */
export function truncateDimensions(vectors: number[][], dimensions: number | undefined): number[][] {
  if (dimensions === undefined) return vectors;
  const size = vectors[0]?.length ?? 0;
  if (dimensions > size) throw badRequest(`dimensions is ${dimensions}, larger than this model's embedding size of ${size}.`);
  return vectors.map((v) => v.slice(0, dimensions));
}

/** A 400 before the model runs when `dimensions` is past the model's `hidden_size`. */
export function checkDimensions(pipe: PipelineFn, dimensions: number | undefined): void {
  const size = pipe.model?.config?.hidden_size;
  if (dimensions !== undefined && typeof size === 'number' && dimensions > size) {
    throw badRequest(`dimensions is ${dimensions}, larger than this model's embedding size of ${size}.`);
  }
}

export const teiEmbedRunner: TaskRunner<EmbedRequest, EmbeddingDefaults | undefined> = {
  spec: teiEmbed,
  pipeline: 'feature-extraction',
  onEndpointTask: true,
  async run(pipe, request, setup, ctx?: RunContext) {
    requireEndpoint(ctx?.endpointTask, EMBEDDING_TASKS, 'POST /embed');
    checkDimensions(pipe, request.dimensions);
    const { vectors } = await pooledEmbeddings(pipe, setup, request, inputsField('inputs', request.single));
    return truncateDimensions(vectors, request.dimensions).map((v) => float32(request.normalize ? normalized(v) : v));
  },
};

export const teiEmbedAllRunner: TaskRunner<EmbedAllRequest, EmbeddingDefaults | undefined> = {
  spec: teiEmbedAll,
  pipeline: 'feature-extraction',
  onEndpointTask: true,
  async run(pipe, request, setup, ctx?: RunContext) {
    requireEndpoint(ctx?.endpointTask, EMBEDDING_TASKS, 'POST /embed_all');
    const t = teiTokenizer(pipe);
    const prompt = promptText(setup?.prompts, request.promptName);
    const where = inputsField('inputs', request.single);
    const encodings = request.inputs.map((input, i) => encodeInput(t, input, { truncation: request.truncation, prompt, where: where(i) }));
    const hidden = hiddenStates(await runModel(pipe, t, encodings));
    return tokenVectors(hidden, encodings).map((tokens) => tokens.map(float32));
  },
};

export const teiSimilarityRunner: TaskRunner<SimilarityRequest, EmbeddingDefaults | undefined> = {
  spec: teiSimilarity,
  pipeline: 'feature-extraction',
  onEndpointTask: true,
  async run(pipe, request, setup, ctx?: RunContext) {
    requireEndpoint(ctx?.endpointTask, EMBEDDING_TASKS, 'POST /similarity');
    const inputs = [request.source, ...request.sentences].map((text): TeiInput => ({ kind: 'text', text }));
    const where = (i: number) => (i === 0 ? 'inputs.source_sentence' : `inputs.sentences[${i - 1}]`);
    const { vectors } = await pooledEmbeddings(pipe, setup, { ...request, inputs, single: false }, where);
    const [source, ...others] = vectors.map(normalized);
    return float32(others.map((v) => v.reduce((s, x, i) => s + x * source![i]!, 0)));
  },
};
