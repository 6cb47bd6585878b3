/**
 * What a task module is. One module per Endpoint task: it checks a payload, runs the pipeline and
 * shapes the answer for each wire dialect. Parsing and shaping are pure functions of plain data.
 */
import type { RunContext, StreamToken } from './generation/generate-core.js';
import type { MediaKind } from '../wire/media.js';

export type { RunContext, StreamEvent, StreamToken } from './generation/generate-core.js';

/** Which reader the answer is for: the Endpoint server's own shape, or the official client's. */
export type Dialect = 'endpoint' | 'client';

/** The body of an Endpoint request, once decoded: `{"inputs": …, "parameters": {…}}`. */
export interface EndpointPayload {
  inputs: unknown;
  parameters?: Record<string, unknown>;
  /** Top-level `"stream": true`: answer as server-sent events (generative tasks only). */
  stream?: boolean;
}

/** A transformers.js pipeline, as the task modules use it. */
export type PipelineFn = ((inputs: unknown, options?: Record<string, unknown>) => Promise<unknown>) & {
  model?: { config?: Record<string, unknown> };
  dispose?: () => Promise<void>;
};

/** What a task can read about the loaded model, once, right after it loads. */
export interface ModelContext {
  pipe: PipelineFn;
  /** Reads a JSON file from the model repo (`modules.json`, …); null when it does not exist. */
  readJSON(path: string): Promise<unknown | null>;
}

export interface TaskModule<Request = unknown, Setup = unknown> {
  /** The Hugging Face task id, e.g. `text-classification`. */
  readonly id: string;
  /** Other names accepted at the edge (e.g. `sentiment-analysis`). */
  readonly aliases?: readonly string[];
  /** The transformers.js pipeline that runs this task. */
  readonly pipeline: string;
  /** Checks and normalises a payload. Throws EndpointError(400) naming the problem. Pure. */
  parse(payload: EndpointPayload): Request;
  /** Reads per-model defaults once after the pipeline loads (e.g. sentence-transformers pooling). */
  setup?(model: ModelContext): Promise<Setup>;
  /**
   * Runs the request and returns the Endpoint server's answer, as plain JSON data. Generative
   * tasks stream through `ctx.emit` and stop when `ctx.cancelled()`.
   */
  run(pipe: PipelineFn, request: Request, setup: Setup, ctx?: RunContext): Promise<unknown>;
  /**
   * Another task whose loaded pipeline (and setup) this one shares, e.g. `conversational` runs on
   * the `text-generation` pipeline of the same model, so the model loads once.
   */
  readonly loadAs?: string;
  /**
   * Tasks whose input is an image or a sound: the request body may be the raw bytes (with their
   * Content-Type, or none), or JSON with base64 `inputs`.
   */
  readonly media?: MediaKind;
  /** How this task answers `"stream": true` as server-sent events; absent when it cannot stream. */
  readonly stream?: StreamShape<Request>;
  /** Turns the Endpoint server's answer into the official client's shape, where they differ. Pure. */
  toClient?(answer: unknown, request: Request): unknown;
  /** How several waiting requests run as one call (dynamic batching), for tasks that can. */
  readonly batch?: Batching<Request, Setup>;
  /**
   * Parameters the official client's reader needs, used when its request does not set them
   * (token-classification: the client requires aggregated `entity_group` entities).
   */
  readonly clientParameters?: Readonly<Record<string, unknown>>;
}

/** What a stream's formatter knows beside each event. */
export interface StreamMeta {
  /** The model id, as OpenAI chunks name it. */
  model: string;
  /** A fresh id for this answer (`chatcmpl-…`), and its creation time in seconds. */
  id: string;
  created: number;
  promptTokens: number;
}

/** A task's server-sent events: each event becomes zero or more `data:` JSON messages. */
export interface StreamShape<Request> {
  /** Whether this request asks to stream (a task can also refuse it with a 400 in parse). */
  wanted(request: Request): boolean;
  /** Messages for one generated token. */
  token(event: StreamToken, request: Request, meta: StreamMeta): unknown[];
  /** Whether the stream ends with `data: [DONE]` (the OpenAI routes) or not (TGI's format). */
  readonly done: boolean;
  /** The `id` prefix (`cmpl`, `chatcmpl`). */
  readonly idPrefix: string;
}

/** Dynamic batching of one task: which requests can share a call, their size, and the call. */
export interface Batching<Request, Setup> {
  /** Requests with the same key can share one call; null when this one must run alone. */
  key(request: Request, setup: Setup): string | null;
  /** The tokens this request adds to a batch. */
  tokens(pipe: PipelineFn, request: Request): number;
  /** Runs the requests as one call and gives each its own answer, in order. */
  run(pipe: PipelineFn, requests: Request[], setup: Setup): Promise<unknown[]>;
}

/** A tensor as transformers.js returns it. */
export interface TensorLike {
  dims: number[];
  data: ArrayLike<number>;
  tolist(): unknown;
}

/** The tokenizer of a text pipeline. */
export type TokenizerFn = ((
  text: string | string[],
  options?: { text_pair?: string | string[]; padding?: boolean; truncation?: boolean; add_special_tokens?: boolean },
) => Record<string, TensorLike>) & {
  model_max_length?: number;
  mask_token?: string | null;
  mask_token_id?: number | null;
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
};

/** A text pipeline opened up: its tokenizer and its model, for tasks that need the logits. */
export interface TextPipeline {
  tokenizer: TokenizerFn;
  model: ((inputs: Record<string, TensorLike>) => Promise<Record<string, TensorLike>>) & {
    config: Record<string, unknown>;
  };
}

export function textPipeline(pipe: PipelineFn): TextPipeline {
  return pipe as unknown as TextPipeline;
}
