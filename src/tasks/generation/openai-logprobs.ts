/**
 * Log-probabilities of generated tokens, for the OpenAI routes (`logprobs`, `top_logprobs`) and
 * TGI's (`details`, `top_n_tokens`, `decoder_input_details`).
 *
 * Page side: reading what a request asks for, and shaping the answers and stream events (pure).
 * Engine side: `logprobHook`, the StepHook that collects them during generation.
 *
 * A log-probability is the log-softmax of the model's own logits at that step (natural log), read
 * before every logits processor: repetition penalty, temperature, a grammar's mask and top_p
 * change which token is chosen, not the probability reported for it. So a token's logprob is the
 * same whatever the sampling settings, and equals that of a forward pass over the whole text.
 */
import { badRequest, describeType, quote } from '../../protocol/errors.js';
import type { GeneratedSequence, GeneratedToken, StepHook, TokenDetail } from './generate-core.js';
import type { FinishReason, StreamToken, TopToken } from '../../protocol/stream.js';
import type { Parameters } from '../shared/parameters.js';
import type { PipelineFn, StreamMeta, TensorLike } from '../types.js';

// -- what a request asks for (page side) --------------------------------------------------------

/** What a request asks for: the chosen token's log-probability, and the `top` most likely alternatives. */
export interface LogprobRequest {
  top: number;
}

/** OpenAI's bound on chat's `top_logprobs`. */
export const MAX_TOP_LOGPROBS = 20;
/** OpenAI's bound on the legacy completions' `logprobs`. */
export const MAX_COMPLETION_LOGPROBS = 5;
/** TGI's default `--max-top-n-tokens`. */
export const MAX_TOP_N_TOKENS = 5;

function readCount(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw badRequest(`${name} must be an integer from 0 to ${max}, got ${quote(value)}.`);
  }
  return value;
}

/** Reads `logprobs` and `top_logprobs` (chat: a boolean and 0–20; completions: `logprobs` is the count, 0–5). Null when not asked. */
export function readLogprobs(route: '/v1/completions' | '/v1/chat/completions', body: Record<string, unknown>): LogprobRequest | null {
  const { logprobs, top_logprobs: top } = body;
  const absent = (v: unknown) => v === undefined || v === null;
  if (route === '/v1/completions') {
    if (!absent(top)) throw badRequest('top_logprobs is a /v1/chat/completions field: on /v1/completions, "logprobs" is the number of most likely tokens (0 to 5).');
    if (absent(logprobs) || logprobs === false) return null;
    if (body.echo === true) throw badRequest('"logprobs" with "echo": true is not supported locally (the prompt\'s tokens would need theirs).');
    return { top: readCount(logprobs, 'logprobs', MAX_COMPLETION_LOGPROBS) };
  }
  if (!absent(logprobs) && typeof logprobs !== 'boolean') throw badRequest(`logprobs must be a boolean, got ${describeType(logprobs)}.`);
  if (!absent(top)) {
    const count = readCount(top, 'top_logprobs', MAX_TOP_LOGPROBS);
    if (logprobs !== true) throw badRequest('top_logprobs needs "logprobs": true.');
    return { top: count };
  }
  return logprobs === true ? { top: 0 } : null;
}

/** TGI's `details`, `decoder_input_details` and `top_n_tokens`, once read. */
export interface TgiDetailsRequest {
  details: boolean;
  decoderInputDetails: boolean;
  topNTokens: number;
}

/**
 * TGI's parameters beyond the shared generation ones: the ones read here, and the ones refused
 * unless they ask for nothing (`best_of: 1`, `watermark: false`…).
 */
export const TGI_PARAMETERS = ['return_full_text', 'top_n_tokens', 'best_of', 'watermark', 'typical_p', 'frequency_penalty', 'grammar', 'adapter_id'] as const;

/** Reads TGI's detail parameters, and refuses the ones it cannot honour. */
export function readTgiDetails(parameters: Parameters): TgiDetailsRequest {
  const flag = (name: string): boolean => {
    const v = parameters[name];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') throw badRequest(`parameters.${name} must be a boolean, got ${describeType(v)}.`);
    return v;
  };
  const bestOf = parameters.best_of;
  if (bestOf !== undefined && bestOf !== null) {
    if (typeof bestOf !== 'number' || !Number.isInteger(bestOf) || bestOf < 1) throw badRequest(`parameters.best_of must be a positive integer, got ${quote(bestOf)}.`);
    if (bestOf > 1) throw badRequest(`parameters.best_of > 1 is not supported locally (got ${bestOf}): one sequence is generated. Leave it out, or set it to 1.`);
  }
  if (flag('watermark')) throw badRequest('parameters.watermark is not supported locally.');
  const refused: Array<[string, (v: unknown) => boolean, string]> = [
    ['typical_p', () => false, 'typical decoding is not available'],
    ['frequency_penalty', (v) => v === 0, 'use repetition_penalty instead'],
    ['grammar', () => false, 'constrained decoding is not available on this route'],
    ['adapter_id', () => false, 'LoRA adapters are not loaded'],
  ];
  for (const [name, harmless, why] of refused) {
    const v = parameters[name];
    if (v !== undefined && v !== null && !harmless(v)) throw badRequest(`parameters.${name} is not supported locally: ${why}.`);
  }
  const top = parameters.top_n_tokens;
  const topNTokens = top === undefined || top === null ? 0 : readCount(top, 'parameters.top_n_tokens', MAX_TOP_N_TOKENS);
  return { details: flag('details'), decoderInputDetails: flag('decoder_input_details'), topNTokens };
}

