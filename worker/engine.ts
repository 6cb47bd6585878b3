/**
 * The engine: Endpoint requests in, Endpoint answers out. It loads each pipeline once, runs calls
 * to one pipeline one at a time and in order, reports download progress, and returns errors as
 * values with an HTTP-like status. It never throws to its caller and never dies on bad input.
 *
 * It runs in a browser Web Worker (behind comlink) and in-process in Node.
 */
import { RawImage, env, pipeline as loadPipeline, random } from '@huggingface/transformers';
import { decodeAudio, decodeImage } from './media/decode.js';
import { installPilResize } from './media/image-resize.js';
import { absolute, describeHostFailure, hostFailureMark, hostFailuresSince, rejectionOf } from './model-fetch.js';
import { localModelUrl, remoteModelUrl } from './model-files.js';
import { EndpointError, badRequest, describeType, toErrorValue } from '../src/protocol/errors.js';
import { getRunner, supportedTasks } from '../src/tasks/registry.js';
import type { PipelineFn, RunContext, TaskRunner } from '../src/tasks/types.js';
import type {
  CachedModel,
  StorageInfo,
  Device,
  DeviceChoice,
  DevicePreference,
  EngineFailure,
  EngineInterface,
  EngineOptions,
  EngineRequest,
  EngineResult,
  EngineStatus,
  LoadRequest,
  ProgressListener,
  StreamEvent,
  StreamListener,
  WorkerApi,
} from '../src/protocol/engine.js';
import type { StreamPortMessage, StreamStart, StreamValue } from '../src/protocol/stream.js';
import { PipelineCache, keyOf, type PipelineKey, type ProgressEvent } from './pipeline-cache.js';
import { SerialQueues } from './queue.js';
import { BatchFailed, Batcher } from './batcher.js';
import { loadContext } from './custom-load.js';
import { CustomHandlers, withPredecoded } from './custom-handler.js';
import type { DeviceLostInfo, EngineRuntime } from './runtime.js';

export type * from '../src/protocol/engine.js';

interface Loaded {
  pipe: PipelineFn;
  setup: unknown;
}

export class Engine implements EngineInterface, WorkerApi {
  private readonly pipelines = new PipelineCache<Loaded>();
  private readonly queues = new SerialQueues();
  private readonly batchers = new Map<string, Batcher<unknown, unknown>>();
  private options: EngineOptions = {};
  private configured: Promise<void>;
  private poisoned: string | undefined;
  private failureSeen = false;
  /** Models that failed on WebGPU: `auto` runs them on WASM. */
  private webgpuFailures = new Map<string, string>();
  /** Set once the GPUDevice that WebGPU sessions run on was lost: why, and the models it held. */
  private deviceLost: { reason: string; models: Map<string, string> } | undefined;
  /** Requests in flight that can be cancelled, by id. */
  private readonly running = new Map<string, Control>();
  /** Pipelines disposed to keep within the memory budget, since this engine started. */
  private evicted = 0;
  /** The custom task's handlers, by model (worker/custom-handler.ts). */
  private readonly handlers: CustomHandlers;
  /** Pipelines loading now, and the time (ms) some pipeline was loading, summed: a handler's time limit leaves it out. */
  private loadingNow = 0;
  private loadingSince = 0;
  private loadingTotal = 0;

  constructor(private readonly runtime: EngineRuntime, options: EngineOptions = {}) {
    // Every RawImage.resize (image processors, segmentation masks) as PIL does it, the same in the
    // worker and in Node, instead of the canvas or sharp (src/tasks/image-resize.ts).
    installPilResize(RawImage);
    runtime.onSessionFailure?.((error) => {
      this.failureSeen = true;
      this.poisoned ??= `a failed ONNX session poisoned this worker: ${(error as Error)?.message ?? error}`;
    });
    runtime.onDeviceLost?.((info) => this.lostDevice(info));
    this.handlers = new CustomHandlers({
      runtime,
      options: () => this.options,
      run: async (request, signal) => {
        const result = await this.answer(request, undefined, undefined, signal);
        if (result.ok) return result.output;
        // A poisoned worker's 503 is the host's to retry, never a handler's answer.
        throw new EndpointError(result.status === 503 ? 500 : result.status, result.error);
      },
      decodeImage,
      decodeAudio,
      loadingMs: () => this.loadingTotal + (this.loadingNow > 0 ? now() - this.loadingSince : 0),
    });
    this.configured = this.configure(options);
  }

