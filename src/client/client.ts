/**
 * The one client: the official client's method names, answered by a remote Endpoint, by the local
 * engine, or by the remote one with the local one as fallback. Every path goes through
 * `@huggingface/inference`'s InferenceClient, so the same call gives the same shape either way.
 *
 * Its task methods are not written here: each task's spec names the official methods it answers
 * (`client: ['textClassification']`), and the class gets one method per name, typed with the
 * official client's own argument and answer types.
 */
import { InferenceClient } from '@huggingface/inference';
import { clientMethods, type TaskClientMethod } from '../tasks/registry.js';
import { createLocalFetch, type FetchFn } from '../local-fetch/index.js';
import type { CachedModel, EngineInterface, EngineStatus, ProgressEvent, StorageInfo } from '../protocol/engine.js';
import { WorkerEngine } from '../host/worker-engine.js';
import { CircuitBreaker, LOCAL_MODES, LocalWarmer, policyFetch, type BreakerOptions, type DownloadContext, type Mode, type RouteInfo } from './policy.js';
import { remoteFetch } from './remote.js';
import type { Dialect } from '../tasks/types.js';
import type { DevicePreference } from '../protocol/engine.js';

export interface LocalEndpointClientOptions {
  /**
   * Who answers (see `Mode`): `local` (default without endpointUrl), `remote`, `remote-first`
   * (default with one; `auto` is its old name), `local-first`, `race` or `handoff`.
   */
  mode?: Mode;
  /** The remote Inference Endpoint. Required in every mode but `local`. */
  endpointUrl?: string;
  accessToken?: string;
  /** The model to run locally: a Hub id, or a folder under the engine's local model path. */
  model: string;
  /** The Endpoint's task, used by `request()`. */
  task?: string;
  device?: DevicePreference;
  dtype?: string;
  /** The engine; by default one shared module Web Worker for the page. */
  engine?: EngineInterface;
  /**
   * Give up on the remote Endpoint when its answer has not started after this many ms (a started
   * stream is never cut). A timeout counts as a remote failure and as a cold remote.
   */
  timeoutMs?: number;
  /**
   * The remote Endpoint's circuit breaker: after `failures` consecutive failures (network error,
   * 5xx, timeout; default 3) the remote is not asked for `coolDownMs` (default 30 000), then one
   * probe goes through. `false`: no breaker. Its state: `client.breaker`.
   */
  breaker?: BreakerOptions | false;
  /**
   * Whether a background download (handoff, warming for a cold remote, race's local side) of a
   * model that is not loaded or cached may start. Default: not when `navigator.connection.saveData`
   * is set or the connection is metered (`cellular`, or `metered()`); `true`/`false`, or decide.
   */
  allowDownload?: boolean | ((context: DownloadContext) => boolean);
  /** The app's own test for a metered connection, added to `navigator.connection.type === 'cellular'`. */
  metered?: () => boolean;
  onProgress?: (event: ProgressEvent) => void;
  /** Called after each answer with the path that gave it and why (also in `lastRoute`). */
  onRoute?: (route: RouteInfo) => void;
  /** The network fetch for the remote path (default: the global fetch). */
  fetch?: FetchFn;
}

/** The official client's argument and answer types, so the two clients are interchangeable. */
type Args<M extends keyof InferenceClient> = Parameters<InferenceClient[M]>[0];
type Answer<M extends keyof InferenceClient> = Awaited<ReturnType<InferenceClient[M]>>;

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * The task methods: every official client method some task's spec names, with the official
 * argument and answer types (and its documentation). A `…Stream` method returns the official
 * async iterator; leaving the loop early (`break`) also stops the generation.
 */
type TaskMethods = {
  [M in keyof Pick<InferenceClient, TaskClientMethod>]: M extends `${string}Stream`
    ? (args: Args<M>, options?: CallOptions) => ReturnType<InferenceClient[M]>
    : (args: Args<M>, options?: CallOptions) => Promise<Answer<M>>;
};

/** Stands for the endpoint in local mode. `.invalid` never resolves, so nothing can leak to it. */
const LOCAL_URL = 'https://local-endpoint.invalid/';

let sharedEngine: WorkerEngine | undefined;

/** The page's shared worker engine, created on first use. */
export function defaultEngine(): WorkerEngine {
  return (sharedEngine ??= new WorkerEngine());
}

