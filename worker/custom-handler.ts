/**
 * The custom task in the engine: each model's handler, loaded once and kept, and its calls.
 *
 * A handler is an ES module exporting `class EndpointHandler { constructor(path, context);
 * call(data, request) }` (the runtime imports it from where the trust rules allow:
 * src/tasks/custom/handler-trust.ts). `new EndpointHandler(path, context)` runs once per model;
 * `call(data, request)` runs per request with the whole decoded body, as a handler.py's
 * `__call__(data)` does on an Inference Endpoint.
 *
 * - **context**: `pipeline(task, model?, {device, dtype}?)` → `run(inputs, parameters?, {signal}?)`,
 *   which answers as the engine answers that task (the Endpoint's shape), through the engine's
 *   pipeline cache and its serial queue like any request; `transformers` (the transformers.js
 *   module, for anything else, outside the queues); `decodeImage(bytes)` → RawImage,
 *   `decodeAudio(bytes, samplingRate = 16000)` → Float32Array; `EndpointError` (a thrown one keeps
 *   its status); `model`, `runtime`.
 * - **request**: `signal` (aborted when the caller cancels or the time limit passes), `progress(event)`
 *   (reaches the caller's onProgress), `stream` (the body asked to stream).
 * - **the call runs outside the engine's queues**: in the browser every ONNX run shares one queue,
 *   and a handler inside it that called `pipeline(…)` would wait on itself. Its pipeline calls queue
 *   like any other, so no ONNX session ever runs twice at once.
 * - **answers**: any JSON (src/tasks/custom/json-answer.ts), or bytes; an async generator streams
 *   each value it yields as one server-sent event when the request streams, and answers the array
 *   of its values otherwise. A throw is a 400 `{"error": message}`, as the toolkit answers (an
 *   EndpointError keeps its status); a non-JSON answer a 500; a call (or one step of a generator)
 *   past `handlerTimeoutMs` a 504, with the request's signal aborted. The engine serves on.
 */
import * as transformers from '@huggingface/transformers';
import { RawImage } from '@huggingface/transformers';
import { EndpointError, badRequest } from '../src/protocol/errors.js';
import type { EndpointPayload, EngineOptions, EngineRequest, ProgressEvent, StreamStart, StreamValue } from '../src/protocol/index.js';
import { handlerData } from '../src/tasks/custom/custom.js';
import { bytesAnswer, jsonAnswer } from '../src/tasks/custom/json-answer.js';
import { getTask } from '../src/tasks/registry.js';
import { isMediaBody } from '../src/tasks/shared/media-input.js';
import { mediaKindOf, readMediaBody, type MediaBody } from '../src/wire/media.js';
import type { EngineRuntime } from './runtime.js';

export const DEFAULT_HANDLER_TIMEOUT_MS = 60_000;
/** The sampling rate a raw audio body is decoded at for a handler, as the toolkit decodes it. */
export const HANDLER_SAMPLING_RATE = 16_000;

/** What the engine lends the handlers. */
export interface HandlerEngine {
  runtime: EngineRuntime;
  options(): EngineOptions;
  /** Answers a request of another task (the engine's queues, cache and batching); its failure thrown as an EndpointError. */
  run(request: EngineRequest, signal: AbortSignal | undefined): Promise<unknown>;
  decodeImage(bytes: Uint8Array): Promise<unknown>;
  decodeAudio(bytes: Uint8Array, samplingRate: number, maxSeconds?: number): Promise<Float32Array>;
  /** How long (ms, summed since the engine started) some pipeline was loading: not counted against a handler's time limit. */
  loadingMs(): number;
}

/** What one call sees of its request. */
export interface CallIO {
  /** Set when the request streams: gets `start` before the first value, then one `value` each. */
  emit?: (event: StreamStart | StreamValue) => void;
  /** Registers what to do when the caller cancels. */
  onCancel(listener: () => void): void;
  progress?: (event: Omit<ProgressEvent, 'task' | 'model'> & Record<string, unknown>) => void;
}

interface Instance {
  call(data: unknown, request: unknown): unknown;
}

interface Loaded {
  instance: Instance;
  from: 'app' | 'local' | 'remote';
}

/** Media given to a pipeline call already decoded (a RawImage, samples), by their stand-in bytes. */
const predecoded = new WeakMap<Uint8Array, unknown>();

/** `decodeImage` / `decodeAudio` that give back media a handler passed already decoded. */
export function withPredecoded<F extends (bytes: Uint8Array, ...rest: never[]) => Promise<unknown>>(decode: F): F {
  return ((bytes: Uint8Array, ...rest: never[]) => (predecoded.has(bytes) ? Promise.resolve(predecoded.get(bytes)) : decode(bytes, ...rest))) as F;
}

export class CustomHandlers {
  private readonly handlers = new Map<string, Promise<Loaded>>();
  private readonly ready = new Set<string>();
  private readonly calls = new Map<string, number>();
  private readonly engine: HandlerEngine;

