/**
 * The engine's contract, shared by the page, the worker and Node: what a request is, what an
 * answer is, and the one interface that the in-process engine and the worker host both implement.
 * Types only: nothing here exists at run time.
 */
import type { StreamEvent, StreamListener } from './stream.js';

export type { StreamEvent, StreamListener } from './stream.js';

export type Device = 'webgpu' | 'wasm' | 'cpu';
export type DevicePreference = 'auto' | Device;

/** The device `auto` picked, and why. */
export interface DeviceChoice {
  device: Device;
  /** Why this device and not a faster one, e.g. "no WebGPU adapter". */
  reason?: string;
  /**
   * Set when the only WebGPU adapter is a software fallback (`isFallbackAdapter`, such as
   * SwiftShader), which `auto` passes over for WASM. `device: "webgpu"` still runs on it.
   */
  fallbackAdapter?: true;
}

/** How the engine finds models, set by whoever creates it. */
export interface EngineOptions {
  /** Where local model folders are served or stored (a path like `/models/`, never a full URL). */
  localModelPath?: string;
  /** Whether models may be downloaded from the Hugging Face Hub. Off unless the caller allows it. */
  allowRemoteModels?: boolean;
  /** Hub mirror to download from, when remote models are allowed. */
  remoteHost?: string;
  /**
   * Whether `auto` may run on a software WebGPU adapter (`isFallbackAdapter: true`, such as
   * Chromium's SwiftShader). Default false: such an adapter is many times slower than WASM, so
   * `auto` takes WASM and says why. `device: "webgpu"` uses it either way.
   */
  useFallbackAdapter?: boolean;
  /** WASM threads; defaults to the cores available when cross-origin isolated, else 1. */
  numThreads?: number;
  /** Models whose WebGPU session failed in an earlier worker: `auto` runs them on WASM. */
  webgpuFailures?: Record<string, string>;
  /**
   * Dynamic batching of waiting requests. `auto` (the default) batches everything on WebGPU; on
   * WASM and the CPU it batches short requests (up to `shortRequestTokens`), where the cost of
   * each call dominates, and runs long ones alone, where compute dominates and batching measured
   * no gain (see the README's benchmark).
   */
  batching?: 'auto' | 'on' | 'off';
  /** `auto` on WASM and the CPU: the largest request (in padded tokens, estimated) still batched. Default 64. */
  shortRequestTokens?: number;
  /** The most tokens (padded) one batched call may hold. Default 8192. */
  maxBatchTokens?: number;
  /**
   * Browser only: absolute URLs of onnxruntime-web's WASM factory and binary, where the app serves
   * them itself. By default the worker's bundler emits them with the worker.
   */
  wasmPaths?: WasmPaths;
  /**
   * How many loaded pipelines, or how many bytes of their model files, may stay in memory. Past
   * either, the least recently used pipeline that is not running is disposed. Default: no limit.
   */
  memoryBudget?: MemoryBudget;
  /**
   * The longest audio a request may send, in seconds. Default 600 (10 minutes); `Infinity` for no
   * limit. It is counted from the decoded samples at the file's declared rate, before anything is
   * resampled or a feature is extracted, and longer audio is answered 413 naming both durations.
   * Within it, automatic-speech-recognition reads long audio in chunks (30 s windows with a stride,
   * as transformers' pipeline does with `chunk_length_s`), so memory does not grow with the length.
   * Independently, a file must declare a sample rate from 1,000 to 384,000 Hz (else a 400).
   */
  maxAudioSeconds?: number;
  /**
   * The Hub's file layout under `remoteHost` (transformers.js's `env.remotePathTemplate`, default
   * `{model}/resolve/{revision}/`), for a mirror laid out otherwise (`{model}/`: plain folders).
   */
  remotePathTemplate?: string;
  /**
   * The `custom` task: model id → the module URL of its handler, named by the app (an ES module
   * exporting `class EndpointHandler { constructor(path, context); call(data, request) }`). In the
   * browser it must be on the app's own origin (relative URLs resolve against the page); `data:`,
   * `blob:` and other origins are refused. In Node, a file path (or `file:` URL). A model without
   * an entry uses the `handler.js` in its model folder.
   */
  handlers?: Record<string, string>;
  /**
   * The `custom` task: Hub repositories whose `handler.js` may run when it is downloaded from the
   * Hub (`remoteHost`), as `trust_remote_code` in transformers. Default none: a handler.js that
   * does not come from the app's own model folder is refused.
   */
  trustRemoteCode?: readonly string[];
  /**
   * The `custom` task: how long a handler's `call` (or each step of a streaming one) may take, in
   * ms, before the request is answered 504 and its signal aborted. Default 60 000.
   */
  handlerTimeoutMs?: number;
}

