/**
 * Generation parameters, shared by every generative task and route. Reading them is pure (it runs
 * on the page, to reject bad requests before anything reaches the worker).
 *
 * As the Endpoint server does, `generation_parameters` and `generate_kwargs` are flattened into the
 * top level. Names follow the Endpoint (`max_new_tokens`, `stop`, …); the OpenAI routes map theirs
 * (`max_tokens`, `n`, …) onto the same object before reading.
 */
import { badRequest, describeType, quote } from '../../protocol/errors.js';
import { checkKnownParameters, readBoolean, type Parameters } from '../shared/parameters.js';

/** Upper bound on `num_return_sequences` (and OpenAI's `n`). */
export const MAX_RETURN_SEQUENCES = 8;
/** Upper bound on the number of stop sequences (TGI allows 4 by default). */
export const MAX_STOP_SEQUENCES = 16;

/** What one generation asks for, once checked. */
export interface GenerationOptions {
  /** Tokens to generate at most; null means "the model's default" (generation_config, else 256). */
  maxNewTokens: number | null;
  doSample: boolean | null;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Generation ends right after the first of these strings appears in the output (kept, as TGI does). */
  stop: string[];
  seed?: number;
  numReturnSequences: number;
  /** Keep only the last N prompt tokens (TGI's `truncate`). */
  truncate?: number;
}

/** The parameters every generative task accepts. */
export const GENERATION_PARAMETERS = [
  'max_new_tokens',
  'temperature',
  'top_k',
  'top_p',
  'do_sample',
  'repetition_penalty',
  'stop',
  'stop_sequences',
  'seed',
  'num_return_sequences',
  'truncate',
  'details',
  'decoder_input_details',
  'generation_parameters',
  'generate_kwargs',
] as const;

/** Flattens `generation_parameters` and `generate_kwargs` into the top level, as the server does. */
export function flattenGenerationParameters(parameters: Parameters): Parameters {
  const flat: Parameters = { ...parameters };
  for (const nested of ['generation_parameters', 'generate_kwargs'] as const) {
    const value = parameters[nested];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw badRequest(`parameters.${nested} must be an object, got ${describeType(value)}.`);
    }
    delete flat[nested];
    Object.assign(flat, value);
  }
  return flat;
}

/**
 * Reads the generation parameters of a flattened `parameters` object. `extra` names the
 * task's own parameters, which are left to the task.
 */
export function readGenerationOptions(task: string, parameters: Parameters, extra: readonly string[] = []): GenerationOptions {
  checkKnownParameters(task, parameters, [...GENERATION_PARAMETERS, ...extra]);
  const maxNewTokens = readInteger(parameters, 'max_new_tokens', 1);
  const temperature = readNumber(parameters, 'temperature', { min: 0 });
  const topK = readInteger(parameters, 'top_k', 1);
  const topP = readNumber(parameters, 'top_p', { min: 0, exclusiveMin: true, max: 1 });
  const repetitionPenalty = readNumber(parameters, 'repetition_penalty', { min: 0, exclusiveMin: true });
  const seed = readInteger(parameters, 'seed', 0);
  const numReturnSequences = readInteger(parameters, 'num_return_sequences', 1) ?? 1;
  if (numReturnSequences > MAX_RETURN_SEQUENCES) {
    throw badRequest(`parameters.num_return_sequences must be at most ${MAX_RETURN_SEQUENCES}, got ${numReturnSequences}.`);
  }
  const truncate = readInteger(parameters, 'truncate', 1);
  let doSample = readBoolean(parameters, 'do_sample') ?? null;
  // temperature 0 means greedy, as on the OpenAI routes and TGI.
  if (temperature === 0) doSample = false;
  if (numReturnSequences > 1 && doSample !== true) {
    throw badRequest('parameters.num_return_sequences > 1 needs sampling: set do_sample to true (greedy search gives one answer).');
  }
  const stop = readStop(parameters);
  return {
    maxNewTokens,
    doSample,
    ...(temperature !== undefined && temperature > 0 ? { temperature } : {}),
    ...(topK !== null ? { topK } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(repetitionPenalty !== undefined ? { repetitionPenalty } : {}),
    stop,
    ...(seed !== null ? { seed } : {}),
    numReturnSequences,
    ...(truncate !== null ? { truncate } : {}),
  };
}

function readStop(parameters: Parameters): string[] {
  const stops: string[] = [];
  for (const name of ['stop', 'stop_sequences'] as const) {
    const v = parameters[name];
    if (v === undefined || v === null) continue;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list)) throw badRequest(`parameters.${name} must be a string or a list of strings, got ${describeType(v)}.`);
    list.forEach((s, i) => {
      if (typeof s !== 'string' || s === '') {
        throw badRequest(`parameters.${name}[${i}] must be a non-empty string, got ${quote(s)}.`);
      }
      stops.push(s);
    });
  }
  if (stops.length > MAX_STOP_SEQUENCES) {
    throw badRequest(`At most ${MAX_STOP_SEQUENCES} stop sequences are allowed, got ${stops.length}.`);
  }
  return stops;
}

