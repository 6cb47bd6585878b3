/**
 * The generation loop shared by every generative task: it runs in the engine (the Web Worker, or
 * Node), around transformers.js's `model.generate`.
 *
 * One stopping criterion, called by `generate` after each new token, does the per-token work:
 * it decodes the new text (a window of the last tokens, as TGI does, so a step costs the same at
 * token 10 and token 1000), streams it, cuts at stop sequences, counts, and ends the generation on
 * EOS, a stop sequence, the token budget or cancellation. A cancellation is seen within one token:
 * through a flag in shared memory when the page is cross-origin isolated, otherwise because each
 * model step first yields one macrotask, so that the cancel message is received.
 *
 * A route adds per-step work through StepHooks: a grammar's mask on the logits the sampler reads,
 * and log-probabilities read from the model's own logits of each step (before any processor),
 * which reach each stream event and the sequence's `tokens`.
 */
import { badRequest, quote } from '../../protocol/errors.js';
import { yieldToEventLoop } from '../shared/yield.js';
import { cutForTokens } from '../shared/long-text.js';
import type { ChatMessage, GenerationInput, GenerationOptions, TranslationLanguages } from './generation-parameters.js';
import type { ModelContext, PipelineFn, RunContext, TensorLike } from '../types.js';

export type { FinishReason, StreamEvent, StreamStart, StreamToken, TopToken } from '../../protocol/stream.js';
export type { GenerationInput, TranslationLanguages } from './generation-parameters.js';
export type { RunContext } from '../types.js';
import type { FinishReason, StreamEvent, TopToken } from '../../protocol/stream.js';

/**
 * Work a route adds to each decoding step: constrained decoding (a grammar's token mask) and
 * log-probabilities. Hooks run in the order given, on every sequence of the request.
 */
export interface StepHook {
  /** Before each sequence (n > 1 generates several): reset per-sequence state. */
  beginSequence?(): Promise<void>;
  /** Before each model step, awaited (the step's forward pass waits for it): e.g. a grammar's mask. */
  beforeStep?(): Promise<void>;
  /**
   * The step's next-token logits (`[1, vocab]`), before the sampler and before top_p: read them,
   * or mask them in place (set a token to -Infinity).
   */
  logits?(logits: { dims: number[]; data: Float32Array }): void;
  /** The token the sampler chose at this step. */
  accept?(id: number): void;
  /**
   * The logits of each forward pass as the model gives them (`[1, positions, vocab]`: every prompt
   * position on the first step when the model computes them all, then one), before every logits
   * processor (repetition penalty, temperature, the `logits` hooks, top_p). Read only.
   */
  modelLogits?(logits: { dims: number[]; data: Float32Array }): void;
  /** What the hook knows of the token just accepted, for its stream event and the sequence's `tokens`. */
  detail?(): TokenDetail | undefined;
}

/** A token's log-probability and the most likely tokens at its step (StepHook.detail). */
export interface TokenDetail {
  logprob: number;
  top: TopToken[];
}

/** One generated token, when a hook gives details (TGI's `details.tokens`, OpenAI's `logprobs`). */
export interface GeneratedToken extends TokenDetail {
  id: number;
  /** The text the token adds (cut at a stop sequence; '' for an incomplete character), or a special token's name. */
  text: string;
  special: boolean;
}

/** A run nobody streams or cancels. */
const QUIET: RunContext = { cancelled: () => false, seed: () => undefined };

/** What generation needs to know about a model, read once after it loads. */
export interface GenerationSetup {
  encoderDecoder: boolean;
  /** Longest sequence the model takes (prompt plus generated, for decoders); null if unknown. */
  contextLength: number | null;
  eosIds: number[];
  /** max_new_tokens when the request sets none. */
  defaultMaxNewTokens: number;
  /** The token some models force as the last one at the length limit (BART, Marian): not a stop. */
  forcedEosId: number | null;
  /** The sampler's top_k when the request sets none (transformers' default 50). */
  defaultTopK: number;
  hasChatTemplate: boolean;
  /** Language codes, for tokenizers that need `src_lang`/`tgt_lang` (NLLB, M2M100, mBART). */
  languages: string[] | null;
  /** The source language the tokenizer uses when the request names none. */
  defaultSrcLang: string | null;
}