  /** Sets where models come from. Call before the first request (the worker host does). */
  configure(options: EngineOptions): Promise<void> {
    this.options = { ...this.options, ...options };
    for (const [model, reason] of Object.entries(options.webgpuFailures ?? {})) this.webgpuFailures.set(model, reason);
    this.configured = this.runtime.configure(this.options);
    return this.configured;
  }

  async status(): Promise<EngineStatus> {
    await this.configured;
    return {
      runtime: this.runtime.kind,
      device: await this.runtime.probe(),
      threads: this.runtime.threads(),
      crossOriginIsolated: Boolean((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated),
      tasks: supportedTasks,
      pipelines: [
        ...this.pipelines.list().map(({ key, state, bytes, lastUsed }) => ({
          ...key,
          state,
          queued: this.queues.depth(this.queueKey(key)),
          ...(state === 'ready' ? { bytes } : {}),
          lastUsed,
        })),
        // Custom handlers: `queued` counts the calls they are running (outside the queues).
        ...this.handlers.list().map(({ model, state, queued }) => ({ task: 'custom', model, device: 'handler', state, queued })),
      ],
      ...(this.options.memoryBudget ? { memoryBudget: this.options.memoryBudget } : {}),
      evicted: this.evicted,
      ...(this.runtime.downloads ? { downloads: this.runtime.downloads() } : {}),
      ...(this.poisoned ? { poisoned: this.poisoned } : {}),
      batching: this.options.batching ?? 'auto',
    };
  }

  /**
   * Answers one Endpoint request. Never throws. A streaming request's events go to `onStream`: a
   * function, or (from the page) a MessagePort that gets each event as a message and `{type:
   * "end"}` after the last, before the answer is returned.
   * as they happen; `signal` (in-process callers) or `cancel(request.id)` stops it.
   */
  async infer(
    request: EngineRequest,
    onProgress?: ProgressListener,
    onStream?: StreamListener | MessagePort,
    signal?: AbortSignal,
  ): Promise<EngineResult> {
    // A port costs one message per token; a comlink callback costs two and a listener each.
    const port = typeof MessagePort === 'function' && onStream instanceof MessagePort ? onStream : undefined;
    const listener: StreamListener | undefined = port ? (event) => port.postMessage(event satisfies StreamPortMessage) : (onStream as StreamListener | undefined);
    try {
      const result = await this.answer(request, onProgress, listener, signal);
      // A raw image or sound came here in the transfer list, so the page no longer has it: a
      // request to be sent again to a fresh worker gets its bytes back (copied: a rare path).
      const body = (request.inputs as { bytes?: unknown } | null)?.bytes;
      if (!result.ok && result.retry && body instanceof Uint8Array) return { ...result, body };
      return result;
    } finally {
      if (port) {
        port.postMessage({ type: 'end' } satisfies StreamPortMessage);
        port.close();
      }
    }
  }

  private async answer(
    request: EngineRequest,
    onProgress: ProgressListener | undefined,
    onStream: StreamListener | undefined,
    signal: AbortSignal | undefined,
  ): Promise<EngineResult> {
    const received = now();
    if (this.poisoned) return this.retryElsewhere();
    const control = new Control(request.cancelFlag, Boolean(signal?.aborted));
    control.reachable = request.id !== undefined || signal !== undefined;
    const onAbort = () => {
      control.cancel();
    };
    signal?.addEventListener('abort', onAbort);
    if (request.id !== undefined) this.running.set(request.id, control);
    let release: (() => void) | undefined;
    let device: Device | undefined;
    try {
      await this.configured;
      const runner = getRunner(request.task);
      const task = runner.spec;
      if (task.wholeBody) return await this.answerCustom(request, onProgress, onStream, control, received);
      const parsed = task.parse({ inputs: request.inputs, parameters: request.parameters, stream: request.stream });
      if (request.stream && !task.stream) throw badRequest(`${task.id} cannot stream: drop "stream": true.`);
      const acquired = await this.acquire(runner, request, onProgress);
      const { key, loaded, fallback } = acquired;
      release = acquired.release;
      device = key.device as Device;
      // The stream's first event says where the request runs (the x-compute-type of a stream).
      const ctx = runContext(control, request.model, onStream && ((event) => onStream(event.type === 'start' ? { ...event, device: key.device, ...(fallback ? { fallback } : {}) } : event)));
      ctx.maxAudioSeconds = this.options.maxAudioSeconds; // the audio tasks pass it to decodeAudio
      if (request.endpointTask !== undefined) ctx.endpointTask = getRunner(request.endpointTask).spec.id;
      let generatedTokens: number | undefined;
      ctx.countTokens = (tokens) => {
        generatedTokens = (generatedTokens ?? 0) + tokens;
      };
      if (onProgress) ctx.progress = (event) => onProgress({ ...event, task: task.id, model: key.model });
      if (control.cancelled) throw new Cancelled();
      const batchKey = runner.batch && !request.noBatch ? runner.batch.key(parsed, loaded.setup) : null;
      const tokens = batchKey !== null ? runner.batch!.tokens(loaded.pipe, parsed) : 0;
      let started = 0;
      let output: unknown;
      let batchSize = 1;
      if (batchKey !== null && this.batchingOn(key.device, tokens)) {
        ({ output, batchSize, started } = await this.batcher(runner, key, loaded).submit(parsed, batchKey, tokens));
      } else {
        output = await this.queues.run(this.queueKey(key), async () => {
          if (this.poisoned) throw new PoisonedWorker();
          if (control.cancelled) throw new Cancelled(); // aborted while it waited: never starts
          started = now();
          return runner.run(loaded.pipe, parsed, loaded.setup, ctx);
        });
        if (control.cancelled) throw new Cancelled();
      }
      const done = now();
      // Through comlink, stream events and the answer travel on different ports: the answer
      // leaves only once the page has taken every event, so no token arrives after the end.
      await ctx.delivered();
      return {
        ok: true,
        output,
        task: task.id,
        model: key.model,
        device: key.device as Device,
        ...(key.dtype ? { dtype: key.dtype } : {}),
        ...(fallback ? { fallback } : {}),
        waitMs: started - received,
        computeMs: done - started,
        batchSize,
        ...(generatedTokens !== undefined ? { generatedTokens } : {}),
      };
    } catch (err) {
      const failed = this.failure(err);
      return device === 'webgpu' ? this.afterDeviceLost(request.model, failed) : failed;
    } finally {
      release?.();
      signal?.removeEventListener('abort', onAbort);
      if (request.id !== undefined) this.running.delete(request.id);
    }
  }

  /**
   * The custom task: the model's handler answers (worker/custom-handler.ts), outside the serial
   * queues, since the pipeline calls it makes go through them.
   */
  private async answerCustom(
    request: EngineRequest,
    onProgress: ProgressListener | undefined,
    onStream: StreamListener | undefined,
    control: Control,
    received: number,
  ): Promise<EngineResult> {
    if (typeof request.model !== 'string' || request.model.trim() === '') {
      throw badRequest(`model must be a non-empty string, got ${describeType(request.model)}.`);
    }
    const { device, reason } = await this.chooseDevice(request.device ?? 'auto', request.model);
    await this.handlers.load(request.model);
    if (control.cancelled) throw new Cancelled();
    let pending: Promise<unknown> = Promise.resolve();
    const emit = onStream && request.stream
      ? (event: StreamStart | StreamValue) => {
          const sent = Promise.resolve(onStream(event.type === 'start' ? { ...event, device, ...(reason ? { fallback: reason } : {}) } : event)).catch(() => undefined);
          pending = Promise.all([pending, sent]);
        }
      : undefined;
    const started = now();
    let answer: { output: unknown; contentType?: string };
    try {
      answer = await this.handlers.call(
        request.model,
        { inputs: request.inputs, ...(request.parameters !== undefined ? { parameters: request.parameters } : {}), ...(request.stream !== undefined ? { stream: request.stream } : {}), ...(request.extra ? { extra: request.extra } : {}) },
        {
          ...(emit ? { emit } : {}),
          onCancel: (listener) => control.onCancel(listener),
          ...(onProgress ? { progress: (event) => onProgress({ ...event, task: 'custom', model: request.model }) } : {}),
        },
      );
    } catch (err) {
      if (control.cancelled) throw new Cancelled();
      throw err;
    }
    const done = now();
    await pending;
    return {
      ok: true,
      output: answer.output,
      task: 'custom',
      model: request.model,
      device,
      ...(reason ? { fallback: reason } : {}),
      waitMs: started - received,
      computeMs: done - started,
      batchSize: 1,
      ...(answer.contentType ? { contentType: answer.contentType } : {}),
    };
  }

  /** Stops a request sent with this `id`: before it starts, or within one generated token. */
  cancel(id: string): void {
    this.running.get(id)?.cancel();
  }

  /** Loads a pipeline ahead of the first request (for example while the page shows progress). */
  async load(
    request: LoadRequest,
    onProgress?: ProgressListener,
  ): Promise<EngineResult> {
    if (this.poisoned) return this.retryElsewhere();
    try {
      await this.configured;
      const runner = getRunner(request.task);
      if (runner.spec.wholeBody) {
        // The custom task: its handler, created once (its pipelines load on its first calls).
        await this.handlers.load(request.model);
        const { device, reason } = await this.chooseDevice(request.device ?? 'auto', request.model);
        return { ok: true, output: null, task: 'custom', model: request.model, device, ...(reason ? { fallback: reason } : {}), waitMs: 0, computeMs: 0, batchSize: 0 };
      }
      const { key, fallback, release } = await this.acquire(runner, request, onProgress);
      release();
      return { ok: true, output: null, task: runner.spec.id, model: key.model, device: key.device as Device,
        ...(key.dtype ? { dtype: key.dtype } : {}), ...(fallback ? { fallback } : {}), waitMs: 0, computeMs: 0, batchSize: 0 };
    } catch (err) {
      return this.failure(err);
    }
  }

  /** Frees the pipelines of a model (all of them when no model is given). */
  async dispose(model?: string): Promise<void> {
    this.handlers.dispose(model);
    const taken = this.pipelines.take((k) => model === undefined || k.model === model);
    for (const id of [...this.batchers.keys()]) if (model === undefined || JSON.parse(id)[1] === model) this.batchers.delete(id);
    await Promise.all(taken.map((p) => p.then((l) => l.pipe.dispose?.(), () => undefined)));
  }

  /** Frees the pipelines of a model; its files stay in the model cache. */
  async unload(model: string): Promise<void> {
    await this.dispose(model);
  }

  async listCached(): Promise<CachedModel[]> {
    await this.configured;
    return this.runtime.listCached();
  }

  async deleteCached(model: string): Promise<boolean> {
    await this.configured;
    await this.dispose(model);
    return this.runtime.deleteCached(model);
  }

  async storageEstimate(): Promise<StorageInfo> {
    return this.runtime.storageEstimate();
  }

  // -- batching -----------------------------------------------------------------------------

  /** `auto`: always on WebGPU; on WASM and the CPU only for short requests, where it pays. */
  private batchingOn(device: string, tokens: number): boolean {
    const policy = this.options.batching ?? 'auto';
    if (policy !== 'auto') return policy === 'on';
    return device === 'webgpu' || tokens <= (this.options.shortRequestTokens ?? 64);
  }

  private batcher(task: TaskRunner, key: PipelineKey, loaded: Loaded): Batcher<unknown, unknown> {
    const id = keyOf(key);
    let batcher = this.batchers.get(id);
    if (!batcher) {
      batcher = new Batcher(task.batch!, loaded.pipe, loaded.setup, {
        enqueue: (work) => this.queues.run(this.queueKey(key), work),
        maxTokens: this.options.maxBatchTokens ?? 8192,
        rerunAlone: !this.runtime.sharedOrtChain,
        beforeRun: () => {
          if (this.poisoned) throw new PoisonedWorker();
        },
      });
      this.batchers.set(id, batcher);
    }
    return batcher;
  }

  // -- loading ------------------------------------------------------------------------------

  private async acquire(
    task: TaskRunner,
    request: Pick<EngineRequest, 'model' | 'device' | 'dtype' | 'endpointTask'>,
    onProgress?: ProgressListener,
  ) {
    if (typeof request.model !== 'string' || request.model.trim() === '') {
      throw badRequest(`model must be a non-empty string, got ${describeType(request.model)}.`);
    }
    const model = request.model;
    let { device, reason } = await this.chooseDevice(request.device ?? 'auto', model);
    // A route of several endpoint kinds runs on the endpoint task's pipeline.
    if (task.onEndpointTask) {
      const on = (request as EngineRequest).endpointTask;
      if (typeof on !== 'string') throw badRequest(`${task.spec.id} runs on an endpoint's model: the request names no endpointTask.`);
      task = getRunner(on);
    }
    // Tasks that share a pipeline (conversational on text-generation) load the model once.
    if (task.loadAs) task = getRunner(task.loadAs);
    const key = (d: Device): PipelineKey => ({ task: task.spec.id, model, device: d, dtype: request.dtype });
    try {
      return this.using(key(device), await this.loadOnce(task, key(device), onProgress), reason);
    } catch (err) {
      const next = (request.device ?? 'auto') === 'auto' ? this.runtime.fallbackFrom(device) : null;
      // A missing model (400) is missing on every device, and an unreachable model host (502) is
      // unreachable from every device; anything else may be the device's fault.
      if (!next || (err instanceof EndpointError && (err.status < 500 || err.status === 502))) throw err;
      const why = `${device} failed for ${model}: ${(err as Error).message}`;
      this.webgpuFailures.set(model, why);
      // A failed session creation has poisoned this worker: the fallback must run in a new one.
      if (this.poisoned) throw new PoisonedWorker({ model, reason: why });
      device = next;
      reason = why;
      return this.using(key(device), await this.loadOnce(task, key(device), onProgress), reason);
    }
  }

  /** A loaded pipeline, marked in use (until `release`), after making room for it within the budget. */
  private using(key: PipelineKey, loaded: Loaded, fallback: string | undefined) {
    const release = this.pipelines.use(key);
    void this.keepWithinBudget(key);
    return { key, loaded, fallback, release };
  }

  /**
   * Disposes the least recently used pipelines that are not running until what stays loaded fits
   * `memoryBudget` (never `keep`, the one just used). Each dispose waits its turn on the pipeline's
   * queue (in the browser, the one ONNX lane), so it never overlaps a session run.
   */
  private async keepWithinBudget(keep: PipelineKey): Promise<void> {
    const budget = this.options.memoryBudget;
    if (!budget) return;
    for (const key of this.pipelines.overBudget(budget, keep)) {
      const id = keyOf(key);
      const taken = this.pipelines.take((k) => keyOf(k) === id);
      this.batchers.delete(id);
      this.evicted += taken.length;
      await Promise.all(
        taken.map((p) => p.then((l) => this.queues.run(this.queueKey(key), async () => l.pipe.dispose?.()), () => undefined)),
      ).catch(() => undefined);
    }
  }

  private async chooseDevice(preference: DevicePreference, model: string): Promise<DeviceChoice> {
    if (preference === 'auto') {
      const choice = await this.runtime.probe();
      const failed = this.webgpuFailures.get(model);
      if (choice.device === 'webgpu' && failed) return { device: 'wasm', reason: failed };
      return choice;
    }
    if (!this.runtime.devices.includes(preference)) {
      throw badRequest(
        `device ${JSON.stringify(preference)} is not available in ${this.runtime.kind === 'node' ? 'Node' : 'this browser'}. ` +
          `Use one of: auto, ${this.runtime.devices.join(', ')}.`,
      );
    }
    if (preference === 'webgpu') {
      const probe = await this.runtime.probe();
      if (probe.device !== 'webgpu' && !probe.fallbackAdapter) throw badRequest(`device "webgpu" was asked for, but ${probe.reason}.`);
    }
    return { device: preference };
  }

  private loadOnce(task: TaskRunner, key: PipelineKey, onProgress?: ProgressListener): Promise<Loaded> {
    return this.pipelines.get(
      key,
      (report) => {
        if (this.loadingNow++ === 0) this.loadingSince = now();
        return this.queues.run(this.loadQueueKey(key), () => this.loadPipeline(task, key, report)).finally(() => {
          if (--this.loadingNow === 0) this.loadingTotal += now() - this.loadingSince;
        });
      },
      onProgress,
    );
  }

  private async loadPipeline(task: TaskRunner, key: PipelineKey, report: ProgressListener): Promise<Loaded> {
    if (this.poisoned) throw new PoisonedWorker();
    await this.runtime.registerModel?.(key.model); // the model cache knows whose files it stores
    let pipe: PipelineFn;
    const mark = hostFailureMark();
    try {
      pipe = task.load
        ? await task.load(loadContext(key, report, (path) => this.readJSON(key.model, path), (path) => this.runtime.hasModelFile(key.model, path)))
        : ((await loadPipeline(task.pipeline as never, key.model, {
            device: key.device as never,
            ...(key.dtype ? { dtype: key.dtype as never } : {}),
            progress_callback: (info: Record<string, unknown>) =>
              report({ ...(info as object), task: key.task, model: key.model } as ProgressEvent),
          })) as unknown as PipelineFn);
    } catch (err) {
      if (task.load && err instanceof EndpointError) throw err; // a task's own loader says what is wrong
      throw loadError(key.model, err, mark);
    }
    // transformers.js skips an optional file it could not fetch as if it were missing: a load
    // during which any file of this model failed to arrive is not the model, and fails.
    const failed = hostError(key.model, mark);
    if (failed) {
      await pipe.dispose?.();
      throw failed;
    }
    let setup: unknown;
    try {
      setup = await task.setup?.({ pipe, readJSON: (path) => this.readJSON(key.model, path) });
    } catch (err) {
      await pipe.dispose?.(); // the task cannot use this model: free it
      throw err;
    }
    report({ status: 'ready', task: key.task, model: key.model });
    return { pipe, setup };
  }

  private async readJSON(model: string, path: string): Promise<unknown | null> {
    const text = await this.runtime.readModelFile(model, path);
    if (text === null) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new EndpointError(500, `${model}/${path} is not valid JSON.`);
    }
  }