/**
 * The official client's task methods, answered locally or remotely by the policy of `mode`
 * (local, remote, remote-first, local-first, race, handoff); `lastRoute` and `onRoute` say which
 * path answered and why, `breaker` holds the remote Endpoint's circuit breaker. Each method posts to the task its spec belongs to: `textClassification`
 * to text-classification, `textGeneration`, `textGenerationStream`, `chatCompletion` and
 * `chatCompletionStream` to text-generation (the `/v1/completions` and `/v1/chat/completions`
 * routes), and so on.
 *
 * - Streams (`textGenerationStream`, `chatCompletionStream`) yield OpenAI chunks as they are
 *   generated; `options.signal` stops the generation, and so does leaving the loop early, which
 *   the official client alone does not do.
 * - Image and audio methods take a Blob, sent as the raw body: the worker reads its format from
 *   the bytes. Image segmentation masks are base64 PNGs of the image's size.
 * - `request()` sends a raw Endpoint request and answers in the Endpoint server's own shape.
 */
export interface LocalEndpointClient extends TaskMethods {}

export class LocalEndpointClient {
  readonly mode: Mode;
  /** The path that answered the latest request, and why. */
  lastRoute: RouteInfo | undefined;
  /**
   * The remote Endpoint's circuit breaker, shared by all of this client's calls: `state`
   * (`closed`, `open`, `half-open`), `snapshot()`, `reset()`. None in `local` mode or with `breaker: false`.
   */
  readonly breaker: CircuitBreaker | undefined;
  /** The local model's background loads (handoff, a cold remote), shared by this client's calls. */
  private readonly warmer: LocalWarmer;
  /** The local engine; remote mode has none. */
  private readonly engine: EngineInterface | undefined;

  constructor(private readonly options: LocalEndpointClientOptions) {
    LocalEndpointClient.addTaskMethods();
    this.mode = options.mode ?? (options.endpointUrl ? 'remote-first' : 'local');
    if (this.mode !== 'local' && !options.endpointUrl) {
      throw new TypeError(`mode "${this.mode}" needs an endpointUrl.`);
    }
    this.engine = options.engine ?? (LOCAL_MODES.includes(this.mode) ? defaultEngine() : undefined);
    this.breaker = this.mode === 'local' || options.breaker === false ? undefined : new CircuitBreaker(options.breaker);
    this.warmer = new LocalWarmer({ allowDownload: options.allowDownload, metered: options.metered });
  }

  /**
   * A raw Endpoint request, `{inputs, parameters}`; the answer has the Endpoint server's shape. A
   * custom handler gets the other top-level keys too (`{inputs, moreData: 1}`).
   */
  request<T = unknown>(payload: { inputs: unknown; parameters?: Record<string, unknown>; [key: string]: unknown }, options?: CallOptions & { task?: string }): Promise<T> {
    const task = options?.task ?? this.options.task;
    if (!task) throw new TypeError('request() needs a task: set it in the client options or in the call.');
    return this.hf(task, 'endpoint').request<T>(payload as never, { signal: options?.signal });
  }

  /** Loads the local model ahead of the first request, reporting progress. */
  async load(task: string): Promise<void> {
    await this.preload(task);
  }

  /**
   * Downloads a model into the model cache and loads it, reporting each file's progress, so that
   * the first request (and every request offline) answers without a download. `model` defaults to
   * the client's.
   */
  async preload(task: string, model: string = this.options.model, options: { onProgress?: (event: ProgressEvent) => void } = {}): Promise<void> {
    const { device, dtype } = this.options;
    const onProgress = options.onProgress ?? this.options.onProgress;
    const result = await this.localEngine().load({ task, model, device, dtype }, onProgress);
    if (!result.ok) throw Object.assign(new Error(result.error), { status: result.status });
  }

  /** The models in the local model cache: files, bytes, last use. */
  listCached(): Promise<CachedModel[]> {
    return this.localEngine().listCached();
  }

  /** Deletes a model's files from the local model cache and unloads it; false when none were cached. */
  deleteCached(model: string): Promise<boolean> {
    this.warmer.forget(model); // handoff goes back to the remote Endpoint until it is loaded again
    return this.localEngine().deleteCached(model);
  }

  /** Frees a model's pipelines in the local engine (its files stay cached). */
  unload(model: string = this.options.model): Promise<void> {
    this.warmer.forget(model);
    return this.localEngine().unload(model);
  }

  /** The storage the model cache uses and the quota (`navigator.storage.estimate()`). */
  storageEstimate(): Promise<StorageInfo> {
    return this.localEngine().storageEstimate();
  }

  /**
   * Asks the browser to keep the model cache under storage pressure (`navigator.storage.persist()`).
   * True when storage is persistent. The browser may refuse, or ask the user.
   */
  async persist(): Promise<boolean> {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (!storage?.persist) return false;
    return (await storage.persisted?.()) || storage.persist();
  }

