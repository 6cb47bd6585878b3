/**
 * Embeddings, as the engine computes them for feature-extraction, sentence-embeddings and
 * sentence-similarity: pooled rows (batched), token embeddings, truncation at a token boundary,
 * and the pooling a sentence-transformers model declares. Engine side.
 */
import { badRequest } from '../../protocol/errors.js';
import { offsetScheme, tokenSpans } from '../shared/token-offsets.js';
import { cutForTokens } from '../shared/long-text.js';
import { paddedTokens, splitRows, textsOf } from '../shared/batch-texts.js';
import { textPipeline, type Batching, type ModelContext, type PipelineFn } from '../types.js';
import type { FeatureExtractionRequest, Pooling } from './embeddings-parameters.js';

/** Defaults a model declares through its sentence-transformers files. */
export interface EmbeddingDefaults {
  pooling: Pooling;
  normalize: boolean;
  /**
   * The prompts of `config_sentence_transformers.json` by name (`{"query": "query: "}`), for
   * TEI's `prompt_name`; absent when the model has no such file or no `prompts` object in it.
   */
  prompts?: Readonly<Record<string, string>>;
}

interface TensorLike {
  dims: number[];
  tolist(): unknown;
}

/**
 * Pooled (a pooling from the request or the model): `number[]` for one string, `number[][]` for a
 * list. Unpooled: token embeddings `[1][tokens][hidden]` per input, without padding.
 */
export async function embed(pipe: PipelineFn, request: FeatureExtractionRequest, defaults: EmbeddingDefaults): Promise<unknown> {
  const pooling = request.pooling ?? defaults.pooling;
  const normalize = request.normalize ?? defaults.normalize;
  const texts = typeof request.inputs === 'string' ? [request.inputs] : request.inputs;
  if (!request.truncate) checkLengths(pipe, texts);
  if (pooling === 'none') {
    // One call per text, so that no padding tokens appear in the answer.
    const perText: unknown[] = [];
    for (const text of texts) {
      const t = (await pipe(truncateText(pipe, text, request.truncationDirection), { pooling: 'none', normalize })) as TensorLike;
      perText.push(t.tolist()); // [1][tokens][hidden]
    }
    return typeof request.inputs === 'string' ? perText[0] : perText;
  }
  const [rows] = await pooledRows(pipe, [request], pooling, normalize);
  return typeof request.inputs === 'string' ? rows![0] : rows;
}

/** Pooled requests with the same pooling share one call; each gets the answer `embed` gives. */
export const embeddingBatching: Batching<FeatureExtractionRequest, EmbeddingDefaults> = {
  key(request, defaults) {
    const pooling = request.pooling ?? defaults.pooling;
    if (pooling === 'none' || !request.truncate) return null; // token embeddings, or a length check: alone
    return JSON.stringify([pooling, request.normalize ?? defaults.normalize]);
  },
  tokens: (pipe, request) => paddedTokens(pipe, textsOf(request.inputs)),
  async run(pipe, requests, defaults) {
    const pooling = requests[0]!.pooling ?? defaults.pooling;
    const normalize = requests[0]!.normalize ?? defaults.normalize;
    const rows = await pooledRows(pipe, requests, pooling, normalize);
    return requests.map((r, i) => (typeof r.inputs === 'string' ? rows[i]![0] : rows[i]));
  },
};

/**
 * An over-long text cut to the model's maximum in the text itself, at a token boundary, keeping
 * its start (`right`) or its end (`left`). transformers.js only cuts the token list on the right,
 * which also drops the closing special token.
 */
export function truncateText(pipe: PipelineFn, whole: string, direction: 'left' | 'right'): string {
  const { tokenizer } = textPipeline(pipe);
  const max = tokenizer.model_max_length;
  if (!max) return whole;
  const text = cutForTokens(tokenizer, whole, max, direction); // only the kept end is tokenized
  const tokens = (tokenizer as unknown as { tokenize(t: string): string[] }).tokenize(text);
  const room = max - (tokenizer.encode('').length); // the special tokens take their place
  if (tokens.length <= room) return text;
  const spans = tokenSpans(text, tokens, offsetScheme(tokenizer));
  if (direction === 'right') {
    const last = spans.slice(0, room).findLast((s) => s !== null);
    return last ? text.slice(0, last[1]) : text;
  }
  const first = spans.slice(tokens.length - room).find((s) => s !== null);
  return first ? text.slice(first[0]) : text;
}