  /**
   * Where transformers.js chains all ONNX calls (the browser), everything shares one lane: it
   * costs nothing, since the calls are serialised anyway, and a failure is then always the fault
   * of the one request that was running. Elsewhere each pipeline has its own queue.
   */
  private queueKey(key: PipelineKey): string {
    return this.runtime.sharedOrtChain ? 'onnx' : keyOf(key);
  }

  private loadQueueKey(key: PipelineKey): string {
    return this.runtime.sharedOrtChain ? 'onnx' : `load:${keyOf(key)}`;
  }

  // -- failures -----------------------------------------------------------------------------

  private failure(err: unknown): EngineFailure {
    if (err instanceof Cancelled) return { ok: false, status: 499, error: err.message, cancelled: true };
    if (err instanceof BatchFailed) {
      // A batch poisoned the worker, and which request was at fault is unknown: every request of
      // the batch goes again, alone, to a fresh worker.
      this.failureSeen = false;
      return { ...this.retryElsewhere(), noBatch: !(err.cause instanceof PoisonedWorker) };
    }
    if (err instanceof PoisonedWorker) {
      this.failureSeen = false;
      return err.webgpuFailure ? { ...this.retryElsewhere(), webgpuFailure: err.webgpuFailure } : this.retryElsewhere();
    }
    const value = toErrorValue(err);
    value.error = this.runtime.scrubPaths?.(value.error) ?? value.error; // never a path on the server
    if (this.failureSeen) {
      // This request's own session load or run failed and poisoned the worker: report it, and
      // ask for a fresh worker for everything after it.
      this.failureSeen = false;
      return { ok: false, ...value, replaceWorker: true };
    }
    return { ok: false, ...value };
  }

