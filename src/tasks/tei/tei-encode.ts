/**
 * Encoding as TEI encodes (its `core/src/tokenization.rs`, on Hugging Face `tokenizers`), over
 * transformers.js's tokenizer. Engine side; tei-model.ts runs the model on the encodings.
 *
 * - A text (with its prompt before it) is tokenized without special tokens, truncated at the
 *   token level to the model's maximum less the special tokens, from the right or the left, and
 *   then gets its special tokens from the tokenizer's own post-processor, so that `[SEP]` survives
 *   a cut (transformers.js's `truncation` slices the ids and drops it).
 * - A pair (`/rerank`, `/predict`) is truncated longest-first, as `tokenizers`' `LongestFirst`.
 * - Token ids run exactly as given: no special tokens are added and nothing is re-tokenized.
 */
import { badRequest, EndpointError } from '../../protocol/errors.js';
import { cutForTokens, maxInputTokens } from '../shared/long-text.js';
import { textPipeline, type PipelineFn, type TokenizerFn } from '../types.js';
import { MAX_CHARS_PER_TOKEN, type TeiInput, type Truncation } from './tei-body.js';

/** One encoded sequence, as the model gets it. */
export interface Encoding {
  ids: number[];
  typeIds: number[];
  /** The token strings (special tokens included). */
  tokens: string[];
  /** Whether each token was added by the post-processor (`[CLS]`, `[SEP]`). */
  special: boolean[];
  /** For a single text: the text tokenized (the prompt and the text), and each token's index among its content tokens. */
  text?: string;
  contentIndex?: (number | null)[];
}

/** What of `@huggingface/tokenizers`' Tokenizer (transformers.js's `tokenizer._tokenizer`) is used here. */
interface CoreTokenizer {
  encode_text(text: string | null): string[] | null;
  post_processor: ((a: string[], b: string[] | null, addSpecial: boolean) => { tokens: string[]; tokens_pair?: string[]; token_type_ids?: number[] }) | null;
  added_tokens_map: Map<string, { id: number }>;
  model: { tokens_to_ids: Map<string, number>; unk_token_id?: number | null };
}

/** A text pipeline's tokenizer, opened up for TEI's encoding, with the model's limits. */
export interface TeiTokenizer {
  tokenizer: TokenizerFn;
  core: CoreTokenizer;
  /** The most tokens an input may have (special tokens included). */
  maxLength: number;
  /** Token ids below this exist in both the tokenizer and the model. */
  vocabSize: number;
}

const opened = new WeakMap<object, TeiTokenizer>();

export function teiTokenizer(pipe: PipelineFn): TeiTokenizer {
  const { tokenizer, model } = textPipeline(pipe);
  if (!tokenizer) throw badRequest('This endpoint\'s model has no tokenizer.');
  const known = opened.get(tokenizer);
  if (known) return known;
  const core = (tokenizer as unknown as { _tokenizer?: CoreTokenizer })._tokenizer;
  if (!core || typeof core.encode_text !== 'function' || !(core.model?.tokens_to_ids instanceof Map)) {
    throw new Error('The tokenizer does not have the shape TEI routes expect (transformers.js 4 with @huggingface/tokenizers).');
  }
  let size = 0;
  for (const id of core.model.tokens_to_ids.values()) size = Math.max(size, id + 1);
  for (const { id } of core.added_tokens_map.values()) size = Math.max(size, id + 1);
  const configSize = model?.config?.vocab_size;
  if (typeof configSize === 'number' && configSize > 0) size = Math.min(size, configSize);
  const opener: TeiTokenizer = { tokenizer, core, maxLength: maxInputTokens(tokenizer, model?.config) ?? 512, vocabSize: size };
  opened.set(tokenizer, opener);
  return opener;
}

/** Checks token ids against the vocabulary. */
export function checkVocabulary(t: TeiTokenizer, ids: readonly number[], where: string): void {
  const bad = ids.findIndex((id) => id >= t.vocabSize);
  if (bad >= 0) throw badRequest(`${where}[${bad}] is token id ${ids[bad]}, outside the vocabulary of ${t.vocabSize} tokens (ids 0 to ${t.vocabSize - 1}).`);
}

