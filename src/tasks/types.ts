/**
 * What a task is, in two parts that live in the same task file:
 *
 * - its **spec** (`TaskSpec`), for the page: it checks a payload (`parse`), says how the request
 *   body is read (`media`), how the task streams and how the official client's answer differs, which
 *   of the official client's methods it serves, and an example request. Pure functions of plain
 *   data: the page imports specs only.
 * - its **runner** (`TaskRunner`), for the engine (the Web Worker, or Node): the transformers.js
 *   pipeline, what to read once from the model, the run itself and dynamic batching.
 *
 * The two are separate named exports (`textClassification` and `textClassificationRunner`), so a
 * bundle that imports only specs (the page's) drops every runner and the code only runners use.
 */
import type { InferenceClient } from '@huggingface/inference';
import type { MediaKind } from '../wire/media.js';
import type { StreamEvent, StreamToken } from '../protocol/stream.js';

export type { StreamEvent, StreamToken } from '../protocol/stream.js';

import type { Dialect, EndpointPayload } from '../protocol/wire.js';

export type { Dialect, EndpointPayload } from '../protocol/wire.js';

// -- the page side ----------------------------------------------------------------------------

/** A task method of `@huggingface/inference`'s InferenceClient (`textClassification`, `chatCompletionStream`, …). */
export type ClientMethod = Exclude<keyof InferenceClient, 'endpoint' | 'request' | 'streamingRequest'>;

