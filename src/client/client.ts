/**
 * The one client: the official client's method names, answered by a remote Endpoint, by the local
 * engine, or by the remote one with the local one as fallback. Every path goes through
 * `@huggingface/inference`'s InferenceClient, so the same call gives the same shape either way.
 */
import { InferenceClient } from '@huggingface/inference';
import { createLocalFetch, type FetchFn } from '../local-fetch/index.js';
import type { EngineInterface, EngineStatus, ProgressEvent } from '../protocol/engine.js';
import { WorkerEngine } from '../host/worker-engine.js';
import { policyFetch, type Mode, type RouteInfo } from './policy.js';
import { remoteFetch } from './remote.js';
import type { Dialect } from '../tasks/types.js';
import type { DevicePreference } from '../protocol/engine.js';

export interface LocalEndpointClientOptions {
  /** `local` (default without endpointUrl), `remote`, or `auto` (default with one). */
  mode?: Mode;
  /** The remote Inference Endpoint. Required for `remote` and `auto`. */
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
  /** `auto`: answer locally when the remote Endpoint takes longer than this (ms). */
  timeoutMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Called after each answer with the path that gave it. */
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

/** Stands for the endpoint in local mode. `.invalid` never resolves, so nothing can leak to it. */
const LOCAL_URL = 'https://local-endpoint.invalid/';

let sharedEngine: WorkerEngine | undefined;

/** The page's shared worker engine, created on first use. */
export function defaultEngine(): WorkerEngine {
  return (sharedEngine ??= new WorkerEngine());
}

export class LocalEndpointClient {
  readonly mode: Mode;
  /** The path that answered the latest request. */
  lastRoute: RouteInfo | undefined;
  /** The local engine; remote mode has none. */
  private readonly engine: EngineInterface | undefined;

  constructor(private readonly options: LocalEndpointClientOptions) {
    this.mode = options.mode ?? (options.endpointUrl ? 'auto' : 'local');
    if (this.mode !== 'local' && !options.endpointUrl) {
      throw new TypeError(`mode "${this.mode}" needs an endpointUrl.`);
    }
    this.engine = options.engine ?? (this.mode === 'remote' ? undefined : defaultEngine());
  }

  textClassification(args: Args<'textClassification'>, options?: CallOptions): Promise<Answer<'textClassification'>> {
    return this.hf('text-classification', 'client').textClassification(args, options);
  }

  featureExtraction(args: Args<'featureExtraction'>, options?: CallOptions): Promise<Answer<'featureExtraction'>> {
    return this.hf('feature-extraction', 'client').featureExtraction(args, options);
  }

  zeroShotClassification(args: Args<'zeroShotClassification'>, options?: CallOptions): Promise<Answer<'zeroShotClassification'>> {
    return this.hf('zero-shot-classification', 'client').zeroShotClassification(args, options);
  }

  tokenClassification(args: Args<'tokenClassification'>, options?: CallOptions): Promise<Answer<'tokenClassification'>> {
    return this.hf('token-classification', 'client').tokenClassification(args, options);
  }

  questionAnswering(args: Args<'questionAnswering'>, options?: CallOptions): Promise<Answer<'questionAnswering'>> {
    return this.hf('question-answering', 'client').questionAnswering(args, options);
  }

  fillMask(args: Args<'fillMask'>, options?: CallOptions): Promise<Answer<'fillMask'>> {
    return this.hf('fill-mask', 'client').fillMask(args, options);
  }

  sentenceSimilarity(args: Args<'sentenceSimilarity'>, options?: CallOptions): Promise<Answer<'sentenceSimilarity'>> {
    return this.hf('sentence-similarity', 'client').sentenceSimilarity(args, options);
  }

  /**
   * Text generation through `POST <endpoint>/v1/completions`, as the official client does; the
   * answer is `{generated_text}`.
   */
  textGeneration(args: Args<'textGeneration'>, options?: CallOptions): Promise<Answer<'textGeneration'>> {
    return this.hf('text-generation', 'client').textGeneration(args, options);
  }

  /**
   * The same, streamed: an async iterator of OpenAI completion chunks
   * (`chunk.choices[0].text`), read as they are generated. `options.signal` stops generation, and
   * so does leaving the loop early (`break`), which the official client alone does not do.
   */
  textGenerationStream(args: Args<'textGenerationStream'>, options?: CallOptions): ReturnType<InferenceClient['textGenerationStream']> {
    return stopWhenLeft((signal) => this.hf('text-generation', 'client').textGenerationStream(args, { ...options, signal }), options?.signal);
  }

  /** A chat completion (`POST <endpoint>/v1/chat/completions`), with the model's chat template. */
  chatCompletion(args: Args<'chatCompletion'>, options?: CallOptions): Promise<Answer<'chatCompletion'>> {
    return this.hf('text-generation', 'client').chatCompletion(args, options);
  }

