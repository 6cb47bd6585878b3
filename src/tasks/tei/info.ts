/**
 * TEI's `GET /info` on encoder endpoints: TEI's Info, with `model_type` by the endpoint's task:
 * `{embedding: {pooling}}` on embedding endpoints, `{reranker: {id2label, label2id}}` on ranking
 * endpoints, `{classifier: {id2label, label2id}}` on text-classification endpoints.
 */
import type { EmbeddingDefaults } from '../nlp/embeddings-core.js';
import type { RunContext, TaskRunner, TaskSpec } from '../types.js';
import { MAX_CLIENT_BATCH_SIZE } from './tei-body.js';
import { EMBEDDING_TASKS, requireEndpoint, teiTokenizer } from './tei-encode.js';

/** The TEI release whose API these routes follow (the vendored `openapi.json`). */
export const TEI_API_VERSION = '1.9.3';

export const teiInfo = {
  id: 'tei-info',
  parse: () => null, // a GET: no body
} satisfies TaskSpec<null>;

export const teiInfoRunner: TaskRunner<null, EmbeddingDefaults | undefined | void> = {
  spec: teiInfo,
  pipeline: 'feature-extraction',
  onEndpointTask: true,
  async run(pipe, _request, setup, ctx?: RunContext) {
    const task = requireEndpoint(ctx?.endpointTask, [...EMBEDDING_TASKS, 'ranking', 'text-classification'], 'GET /info');
    const config = (pipe.model?.config ?? {}) as Record<string, unknown>;
    const model = ctx?.model ?? '';
    return {
      model_id: model,
      model_sha: null,
      model_dtype: dtypeOf(config),
      served_model_name: model,
      model_type: modelType(task, config, setup as EmbeddingDefaults | undefined),
      max_concurrent_requests: 128,
      max_input_length: teiTokenizer(pipe).maxLength,
      max_batch_tokens: 8192,
      max_batch_requests: null,
      max_client_batch_size: MAX_CLIENT_BATCH_SIZE,
      auto_truncate: true,
      tokenization_workers: 1,
      version: TEI_API_VERSION,
      sha: null,
      docker_label: null,
    };
  },
};

function modelType(task: string, config: Record<string, unknown>, setup: EmbeddingDefaults | undefined): unknown {
  if ((EMBEDDING_TASKS as readonly string[]).includes(task)) return { embedding: { pooling: setup?.pooling === 'cls' ? 'cls' : 'mean' } };
  const id2label = Object.fromEntries(Object.entries((config.id2label ?? {}) as Record<string, unknown>).map(([id, label]) => [id, String(label)]));
  const fromConfig = config.label2id as Record<string, unknown> | undefined;
  const label2id =
    fromConfig && Object.values(fromConfig).every((v) => Number.isInteger(v))
      ? (fromConfig as Record<string, number>)
      : Object.fromEntries(Object.entries(id2label).map(([id, label]) => [label, Number(id)]));
  return { [task === 'ranking' ? 'reranker' : 'classifier']: { id2label, label2id } };
}

/** The weights' type, as TEI names it (`float32`, `float16`…), from transformers.js's config. */
function dtypeOf(config: Record<string, unknown>): string {
  const dtype = (config['transformers.js_config'] as { dtype?: unknown } | undefined)?.dtype;
  const names: Record<string, string> = { fp32: 'float32', fp16: 'float16', q8: 'int8', int8: 'int8', uint8: 'uint8', q4: 'int4', bnb4: 'int4', q4f16: 'int4' };
  return typeof dtype === 'string' ? (names[dtype] ?? dtype) : 'float32';
}