  private retryElsewhere(): EngineFailure {
    const lost = this.deviceLost && this.deviceLost.models.size > 0 ? { webgpuFailures: Object.fromEntries(this.deviceLost.models) } : {};
    return { ok: false, status: 503, error: this.poisoned ?? 'worker must be replaced', replaceWorker: true, retry: true, ...lost };
  }

  /**
   * The GPUDevice was lost. Every model with a pipeline on WebGPU is marked as failed there, so
   * `auto` runs it on WASM and says why; and the worker is to be replaced, since onnxruntime-web
   * keeps the lost device for every later WebGPU session here (a fresh worker gets a new one).
   * A request running on it then fails, and is sent again (the fresh worker runs it on WASM).
   * A device destroyed with no WebGPU pipeline left is onnxruntime-web's own clean-up: ignored.
   */
  private lostDevice(info: DeviceLostInfo): void {
    const onWebGPU = this.pipelines.list().filter(({ key }) => key.device === 'webgpu');
    if (info.reason === 'destroyed' && onWebGPU.length === 0 && !this.deviceLost) return;
    const reason = `the WebGPU device was lost (reason "${info.reason}"${info.message ? `: ${info.message.trim().replace(/\.$/, '')}` : ''})`;
    this.deviceLost ??= { reason, models: new Map() };
    for (const { key } of onWebGPU) {
      const why = `webgpu failed for ${key.model}: ${this.deviceLost.reason}`;
      this.webgpuFailures.set(key.model, why);
      this.deviceLost.models.set(key.model, why);
    }
    // Said instead of the failed run the loss may have caused just before.
    if (!this.poisoned?.startsWith('the WebGPU device')) this.poisoned = `${this.deviceLost.reason}; a fresh worker takes over`;
  }