/** One pooled call for the texts of all the requests; the rows of each request. */
async function pooledRows(
  pipe: PipelineFn,
  requests: readonly FeatureExtractionRequest[],
  pooling: Pooling,
  normalize: boolean,
): Promise<number[][][]> {
  const texts = requests.flatMap((r) => textsOf(r.inputs).map((t) => truncateText(pipe, t, r.truncationDirection)));
  // A single text goes to the pipeline as a string, as a caller would pass it.
  const t = (await pipe(texts.length === 1 ? texts[0] : texts, { pooling, normalize })) as TensorLike;
  return splitRows(t.tolist() as number[][], requests.map((r) => textsOf(r.inputs).length));
}

/** Rejects texts over the model's length when the caller asked not to truncate. */
function checkLengths(pipe: PipelineFn, texts: string[]): void {
  const tokenizer = (pipe as unknown as { tokenizer?: TokenizerLike }).tokenizer;
  const max = tokenizer?.model_max_length;
  if (!tokenizer || !max) return;
  texts.forEach((text, i) => {
    const where = texts.length > 1 ? `inputs[${i}]` : 'inputs';
    // A huge text is known to be over the limit from its start: it is not tokenized whole.
    if (cutForTokens(tokenizer as never, text, max).length < text.length) {
      throw badRequest(`${where} is more than ${max} tokens long (${text.length} characters), over the model's maximum of ${max}, and parameters.truncate is false.`);
    }
    const n = tokenizer.encode(text).length;
    if (n > max) {
      throw badRequest(`${where} is ${n} tokens long, over the model's maximum of ${max}, and parameters.truncate is false.`);
    }
  });
}

interface TokenizerLike {
  model_max_length?: number;
  encode(text: string): number[];
}

interface SentenceTransformersModule {
  type?: string;
  path?: string;
}

/**
 * A sentence-transformers model ships `modules.json` naming a Pooling module (with its config)
 * and maybe a Normalize module. Without them, the pipeline's own default (no pooling) applies.
 */
export async function readSentenceTransformersDefaults(model: ModelContext): Promise<EmbeddingDefaults> {
  const modules = (await model.readJSON('modules.json')) as SentenceTransformersModule[] | null;
  const prompts = await readPrompts(model);
  if (!Array.isArray(modules)) return { pooling: 'none', normalize: false, ...prompts };
  const normalize = modules.some((m) => m.type?.endsWith('.Normalize'));
  const poolingModule = modules.find((m) => m.type?.endsWith('.Pooling'));
  let pooling: Pooling = 'none';
  if (poolingModule) {
    const dir = poolingModule.path ? `${poolingModule.path.replace(/\/$/, '')}/` : '';
    const config = ((await model.readJSON(`${dir}config.json`)) ?? {}) as Record<string, unknown>;
    if (config.pooling_mode_cls_token) pooling = 'cls';
    else pooling = 'mean'; // mean is sentence-transformers' default and the most common
  }
  return { pooling, normalize, ...prompts };
}

/** `{prompts}` from `config_sentence_transformers.json` (its string values only); `{}` without them, or for a file that does not parse. */
async function readPrompts(model: ModelContext): Promise<{ prompts?: Record<string, string> }> {
  const config = (await model.readJSON('config_sentence_transformers.json').catch(() => null)) as { prompts?: unknown } | null;
  const prompts = config?.prompts;
  if (!prompts || typeof prompts !== 'object' || Array.isArray(prompts)) return {};
  return { prompts: Object.fromEntries(Object.entries(prompts).filter(([, v]) => typeof v === 'string')) as Record<string, string> };
}

/** Sentence tasks always pool: a model without a pooling config gets mean pooling. */
export async function sentenceDefaults(model: ModelContext): Promise<EmbeddingDefaults> {
  const defaults = await readSentenceTransformersDefaults(model);
  return defaults.pooling === 'none' ? { ...defaults, pooling: 'mean' } : defaults;
}