export interface GeneratedSequence {
  /** The generated text, cut at a stop sequence. */
  text: string;
  generatedTokens: number;
  finish: FinishReason;
  /** Each generated token with its details, when a hook gives them (StepHook.detail). */
  tokens?: GeneratedToken[];
}

export interface GenerationResult {
  prompt: string;
  promptTokens: number;
  /** The prompt's token ids, as the model read them (after truncation). */
  promptIds: number[];
  sequences: GeneratedSequence[];
}

interface Tokenizer {
  (text: string | string[], options?: Record<string, unknown>): Record<string, TensorLike & { slice(...a: unknown[]): TensorLike }>;
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  apply_chat_template(messages: ChatMessage[], options: Record<string, unknown>): string;
  chat_template: unknown;
  model_max_length: number;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  all_special_ids: number[];
  language_codes?: string[];
  languageRegex?: RegExp;
  _build_translation_inputs?: (texts: string[], options: Record<string, unknown>, kwargs: Record<string, unknown>) => Record<string, TensorLike>;
  _tokenizer: { post_processor?: { config?: { single?: Array<Record<string, { id: string }>> } } };
  padding_side: string;
}

interface GenerativeModel {
  config: Record<string, unknown>;
  forward(inputs: Record<string, unknown>): Promise<unknown>;
  generate(options: Record<string, unknown>): Promise<TensorLike>;
}

interface Parts {
  tokenizer: Tokenizer;
  model: GenerativeModel;
}

const parts = (pipe: PipelineFn) => pipe as unknown as Parts;