  /**
   * A request that ran on WebGPU and failed once the device was lost was not at fault: it goes
   * again to a fresh worker (on WASM), unless the device had nothing to do with its failure. The
   * device's `lost` may settle just after the run that it broke: it gets a moment to.
   */
  private async afterDeviceLost(model: string, failed: EngineFailure): Promise<EngineFailure> {
    if (!failed.replaceWorker || failed.cancelled) return failed;
    if (!this.deviceLost) await new Promise((ok) => setTimeout(ok, 100));
    if (!this.deviceLost) return failed;
    const why = this.deviceLost.models.get(model) ?? `webgpu failed for ${model}: ${this.deviceLost.reason}`;
    return { ...this.retryElsewhere(), ...(failed.noBatch ? { noBatch: true } : {}), webgpuFailure: { model, reason: why } };
  }
}

class Cancelled extends Error {
  constructor() {
    super('The request was cancelled by the caller.');
  }
}

/** What a task's run sees of its request: the stream, the cancellation flag, the sampler's seed. */
/** Whether a request was cancelled: by a message, a signal, or its shared flag. */
class Control {
  private flagged: boolean;

  constructor(private readonly flag: Int32Array | undefined, cancelled: boolean) {
    this.flagged = cancelled;
  }

  get cancelled(): boolean {
    return this.flagged || (this.flag !== undefined && Atomics.load(this.flag, 0) !== 0);
  }

