/** Helpers for batching text requests: their size in tokens, and splitting answers back. */
import { textPipeline, type PipelineFn } from '../types.js';

/**
 * A request's padded size in tokens: its longest text's (capped at the model's maximum) × its
 * texts. Estimated from characters (about 4 a token in English) rather than tokenized, because the
 * estimate runs on every request and only has to sort by length and cap a batch.
 */
export function paddedTokens(pipe: PipelineFn, texts: readonly string[]): number {
  const max = textPipeline(pipe).tokenizer.model_max_length ?? Infinity;
  return Math.min(estimateTokens(Math.max(...texts.map((t) => t.length))), max) * texts.length;
}

export function estimateTokens(characters: number): number {
  return Math.ceil(characters / 4) + 2; // + the special tokens
}

export function textsOf(inputs: string | readonly string[]): readonly string[] {
  return typeof inputs === 'string' ? [inputs] : inputs;
}

/** Cuts the rows of one batched call back into each request's rows, in order. */
export function splitRows<T>(rows: readonly T[], counts: readonly number[]): T[][] {
  let at = 0;
  return counts.map((n) => rows.slice(at, (at += n)));
}