/** A limit on what stays loaded: a count of pipelines, bytes of model files, or both. */
export interface MemoryBudget {
  pipelines?: number;
  bytes?: number;
}

/** One file of a cached model. */
export interface CachedFile {
  /** Its path in the model repo: `config.json`, `onnx/model.onnx`. */
  path: string;
  bytes: number;
}

/** A model whose files are in the model cache (`listCached`). */
export interface CachedModel {
  model: string;
  files: CachedFile[];
  /** The sum of its files' sizes. */
  bytes: number;
  /** When one of its files was last read or stored (ms since the epoch), when known. */
  lastUsed: number | null;
}

/** `navigator.storage.estimate()` and `persisted()`, where the runtime has them (null where not). */
export interface StorageInfo {
  usage: number | null;
  quota: number | null;
  persisted: boolean | null;
}

/** onnxruntime-web's WASM factory (`ort-wasm-simd-threaded.asyncify.mjs`) and binary (`.wasm`). */
export interface WasmPaths {
  mjs: string;
  wasm: string;
}

/** A file download reported to the page while a model loads. */
export interface ProgressEvent {
  task: string;
  model: string;
  /**
   * `initiate` | `download` | `progress` | `done` | `ready`, as transformers.js reports them; and
   * `step` for each step of long work (text-to-image's denoising steps).
   */
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
  /** Percent, 0–100. */
  progress?: number;
  /** `step`: this step, from 1, of `steps`. */
  step?: number;
  steps?: number;
}

export interface EngineRequest {
  task: string;
  model: string;
  inputs: unknown;
  parameters?: Record<string, unknown>;
  device?: DevicePreference;
  /** transformers.js dtype (`fp32`, `fp16`, `q8`, …); the model's default when absent. */
  dtype?: string;
  /** Run alone, never in a batch (set when a batch it was in failed). */
  noBatch?: boolean;
  /** Top-level `"stream": true` of the payload. */
  stream?: boolean;
  /**
   * The `custom` task only: the body's other top-level keys (besides `inputs`, `parameters` and
   * `stream`), which a custom handler's `call(data)` gets as they came.
   */
  extra?: Record<string, unknown>;
  /**
   * The task of the endpoint a route request came to (`/embed` on a `sentence-embeddings`
   * endpoint): a route runner with `onEndpointTask` runs on that task's loaded pipeline.
   */
  endpointTask?: string;
  /** Names the request for `cancel(id)`. */
  id?: string;
  /**
   * A cancellation flag in shared memory (an Int32Array over a SharedArrayBuffer, on pages that
   * are cross-origin isolated): non-zero means cancelled. The engine reads it between tokens
   * without waiting for a message, so generation need not yield to the event loop each step.
   */
  cancelFlag?: Int32Array;
}

export interface EngineAnswer {
  ok: true;
  /** The Endpoint server's answer, plain JSON data. */
  output: unknown;
  task: string;
  model: string;
  device: Device;
  dtype?: string;
  /** Set when `auto` did not get the fastest device, with the reason. */
  fallback?: string;
  /** From arrival to the start of the run (model load and queue), and the run itself, in ms. */
  waitMs: number;
  computeMs: number;
  /** How many requests shared the call that answered this one (dynamic batching). */
  batchSize: number;
  /** Tokens generated for this answer (generative tasks), for `/metrics`. */
  generatedTokens?: number;
  /** The `custom` task: the answer is bytes (`output` a Uint8Array) of this Content-Type. */
  contentType?: string;
}

export interface EngineFailure {
  ok: false;
  status: number;
  error: string;
  /**
   * The worker is poisoned (a failed session load or run) and must be replaced. `retry` means this
   * request was not at fault and should be sent again to the fresh worker.
   */
  replaceWorker?: boolean;
  retry?: boolean;
  /** Set when WebGPU failed for this model: the fresh worker should run it on WASM. */
  webgpuFailure?: { model: string; reason: string };
  /** Set when the WebGPU device was lost: each model it held, and why (the fresh worker runs them on WASM). */
  webgpuFailures?: Record<string, string>;
  /** A batch this request was in failed: send it again alone. */
  noBatch?: boolean;
  /** The caller cancelled the request. */
  cancelled?: boolean;
  /** With `retry`: the bytes of the request's raw media body, which the page gave away. */
  body?: Uint8Array;
}