/** The text of the prompt `name`, or a 400 naming the model's prompts. */
export function promptText(prompts: Readonly<Record<string, string>> | undefined, name: string | undefined): string {
  if (name === undefined) return '';
  if (!prompts) throw badRequest(`prompt_name ${JSON.stringify(name.slice(0, 40))} is unknown: this model has no prompts (no "prompts" in config_sentence_transformers.json).`);
  if (!Object.hasOwn(prompts, name)) {
    const known = Object.keys(prompts);
    throw badRequest(`prompt_name ${JSON.stringify(name.slice(0, 40))} is unknown. This model's prompts: ${known.length ? known.join(', ') : 'none'}.`);
  }
  return prompts[name]!;
}

interface EncodeOptions {
  truncation: Truncation;
  /** Where the input is in the body, for errors (`inputs[2]`). */
  where: string;
  prompt?: string;
  addSpecialTokens?: boolean;
  /** `/tokenize`: no limit in tokens (only TEI's limit in characters), nothing truncated. */
  unlimited?: boolean;
}

/** One input (a text or token ids) as the model gets it. */
export function encodeInput(t: TeiTokenizer, input: TeiInput, options: EncodeOptions): Encoding {
  if (input.kind === 'ids') {
    checkVocabulary(t, input.ids, options.where);
    if (options.prompt) throw badRequest(`prompt_name cannot be used with token ids (${options.where}): put the prompt's tokens in the ids.`);
    let ids = input.ids;
    if (ids.length > t.maxLength) {
      if (!options.truncation.truncate) throw tooLong(options.where, ids.length, t.maxLength);
      ids = keep(ids, t.maxLength, options.truncation.direction);
    }
    return { ids, typeIds: ids.map(() => 0), tokens: ids.map((id) => String(id)), special: ids.map(() => false) };
  }
  const text = (options.prompt ?? '') + input.text;
  const truncation = options.unlimited ? { truncate: false, direction: 'right' as const } : options.truncation;
  const content = tokenize(t, text, options.where, truncation);
  return template(t, [content], options.addSpecialTokens ?? true, options.unlimited ? null : truncation, options.where, text);
}

/** A pair of texts (query and document), truncated longest-first. */
export function encodePair(t: TeiTokenizer, a: string, b: string, truncation: Truncation, where: string): Encoding {
  const first = tokenize(t, a, where, truncation);
  const second = tokenize(t, b, where, truncation);
  return template(t, [first, second], true, truncation, where);
}

/** The content tokens of a text; a huge text is cut first when it may be truncated (only its kept end is tokenized). */
function tokenize(t: TeiTokenizer, text: string, where: string, truncation: Truncation): string[] {
  const limit = t.maxLength * MAX_CHARS_PER_TOKEN;
  if (!truncation.truncate && text.length > limit) {
    throw new EndpointError(413, `${where} is ${text.length} characters long, over the limit of ${limit} (${MAX_CHARS_PER_TOKEN} × the model's ${t.maxLength} tokens), and truncate is false.`);
  }
  const part = truncation.truncate ? cutForTokens(t.tokenizer, text, t.maxLength, truncation.direction) : text;
  return t.core.encode_text(part) ?? [];
}

