/**
 * text-generation and conversational: decoder-only language models (GPT-2, Llama, Qwen, …).
 *
 * text-generation answers `[{generated_text}]` (the prompt included unless `return_full_text` is
 * false, as the Endpoint's pipeline does) and streams in TGI's token format. As TGI's `/` does, it
 * adds TGI's `details` (the tokens and their log-probabilities, `top_tokens` with `top_n_tokens`,
 * the prompt's with `decoder_input_details`) when `details: true`. conversational takes
 * `[{role, content}…]`, renders it with the model's chat template and answers the messages with the
 * assistant's reply appended.
 */
import { badRequest } from '../../protocol/errors.js';
import {
  flattenGenerationParameters,
  readGenerationOptions,
  readMessages,
  readPrompt,
  readStream,
  refuseStream,
  type ChatMessage,
  type GenerationInput,
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
  type TgiDetailsRequest,
  type TgiToken,
} from './openai-logprobs.js';
import { readBoolean, readParameters } from '../shared/parameters.js';
import type { EndpointPayload, StreamShape, TaskRunner, TaskSpec } from '../types.js';

export interface TextGenerationRequest {
  input: GenerationInput;
  options: GenerationOptions;
  returnFullText: boolean;
  stream: boolean;
  /** TGI's `details`, `decoder_input_details`, `top_n_tokens`. */
  tgi: TgiDetailsRequest;
}

export interface TgiStreamToken {
  index: number;
  token: TgiToken;
  top_tokens?: TgiToken[];
  generated_text: string | null;
  /** Always on the last event here, with `input_length` (TGI's StreamDetails requires it). */
  details: { finish_reason: string; generated_tokens: number; seed: number | null; input_length: number } | null;
}

/** TGI's token stream: one event per token; the last carries the whole text and the details. */
const tgiStream: StreamShape<TextGenerationRequest> = {
  wanted: (request) => request.stream,
  done: false,
  idPrefix: 'gen',
  token(event, request, meta) {
    const last = event.finish;
    const full = last && request.returnFullText && request.input.kind === 'text' ? request.input.text + last.text : last?.text;
    const message: TgiStreamToken = {
      index: event.index,
      ...tgiStreamToken(event, request.tgi.topNTokens),
      generated_text: last ? full! : null,
      details: last
        ? {
            finish_reason: tgiFinish(last.reason),
            generated_tokens: last.generatedTokens,
            seed: request.options.seed ?? null,
            input_length: meta.promptTokens,
          }
        : null,
    };
    return [message];
  },
};

export const textGeneration = {
  id: 'text-generation',
  // The official client's text methods post to the OpenAI routes this task's endpoints serve.
  client: ['textGeneration', 'textGenerationStream', 'chatCompletion', 'chatCompletionStream'],
  example: { inputs: 'The weather in Berlin' },
  parse({ inputs, parameters, stream }: EndpointPayload) {
    const flat = flattenGenerationParameters(readParameters(parameters));
    const options = readGenerationOptions('text-generation', flat, TGI_PARAMETERS);
    const tgi = readTgiDetails(flat);
    const input: GenerationInput = Array.isArray(inputs)
      ? { kind: 'chat', messages: readMessages(inputs, 'inputs') }
      : { kind: 'text', text: readPrompt(inputs) };
    const wantsStream = readStream(stream);
    if (wantsStream && options.numReturnSequences > 1) {
      throw badRequest('"stream": true returns one sequence: num_return_sequences must be 1.');
    }
    if (wantsStream && tgi.decoderInputDetails) throw badRequest('parameters.decoder_input_details is not supported when streaming tokens (as on TGI).');
    return {
      input,
      options,
      // The pipeline returns the prompt with the text by default, but never for a chat.
      returnFullText: input.kind === 'text' && (readBoolean(flat, 'return_full_text') ?? true),
      stream: wantsStream,
      tgi,
    };
  },
  stream: tgiStream,
} satisfies TaskSpec<TextGenerationRequest>;

export const textGenerationRunner: TaskRunner<TextGenerationRequest, GenerationSetup> = {
  spec: textGeneration,
  pipeline: 'text-generation',
  setup: generationSetup,
  async run(pipe, request, setup, ctx) {
    const { tgi } = request;
    const hook = tgi.details || tgi.decoderInputDetails || tgi.topNTokens > 0 ? logprobHook(pipe, tgi.topNTokens, tgi.decoderInputDetails) : null;
    const result = await runGeneration(pipe, request.input, request.options, setup, ctx, {}, hook ? [hook] : []);
    const prefill = hook && tgi.decoderInputDetails ? await hook.prefill(result.promptIds) : null;
    return result.sequences.map((sequence) => ({
      generated_text:
        request.input.kind === 'chat'
          ? [...request.input.messages, { role: 'assistant', content: sequence.text }]
          : request.returnFullText
            ? request.input.text + sequence.text
            : sequence.text,
      ...(tgi.details || tgi.decoderInputDetails ? { details: tgiDetails(sequence, tgi, request.options.seed, prefill) } : {}),
    }));
  },
};

export interface ConversationalRequest {
  messages: ChatMessage[];
  options: GenerationOptions;
}

export const conversational = {
  id: 'conversational',
  example: { inputs: [{ role: 'user', content: 'Which movie is the best ?' }] },
  parse({ inputs, parameters, stream }: EndpointPayload) {
    refuseStream('conversational', stream, 'POST <endpoint>/v1/chat/completions with "stream": true');
    const flat = flattenGenerationParameters(readParameters(parameters));
    // The Endpoint also takes {messages: […]} or {text, past_user_inputs, generated_responses}; the list is the common form.
    const list = inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs) && 'messages' in inputs
      ? (inputs as { messages: unknown }).messages
      : inputs;
    return { messages: readMessages(list, 'inputs'), options: readGenerationOptions('conversational', flat) };
  },
} satisfies TaskSpec<ConversationalRequest>;

export const conversationalRunner: TaskRunner<ConversationalRequest, GenerationSetup> = {
  spec: conversational,
  pipeline: 'text-generation',
  loadAs: 'text-generation',
  setup: generationSetup,
  async run(pipe, request, setup, ctx) {
    const result = await runGeneration(pipe, { kind: 'chat', messages: request.messages }, request.options, setup, ctx);
    return result.sequences.map(({ text }) => ({
      generated_text: [...request.messages, { role: 'assistant', content: text }],
    }));
  },
};
