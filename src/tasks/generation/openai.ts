/**
 * The OpenAI-compatible routes an Endpoint serves for generative models, which the official
 * client's `textGeneration(Stream)` and `chatCompletion(Stream)` post to:
 *
 *   POST <endpoint>/v1/completions       {prompt, max_tokens, …}  → text_completion
 *   POST <endpoint>/v1/chat/completions  {messages, max_tokens, …} → chat.completion
 *
 * They run on the endpoint model's `text-generation` pipeline. The client also puts the Endpoint's
 * own parameter names in these bodies (`max_new_tokens` becomes `max_tokens`; `top_k`,
 * `repetition_penalty`, `return_full_text`, `do_sample`… are passed as they are), so both are read.
 *
 * As on the OpenAI routes of TGI, sampling is on unless `temperature` is 0 or `do_sample` false.
 * `logprobs` are read by `openai-logprobs.ts`; `response_format` and `tools` by `structured.ts`,
 * answered by constrained decoding (`structured-run.ts`, `grammar.ts`, `tool-calls.ts`).
 */
import { badRequest, describeType } from '../../protocol/errors.js';
import {
  readGenerationOptions,
  readPrompt,
  readStream,
  type ChatMessage,
  type GenerationOptions,
} from './generation-parameters.js';
import { generationSetup, type GenerationResult, type GenerationSetup } from './generate-core.js';
import { readBoolean } from '../shared/parameters.js';
import {
  chatChunkLogprobs,
  chatLogprobs,
  completionChunkLogprobs,
  completionLogprobs,
  logprobHook,
  readLogprobs,
  type LogprobRequest,
} from './openai-logprobs.js';
import { readChatHistory, readStructured, type StructuredRequest } from './structured.js';
import { generateStructured } from './structured-run.js';
import { toolMessage, withToolStream } from './tool-answer.js';
import { openAIId } from '../shared/ids.js';
import type { FinishReason } from '../../protocol/stream.js';
import type { EndpointPayload, StreamMeta, StreamShape, StreamToken, TaskRunner, TaskSpec } from '../types.js';

export { openAIId } from '../shared/ids.js';

/** Body fields read by `openai-logprobs.ts` and `structured.ts`. */
const LOGPROBS = ['logprobs', 'top_logprobs'];
const STRUCTURED = ['tools', 'tool_choice', 'functions', 'response_format'];

/** Body fields the routes take and ignore (they do not change a local answer). */
const IGNORED = ['model', 'user', 'stream', 'stream_options', 'logit_bias', 'service_tier', 'store', 'metadata'];

export interface OpenAIRequest {
  options: GenerationOptions;
  stream: boolean;
  includeUsage: boolean;
  /** `logprobs` / `top_logprobs`; null when not asked for. */
  logprobs: LogprobRequest | null;
  /** `response_format` / `tools`; null when the answer is free text. */
  structured: StructuredRequest | null;
}

export interface CompletionRequest extends OpenAIRequest {
  prompt: string;
  echo: boolean;
}

export interface ChatCompletionRequest extends OpenAIRequest {
  messages: ChatMessage[];
}

export const SYSTEM_FINGERPRINT = 'local-endpoint';

/** OpenAI's finish reasons: a stop sequence and EOS are both `stop`. */
export function openAIFinish(reason: FinishReason): 'stop' | 'length' {
  return reason === 'length' ? 'length' : 'stop';
}

function readBody(inputs: unknown): Record<string, unknown> {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw badRequest(`The request body must be a JSON object, got ${describeType(inputs)}.`);
  }
  return inputs as Record<string, unknown>;
}

/** Maps OpenAI names onto the Endpoint's, then reads them with the shared reader. */
function readOpenAI(route: '/v1/completions' | '/v1/chat/completions', body: Record<string, unknown>, own: readonly string[]): OpenAIRequest {
  const params: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (own.includes(name) || IGNORED.includes(name)) continue;
    if (name === 'max_tokens' || name === 'max_completion_tokens') {
      if (value !== null && value !== undefined) params.max_new_tokens = value;
    } else if (name === 'n') params.num_return_sequences = value;
    else if (name === 'frequency_penalty' || name === 'presence_penalty') {
      if (value !== null && value !== undefined && value !== 0) {
        throw badRequest(`${name} is not supported locally; use repetition_penalty instead.`);
      }
    } else if (LOGPROBS.includes(name) || STRUCTURED.includes(name)) {
      // read below, by readLogprobs and readStructured
    } else params[name] = value;
  }
  // OpenAI samples by default; `temperature: 0` (or `do_sample: false`) is greedy.
  if (params.do_sample === undefined && params.temperature !== 0) params.do_sample = true;
  const options = readGenerationOptions(route, params, ['return_full_text']);
  const stream = readStream(body.stream);
  if (stream && options.numReturnSequences > 1) throw badRequest('"stream": true returns one choice: n must be 1.');
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions))) {
    throw badRequest(`stream_options must be an object, got ${describeType(streamOptions)}.`);
  }
  const includeUsage = Boolean((streamOptions as { include_usage?: unknown } | null)?.include_usage);
  return { options, stream, includeUsage, logprobs: readLogprobs(route, body), structured: readStructured(body) };
}

function usage(result: { promptTokens: number }, completionTokens: number) {
  return { prompt_tokens: result.promptTokens, completion_tokens: completionTokens, total_tokens: result.promptTokens + completionTokens };
}