  /** The flag is seen without a turn of the event loop. */
  get shared(): boolean {
    return this.flag !== undefined;
  }

  /** Something can cancel this request: a shared flag, a signal, or an id for `cancel(id)`. */
  reachable = false;

  private readonly listeners: (() => void)[] = [];

  cancel(): void {
    if (this.flagged) return;
    this.flagged = true;
    for (const listener of this.listeners.splice(0)) listener();
  }

  /** Calls back once when the request is cancelled (at once if it already is). */
  onCancel(listener: () => void): void {
    if (this.cancelled) listener();
    else this.listeners.push(listener);
  }
}

function runContext(
  control: Control,
  model: string,
  onStream?: StreamListener,
): RunContext & { delivered(): Promise<void> } {
  let pending: Promise<unknown> = Promise.resolve();
  return {
    model,
    cancelled: () => control.cancelled,
    // Nothing to wait for when the flag is shared, or when nothing can cancel the request.
    cancelSeenAtOnce: control.shared || !control.reachable,
    seed: (value) => random.seed(value),
    // Media a custom handler passed to a pipeline already decoded is used as it is.
    decodeImage: withPredecoded(decodeImage),
    decodeAudio: withPredecoded(decodeAudio),
    delivered: () => pending.then(() => undefined),
    ...(onStream
      ? {
          emit: (event: StreamEvent) => {
            // Not awaited here (the next token does not wait for the page), only before the answer.
            const sent = Promise.resolve(onStream(event)).catch(() => undefined);
            pending = Promise.all([pending, sent]);
          },
        }
      : {}),
  };
}

