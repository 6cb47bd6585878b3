/**
 * One model call for a request's encodings (tei-encode.ts), padded on the right into one batch,
 * and what TEI's routes read from it: pooled vectors, token vectors, logits. Engine side.
 */
import { badRequest } from '../../protocol/errors.js';
import { textPipeline, type PipelineFn, type TensorLike, type TokenizerFn } from '../types.js';
import type { Encoding, TeiTokenizer } from './tei-encode.js';

type TensorClass = new (type: string, data: BigInt64Array, dims: number[]) => TensorLike;
const tensorClasses = new WeakMap<object, TensorClass>();

/** transformers.js's Tensor class, as the tokenizer makes it (a task imports no transformers.js). */
function tensorClass(tokenizer: TokenizerFn): TensorClass {
  let known = tensorClasses.get(tokenizer);
  if (!known) {
    known = (tokenizer('a').input_ids as object).constructor as TensorClass;
    tensorClasses.set(tokenizer, known);
  }
  return known;
}

/** The model's outputs for the encodings, padded on the right into one batch. */
export async function runModel(pipe: PipelineFn, t: TeiTokenizer, encodings: readonly Encoding[]): Promise<Record<string, TensorLike>> {
  const { model } = textPipeline(pipe);
  const empty = encodings.findIndex((e) => e.ids.length === 0);
  if (empty >= 0) throw badRequest(`Input ${empty} has no tokens (the tokenizer keeps nothing of it).`);
  const length = Math.max(...encodings.map((e) => e.ids.length));
  const pad = tokenIdOf(t.tokenizer, 'pad_token_id') ?? 0;
  const Tensor = tensorClass(t.tokenizer);
  /** A [batch, length] int64 tensor: each encoding's values, then `padding`. */
  const grid = (values: (e: Encoding) => readonly number[], padding: number) => {
    const data = new BigInt64Array(encodings.length * length).fill(BigInt(padding));
    encodings.forEach((e, row) => values(e).forEach((v, i) => (data[row * length + i] = BigInt(v))));
    return new Tensor('int64', data, [encodings.length, length]);
  };
  return model({
    input_ids: grid((e) => e.ids, pad),
    attention_mask: grid((e) => e.ids.map(() => 1), 0),
    token_type_ids: grid((e) => e.typeIds, 0),
  });
}

function tokenIdOf(tokenizer: TokenizerFn, name: 'pad_token_id'): number | undefined {
  const v = (tokenizer as unknown as Record<string, unknown>)[name];
  return typeof v === 'number' ? v : undefined;
}

/** The token embeddings of an embedding model's output, `[batch][tokens][hidden]`. */
export function hiddenStates(outputs: Record<string, TensorLike>): TensorLike {
  const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? outputs.logits;
  if (!hidden || hidden.dims.length !== 3) throw badRequest('This endpoint\'s model gives no token embeddings: it is not an embedding model.');
  return hidden;
}

/** Each encoding's token vectors, without padding. */
export function tokenVectors(hidden: TensorLike, encodings: readonly Encoding[]): number[][][] {
  const [, length, size] = hidden.dims as [number, number, number];
  return encodings.map((e, row) =>
    Array.from({ length: e.ids.length }, (_, i) => Array.from(slice(hidden.data, (row * length + i) * size, size))),
  );
}

/** Each encoding's pooled vector: the mean of its tokens, or its first token's (`cls`). */
export function pooledVectors(hidden: TensorLike, encodings: readonly Encoding[], pooling: 'mean' | 'cls'): number[][] {
  const [, length, size] = hidden.dims as [number, number, number];
  return encodings.map((e, row) => {
    if (pooling === 'cls') return Array.from(slice(hidden.data, row * length * size, size));
    const sum = new Float64Array(size);
    for (let i = 0; i < e.ids.length; i++) {
      const at = (row * length + i) * size;
      for (let k = 0; k < size; k++) sum[k]! += Number(hidden.data[at + k]);
    }
    return Array.from(sum, (x) => x / e.ids.length);
  });
}

function slice(data: ArrayLike<number>, start: number, size: number): ArrayLike<number> {
  const typed = data as unknown as { subarray?: (a: number, b: number) => ArrayLike<number> };
  return typed.subarray ? typed.subarray(start, start + size) : Array.prototype.slice.call(data, start, start + size);
}

/** `v` scaled to unit length (as TEI: in float64, then float32). */
export function normalized(v: readonly number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : [...v];
}

/** Rounded to float32, as TEI's answers are `f32`. */
export function float32(v: readonly number[]): number[] {
  return Array.from(Float32Array.from(v));
}