/** Content tokens truncated to fit with the special tokens, then post-processed into ids. */
function template(t: TeiTokenizer, sequences: string[][], addSpecial: boolean, truncation: Truncation | null, where: string, text?: string): Encoding {
  const pair = sequences.length === 2;
  const room = Math.max(0, t.maxLength - (addSpecial ? specialCount(t, pair) : 0));
  const total = sequences.reduce((n, s) => n + s.length, 0);
  if (truncation && total > room) {
    if (!truncation.truncate) throw tooLong(where, total + (addSpecial ? specialCount(t, pair) : 0), t.maxLength);
    sequences = pair ? longestFirst(sequences[0]!, sequences[1]!, room, truncation.direction) : [keep(sequences[0]!, room, truncation.direction)];
  }
  // The post-processor places markers; whatever else it emits is a special token.
  const markers = sequences.map((seq, s) => seq.map((_, i) => `\u0000${s}\u0000${i}`));
  const out = postProcess(t, markers[0]!, markers[1] ?? null, addSpecial);
  const tokens: string[] = [];
  const special: boolean[] = [];
  const contentIndex: (number | null)[] = [];
  for (const token of out.tokens) {
    const m = /^\u0000(\d)\u0000(\d+)$/.exec(token);
    if (m) {
      tokens.push(sequences[Number(m[1])]![Number(m[2])]!);
      special.push(false);
      contentIndex.push(Number(m[2]));
    } else {
      tokens.push(token);
      special.push(true);
      contentIndex.push(null);
    }
  }
  const ids = tokens.map((token) => t.core.added_tokens_map.get(token)?.id ?? t.core.model.tokens_to_ids.get(token) ?? t.core.model.unk_token_id ?? 0);
  const typeIds = out.token_type_ids?.length === tokens.length ? out.token_type_ids : tokens.map(() => 0);
  return { ids, typeIds, tokens, special, ...(text !== undefined && !pair ? { text, contentIndex } : {}) };
}

function postProcess(t: TeiTokenizer, a: string[], b: string[] | null, addSpecial: boolean): { tokens: string[]; token_type_ids?: number[] } {
  const pp = t.core.post_processor;
  if (!pp) return { tokens: [...a, ...(b ?? [])], token_type_ids: [...a.map(() => 0), ...(b ?? []).map(() => 1)] };
  const out = pp(a, b, addSpecial);
  // A ByteLevel post-processor hands the pair back unmerged.
  if (b && b.length && !out.tokens.includes(b[0]!)) return { tokens: [...out.tokens, ...(out.tokens_pair ?? b)] };
  return out;
}

const specials = new WeakMap<TeiTokenizer, [number, number]>();

/** How many special tokens the post-processor adds to one text, and to a pair. */
function specialCount(t: TeiTokenizer, pair: boolean): number {
  let counts = specials.get(t);
  if (!counts) {
    counts = [postProcess(t, [], null, true).tokens.length, postProcess(t, [], [], true).tokens.length];
    specials.set(t, counts);
  }
  return counts[pair ? 1 : 0];
}

function keep<T>(items: readonly T[], n: number, direction: 'left' | 'right'): T[] {
  return direction === 'right' ? items.slice(0, n) : items.slice(items.length - n);
}

/** `tokenizers`' LongestFirst: the shorter keeps its length if it can, and each gets half otherwise. */
function longestFirst(a: string[], b: string[], room: number, direction: 'left' | 'right'): string[][] {
  let n1 = a.length;
  let n2 = b.length;
  const swap = n1 > n2;
  if (swap) [n1, n2] = [n2, n1];
  n2 = n1 > room ? n1 : Math.max(n1, room - n1);
  if (n1 + n2 > room) {
    n1 = Math.floor(room / 2);
    n2 = n1 + (room % 2);
  }
  if (swap) [n1, n2] = [n2, n1];
  return [keep(a, Math.min(n1, a.length), direction), keep(b, Math.min(n2, b.length), direction)];
}

function tooLong(where: string, tokens: number, max: number): EndpointError {
  return badRequest(`${where} is ${tokens} tokens long, over the model's maximum of ${max}, and truncate is false.`);
}

// -- which endpoints -------------------------------------------------------------------------------

/** The endpoint tasks whose models embed. */
export const EMBEDDING_TASKS = ['feature-extraction', 'sentence-embeddings', 'sentence-similarity'] as const;

/** A 400 unless the request runs on an endpoint of one of `tasks` (TEI: "model is not an embedding model"). */
export function requireEndpoint(endpointTask: string | undefined, tasks: readonly string[], route: string): string {
  if (!endpointTask || !tasks.includes(endpointTask)) {
    throw badRequest(`${route} is served on ${tasks.join(', ')} endpoints; this endpoint's task is ${endpointTask ?? 'not named'}.`);
  }
  return endpointTask;
}