  /** The chat completion streamed: an async iterator of chunks (`chunk.choices[0].delta.content`). */
  chatCompletionStream(args: Args<'chatCompletionStream'>, options?: CallOptions): ReturnType<InferenceClient['chatCompletionStream']> {
    return stopWhenLeft((signal) => this.hf('text-generation', 'client').chatCompletionStream(args, { ...options, signal }), options?.signal);
  }

  summarization(args: Args<'summarization'>, options?: CallOptions): Promise<Answer<'summarization'>> {
    return this.hf('summarization', 'client').summarization(args, options);
  }

  translation(args: Args<'translation'>, options?: CallOptions): Promise<Answer<'translation'>> {
    return this.hf('translation', 'client').translation(args, options);
  }

  /**
   * An image (a Blob, sent as the raw body; the worker reads its format from the bytes) →
   * `[{label, score}]`, best first. The same for the other image and audio methods below.
   */
  imageClassification(args: Args<'imageClassification'>, options?: CallOptions): Promise<Answer<'imageClassification'>> {
    return this.hf('image-classification', 'client').imageClassification(args, options);
  }

  /** An image → `[{label, score, box: {xmin, ymin, xmax, ymax}}]`, boxes in whole pixels of the image. */
  objectDetection(args: Args<'objectDetection'>, options?: CallOptions): Promise<Answer<'objectDetection'>> {
    return this.hf('object-detection', 'client').objectDetection(args, options);
  }

  /** An image → `[{label, score?, mask}]`, each mask a base64 PNG of the image's size. */
  imageSegmentation(args: Args<'imageSegmentation'>, options?: CallOptions): Promise<Answer<'imageSegmentation'>> {
    return this.hf('image-segmentation', 'client').imageSegmentation(args, options);
  }

  /** An image and `parameters.candidate_labels` → `[{label, score}]`, scores summing to 1. */
  zeroShotImageClassification(
    args: Args<'zeroShotImageClassification'>,
    options?: CallOptions,
  ): Promise<Answer<'zeroShotImageClassification'>> {
    return this.hf('zero-shot-image-classification', 'client').zeroShotImageClassification(args, options);
  }

  /** A sound (any format the README lists) → `{text, chunks?}`. */
  automaticSpeechRecognition(
    args: Args<'automaticSpeechRecognition'>,
    options?: CallOptions,
  ): Promise<Answer<'automaticSpeechRecognition'>> {
    return this.hf('automatic-speech-recognition', 'client').automaticSpeechRecognition(args, options);
  }

  /** A sound → `[{label, score}]`, best first. */
  audioClassification(args: Args<'audioClassification'>, options?: CallOptions): Promise<Answer<'audioClassification'>> {
    return this.hf('audio-classification', 'client').audioClassification(args, options);
  }

  /** A raw Endpoint request, `{inputs, parameters}`; the answer has the Endpoint server's shape. */
  request<T = unknown>(payload: { inputs: unknown; parameters?: Record<string, unknown> }, options?: CallOptions & { task?: string }): Promise<T> {
    const task = options?.task ?? this.options.task;
    if (!task) throw new TypeError('request() needs a task: set it in the client options or in the call.');
    return this.hf(task, 'endpoint').request<T>(payload as never, { signal: options?.signal });
  }

  /** Loads the local model ahead of the first request, reporting progress. */
  async load(task: string): Promise<void> {
    const { model, device, dtype, onProgress } = this.options;
    const result = await this.localEngine().load({ task, model, device, dtype }, onProgress);
    if (!result.ok) throw new Error(result.error);
  }

  /** The local engine's state: the device in use and why, loaded pipelines, threads. */
  status(): Promise<EngineStatus> {
    return this.localEngine().status();
  }

  private localEngine(): EngineInterface {
    if (!this.engine) throw new TypeError('This client is in remote mode: it has no local engine.');
    return this.engine;
  }

  private hf(task: string, dialect: Dialect): InferenceClient {
    const { model, device, dtype, onProgress, endpointUrl, timeoutMs } = this.options;
    const url = endpointUrl ?? LOCAL_URL;
    const local = this.engine
      ? createLocalFetch({ engine: this.engine, endpoints: { [url]: { task, model, device, dtype } }, dialect, onProgress })
      : noLocalPath;
    const fetch = policyFetch({
      mode: this.mode,
      local,
      remote: remoteFetch(dialect, this.options.fetch),
      timeoutMs,
      onRoute: (route) => {
        this.lastRoute = route;
        this.options.onRoute?.(route);
      },
    });
    return new InferenceClient(this.options.accessToken ?? '', { endpointUrl: url, fetch, retry_on_error: false });
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