/** An example request of a task: the Endpoint server's own test payloads (the demo starts from it). */
export interface TaskExample {
  /** The example's `inputs`; none for image and audio tasks, whose input is a picture or a sound. */
  readonly inputs?: unknown;
  /** Parameters the task cannot run without (zero-shot: `candidate_labels`). */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /**
   * The example needs an image (or a sound) beside its text, under `inputs[withMedia]`, which a
   * spec cannot hold (visual-question-answering: the question is here, the picture is the user's).
   */
  readonly withMedia?: MediaKind;
  /** Other top-level keys of the example's body, for a task that reads the whole body (custom). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A task as the page knows it. Page-safe: it imports nothing that runs a model. */
export interface TaskSpec<Request = unknown> {
  /** The Hugging Face task id, e.g. `text-classification`. */
  readonly id: string;
  /** Other names accepted at the edge (e.g. `sentiment-analysis`). */
  readonly aliases?: readonly string[];
  /** Checks and normalises a payload. Throws EndpointError(400) naming the problem. Pure. */
  parse(payload: EndpointPayload): Request;
  /**
   * Tasks whose input is an image or a sound: the request body may be the raw bytes (with their
   * Content-Type, or none), or JSON with base64 `inputs`.
   */
  readonly media?: MediaKind;
  /** How this task answers `"stream": true` as server-sent events; absent when it cannot stream. */
  readonly stream?: StreamShape<Request>;
  /** Turns the Endpoint server's answer into the official client's shape, where they differ. Pure. */
  toClient?(answer: unknown, request: Request): unknown;
  /**
   * Parameters the official client's reader needs, used when its request does not set them
   * (token-classification: the client requires aggregated `entity_group` entities).
   */
  readonly clientParameters?: Readonly<Record<string, unknown>>;
  /**
   * The official client's methods this task answers; LocalEndpointClient gets each of them, with
   * the official argument and answer types. A method ending in `Stream` streams.
   */
  readonly client?: readonly ClientMethod[];
  /** An example request (the demo's default input). */
  readonly example?: TaskExample;
  /**
   * The answer is PNG bytes (text-to-image): sent as `image/png` when the request's Accept starts
   * with `image/`, and to the official client; otherwise as a base64 string in JSON, as the Endpoint does.
   */
  readonly imageAnswer?: boolean;
  /**
   * The custom task: the request body is kept whole (other top-level keys in `extra`; JSON, or a
   * raw image or sound of any supported type), streamed when it asks, and answered with whatever
   * JSON (or bytes) the handler returns. The engine runs it outside its queues.
   */
  readonly wholeBody?: boolean;
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

// -- the engine side --------------------------------------------------------------------------

/** A task as the engine runs it: the pipeline, the model's facts, the run and batching. */
export interface TaskRunner<Request = unknown, Setup = unknown> {
  /** The task this runs; its `parse` makes the request. */
  readonly spec: TaskSpec<Request>;
  /** The transformers.js pipeline that runs this task. */
  readonly pipeline: string;
  /**
   * Another task whose loaded pipeline (and setup) this one shares, e.g. `conversational` runs on
   * the `text-generation` pipeline of the same model, so the model loads once.
   */
  readonly loadAs?: string;
  /**
   * A route of several endpoint kinds (TEI's `/embed`, `/tokenize`, `/info`): it runs on the
   * pipeline (and setup) of the request's `endpointTask`, loaded once for both, and reads which
   * task that is from `RunContext.endpointTask`.
   */
  readonly onEndpointTask?: boolean;
  /**
   * Loads the model itself, for a task transformers.js has no pipeline for (text-to-image): from
   * the model's ONNX sessions and tokenizer, through the same files, model cache, progress and
   * devices as every pipeline. What it returns takes the pipeline's place; its `dispose` frees it.
   */
  load?(ctx: LoadContext): Promise<PipelineFn>;
  /** Reads per-model defaults once after the pipeline loads (e.g. sentence-transformers pooling). */
  setup?(model: ModelContext): Promise<Setup>;
  /**
   * Runs the request and returns the Endpoint server's answer, as plain JSON data. Generative
   * tasks stream through `ctx.emit` and stop when `ctx.cancelled()`.
   */
  run(pipe: PipelineFn, request: Request, setup: Setup, ctx?: RunContext): Promise<unknown>;
  /** How several waiting requests run as one call (dynamic batching), for tasks that can. */
  readonly batch?: Batching<Request, Setup>;
}

/** What the engine gives a task's `run`, beyond the pipeline and the request. */
export interface RunContext {
  /** Set when the caller streams: receives events as they happen. */
  emit?: (event: StreamEvent) => void;
  /** True once the caller has aborted the request. */
  cancelled(): boolean;
  /**
   * `cancelled()` reads shared memory, so it changes without a turn of the event loop. Otherwise
   * each decoding step first yields one macrotask, so that a cancel message is received.
   */
  cancelSeenAtOnce?: boolean;
  /** Seeds the sampler (transformers.js's global random); no value means fresh entropy. */
  seed(value?: number): void;
  /** The model id the request named (OpenAI answers carry it). */
  model?: string;
  /** The endpoint's own task, for a route runner with `onEndpointTask`. */
  endpointTask?: string;
  /** Counts generated tokens (each sequence's, once it ends): the answer's `generatedTokens`, for `/metrics`. */
  countTokens?(tokens: number): void;
  /**
   * Decodes image bytes where the work runs (in the worker: createImageBitmap and OffscreenCanvas;
   * in Node: sharp) into transformers.js's RawImage. A body that is not a decodable image is a 400.
   */
  decodeImage?(bytes: Uint8Array): Promise<unknown>;
  /**
   * Decodes audio bytes where the work runs (audio-decode's WebAssembly decoders, in the worker and
   * in Node) to mono samples at `samplingRate`. A body that is not decodable audio is a 400; audio
   * longer than `maxSeconds` (default 600) is a 413, refused before it is resampled.
   */
  decodeAudio?(bytes: Uint8Array, samplingRate: number, maxSeconds?: number): Promise<Float32Array>;
  /** `EngineOptions.maxAudioSeconds`, for the audio tasks to pass to `decodeAudio`. */
  maxAudioSeconds?: number;
  /** Reports a step of long work (text-to-image: each denoising step) to the caller's onProgress. */
  progress?(event: { status: 'step'; step: number; steps: number }): void;
}

/** A transformers.js pipeline, as the task runners use it. */
export type PipelineFn = ((inputs: unknown, options?: Record<string, unknown>) => Promise<unknown>) & {
  model?: { config?: Record<string, unknown> };
  dispose?: () => Promise<void>;
};

/** What a task's own loader gets from the engine (TaskRunner.load). */
export interface LoadContext {
  model: string;
  /** The device the pipeline is loaded for: `webgpu`, `wasm` or `cpu`. */
  device: string;
  dtype?: string;
  /** Reads a JSON file of the model repo (`model_index.json`, `unet/config.json`); null when it does not exist. */
  readJSON(path: string): Promise<unknown | null>;
  /**
   * Opens `<subfolder>/model.onnx` (with its `model.onnx_data` external weights when there are
   * some) as an ONNX session on the device: a function from named input tensors to named outputs.
   */
  session(subfolder: string): Promise<OnnxModel>;
  /** The tokenizer in `<subfolder>/` (`tokenizer.json` and `tokenizer_config.json`); `''` is the repo's root. */
  tokenizer(subfolder: string): Promise<TokenizerFn>;
  /** A tensor for a session's input. */
  tensor(type: 'float32' | 'int32' | 'int64', data: Float32Array | Int32Array | BigInt64Array, dims: number[]): TensorLike;
  /**
   * Another transformers.js pipeline of this same model, on the same device and dtype, with the
   * same progress (table-question-answering runs a TAPEX model on `text2text-generation`).
   */
  pipeline(task: string): Promise<PipelineFn>;
  /**
   * One of transformers.js's Auto classes loaded for this model (`from_pretrained`) with the
   * engine's device, dtype and progress, for models that have no pipeline (the generative
   * vision-language models). Typed loosely: the task says what it uses of what it gets.
   */
  pretrained(kind: PretrainedKind, options?: Record<string, unknown>): Promise<unknown>;
}

/** The transformers.js Auto classes a task's loader can load (LoadContext.pretrained). */
export type PretrainedKind =
  | 'AutoConfig'
  | 'AutoTokenizer'
  | 'AutoProcessor'
  | 'AutoModel'
  | 'AutoModelForImageTextToText'
  | 'AutoModelForVision2Seq'
  | 'AutoModelForSeq2SeqLM'
  | 'AutoModelForCausalLM';

/** One ONNX session of a model, as a task's loader gets it. */
export type OnnxModel = ((inputs: Record<string, TensorLike>) => Promise<Record<string, TensorLike>>) & {
  /**
   * The session's input names, and their element types and shapes where ONNX Runtime says
   * (`int32`, `float32`…; a shape `[]` is a scalar, a name a dynamic dimension).
   */
  readonly inputs: readonly { name: string; type?: string; shape?: readonly (number | string)[] }[];
  dispose(): Promise<void>;
};

/** What a task can read about the loaded model, once, right after it loads. */
export interface ModelContext {
  pipe: PipelineFn;
  /** Reads a JSON file from the model repo (`modules.json`, …); null when it does not exist. */
  readJSON(path: string): Promise<unknown | null>;
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
