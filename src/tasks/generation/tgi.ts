/**
 * TGI's own routes on generative endpoints (text-generation, conversational), as
 * huggingface/text-generation-inference's `docs/openapi.json` defines them:
 *
 *   POST /generate         GenerateRequest → GenerateResponse
 *   POST /generate_stream  GenerateRequest → server-sent StreamResponse events (no `[DONE]`)
 *   POST /tokenize         GenerateRequest → TokenizeResponse
 *   GET  /info             → Info
 *
 * They run on the endpoint model's `text-generation` pipeline, loaded once for every generative
 * route. As on TGI, `/generate` leaves the prompt out unless `return_full_text` is true, adds
 * `details` (each token's log-probability, `top_tokens` with `top_n_tokens`, the prompt's with
 * `decoder_input_details`) when asked, and the stream's events count from 1 and carry every
 * token's log-probability.
 */
import { badRequest, describeType, quoteName } from '../../protocol/errors.js';
import {
  flattenGenerationParameters,
  MAX_STOP_SEQUENCES,
  readGenerationOptions,
  readPrompt,
  readStream,
  type GenerationOptions,
} from './generation-parameters.js';
import { generationSetup, runGeneration, type GenerationSetup } from './generate-core.js';
import {
  logprobHook,
  readTgiDetails,
  tgiDetails,
  tgiFinish,
  tgiStreamToken,
  TGI_PARAMETERS,
  wantsLogprobs,
  type TgiDetailsRequest,
} from './openai-logprobs.js';
import { offsetScheme, tokenSpans, type OffsetScheme } from '../shared/token-offsets.js';
import { readBoolean, readParameters } from '../shared/parameters.js';
import type { EndpointPayload, PipelineFn, RunContext, StreamShape, TaskRunner, TaskSpec } from '../types.js';

/** local-endpoint's version, which `/info` reports (the tests check it against package.json). */
export const LOCAL_ENDPOINT_VERSION = '0.1.0';

export interface TgiGenerateRequest {
  inputs: string;
  options: GenerationOptions;
  returnFullText: boolean;
  tgi: TgiDetailsRequest;
}

/** The keys of a GenerateRequest body. */
const BODY_KEYS = ['inputs', 'parameters', 'stream'];

function readBody(route: string, inputs: unknown): Record<string, unknown> {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw badRequest(`The body of ${route} must be a JSON object {inputs, parameters}, got ${describeType(inputs)}.`);
  }
  const body = inputs as Record<string, unknown>;
  const unknown = Object.keys(body).filter((key) => !BODY_KEYS.includes(key));
  if (unknown.length) throw badRequest(`Unknown field${unknown.length > 1 ? 's' : ''} in the body of ${route}: ${unknown.slice(0, 10).map((k) => quoteName(k)).join(', ')}. Supported: inputs, parameters.`);
  return body;
}

/** Reads a GenerateRequest: `{inputs, parameters}` with TGI's parameter names. */
function readGenerateRequest(route: string, inputs: unknown): TgiGenerateRequest {
  const body = readBody(route, inputs);
  const flat = flattenGenerationParameters(readParameters(body.parameters));
  const options = readGenerationOptions(route, flat, TGI_PARAMETERS);
  if (options.numReturnSequences > 1) throw badRequest(`${route} returns one sequence: parameters.num_return_sequences must be 1.`);
  // TGI samples when a warper is set, even without do_sample.
  if (options.doSample === null) {
    options.doSample = (options.temperature !== undefined && options.temperature !== 1) || options.topK !== undefined || (options.topP !== undefined && options.topP < 1);
  }
  return {
    inputs: readPrompt(body.inputs, 'inputs'),
    options,
    returnFullText: readBoolean(flat, 'return_full_text') ?? false,
    tgi: readTgiDetails(flat),
  };
}

export const tgiGenerate = {
  id: 'tgi-generate',
  parse({ inputs }: EndpointPayload) {
    const request = readGenerateRequest('/generate', inputs);
    if (readStream((inputs as { stream?: unknown }).stream)) throw badRequest('/generate answers in one piece: drop "stream": true, or POST /generate_stream.');
    return request;
  },
} satisfies TaskSpec<TgiGenerateRequest>;