/** Whether a TGI request needs log-probabilities collected. */
export const wantsLogprobs = (request: TgiDetailsRequest): boolean => request.details || request.decoderInputDetails;

// -- TGI's shapes (page side) --------------------------------------------------------------------

/** TGI's Token. */
export interface TgiToken {
  id: number;
  text: string;
  logprob: number | null;
  special: boolean;
}

/** TGI's PrefillToken: the first has no logprob (nothing before it). */
export interface PrefillToken {
  id: number;
  text: string;
  logprob: number | null;
}

const tgiToken = ({ id, text, logprob, special }: TopToken | GeneratedToken): TgiToken => ({ id, text, logprob, special });

/** TGI's Details of one generated sequence (`details: true`). */
export function tgiDetails(sequence: GeneratedSequence, request: TgiDetailsRequest, seed: number | undefined, prefill: PrefillToken[] | null) {
  const tokens = sequence.tokens ?? [];
  return {
    finish_reason: tgiFinish(sequence.finish),
    generated_tokens: sequence.generatedTokens,
    seed: seed ?? null,
    prefill: prefill ?? [],
    tokens: tokens.map(tgiToken),
    ...(request.topNTokens > 0 ? { top_tokens: tokens.map((t) => t.top.slice(0, request.topNTokens).map(tgiToken)) } : {}),
  };
}

/** A cancelled generation has no answer; in a shape it reads as the length limit. */
export const tgiFinish = (reason: FinishReason): 'length' | 'eos_token' | 'stop_sequence' => (reason === 'cancelled' ? 'length' : reason);

/** The `token` (and `top_tokens`) of one of TGI's stream events. */
export function tgiStreamToken(event: StreamToken, topNTokens: number): { token: TgiToken; top_tokens?: TgiToken[] } {
  const token: TgiToken = { id: event.id, text: event.name ?? event.text, logprob: event.logprob ?? null, special: event.special };
  return topNTokens > 0 && event.top ? { token, top_tokens: event.top.slice(0, topNTokens).map(tgiToken) } : { token };
}

// -- OpenAI's shapes (page side) -----------------------------------------------------------------

const utf8 = new TextEncoder();
const bytes = (text: string) => Array.from(utf8.encode(text));

/** One entry of a chat answer's `logprobs.content`. */
function chatEntry(token: { text: string; logprob: number; top: TopToken[] }, top: number) {
  return {
    token: token.text,
    logprob: token.logprob,
    bytes: bytes(token.text),
    top_logprobs: token.top.slice(0, top).map((t) => ({ token: t.text, logprob: t.logprob, bytes: bytes(t.text) })),
  };
}

/** A chat choice's `logprobs`: one entry per token of the content (special tokens, such as the end one, are not in it). */
export function chatLogprobs(sequence: GeneratedSequence, request: LogprobRequest) {
  return { content: (sequence.tokens ?? []).filter((t) => !t.special).map((t) => chatEntry(t, request.top)) };
}

/** A chat stream chunk's `logprobs`: this token's entry (none for a special token). */
export function chatChunkLogprobs(event: StreamToken, request: LogprobRequest) {
  if (event.logprob === undefined || event.special) return { content: [] };
  return { content: [chatEntry({ text: event.text, logprob: event.logprob, top: event.top ?? [] }, request.top)] };
}

/** The legacy completions' `logprobs` of some tokens, whose text starts at `offset` of the choice's text. */
function legacyLogprobs(tokens: { text: string; logprob: number; top: TopToken[] }[], request: LogprobRequest, offset: number) {
  const text_offset: number[] = [];
  for (const t of tokens) {
    text_offset.push(offset);
    offset += t.text.length;
  }
  return {
    tokens: tokens.map((t) => t.text),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs: tokens.map((t) => Object.fromEntries(t.top.slice(0, request.top).map((x) => [x.text, x.logprob]))),
    text_offset,
  };
}

/** A completion choice's `logprobs` (OpenAI's legacy shape): the tokens of its text. */
export function completionLogprobs(sequence: GeneratedSequence, request: LogprobRequest) {
  return legacyLogprobs((sequence.tokens ?? []).filter((t) => !t.special), request, 0);
}