export type EngineResult = EngineAnswer | EngineFailure;

export interface PipelineStatus {
  task: string;
  model: string;
  device: string;
  dtype?: string;
  state: 'loading' | 'ready';
  /** Requests waiting or running in this pipeline's queue (in the browser, the one shared ONNX lane). */
  queued: number;
  /** Bytes of the model files it loaded (what the memory budget counts), once ready. */
  bytes?: number;
  /** When a request last used it (ms since the epoch). */
  lastUsed?: number;
}

export interface EngineStatus {
  runtime: 'browser' | 'node';
  /** The device `auto` uses, and why when it is not the fastest. */
  device: DeviceChoice;
  threads: number;
  crossOriginIsolated: boolean;
  tasks: readonly string[];
  pipelines: PipelineStatus[];
  /** Set once a failed ONNX session has poisoned this worker. */
  poisoned?: string;
  batching: 'auto' | 'on' | 'off';
  /** The memory budget, when one is set (`EngineOptions.memoryBudget`). */
  memoryBudget?: MemoryBudget;
  /** Pipelines disposed to stay within the budget since the engine started. */
  evicted?: number;
  /** Network downloads of model files since the engine started, by URL (browser: the model cache's count). */
  downloads?: Record<string, number>;
}

/** Reports model-file downloads while a pipeline loads. */
export type ProgressListener = (event: ProgressEvent) => void;

/** What `load` takes: the pipeline to have ready, without a request to run on it. */
export type LoadRequest = Pick<EngineRequest, 'task' | 'model' | 'device' | 'dtype'>;

/**
 * The one engine interface. The in-process engine (`worker/engine.ts`, used in Node) and the page's
 * worker host (`src/host/worker-engine.ts`) both implement it, so a caller cannot tell them apart.
 */
export interface EngineInterface {
  /**
   * Answers one request; never throws. A streaming request (`request.stream`) reports its events
   * to `onStream` as they happen. `signal` cancels: a queued request never starts, a running one
   * stops within one token, and the answer is a failure with `cancelled: true`.
   */
  infer(request: EngineRequest, onProgress?: ProgressListener, onStream?: StreamListener, signal?: AbortSignal): Promise<EngineResult>;
  /** Loads a pipeline ahead of the first request, reporting download progress. */
  load(request: LoadRequest, onProgress?: ProgressListener): Promise<EngineResult>;
  /** The device in use and why, the loaded pipelines, threads. */
  status(): Promise<EngineStatus>;
  /** Frees the pipelines of a model (every pipeline when no model is given). */
  dispose(model?: string): Promise<void>;
  /** Frees the pipelines of a model; its files stay in the model cache. */
  unload(model: string): Promise<void>;
  /** The models in the model cache, with their files, sizes and when each was last used. */
  listCached(): Promise<CachedModel[]>;
  /** Deletes a model's files from the model cache (and unloads it); false when none were cached. */
  deleteCached(model: string): Promise<boolean>;
  /** The storage the cache uses and the quota left, where the runtime can tell. */
  storageEstimate(): Promise<StorageInfo>;
}

/**
 * What the worker exposes to the page through comlink: the engine, with its stream events on a
 * MessagePort of their own (see `StreamPortMessage`) and cancellation by request id.
 */
export interface WorkerApi {
  configure(options: EngineOptions): Promise<void>;
  infer(request: EngineRequest, onProgress?: ProgressListener, onStream?: MessagePort): Promise<EngineResult>;
  load(request: LoadRequest, onProgress?: ProgressListener): Promise<EngineResult>;
  status(): Promise<EngineStatus>;
  dispose(model?: string): Promise<void>;
  unload(model: string): Promise<void>;
  listCached(): Promise<CachedModel[]>;
  deleteCached(model: string): Promise<boolean>;
  storageEstimate(): Promise<StorageInfo>;
  /** Stops the request sent with this `id`: before it starts, or within one generated token. */
  cancel(id: string): void;
}

/**
 * What the worker entry (`worker/index.ts`) adds to the engine, for the page to tell when the
 * worker has died (a crash, out of memory, `terminate()`), which no event reports.
 */
export interface WorkerLiveness {
  /**
   * Takes the Web Lock `name` and holds it for the worker's whole life; resolves once it is held.
   * The browser releases it only when the worker is gone, so the page's own request for the same
   * lock is granted at its death, even while the worker is busy in a long synchronous ONNX run.
   */
  holdLiveness(name: string): Promise<void>;
  /** Answers at once: the heartbeat where Web Locks do not exist (an insecure context). */
  ping(): number;
}