/** TGI's StreamResponse events: indexes from 1, `details` on the last one when asked for. */
const tgiStream: StreamShape<TgiGenerateRequest> = {
  wanted: () => true,
  done: false,
  idPrefix: 'gen',
  token(event, request, meta) {
    const last = event.finish;
    return [
      {
        index: event.index + 1,
        ...tgiStreamToken(event, request.tgi.topNTokens),
        generated_text: last ? (request.returnFullText ? request.inputs : '') + last.text : null,
        details:
          last && request.tgi.details
            ? { finish_reason: tgiFinish(last.reason), generated_tokens: last.generatedTokens, seed: request.options.seed ?? null, input_length: meta.promptTokens }
            : null,
      },
    ];
  },
};

export const tgiGenerateStream = {
  id: 'tgi-generate-stream',
  parse({ inputs }: EndpointPayload) {
    const request = readGenerateRequest('/generate_stream', inputs);
    readStream((inputs as { stream?: unknown }).stream); // a boolean, if there is one
    if (request.tgi.decoderInputDetails) throw badRequest('parameters.decoder_input_details is not supported when streaming tokens (as on TGI).');
    return request;
  },
  stream: tgiStream,
} satisfies TaskSpec<TgiGenerateRequest>;

export interface TgiTokenizeRequest {
  inputs: string;
  truncate: number | undefined;
}

export const tgiTokenize = {
  id: 'tgi-tokenize',
  parse({ inputs }: EndpointPayload) {
    const body = readBody('/tokenize', inputs);
    const flat = flattenGenerationParameters(readParameters(body.parameters));
    const options = readGenerationOptions('/tokenize', flat, TGI_PARAMETERS);
    readTgiDetails(flat);
    return { inputs: readPrompt(body.inputs, 'inputs'), truncate: options.truncate };
  },
} satisfies TaskSpec<TgiTokenizeRequest>;

export const tgiInfo = {
  id: 'tgi-info',
  parse({ inputs }: EndpointPayload) {
    if (inputs !== null && inputs !== undefined) throw badRequest('GET /info takes no body.');
    return null;
  },
} satisfies TaskSpec<null>;

// -- the engine side ------------------------------------------------------------------------

async function generate(pipe: PipelineFn, request: TgiGenerateRequest, setup: GenerationSetup, ctx: RunContext | undefined, stream: boolean) {
  const { tgi } = request;
  // The stream carries every token's log-probability, as TGI's does.
  const hook = stream || wantsLogprobs(tgi) ? logprobHook(pipe, tgi.topNTokens, tgi.decoderInputDetails) : null;
  const result = await runGeneration(pipe, { kind: 'text', text: request.inputs }, request.options, setup, ctx, {}, hook ? [hook] : []);
  const sequence = result.sequences[0];
  if (!sequence) return { generated_text: '' }; // cancelled before it began: the engine answers so
  const prefill = hook && tgi.decoderInputDetails ? await hook.prefill(result.promptIds) : null;
  return {
    generated_text: (request.returnFullText ? request.inputs : '') + sequence.text,
    ...(wantsLogprobs(tgi) ? { details: tgiDetails(sequence, tgi, request.options.seed, prefill) } : {}),
  };
}

interface TokenizerParts {
  tokenizer: ((text: string, options: { add_special_tokens: boolean }) => { input_ids: { data: ArrayLike<number | bigint> } }) & {
    add_bos_token?: boolean;
    add_eos_token?: boolean;
    _tokenizer: { id_to_token(id: number): string | undefined };
  };
}