/** An integer of at least `min`; null when absent. */
export function readInteger(parameters: Parameters, name: string, min: number): number | null {
  const v = parameters[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw badRequest(`parameters.${name} must be an integer of at least ${min}, got ${quote(v)}.`);
  }
  return v;
}

function readNumber(
  parameters: Parameters,
  name: string,
  range: { min?: number; exclusiveMin?: boolean; max?: number },
): number | undefined {
  const v = parameters[name];
  if (v === undefined || v === null) return undefined;
  const { min, exclusiveMin, max } = range;
  const low = min === undefined || (exclusiveMin ? (v as number) > min : (v as number) >= min);
  const high = max === undefined || (v as number) <= max;
  if (typeof v !== 'number' || !Number.isFinite(v) || !low || !high) {
    const bounds = [
      min !== undefined ? `${exclusiveMin ? 'above' : 'at least'} ${min}` : '',
      max !== undefined ? `at most ${max}` : '',
    ].filter(Boolean);
    throw badRequest(`parameters.${name} must be a number${bounds.length ? ` ${bounds.join(' and ')}` : ''}, got ${quote(v)}.`);
  }
  return v;
}

/** Reads `inputs` as one non-empty string. */
export function readPrompt(inputs: unknown, what = 'inputs'): string {
  if (typeof inputs !== 'string') throw badRequest(`${what} must be a string, got ${describeType(inputs)}.`);
  if (inputs.trim() === '') throw badRequest(`${what} must not be empty.`);
  return inputs;
}

/** `stream` at the top of the body: a boolean. */
export function readStream(stream: unknown): boolean {
  if (stream === undefined || stream === null) return false;
  if (typeof stream !== 'boolean') throw badRequest(`"stream" must be a boolean, got ${quote(stream)}.`);
  return stream;
}

/** A 400 for `"stream": true` on a task that answers in one piece. */
export function refuseStream(task: string, stream: unknown, instead?: string): void {
  if (readStream(stream)) {
    throw badRequest(`${task} cannot stream: drop "stream": true${instead ? `, or use ${instead}` : ''}.`);
  }
}

/** What to generate from: a text prompt, or a chat rendered with the model's template. */
export type GenerationInput =
  | { kind: 'text'; text: string }
  | { kind: 'chat'; messages: ChatMessage[] };

/** Translation options: needed for multilingual models, refused for the others. */
export interface TranslationLanguages {
  srcLang?: string;
  tgtLang?: string;
}

// ---------------------------------------------------------------------------------------------
// Chat messages

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string;
}

const ROLES: readonly ChatMessage['role'][] = ['system', 'user', 'assistant', 'tool', 'developer'];

/**
 * Checks a chat: a non-empty list of `{role, content}` with a known role and string content.
 * OpenAI's content parts (`[{type: "text", text}]`) are joined into one string.
 */
export function readMessages(value: unknown, what = 'messages'): ChatMessage[] {
  if (!Array.isArray(value)) throw badRequest(`${what} must be a list of {role, content} messages, got ${describeType(value)}.`);
  if (value.length === 0) throw badRequest(`${what} must not be empty.`);
  return value.map((m, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw badRequest(`${what}[${i}] must be an object {role, content}, got ${describeType(m)}.`);
    }
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.includes(role as ChatMessage['role'])) {
      throw badRequest(`${what}[${i}].role must be one of ${ROLES.join(', ')}, got ${quote(role)}.`);
    }
    return { role: role as ChatMessage['role'], content: readContent(content, `${what}[${i}].content`) };
  });
}

function readContent(content: unknown, what: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part, i) => {
        const p = part as Record<string, unknown> | null;
        if (p && p.type === 'text' && typeof p.text === 'string') return p.text;
        throw badRequest(`${what}[${i}] must be a text part {type: "text", text}, got ${quote(part)}.`);
      })
      .join('');
  }
  throw badRequest(`${what} must be a string, got ${describeType(content)}.`);
}
