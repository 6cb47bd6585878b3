/**
 * Reading TEI's request bodies (huggingface/text-embeddings-inference's `router/src/http/types.rs`),
 * as its serde types accept them: the fields, their defaults (`truncate` true as TEI's
 * `--auto-truncate`, `truncation_direction` Right, `normalize` true…) and its limits. Fields TEI
 * does not know are ignored, as serde ignores them there. Pure (page side).
 */
import { badRequest, describeType, EndpointError, quote } from '../../protocol/errors.js';

/**
 * The most inputs one request may carry, as TEI's `--max-client-batch-size` default: over it is a
 * 413 (`batch size 33 > maximum allowed batch size 32`).
 */
export const MAX_CLIENT_BATCH_SIZE = 32;

/** TEI refuses a text over this many characters a token of the model's maximum (`MAX_CHAR_MULTIPLIER`) when it may not truncate. */
export const MAX_CHARS_PER_TOKEN = 250;

/** One input: a text, or token ids to run exactly as given. */
export type TeiInput = { kind: 'text'; text: string } | { kind: 'ids'; ids: number[] };

export interface Truncation {
  /** Cut inputs over the model's maximum (true, TEI's default) or refuse them. */
  truncate: boolean;
  /** Which end is cut: `right` keeps the start. */
  direction: 'left' | 'right';
}

/** A list of inputs, and whether the body sent one input (not a list). */
export interface TeiInputs {
  inputs: TeiInput[];
  single: boolean;
}

/** The body as an object (the local fetch passes the whole JSON body as `inputs`). */
export function readBody(body: unknown, route: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`The body of ${route} must be a JSON object, got ${describeType(body)}.`);
  }
  return body as Record<string, unknown>;
}

/** A boolean field; `fallback` when absent or null. */
export function readFlag(body: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw badRequest(`${name} must be a boolean, got ${describeType(v)}.`);
  return v;
}

/** `truncate` (default true) and `truncation_direction` (`Left`, `Right`, or in lower case; default Right). */
export function readTruncation(body: Record<string, unknown>): Truncation {
  const value = body.truncation_direction;
  let direction: 'left' | 'right' = 'right';
  if (value !== undefined && value !== null) {
    if (value !== 'Left' && value !== 'Right' && value !== 'left' && value !== 'right') {
      throw badRequest(`truncation_direction must be "Left" or "Right", got ${quote(value)}.`);
    }
    direction = value.toLowerCase() as 'left' | 'right';
  }
  return { truncate: readFlag(body, 'truncate', true), direction };
}

/** `prompt_name`: a string, or none. */
export function readPromptName(body: Record<string, unknown>): string | undefined {
  const v = body.prompt_name;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`prompt_name must be a string, got ${describeType(v)}.`);
  return v;
}

/** `dimensions`: a positive integer, or none. */
export function readDimensions(body: Record<string, unknown>): number | undefined {
  const v = body.dimensions;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw badRequest(`dimensions must be a positive integer, got ${quote(v)}.`);
  }
  return v;
}

/** A 413 past the batch limit. */
export function checkBatchSize(count: number): void {
  if (count > MAX_CLIENT_BATCH_SIZE) {
    throw new EndpointError(413, `batch size ${count} > maximum allowed batch size ${MAX_CLIENT_BATCH_SIZE}.`);
  }
}

/**
 * TEI's `Input`: a string, token ids (one input), or a list of strings and token-id lists. An
 * empty string, an empty list or an empty id list is a 400.
 */
export function readInputs(value: unknown, field: string): TeiInputs {
  const expected = 'a string, a list of token ids, or a list of strings and token-id lists';
  if (typeof value === 'string') return { inputs: [readText(value, field)], single: true };
  if (!Array.isArray(value)) throw badRequest(`${field} must be ${expected}, got ${describeType(value)}.`);
  if (value.length === 0) throw badRequest(`${field} cannot be empty.`);
  if (value.every((x) => typeof x === 'number')) return { inputs: [{ kind: 'ids', ids: readIds(value, field) }], single: true };
  checkBatchSize(value.length);
  const inputs = value.map((x, i): TeiInput => {
    if (typeof x === 'string') return readText(x, `${field}[${i}]`);
    if (Array.isArray(x)) {
      if (x.length === 0) throw badRequest(`${field}[${i}] cannot be empty.`);
      return { kind: 'ids', ids: readIds(x, `${field}[${i}]`) };
    }
    throw badRequest(`${field}[${i}] must be a string or a list of token ids, got ${describeType(x)}.`);
  });
  return { inputs, single: false };
}

function readText(text: string, field: string): TeiInput {
  if (text === '') throw badRequest(`${field} cannot be empty.`);
  return { kind: 'text', text };
}

/** Token ids: integers from 0 (the vocabulary's size is checked where the model is). */
export function readIds(value: readonly unknown[], field: string): number[] {
  value.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw badRequest(`${field}[${i}] must be a token id (an integer from 0), got ${quote(id)}.`);
    }
  });
  return value as number[];
}

/** TEI's `inputs` of /tokenize: a string or a list of strings, none empty. */
export function readTexts(value: unknown, field: string): { texts: string[]; single: boolean } {
  if (typeof value === 'string') {
    if (value === '') throw badRequest(`${field} cannot be empty.`);
    return { texts: [value], single: true };
  }
  if (!Array.isArray(value)) throw badRequest(`${field} must be a string or a list of strings, got ${describeType(value)}.`);
  if (value.length === 0) throw badRequest(`${field} cannot be empty.`);
  checkBatchSize(value.length);
  value.forEach((x, i) => {
    if (typeof x !== 'string') throw badRequest(`${field}[${i}] must be a string, got ${describeType(x)}.`);
    if (x === '') throw badRequest(`${field}[${i}] cannot be empty.`);
  });
  return { texts: value as string[], single: false };
}