  /** The local engine's state: the device in use and why, loaded pipelines, threads. */
  status(): Promise<EngineStatus> {
    return this.localEngine().status();
  }

  private static methodsAdded = false;

  /**
   * Puts the task methods on the prototype, once, from the registry: each calls the official
   * client's method of the same name, on the endpoint of its task. Done by the first constructor
   * rather than at load time, so that a bundle without the client drops it.
   */
  private static addTaskMethods(): void {
    if (LocalEndpointClient.methodsAdded) return;
    LocalEndpointClient.methodsAdded = true;
    type Official = Record<TaskClientMethod, (args: unknown, options?: CallOptions) => unknown>;
    for (const { method, task } of clientMethods()) {
      const call = method.endsWith('Stream')
        ? function (this: LocalEndpointClient, args: unknown, options?: CallOptions) {
            return stopWhenLeft(
              (signal) => (this.hf(task, 'client') as unknown as Official)[method](args, { ...options, signal }) as AsyncGenerator<unknown>,
              options?.signal,
            );
          }
        : function (this: LocalEndpointClient, args: unknown, options?: CallOptions) {
            return (this.hf(task, 'client') as unknown as Official)[method](args, options);
          };
      Object.defineProperty(call, 'name', { value: method });
      Object.defineProperty(LocalEndpointClient.prototype, method, { value: call, writable: true, configurable: true });
    }
  }

  private localEngine(): EngineInterface {
    if (!this.engine) throw new TypeError('This client is in remote mode: it has no local engine.');
    return this.engine;
  }

  /**
   * A raw HTTP request to the endpoint of `task` (default: the client's), answered by the mode's
   * path like every other call: `path` is the route (`/`, `/v1/chat/completions`, `/embed`…), and
   * the Response is the Endpoint's own, headers (`x-compute-time`, `x-compute-type`) and streams
   * included. Answers carry the Endpoint server's shapes (the `endpoint` dialect) unless the
   * request names another in `x-local-endpoint-dialect`.
   */
  fetch(path: string, init: RequestInit = {}, options: { task?: string } = {}): Promise<Response> {
    const task = options.task ?? this.options.task;
    if (!task) throw new TypeError('fetch() needs a task: set it in the client options or in the call.');
    const base = this.options.endpointUrl ?? LOCAL_URL;
    const url = new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`).href;
    const headers = new Headers(init.headers);
    if (this.options.accessToken && !headers.has('authorization')) headers.set('authorization', `Bearer ${this.options.accessToken}`);
    return this.policy(task, 'endpoint')(url, { ...init, headers });
  }

  private hf(task: string, dialect: Dialect): InferenceClient {
    const url = this.options.endpointUrl ?? LOCAL_URL;
    return new InferenceClient(this.options.accessToken ?? '', { endpointUrl: url, fetch: this.policy(task, dialect), retry_on_error: false });
  }

  /** The fetch behind every call: the local engine and the remote Endpoint, by the mode's policy. */
  private policy(task: string, dialect: Dialect): FetchFn {
    const { model, device, dtype, onProgress, endpointUrl, timeoutMs } = this.options;
    const url = endpointUrl ?? LOCAL_URL;
    const local = this.engine
      ? createLocalFetch({ engine: this.engine, endpoints: { [url]: { task, model, device, dtype } }, dialect, onProgress })
      : noLocalPath;
    return policyFetch({
      mode: this.mode,
      local,
      remote: remoteFetch(dialect, this.options.fetch),
      timeoutMs,
      breaker: this.breaker ?? false,
      warmer: this.warmer,
      ...(this.engine ? { localModel: { engine: this.engine, request: { task, model, device, dtype }, onProgress } } : {}),
      onRoute: (route) => {
        this.lastRoute = route;
        this.options.onRoute?.(route);
      },
    });
  }
}

/**
 * Runs a stream with a signal that also aborts when the caller stops iterating. The official
 * client only releases its reader then, so the generation would run on to its end unseen.
 */
async function* stopWhenLeft<T>(start: (signal: AbortSignal) => AsyncGenerator<T>, outer?: AbortSignal): AsyncGenerator<T> {
  const left = new AbortController();
  const signal = outer ? AbortSignal.any([outer, left.signal]) : left.signal;
  try {
    yield* start(signal);
  } finally {
    left.abort();
  }
}

/** Remote mode never asks the local path; this stands in for it. */
const noLocalPath: FetchFn = async () => {
  throw new TypeError('This client is in remote mode: it has no local engine.');
};