class PoisonedWorker extends Error {
  constructor(readonly webgpuFailure?: { model: string; reason: string }) {
    super('worker poisoned');
  }
}

/**
 * A model that cannot be found is the caller's mistake (400); a model that breaks is a 500; a
 * model whose files could not be fetched (the host unreachable, or answering an error other than
 * 404) is a 502 naming the file and its URL, whatever transformers.js made of it (it reports a
 * local file it could not fetch as not found). A missing file is named, with its URL, and with
 * what the server answered when it answered something that is not that file (an HTML page from a
 * static host's fallback: model-fetch.ts).
 */
function loadError(model: string, err: unknown, mark: number): EndpointError {
  const message = (err as Error)?.message ?? String(err);
  const failed = hostError(model, mark, /"([^"]+)"/.exec(message)?.[1]);
  if (failed) return failed;
  const notFound =
    (err as Error)?.name === 'ModelFileNotFoundError' || /could not locate file|not found|404/i.test(message);
  if (notFound) return badRequest(withoutLocalFolder(`Model ${JSON.stringify(model)} could not be found: ${missingFile(model, message) ?? message}`));
  return new EndpointError(500, withoutLocalFolder(`Model ${JSON.stringify(model)} failed to load: ${message}`));
}

/**
 * In Node, the model folder is a path on the server's disk: an error names a file relative to it
 * (`local-endpoint/x/config.json`), never by its absolute path.
 */