/** Reads the generation facts of a model (the `setup` of every generative task). */
export async function generationSetup({ pipe, readJSON }: ModelContext): Promise<GenerationSetup> {
  const { tokenizer, model } = parts(pipe);
  const config = model.config;
  const generationConfig = ((await readJSON('generation_config.json')) ?? {}) as Record<string, unknown>;
  const encoderDecoder = Boolean(config.is_encoder_decoder);
  const eos = generationConfig.eos_token_id ?? config.eos_token_id;
  const eosIds = (Array.isArray(eos) ? eos : eos === undefined || eos === null ? [] : [eos]).map(Number);
  const positions = firstNumber(config, ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_target_positions']);
  const tokenizerMax = Number.isFinite(tokenizer.model_max_length) && tokenizer.model_max_length < 1e7 ? tokenizer.model_max_length : null;
  const languages = typeof tokenizer._build_translation_inputs === 'function' && Array.isArray(tokenizer.language_codes)
    ? tokenizer.language_codes
    : null;
  let defaultSrcLang: string | null = null;
  if (languages && tokenizer.languageRegex) {
    for (const item of tokenizer._tokenizer.post_processor?.config?.single ?? []) {
      const id = item.SpecialToken?.id;
      if (id && tokenizer.languageRegex.test(id)) {
        defaultSrcLang = languages.find((code) => id.includes(code)) ?? null;
        break;
      }
    }
  }
  return {
    encoderDecoder,
    contextLength: positions ?? (encoderDecoder ? null : tokenizerMax),
    eosIds,
    defaultMaxNewTokens: Number(generationConfig.max_new_tokens ?? 256),
    forcedEosId: typeof (generationConfig.forced_eos_token_id ?? config.forced_eos_token_id) === 'number'
      ? Number(generationConfig.forced_eos_token_id ?? config.forced_eos_token_id)
      : null,
    defaultTopK: Number(generationConfig.top_k ?? 50),
    hasChatTemplate: Boolean(tokenizer.chat_template),
    languages,
    defaultSrcLang,
  };
}

function firstNumber(config: Record<string, unknown>, keys: string[]): number | null {
  for (const key of keys) if (typeof config[key] === 'number') return config[key] as number;
  return null;
}

/**
 * Generates from one input. Streams through `ctx.emit` when set. Returns the prompt as the model
 * saw it, the prompt's token count and one entry per returned sequence.
 */
export async function runGeneration(
  pipe: PipelineFn,
  input: GenerationInput,
  options: GenerationOptions,
  setup: GenerationSetup,
  ctx: RunContext = QUIET,
  languages: TranslationLanguages = {},
  hooks: readonly StepHook[] = [],
): Promise<GenerationResult> {
  const { tokenizer, model } = parts(pipe);
  const kwargs: Record<string, unknown> = {};

  // 1. The prompt, as token ids.
  let prompt: string;
  let addSpecialTokens: boolean;
  if (input.kind === 'chat') {
    if (!setup.hasChatTemplate) {
      throw badRequest('This model has no chat template (tokenizer_config.json has no "chat_template"), so it cannot take chat messages. Send a text prompt instead.');
    }
    try {
      prompt = tokenizer.apply_chat_template(input.messages, { tokenize: false, add_generation_prompt: true });
    } catch (err) {
      throw badRequest(`The model's chat template rejected these messages: ${(err as Error).message}`);
    }
    addSpecialTokens = false;
  } else {
    prompt = input.text;
    addSpecialTokens = setup.encoderDecoder ? true : Boolean(tokenizer.add_bos_token || tokenizer.add_eos_token);
  }
  // An over-long prompt is cut before it is tokenized whole: an encoder keeps its first tokens,
  // `truncate` keeps the last ones, and a prompt too long for the context is refused from its start.
  if (setup.encoderDecoder) prompt = cutForTokens(tokenizer as never, prompt, tokenizer.model_max_length);
  else if (options.truncate !== undefined) prompt = cutForTokens(tokenizer as never, prompt, options.truncate, 'left');
  else if (setup.contextLength !== null && cutForTokens(tokenizer as never, prompt, setup.contextLength).length < prompt.length) {
    throw badRequest(
      `The prompt has more than ${setup.contextLength} tokens (${prompt.length} characters), but this model's context holds ${setup.contextLength} ` +
        `(prompt plus generated tokens). Shorten it, or set parameters.truncate to keep only the last tokens.`,
    );
  }
  let encoded: Record<string, TensorLike & { slice(...a: unknown[]): TensorLike }>;
  if (setup.languages) {
    const tgt = languages.tgtLang;
    const src = languages.srcLang ?? setup.defaultSrcLang ?? undefined;
    if (!tgt) {
      throw badRequest(`This model translates between many languages: parameters.tgt_lang is required (and src_lang is advised). Languages: ${setup.languages.join(', ')}.`);
    }
    for (const [name, code] of [['src_lang', src], ['tgt_lang', tgt]] as const) {
      if (code !== undefined && !setup.languages.includes(code)) {
        throw badRequest(`parameters.${name} ${quote(code)} is not a language of this model. Languages: ${setup.languages.join(', ')}.`);
      }
    }
    encoded = tokenizer._build_translation_inputs!([prompt], { padding: true, truncation: true }, Object.assign(kwargs, { src_lang: src, tgt_lang: tgt })) as never;
    delete kwargs.src_lang;
    delete kwargs.tgt_lang;
  } else {
    if (languages.srcLang !== undefined || languages.tgtLang !== undefined) {
      // A one-pair model (Marian, T5 prompts): the languages are fixed by the model.
      // They are accepted, as the Endpoint does, and change nothing.
    }
    // Encoders truncate at their maximum length, as the Endpoint's pipeline does.
    encoded = tokenizer(prompt, { add_special_tokens: addSpecialTokens, truncation: setup.encoderDecoder }) as never;
  }
  let promptTokens = encoded.input_ids!.dims.at(-1)!;
  if (options.truncate !== undefined && promptTokens > options.truncate && !setup.encoderDecoder) {
    const from = promptTokens - options.truncate;
    for (const name of Object.keys(encoded)) encoded[name] = encoded[name]!.slice(null, [from, promptTokens]) as never;
    promptTokens = options.truncate;
  }
  if (promptTokens === 0) throw badRequest('The prompt is empty once tokenized.');

  // 2. The token budget.
  let maxNew = options.maxNewTokens ?? setup.defaultMaxNewTokens;
  if (!setup.encoderDecoder && setup.contextLength !== null) {
    const room = setup.contextLength - promptTokens;
    if (room < 1) {
      throw badRequest(
        `The prompt has ${promptTokens} tokens, but this model's context holds ${setup.contextLength} ` +
          `(prompt plus generated tokens). Shorten it, or set parameters.truncate to keep only the last tokens.`,
      );
    }
    maxNew = Math.min(maxNew, room);
  } else if (setup.contextLength !== null) {
    maxNew = Math.min(maxNew, setup.contextLength - 1);
  }

  ctx.emit?.({ type: 'start', promptTokens });

  // 3. Generation settings, as transformers.js names them.
  kwargs.max_new_tokens = maxNew;
  if (options.doSample !== null) kwargs.do_sample = options.doSample;
  if (options.temperature !== undefined) kwargs.temperature = options.temperature;
  if (options.topK !== undefined) kwargs.top_k = options.topK;
  const processors: Array<(ids: unknown, logits: { dims: number[]; data: Float32Array }) => unknown> = [];
  for (const hook of hooks) {
    if (hook.logits) processors.push((_ids, logits) => (hook.logits!(logits), logits));
  }
  if (options.topP !== undefined && options.topP < 1) {
    // transformers.js 4.3 reads top_p but does not apply it: the nucleus is cut here.
    processors.push(topPProcessor(options.topP, options.topK ?? setup.defaultTopK));
  }
  if (processors.length) kwargs.logits_processor = processors;
  if (options.repetitionPenalty !== undefined) kwargs.repetition_penalty = options.repetitionPenalty;

  const promptIds = Array.from(encoded.input_ids!.data as ArrayLike<number | bigint>, Number);
  const sequences: GeneratedSequence[] = [];
  ctx.seed(options.seed);
  for (let n = 0; n < options.numReturnSequences; n++) {
    if (ctx.cancelled()) break;
    for (const hook of hooks) await hook.beginSequence?.();
    sequences.push(await generateOne(tokenizer, model, encoded, kwargs, {
      hooks,
      maxNew,
      eos: new Set(setup.eosIds),
      special: new Set(tokenizer.all_special_ids.map(Number)),
      stop: options.stop,
      // Decoders see the prompt as context for the first tokens' spaces; seq2seq decoders start fresh.
      contextIds: setup.encoderDecoder ? [] : promptIds,
      forcedEos: setup.forcedEosId,
      ctx: n === 0 ? ctx : { ...ctx, emit: undefined },
    }));
    ctx.countTokens?.(sequences.at(-1)!.generatedTokens);
  }
  return { prompt, promptTokens, promptIds, sequences };
}

interface StepState {
  hooks: readonly StepHook[];
  maxNew: number;
  eos: Set<number>;
  special: Set<number>;
  stop: string[];
  contextIds: number[];
  forcedEos: number | null;
  ctx: RunContext;
}

/**
 * The decoder steps run with a yield first, while a generation of ours is on (see file comment);
 * `abortOn`: work the pipeline drives itself ends at its next step once the caller has cancelled.
 */
interface Stepping {
  active: boolean;
  abortOn?: RunContext;
  /** Awaited before each step (the StepHooks' beforeStep), whatever `active` is. */
  before?: () => Promise<void>;
  /** Given each step's output (the StepHooks' modelLogits). */
  after?: (output: unknown) => void;
}
const guards = new WeakMap<object, Stepping>();

/** Wraps `target[method]` once: a yield first while active, and a throw once `abortOn` is cancelled. */
function guard(target: object, method: string): Stepping {
  let state = guards.get(target);
  if (!state) {
    const flag: Stepping = { active: false };
    const holder = target as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = holder[method]!;
    holder[method] = async function (this: unknown, ...args: unknown[]) {
      if (flag.active) await yieldToEventLoop();
      if (flag.abortOn?.cancelled()) throw new StepsCancelled();
      if (flag.before) await flag.before();
      const output = await original.apply(this, args);
      flag.after?.(output);
      return output;
    };
    guards.set(target, (state = flag));
  }
  return state;
}

function yieldingSteps(model: GenerativeModel): Stepping {
  return guard(model, 'forward');
}

/** Thrown before a model's next step when its caller has cancelled (see `cancellableSteps`). */
export class StepsCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Runs `work`, a pipeline call that drives a model by itself (Whisper's pipeline: it extracts the
 * features of every chunk, then generates chunk after chunk, and drops custom stopping criteria),
 * so that a cancel ends it before the next feature extraction or decoder step. The step throws
 * StepsCancelled before any ONNX call, so nothing is poisoned. Answers null when it was cancelled
 * (the engine then reports the cancellation).
 */
export async function cancellableSteps<T>(
  parts: { model: unknown; processor?: unknown },
  ctx: RunContext,
  work: () => Promise<T>,
): Promise<T | null> {
  // transformers.js processors are callables that run their `_call`.
  const flags = [guard(parts.model as object, 'forward'), ...(parts.processor ? [guard(parts.processor as object, '_call')] : [])];
  for (const flag of flags) {
    flag.active = !ctx.cancelSeenAtOnce;
    flag.abortOn = ctx;
  }
  try {
    return await work();
  } catch (err) {
    if (err instanceof StepsCancelled) return null;
    throw err;
  } finally {
    for (const flag of flags) {
      flag.active = false;
      flag.abortOn = undefined;
    }
  }
}

async function generateOne(
  tokenizer: Tokenizer,
  model: GenerativeModel,
  encoded: Record<string, TensorLike>,
  kwargs: Record<string, unknown>,
  state: StepState,
): Promise<GeneratedSequence> {
  const ids = [...state.contextIds];
  // TGI's incremental decoding: text is read from a short window of recent tokens.
  let prefixOffset = Math.max(0, ids.length - 5);
  let readOffset = ids.length;
  let text = '';
  let generated = 0;
  let finish: FinishReason | null = null;
  const longestStop = Math.max(0, ...state.stop.map((s) => s.length));
  const tokens: GeneratedToken[] = [];

  const criterion = (all: bigint[][]): boolean[] => {
    if (finish) return [true];
    const id = Number(all[0]!.at(-1));
    let detail: TokenDetail | undefined;
    for (const hook of state.hooks) {
      hook.accept?.(id);
      detail = hook.detail?.() ?? detail;
    }
    ids.push(id);
    generated++;
    const special = state.special.has(id);
    let delta = '';
    if (!special) {
      const decode = (slice: number[]) => (slice.length ? tokenizer.decode(slice, { skip_special_tokens: true }) : '');
      const before = decode(ids.slice(prefixOffset, readOffset));
      const after = decode(ids.slice(prefixOffset));
      if (after.length > before.length && !after.endsWith('\uFFFD')) {
        delta = after.slice(before.length);
        prefixOffset = readOffset;
        readOffset = ids.length;
      }
    }
    if (delta && state.stop.length) {
      // Search the new text plus the tail a stop sequence could have started in.
      const from = Math.max(0, text.length - longestStop + 1);
      const joined = text + delta;
      let cut = -1;
      for (const s of state.stop) {
        const at = joined.indexOf(s, from);
        if (at >= 0 && (cut < 0 || at + s.length < cut)) cut = at + s.length;
      }
      if (cut >= 0) {
        delta = joined.slice(text.length, cut);
        finish = 'stop_sequence';
      }
    }
    text += delta;
    if (!finish) {
      const forcedAtLimit = generated >= state.maxNew && id === state.forcedEos;
      if (state.eos.has(id) && !forcedAtLimit) finish = 'eos_token';
      else if (generated >= state.maxNew) finish = 'length';
      else if (state.ctx.cancelled()) finish = 'cancelled';
    }
    const name = special ? tokenizer.decode([id], { skip_special_tokens: false }) : undefined;
    if (detail) tokens.push({ id, text: name ?? delta, special, ...detail });
    state.ctx.emit?.({
      type: 'token',
      index: generated - 1,
      id,
      text: delta,
      special,
      ...(name !== undefined ? { name } : {}),
      ...(detail ? detail : {}),
      ...(finish ? { finish: { reason: finish, text, generatedTokens: generated } } : {}),
    });
    return [finish !== null];
  };

  const steps = yieldingSteps(model);
  steps.active = !state.ctx.cancelSeenAtOnce;
  const before = state.hooks.filter((hook) => hook.beforeStep);
  if (before.length) {
    steps.before = async () => {
      for (const hook of before) await hook.beforeStep!();
    };
  }
  const readers = state.hooks.filter((hook) => hook.modelLogits);
  if (readers.length) {
    steps.after = (output) => {
      const raw = (output as { logits?: TensorLike & { type?: string; to(type: string): TensorLike } }).logits;
      if (!raw) return;
      const logits = raw.type === 'float32' ? raw : raw.to('float32');
      for (const hook of readers) hook.modelLogits!({ dims: logits.dims, data: logits.data as Float32Array });
    };
  }
  try {
    await model.generate({ ...encoded, ...kwargs, stopping_criteria: [criterion] });
  } finally {
    steps.active = false;
    steps.before = undefined;
    steps.after = undefined;
  }
  if (!finish) {
    // transformers.js stopped on its own (its max length or EOS list): say why.
    finish = state.eos.has(ids.at(-1)!) ? 'eos_token' : 'length';
    state.ctx.emit?.({ type: 'token', index: generated - 1, id: ids.at(-1)!, text: '', special: true, finish: { reason: finish, text, generatedTokens: generated } });
  }
  return { text, generatedTokens: generated, finish, ...(state.hooks.some((hook) => hook.detail) ? { tokens } : {}) };
}

/**
 * Nucleus sampling as a logits processor: keeps the most likely tokens whose probabilities add up
 * to `topP`, within the `topK` the sampler keeps anyway (so only those are sorted), and sets the
 * others to -Infinity. O(vocabulary) per step.
 */
export function topPProcessor(topP: number, topK: number) {
  return (_ids: unknown, logits: { dims: number[]; data: Float32Array }) => {
    const vocab = logits.dims.at(-1)!;
    for (let offset = 0; offset < logits.data.length; offset += vocab) {
      const row = logits.data.subarray(offset, offset + vocab);
      let max = -Infinity;
      for (const v of row) if (v > max) max = v;
      let total = 0;
      for (const v of row) total += Math.exp(v - max);
      const k = topK > 0 ? Math.min(topK, vocab) : vocab;
      const threshold = kthLargest(row, k);
      const candidates: number[] = [];
      for (let i = 0; i < vocab; i++) if (row[i]! >= threshold) candidates.push(i);
      candidates.sort((a, b) => row[b]! - row[a]!);
      let mass = 0;
      let cutoff = -Infinity;
      for (const i of candidates) {
        mass += Math.exp(row[i]! - max) / total;
        cutoff = row[i]!;
        if (mass >= topP) break;
      }
      for (let i = 0; i < vocab; i++) if (row[i]! < cutoff) row[i] = -Infinity;
    }
    return logits;
  };
}

/** The k-th largest value (quickselect on a copy). */
function kthLargest(values: Float32Array, k: number): number {
  const a = Float32Array.from(values);
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target]!;
}
