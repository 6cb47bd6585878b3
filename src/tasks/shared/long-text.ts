/**
 * Over-long text, cut before it is tokenized (issue 12, defect 5). A task whose tokenizer
 * truncates to the model's maximum only ever reads the text's first (or last) tokens, so it
 * tokenizes just enough of the text to hold them, not the 49 MB a caller sent: the answer is the
 * same, and the work is bounded by the model's length, not the input's.
 */
import type { TokenizerFn } from '../types.js';

/** Text up to this many characters a token of the limit is tokenized whole (cheap enough). */
const WHOLE_CHARS_PER_TOKEN = 16;
/** How far back from a cut a white space is looked for, so that the cut falls between words. */
const WORD_REACH = 256;
/** Tokens past the limit that the cut part must hold: the last word, maybe cut, is not among the kept. */
const MARGIN = 8;

/**
 * The start of `text` (`direction` "right": the end is cut, as transformers' truncation does) or
 * its end ("left") that holds more than `maxTokens` tokens; all of `text` when it holds fewer.
 * The cut falls at a white space near the needed length where there is one, so that tokens
 * before it are the ones the whole text has (pre-tokenizers split words at white space).
 */
export function cutForTokens(tokenizer: TokenizerFn, text: string, maxTokens: number | undefined, direction: 'left' | 'right' = 'right'): string {
  if (!maxTokens || !Number.isFinite(maxTokens) || maxTokens <= 0) return text;
  const whole = maxTokens * WHOLE_CHARS_PER_TOKEN;
  if (text.length <= whole) return text;
  for (let size = whole; size < text.length; size *= 4) {
    const part = direction === 'right' ? text.slice(0, wordCut(text, size)) : text.slice(wordCutFromEnd(text, size));
    if (countTokens(tokenizer, part) > maxTokens + MARGIN) return part;
  }
  return text;
}

/** The longest input a truncating tokenizer keeps: its `model_max_length`, else the model's positions. */
export function maxInputTokens(tokenizer: TokenizerFn, config?: { max_position_embeddings?: unknown }): number | undefined {
  const fromTokenizer = tokenizer.model_max_length;
  if (typeof fromTokenizer === 'number' && Number.isFinite(fromTokenizer) && fromTokenizer > 0 && fromTokenizer < 1e9) return fromTokenizer;
  const positions = config?.max_position_embeddings;
  return typeof positions === 'number' && positions > 0 ? positions : undefined;
}

export function countTokens(tokenizer: TokenizerFn, text: string): number {
  return (tokenizer as unknown as { tokenize(text: string): string[] }).tokenize(text).length;
}

/** `size`, moved back to just before a white space within WORD_REACH characters when there is one. */
function wordCut(text: string, size: number): number {
  for (let i = size; i > size - WORD_REACH && i > 0; i--) if (/\s/.test(text[i]!)) return i;
  return isLowSurrogate(text.charCodeAt(size)) ? size - 1 : size; // never between a surrogate pair's halves
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Where a tail of about `size` characters starts: just after a white space when there is one near. */
function wordCutFromEnd(text: string, size: number): number {
  const from = text.length - size;
  for (let i = from; i < from + WORD_REACH && i < text.length; i++) if (/\s/.test(text[i]!)) return i;
  return isLowSurrogate(text.charCodeAt(from)) ? from + 1 : from;
}
