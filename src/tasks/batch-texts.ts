/** Helpers for batching text requests: their size in tokens, and splitting answers back. */
import { textPipeline, type PipelineFn } from './types.js';

/** A request's padded size: its longest text's tokens (capped at the model's maximum) × its texts. */
export function paddedTokens(pipe: PipelineFn, texts: readonly string[]): number {
  const { tokenizer } = textPipeline(pipe);
  const max = tokenizer.model_max_length ?? Infinity;
  const longest = Math.max(...texts.map((t) => Math.min(tokenizer.encode(t).length, max)));
  return longest * texts.length;
}

export function textsOf(inputs: string | readonly string[]): readonly string[] {
  return typeof inputs === 'string' ? [inputs] : inputs;
}

/** Cuts the rows of one batched call back into each request's rows, in order. */
export function splitRows<T>(rows: readonly T[], counts: readonly number[]): T[][] {
  let at = 0;
  return counts.map((n) => rows.slice(at, (at += n)));
}