const totalTokens = (result: GenerationResult) => result.sequences.reduce((sum, s) => sum + s.generatedTokens, 0);

/** Timestamps of OpenAI objects. */
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The fields every OpenAI answer and chunk starts with. */
function envelope(object: string, id: string, created: number, model: string) {
  return { id, object, created, model, system_fingerprint: SYSTEM_FINGERPRINT };
}

/** A route's whole answer: one choice per sequence, shaped by `choice`, and the usage. */
function openAIAnswer(
  object: string,
  idPrefix: string,
  model: string,
  result: GenerationResult,
  choice: (sequence: GenerationResult['sequences'][number], index: number) => Record<string, unknown>,
) {
  return {
    ...envelope(object, openAIId(idPrefix), nowSeconds(), model),
    // `choice` may set its own finish_reason (tool calls: "tool_calls").
    choices: result.sequences.map((s, index) => ({ index, logprobs: null, finish_reason: openAIFinish(s.finish), ...choice(s, index) })),
    usage: usage(result, totalTokens(result)),
  };
}

/** A route's stream: one chunk per token (shaped by `choice`), then the usage when asked for. */
function openAIStream<R extends OpenAIRequest>(
  object: string,
  idPrefix: string,
  choice: (event: StreamToken, request: R, meta: StreamMeta) => Record<string, unknown>,
): StreamShape<R> {
  return {
    wanted: (request) => request.stream,
    done: true,
    idPrefix,
    token(event, request, meta) {
      const head = envelope(object, meta.id, meta.created, meta.model);
      const finish_reason = event.finish ? openAIFinish(event.finish.reason) : null;
      // `choice` sets logprobs when they are asked for.
      const chunk = { ...head, choices: [{ index: 0, logprobs: null, ...choice(event, request, meta), finish_reason }] };
      if (!event.finish || !request.includeUsage) return [chunk];
      return [chunk, { ...head, choices: [], usage: usage(meta, event.finish.generatedTokens) }];
    },
  };
}

export const completions = {
  id: 'completions',
  parse({ inputs }: EndpointPayload) {
    const body = readBody(inputs);
    if (!('prompt' in body)) throw badRequest('The request body has no "prompt".');
    const prompt = Array.isArray(body.prompt) && body.prompt.length === 1 ? body.prompt[0] : body.prompt;
    const echo = readBoolean(body, 'echo') ?? readBoolean(body, 'return_full_text') ?? false;
    return {
      ...readOpenAI('/v1/completions', body, ['prompt', 'echo', 'return_full_text', 'suffix', 'best_of']),
      prompt: readPrompt(prompt, 'prompt'),
      echo,
    };
  },
  stream: openAIStream<CompletionRequest>('text_completion', 'cmpl', (event, request, meta) => ({
    text: event.index === 0 && request.echo ? request.prompt + event.text : event.text,
    ...(request.logprobs ? { logprobs: completionChunkLogprobs(event, request.logprobs, meta) } : {}),
  })),
} satisfies TaskSpec<CompletionRequest>;

export const completionsRunner: TaskRunner<CompletionRequest, GenerationSetup> = {
  spec: completions,
  pipeline: 'text-generation',
  loadAs: 'text-generation',
  setup: generationSetup,
  async run(pipe, request, setup, ctx) {
    const hooks = request.logprobs ? [logprobHook(pipe, request.logprobs.top)] : [];
    const result = await generateStructured(pipe, { kind: 'text', text: request.prompt }, request, setup, ctx, hooks);
    return openAIAnswer('text_completion', 'cmpl', ctx?.model ?? 'local', result, (s) => ({
      text: request.echo ? request.prompt + s.text : s.text,
      ...(request.logprobs ? { logprobs: completionLogprobs(s, request.logprobs) } : {}),
    }));
  },
};

export const chatCompletions = {
  id: 'chat-completions',
  parse({ inputs }: EndpointPayload) {
    const body = readBody(inputs);
    if (!('messages' in body)) throw badRequest('The request body has no "messages".');
    return {
      ...readOpenAI('/v1/chat/completions', body, ['messages', 'parallel_tool_calls']),
      messages: readChatHistory(body.messages),
    };
  },
  stream: withToolStream(openAIStream<ChatCompletionRequest>('chat.completion.chunk', 'chatcmpl', (event, request) => ({
    delta: { role: 'assistant', content: event.text },
    ...(request.logprobs ? { logprobs: chatChunkLogprobs(event, request.logprobs) } : {}),
  }))),
} satisfies TaskSpec<ChatCompletionRequest>;

export const chatCompletionsRunner: TaskRunner<ChatCompletionRequest, GenerationSetup> = {
  spec: chatCompletions,
  pipeline: 'text-generation',
  loadAs: 'text-generation',
  setup: generationSetup,
  async run(pipe, request, setup, ctx) {
    const hooks = request.logprobs ? [logprobHook(pipe, request.logprobs.top)] : [];
    const result = await generateStructured(pipe, { kind: 'chat', messages: request.messages }, request, setup, ctx, hooks);
    return openAIAnswer('chat.completion', 'chatcmpl', ctx?.model ?? 'local', result, (s, i) => ({
      ...(result.tools ? toolMessage(result.tools[i]!.content, result.tools[i]!.calls) : { message: { role: 'assistant', content: s.text } }),
      ...(request.logprobs ? { logprobs: chatLogprobs(s, request.logprobs) } : {}),
    }));
  },
};