function withoutLocalFolder(text: string): string {
  const folder = localFolder();
  return folder ? text.replaceAll(folder, '') : text;
}

/** The local model folder with a trailing `/` when it is a filesystem path (Node), else undefined. */
function localFolder(): string | undefined {
  if ((globalThis as { location?: unknown }).location !== undefined) return undefined; // a URL path in a browser
  const path = env.localModelPath;
  if (!path || path === '/' || /^[a-z][a-z0-9+.-]*:/i.test(path)) return undefined;
  return path.endsWith('/') ? path : `${path}/`;
}

/**
 * "config.json is missing at http://…/config.json", from transformers.js's message, which quotes
 * the path or URL it looked at ("…not found locally at "/models/x/config.json"", "Could not
 * locate file: "https://huggingface.co/x/resolve/main/config.json"").
 */
function missingFile(model: string, message: string): string | undefined {
  const where = /"([^"]+)"/.exec(message)?.[1];
  const at = where?.indexOf(`${model}/`) ?? -1;
  if (!where || at < 0) return undefined;
  const file = where.slice(at + model.length + 1).replace(/^resolve\/[^/]+\//, '');
  const why = rejectionOf(where);
  const folder = localFolder();
  const shown = folder && where.startsWith(folder) ? `${where.slice(folder.length)} in the local model folder` : absolute(where);
  return `${file} is missing at ${shown}${why ? `: the server ${why}` : ''}. transformers.js said: ${message}`;
}

/**
 * The 502 for a load of `model` during which (since `mark`) one of its files failed to arrive
 * (model-fetch.ts), or null. The file transformers.js's error quotes (`where`) is named when it
 * is one of them, else the first that failed.
 */
function hostError(model: string, mark: number, where?: string): EndpointError | null {
  const prefixes = [absolute(localModelUrl(model, '')), absolute(remoteModelUrl(model, ''))];
  const found = hostFailuresSince(mark, prefixes);
  if (found.length === 0) return null;
  const quoted = where ? absolute(where) : undefined;
  const first = found.find((f) => f.url === quoted) ?? found[0]!;
  const file = fileOf(model, first.url);
  const others = [...new Set(found.map((f) => fileOf(model, f.url)))].filter((f) => f !== file);
  const also = others.length ? ` (and ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''} failed too)` : '';
  const said = describeHostFailure(file, first.url, first.failure);
  return new EndpointError(502, `Model ${JSON.stringify(model)} could not be loaded: ${said[0]!.toLowerCase()}${said.slice(1).replace(/\.$/, '')}${also}.`);
}

/** The path of a model file in its repo, from its URL: `onnx/model.onnx`, `1_Pooling/config.json`. */
function fileOf(model: string, url: string): string {
  const path = url.split(/[?#]/)[0]!;
  const at = path.indexOf(`/${model}/`);
  return at < 0 ? path.split('/').pop()! : path.slice(at + model.length + 2).replace(/^resolve\/[^/]+\//, '');
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