/** Where each completion stream's text has got to, for `text_offset`. */
const streamOffsets = new WeakMap<StreamMeta, number>();

/** A completion stream chunk's `logprobs`: this token's. */
export function completionChunkLogprobs(event: StreamToken, request: LogprobRequest, meta: StreamMeta) {
  const offset = streamOffsets.get(meta) ?? 0;
  streamOffsets.set(meta, offset + event.text.length);
  const tokens = event.logprob === undefined || event.special ? [] : [{ text: event.text, logprob: event.logprob, top: event.top ?? [] }];
  return legacyLogprobs(tokens, request, offset);
}

// -- collecting them (engine side) ---------------------------------------------------------------

interface LogprobTokenizer {
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  all_special_ids: number[];
}

interface LogprobModel {
  forward(inputs: Record<string, unknown>): Promise<{ logits?: TensorLike & { type?: string; to(type: string): TensorLike } }>;
}

/** The StepHook that collects log-probabilities, and (when asked) the prompt's. */
export interface LogprobHook extends StepHook {
  /** The prompt tokens' log-probabilities, each given the ones before it (TGI's `prefill`). */
  prefill(promptIds: number[]): Promise<PrefillToken[]>;
}

/**
 * Collects each generated token's log-probability and the `top` most likely tokens at its step.
 * With `keepPrefill`, it keeps the first forward pass's logits, which cover every prompt position
 * when the model computes them all (otherwise `prefill` runs one forward pass over the prompt).
 */
export function logprobHook(pipe: PipelineFn, top: number, keepPrefill = false): LogprobHook {
  const { tokenizer, model } = pipe as unknown as { tokenizer: LogprobTokenizer; model: LogprobModel };
  const special = new Set(tokenizer.all_special_ids.map(Number));
  const alone = (id: number) => tokenizer.decode([id], { skip_special_tokens: false });
  let step: { row: Float32Array; logZ: number } | null = null;
  let chosen: TokenDetail | undefined;
  let promptLogits: { dims: number[]; data: Float32Array } | null = null;
  let sequences = 0;
  let first = false;
  return {
    async beginSequence() {
      sequences++;
      first = true;
    },
    modelLogits(logits) {
      const vocab = logits.dims.at(-1)!;
      const row = logits.data.subarray(logits.data.length - vocab);
      step = { row, logZ: logSumExp(row) };
      if (first && keepPrefill && sequences <= 1) promptLogits = logits;
      first = false;
    },
    accept(id) {
      if (!step) {
        chosen = undefined;
        return;
      }
      const { row, logZ } = step;
      step = null;
      chosen = {
        logprob: row[id]! - logZ,
        top: topIds(row, top).map((i) => ({ id: i, text: alone(i), logprob: row[i]! - logZ, special: special.has(i) })),
      };
    },
    detail() {
      const d = chosen;
      chosen = undefined;
      return d;
    },
    async prefill(promptIds) {
      let logits = promptLogits;
      promptLogits = null;
      if (!logits || logits.dims.at(-2) !== promptIds.length) {
        // The model kept only the last position's logits (num_logits_to_keep): score the prompt alone.
        const ids = BigInt64Array.from(promptIds, BigInt);
        const Tensor = tensorClassOf(pipe);
        const output = await model.forward({
          input_ids: new Tensor('int64', ids, [1, promptIds.length]),
          attention_mask: new Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]),
        });
        const raw = output.logits!;
        const f32 = raw.type === 'float32' ? raw : raw.to('float32');
        logits = { dims: f32.dims, data: f32.data as Float32Array };
      }
      const vocab = logits.dims.at(-1)!;
      return promptIds.map((id, i) => {
        if (i === 0) return { id, text: alone(id), logprob: null };
        const row = logits!.data.subarray((i - 1) * vocab, i * vocab);
        return { id, text: alone(id), logprob: row[id]! - logSumExp(row) };
      });
    },
  };
}

/** transformers.js's Tensor class, from a tensor the tokenizer makes (no import of the library here). */
function tensorClassOf(pipe: PipelineFn): new (type: string, data: BigInt64Array, dims: number[]) => TensorLike {
  const tokenizer = (pipe as unknown as { tokenizer: (text: string) => { input_ids: object } }).tokenizer;
  return tokenizer('a').input_ids.constructor as never;
}

/** log(Σ exp(x)), in double precision. */
export function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return max + Math.log(sum);
}

/** The ids of the `n` largest values, largest first (ties: the lower id first). O(vocabulary × n). */
export function topIds(row: Float32Array, n: number): number[] {
  if (n <= 0) return [];
  const ids: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (ids.length === n && !(v > row[ids[n - 1]!]!)) continue;
    let at = ids.length === n ? n - 1 : ids.length;
    while (at > 0 && v > row[ids[at - 1]!]!) at--;
    ids.splice(at, 0, i);
    if (ids.length > n) ids.pop();
  }
  return ids;
}