  constructor(engine: HandlerEngine) {
    this.engine = engine;
  }

  /** The handler of `model`, created once; one that failed to load is tried again next time. */
  load(model: string): Promise<Loaded> {
    let loaded = this.handlers.get(model);
    if (!loaded) {
      loaded = this.create(model);
      this.handlers.set(model, loaded);
      loaded.then(
        () => this.ready.add(model),
        () => {
          if (this.handlers.get(model) === loaded) this.handlers.delete(model);
        },
      );
    }
    return loaded;
  }

  /** Handlers loaded or loading, for the engine's status. */
  list(): { model: string; state: 'loading' | 'ready'; queued: number }[] {
    return [...this.handlers.keys()].map((model) => ({ model, state: this.ready.has(model) ? 'ready' : 'loading', queued: this.calls.get(model) ?? 0 }));
  }

  /** Forgets the handlers of a model (all when none is given); the next request creates it again. */
  dispose(model?: string): void {
    for (const key of [...this.handlers.keys()]) {
      if (model !== undefined && key !== model) continue;
      this.handlers.delete(key);
      this.ready.delete(key);
    }
  }

  /** Runs one request through the handler of `model`. */
  async call(model: string, payload: EndpointPayload, io: CallIO): Promise<{ output: unknown; contentType?: string }> {
    const { instance } = await this.load(model);
    const options = this.engine.options();
    const inputs = isMediaBody(payload.inputs) ? await this.decoded(payload.inputs) : payload.inputs;
    const data = handlerData(payload, inputs);
    const abort = new AbortController();
    const limit = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    io.onCancel(() => abort.abort(new DOMException('The request was cancelled by the caller.', 'AbortError')));
    const timedOut = () =>
      new EndpointError(504, `The custom handler of ${JSON.stringify(model)} did not answer within ${limit} ms (handlerTimeoutMs); its request's signal was aborted.`);
    /** One step of the handler (the call, or a generator's next value), within the time limit. */
    const step = <T>(work: () => unknown): Promise<T> =>
      new Promise<T>((ok, fail) => {
        if (abort.signal.aborted) return fail(abort.signal.reason);
        // The limit counts the handler's own time: while a model loads (its pipelines' first
        // calls, a download), the clock stops.
        const begun = Date.now();
        const loaded = this.engine.loadingMs();
        let timer: ReturnType<typeof setTimeout>;
        const check = () => {
          const left = limit + (this.engine.loadingMs() - loaded) - (Date.now() - begun);
          if (left > 0) {
            timer = setTimeout(check, Math.max(left, 20));
            return;
          }
          const error = timedOut();
          fail(error);
          abort.abort(error);
        };
        timer = setTimeout(check, limit);
        const onAbort = () => fail(abort.signal.reason);
        abort.signal.addEventListener('abort', onAbort, { once: true });
        new Promise((run) => run(work()))
          .then(ok as (v: unknown) => void, (err: unknown) => fail(threw(err)))
          .finally(() => {
            clearTimeout(timer);
            abort.signal.removeEventListener('abort', onAbort);
          });
      });
    const request = {
      signal: abort.signal,
      stream: payload.stream === true,
      progress: (event: Record<string, unknown>) => io.progress?.({ status: 'step', ...event }),
    };
    this.calls.set(model, (this.calls.get(model) ?? 0) + 1);
    let started = false;
    const emit = (value: unknown) => {
      if (!started) io.emit!({ type: 'start', promptTokens: 0 });
      started = true;
      if (value !== NOTHING) io.emit!({ type: 'value', value });
    };
    try {
      const result = await step<unknown>(() => {
        const answer = instance.call(data, request);
        // An async generator is taken as it is; any other answer (a promise) is awaited.
        return isAsyncIterator(answer) ? new Generated(answer) : answer;
      });
      if (result instanceof Generated) {
        const { iterator } = result;
        const values: unknown[] = [];
        let done = false;
        try {
          for (let i = 0; ; i++) {
            const next = await step<IteratorResult<unknown>>(() => iterator.next());
            if (next.done) break;
            const value = jsonAnswer(next.value, `yielded[${i}]`);
            if (io.emit) emit(value);
            else values.push(value);
          }
          done = true;
        } finally {
          if (!done) void Promise.resolve(iterator.return?.()).catch(() => undefined); // stops the generator
        }
        if (io.emit) {
          emit(NOTHING);
          return { output: null };
        }
        return { output: values };
      }
      if (typeof Blob === 'function' && result instanceof Blob) {
        const bytes = new Uint8Array(await result.arrayBuffer());
        if (io.emit) throw notJsonStream();
        return { output: bytes, contentType: result.type || 'application/octet-stream' };
      }
      const bytes = bytesAnswer(result);
      if (bytes) {
        if (io.emit) throw notJsonStream();
        return { output: bytes, contentType: 'application/octet-stream' };
      }
      const output = jsonAnswer(result, 'answer');
      if (io.emit) {
        emit(output);
        return { output: null };
      }
      return { output };
    } finally {
      this.calls.set(model, (this.calls.get(model) ?? 1) - 1);
    }
  }

