/**
 * feature-extraction: a string or a list of strings → embeddings.
 * Pooled (sentence-transformers models, or `pooling: mean|cls`): `number[]` for one string,
 * `number[][]` for a list. Unpooled (`pooling: none`): token embeddings `[1][tokens][hidden]` per
 * input, without padding, as transformers' pipeline answers.
 */
import type { ModelContext, TaskModule } from './types.js';
import { checkKnownParameters, readBoolean, readEnum, readParameters, readTextInputs } from './parameters.js';
import { badRequest } from '../errors.js';

export type Pooling = 'mean' | 'cls' | 'none';

export interface FeatureExtractionRequest {
  inputs: string | string[];
  pooling?: Pooling;
  normalize?: boolean;
  /** Truncate inputs longer than the model's maximum; false rejects them instead. */
  truncate: boolean;
}

/** Defaults a model declares through its sentence-transformers files. */
export interface EmbeddingDefaults {
  pooling: Pooling;
  normalize: boolean;
}

const PARAMETERS = ['pooling', 'normalize', 'truncate'] as const;

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
        const t = (await pipe(text, { pooling: 'none', normalize })) as TensorLike;
        perText.push(t.tolist()); // [1][tokens][hidden]
      }
      return typeof request.inputs === 'string' ? perText[0] : perText;
    }
    // The inputs go to the pipeline as the caller gave them: a string stays a string.
    const t = (await pipe(request.inputs, { pooling, normalize })) as TensorLike;
    const rows = t.tolist() as number[][];
    return typeof request.inputs === 'string' ? rows[0] : rows;
  },
};

/** Rejects texts over the model's length when the caller asked not to truncate. */
function checkLengths(pipe: Parameters<NonNullable<typeof featureExtraction.run>>[0], texts: string[]): void {
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
