/**
 * OpenAI's `POST /v1/embeddings` on embedding endpoints, as TEI serves it (OpenAICompatRequest →
 * OpenAICompatResponse), for the `openai` SDK's `embeddings.create`:
 *
 *   {input, model?, user?, encoding_format?: "float" | "base64", dimensions?}
 *   → {object: "list", data: [{object: "embedding", embedding, index}], model, usage: {prompt_tokens, total_tokens}}
 *
 * `input` is a string, token ids, or a list of strings and token-id lists. Vectors are always
 * normalised (after `dimensions` keeps their first components) and truncated from the right at the
 * model's maximum, as TEI does. `base64` is the little-endian float32 bytes of each vector.
 */
import { badRequest, describeType, quote } from '../../protocol/errors.js';
import type { EmbeddingDefaults } from '../nlp/embeddings-core.js';
import { toBase64 } from '../shared/base64.js';
import type { RunContext, TaskRunner, TaskSpec } from '../types.js';
import { checkDimensions, inputsField, pooledEmbeddings, truncateDimensions } from './embed.js';
import { readBody, readDimensions, readInputs, type TeiInput } from './tei-body.js';
import { EMBEDDING_TASKS, requireEndpoint } from './tei-encode.js';
import { float32, normalized } from './tei-model.js';

export interface OpenAIEmbeddingsRequest {
  inputs: TeiInput[];
  single: boolean;
  base64: boolean;
  dimensions?: number;
}

export const openAIEmbeddings = {
  id: 'openai-embeddings',
  example: { inputs: { input: 'What is Deep Learning?', model: 'local', encoding_format: 'float' } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /v1/embeddings');
    for (const name of ['model', 'user'] as const) {
      const v = b[name];
      if (v !== undefined && v !== null && typeof v !== 'string') throw badRequest(`${name} must be a string, got ${describeType(v)}.`);
    }
    const format = b.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw badRequest(`encoding_format must be "float" or "base64", got ${quote(format)}.`);
    return { ...readInputs(b.input, 'input'), base64: format === 'base64', dimensions: readDimensions(b) };
  },
} satisfies TaskSpec<OpenAIEmbeddingsRequest>;

export const openAIEmbeddingsRunner: TaskRunner<OpenAIEmbeddingsRequest, EmbeddingDefaults | undefined> = {
  spec: openAIEmbeddings,
  pipeline: 'feature-extraction',
  onEndpointTask: true,
  async run(pipe, request, setup, ctx?: RunContext) {
    requireEndpoint(ctx?.endpointTask, EMBEDDING_TASKS, 'POST /v1/embeddings');
    checkDimensions(pipe, request.dimensions);
    const { vectors, tokens } = await pooledEmbeddings(
      pipe,
      setup,
      { inputs: request.inputs, single: request.single, truncation: { truncate: true, direction: 'right' } },
      inputsField('input', request.single),
    );
    const data = truncateDimensions(vectors, request.dimensions).map((v, index) => {
      const embedding = float32(normalized(v));
      return { object: 'embedding', embedding: request.base64 ? littleEndianBase64(embedding) : embedding, index };
    });
    return { object: 'list', data, model: ctx?.model ?? '', usage: { prompt_tokens: tokens, total_tokens: tokens } };
  },
};

/** The vector's float32 bytes, little-endian, in base64 (what the openai SDK decodes). */
export function littleEndianBase64(vector: readonly number[]): string {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  vector.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return toBase64(bytes);
}