  private async create(model: string): Promise<Loaded> {
    const { runtime } = this.engine;
    if (!runtime.importHandler) throw new EndpointError(501, `custom handlers cannot run in this runtime (${runtime.kind}).`);
    const imported = await runtime.importHandler(model, this.engine.options());
    const exported = imported.module;
    const Handler = exported.EndpointHandler ?? (exported.default as { EndpointHandler?: unknown } | undefined)?.EndpointHandler ?? exported.default;
    if (typeof Handler !== 'function') {
      throw new EndpointError(500, `The custom handler of ${JSON.stringify(model)} exports no class EndpointHandler: export class EndpointHandler { constructor(path, context) {…} call(data) {…} }.`);
    }
    let instance: Instance;
    try {
      instance = new (Handler as new (path: string, context: unknown) => Instance)(imported.path, this.context(model));
    } catch (err) {
      throw new EndpointError(500, `The custom handler of ${JSON.stringify(model)} failed in its constructor: ${messageOf(err)}`);
    }
    if (typeof instance?.call !== 'function') {
      throw new EndpointError(500, `The custom handler of ${JSON.stringify(model)} has no call(data) method.`);
    }
    return { instance, from: imported.from };
  }

  /** What `new EndpointHandler(path, context)` gets. */
  private context(model: string) {
    const engine = this.engine;
    return {
      model,
      runtime: engine.runtime.kind,
      transformers,
      EndpointError,
      pipeline(task: string, pipelineModel: string = model, options: { device?: EngineRequest['device']; dtype?: string } = {}) {
        if (typeof task !== 'string' || getTask(task).wholeBody) throw badRequest(`A custom handler's pipeline(task) takes another task than custom, got ${JSON.stringify(task)}.`);
        return (inputs: unknown, parameters?: Record<string, unknown>, callOptions: { signal?: AbortSignal } = {}) =>
          engine.run(
            {
              task,
              model: pipelineModel,
              inputs: taskInputs(inputs),
              ...(parameters !== undefined ? { parameters } : {}),
              ...(options.device ? { device: options.device } : {}),
              ...(options.dtype ? { dtype: options.dtype } : {}),
            },
            callOptions.signal,
          );
      },
      decodeImage: (bytes: Uint8Array) => engine.decodeImage(bytes),
      decodeAudio: (bytes: Uint8Array, samplingRate = HANDLER_SAMPLING_RATE) => engine.decodeAudio(bytes, samplingRate, engine.options().maxAudioSeconds),
    };
  }

  /** A raw body, decoded as the toolkit decodes it: an image to a RawImage, audio to 16 kHz mono samples. */
  private decoded(body: MediaBody): Promise<unknown> {
    return body.kind === 'image'
      ? this.engine.decodeImage(body.bytes)
      : this.engine.decodeAudio(body.bytes, HANDLER_SAMPLING_RATE, this.engine.options().maxAudioSeconds);
  }
}

const NOTHING = Symbol('nothing');

/** A call's async generator, kept apart from its values (a promise would be awaited, a generator must not be). */
class Generated {
  readonly iterator: AsyncIterator<unknown>;

  constructor(iterator: AsyncIterator<unknown>) {
    this.iterator = iterator;
  }
}

/**
 * A pipeline call's inputs as the task takes them: raw bytes (their kind read from them), or media
 * already decoded (a RawImage; 16 kHz samples), which the task then uses without decoding again.
 */
function taskInputs(inputs: unknown): unknown {
  if (inputs instanceof RawImage || inputs instanceof Float32Array) {
    const stand = new Uint8Array(0);
    predecoded.set(stand, inputs);
    return { kind: inputs instanceof RawImage ? 'image' : 'audio', format: inputs instanceof RawImage ? 'png' : 'wav', bytes: stand } satisfies MediaBody;
  }
  if (inputs instanceof Uint8Array) return readMediaBody(inputs, null, mediaKindOf(inputs) ?? 'image');
  return inputs;
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> & AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { next?: unknown }).next === 'function' && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** A handler's throw: a 400 with its message, as the toolkit answers; an EndpointError keeps its status. */
function threw(err: unknown): EndpointError {
  if (err instanceof EndpointError) return err;
  if (err instanceof Error && err.name === 'EndpointError' && typeof (err as { status?: unknown }).status === 'number') return new EndpointError((err as EndpointError).status, err.message);
  return badRequest(messageOf(err));
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)) || 'the handler threw without a message';
}

function notJsonStream(): EndpointError {
  return new EndpointError(500, 'The custom handler answered bytes to a streaming request: a stream carries JSON values (send "stream": false for bytes).');
}
