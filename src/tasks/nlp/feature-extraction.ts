/**
 * feature-extraction: a string or a list of strings → embeddings.
 * Pooled (sentence-transformers models, or `pooling: mean|cls`): `number[]` for one string,
 * `number[][]` for a list. Unpooled (`pooling: none`): token embeddings `[1][tokens][hidden]` per
 * input, without padding, as transformers' pipeline answers.
 */
import { textPipeline, type ModelContext, type PipelineFn, type TaskModule } from '../types.js';
import { checkKnownParameters, readBoolean, readEnum, readParameters, readTextInputs } from '../shared/parameters.js';
import { badRequest } from '../../protocol/errors.js';
import { offsetScheme, tokenSpans } from '../shared/token-offsets.js';
import { paddedTokens, splitRows, textsOf } from '../shared/batch-texts.js';

export type Pooling = 'mean' | 'cls' | 'none';

export interface FeatureExtractionRequest {
  inputs: string | string[];
  pooling?: Pooling;
  normalize?: boolean;
  /** Truncate inputs longer than the model's maximum; false rejects them instead. */
  truncate: boolean;
  /** Which end of an over-long input to cut (TEI's `truncation_direction`). */
  truncationDirection: 'left' | 'right';
}

/** Defaults a model declares through its sentence-transformers files. */
export interface EmbeddingDefaults {
  pooling: Pooling;
  normalize: boolean;
}

const PARAMETERS = ['pooling', 'normalize', 'truncate', 'truncation_direction'] as const;

interface TensorLike {
  dims: number[];
  tolist(): unknown;
}

export const featureExtraction: TaskModule<FeatureExtractionRequest, EmbeddingDefaults> = {
  id: 'feature-extraction',
  pipeline: 'feature-extraction',

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('feature-extraction', parameters, PARAMETERS);
    return {
      inputs: readTextInputs(payload.inputs),
      pooling: readEnum(parameters, 'pooling', ['mean', 'cls', 'none'] as const),
      normalize: readBoolean(parameters, 'normalize'),
      truncate: readBoolean(parameters, 'truncate') ?? true,
      truncationDirection: readTruncationDirection(parameters.truncation_direction),
    };
  },

  setup: readSentenceTransformersDefaults,

  async run(pipe, request, defaults) {
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
  },

  batch: {
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
  },
};

/** One pooled call for the texts of all the requests; the rows of each request. */
/** `left` or `right`, in TEI's spelling (`Left`, `Right`) too. */
function readTruncationDirection(value: unknown): 'left' | 'right' {
  if (value === undefined || value === null) return 'right';
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (v !== 'left' && v !== 'right') throw badRequest(`parameters.truncation_direction must be left or right, got ${JSON.stringify(value)}.`);
  return v;
}

/**
 * An over-long text cut to the model's maximum in the text itself, at a token boundary, keeping
 * its start (`right`) or its end (`left`). transformers.js only cuts the token list on the right,
 * which also drops the closing special token.
 */
export function truncateText(pipe: PipelineFn, text: string, direction: 'left' | 'right'): string {
  const { tokenizer } = textPipeline(pipe);
  const max = tokenizer.model_max_length;
  if (!max) return text;
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
    const n = tokenizer.encode(text).length;
    if (n > max) {
      const where = texts.length > 1 ? `inputs[${i}]` : 'inputs';
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
  if (!Array.isArray(modules)) return { pooling: 'none', normalize: false };
  const normalize = modules.some((m) => m.type?.endsWith('.Normalize'));
  const poolingModule = modules.find((m) => m.type?.endsWith('.Pooling'));
  let pooling: Pooling = 'none';
  if (poolingModule) {
    const dir = poolingModule.path ? `${poolingModule.path.replace(/\/$/, '')}/` : '';
    const config = ((await model.readJSON(`${dir}config.json`)) ?? {}) as Record<string, unknown>;
    if (config.pooling_mode_cls_token) pooling = 'cls';
    else pooling = 'mean'; // mean is sentence-transformers' default and the most common
  }
  return { pooling, normalize };
}