/** TGI's TokenizeResponse: each token's id, and where it is in the input (`inputs.slice(start, stop)` is `text`). */
function tokenize(pipe: PipelineFn, request: TgiTokenizeRequest, setup: GenerationSetup) {
  const { tokenizer } = pipe as unknown as TokenizerParts;
  // The special tokens the model sees with a text prompt (as runGeneration adds them).
  const addSpecialTokens = setup.encoderDecoder || Boolean(tokenizer.add_bos_token || tokenizer.add_eos_token);
  const ids = Array.from(tokenizer(request.inputs, { add_special_tokens: addSpecialTokens }).input_ids.data, Number);
  const spans = tokenSpans(request.inputs, ids.map((id) => tokenizer._tokenizer.id_to_token(id) ?? ''), tokenizeScheme(tokenizer));
  let end = 0;
  const tokens = ids.map((id, i) => {
    const span = spans[i];
    // A token that is not in the text (a BOS the tokenizer adds) sits, empty, where the text has got to.
    const [start, stop] = span ?? [end, end];
    end = stop;
    return { id, text: request.inputs.slice(start, stop), start, stop };
  });
  return request.truncate !== undefined && tokens.length > request.truncate ? tokens.slice(tokens.length - request.truncate) : tokens;
}

/**
 * How the tokenizer's offsets map to the text. A byte-level token's offsets keep its leading space
 * (`Ġworld` is " world") unless the tokenizer's post-processor trims them, as the `tokenizers`
 * library TGI uses does.
 */
function tokenizeScheme(tokenizer: unknown): OffsetScheme {
  const scheme = offsetScheme(tokenizer);
  if (scheme.kind !== 'byte-level') return scheme;
  type Processor = { type?: string; trim_offsets?: boolean; processors?: Processor[] } | null | undefined;
  const post = (tokenizer as { _tokenizerJSON?: { post_processor?: Processor } })._tokenizerJSON?.post_processor;
  const byteLevel = [post, ...(post?.processors ?? [])].find((p) => p?.type === 'ByteLevel');
  return { ...scheme, trimOffsets: byteLevel?.trim_offsets ?? false };
}

/** TGI's Info, with this server's own values. */
function info(setup: GenerationSetup, ctx: RunContext | undefined) {
  // A model that declares no context length: no bound is known.
  const total = setup.contextLength ?? Number.MAX_SAFE_INTEGER;
  return {
    model_id: ctx?.model ?? 'local',
    model_sha: null,
    model_pipeline_tag: ctx?.endpointTask ?? 'text-generation',
    // local-endpoint serve's default bound (--max-concurrent-requests); beyond it, a 429.
    max_concurrent_requests: 128,
    max_best_of: 1,
    max_stop_sequences: MAX_STOP_SEQUENCES,
    max_input_tokens: Math.max(0, total - 1),
    max_total_tokens: total,
    validation_workers: 1,
    max_client_batch_size: 1,
    router: 'local-endpoint',
    version: LOCAL_ENDPOINT_VERSION,
    sha: null,
    docker_label: null,
  };
}

const onGenerationPipeline = { pipeline: 'text-generation', loadAs: 'text-generation', setup: generationSetup } as const;

export const tgiGenerateRunner: TaskRunner<TgiGenerateRequest, GenerationSetup> = {
  spec: tgiGenerate,
  ...onGenerationPipeline,
  run: (pipe, request, setup, ctx) => generate(pipe, request, setup, ctx, false),
};

export const tgiGenerateStreamRunner: TaskRunner<TgiGenerateRequest, GenerationSetup> = {
  spec: tgiGenerateStream,
  ...onGenerationPipeline,
  run: (pipe, request, setup, ctx) => generate(pipe, request, setup, ctx, true),
};

export const tgiTokenizeRunner: TaskRunner<TgiTokenizeRequest, GenerationSetup> = {
  spec: tgiTokenize,
  ...onGenerationPipeline,
  run: async (pipe, request, setup) => tokenize(pipe, request, setup),
};

export const tgiInfoRunner: TaskRunner<null, GenerationSetup> = {
  spec: tgiInfo,
  ...onGenerationPipeline,
  run: async (_pipe, _request, setup, ctx) => info(setup, ctx),
};

/** The specs, for the registry. */
export const TGI_SPECS = [tgiGenerate, tgiGenerateStream, tgiTokenize, tgiInfo] as const;
/** The runners, for the registry's `runners()`. */
export const tgiRunners = (): TaskRunner<any, any>[] => [tgiGenerateRunner, tgiGenerateStreamRunner, tgiTokenizeRunner, tgiInfoRunner];
