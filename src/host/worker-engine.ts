/**
 * The local transport: the engine in a module Web Worker, reached through comlink.
 *
 * One failed ONNX session load or run poisons every later one in the same worker
 * (transformers.js #1767). The engine reports it; this host then replaces the worker and sends
 * again the requests that were not at fault, so no request is lost.
 */
import * as Comlink from 'comlink';
import type {
  CachedModel,
  StorageInfo,
  EngineInterface,
  EngineOptions,
  EngineRequest,
  EngineResult,
  EngineStatus,
  LoadRequest,
  ProgressEvent,
  StreamEvent,
  WorkerApi,
} from '../protocol/engine.js';
import type { StreamPortMessage } from '../protocol/stream.js';

export interface WorkerEngineOptions extends Omit<EngineOptions, 'wasmPaths'> {
  /**
   * Creates the module worker, for apps that build their own (one that imports
   * `local-endpoint/worker`). By default the worker is this package's own entry, found by the
   * app's bundler through `new Worker(new URL(…, import.meta.url))`.
   */
  createWorker?: () => Worker;
  /** Where the worker script is served, when the app serves it itself (ignored with `createWorker`). */
  workerUrl?: string | URL;
  /**
   * Where onnxruntime-web's WASM factory and binary are served (`ort-wasm-simd-threaded.asyncify.mjs`
   * and `.wasm`, from the onnxruntime-web this package depends on). By default the bundler emits
   * them with the worker. Relative URLs are resolved against the page.
   */
  wasmPaths?: { mjs: string | URL; wasm: string | URL };
  /**
   * Cancel through a flag in shared memory (default: when the page is cross-origin isolated).
   * Without it, the worker yields to its event loop before each token to receive cancel messages.
   */
  sharedCancel?: boolean;
}

interface Live {
  worker: Worker;
  engine: Comlink.Remote<WorkerApi>;
  /** Requests sent and not yet answered. */
  pending: number;
  retired: boolean;
}

/** How many times one request is sent again to a fresh worker before its error is returned. */
const MAX_RETRIES = 2;

export class WorkerEngine implements EngineInterface {
  private live: Live | undefined;
  private readonly webgpuFailures: Record<string, string> = {};
  /** Workers replaced after a poisoning failure, since this host started. */
  replacements = 0;
  private requests = 0;

  constructor(private readonly options: WorkerEngineOptions = {}) {}

  async infer(
    request: EngineRequest,
    onProgress?: (event: ProgressEvent) => void,
    onStream?: (event: StreamEvent) => void,
    signal?: AbortSignal,
  ): Promise<EngineResult> {
    if (signal?.aborted) return cancelled();
    let alone = false; // after a failed batch, the request goes again on its own
    let streamed = false; // a stream that has begun is never sent again (its tokens would repeat)
    // Where memory can be shared, the worker reads cancellation from a flag between tokens.
    const flag = signal && (this.options.sharedCancel ?? sharedMemory()) ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    const answer = this.withRetries(async (engine) => {
      // Only a request with a signal can be cancelled, so only it gets an id.
      const id = signal ? `r${++this.requests}` : undefined;
      const cancel = () => {
        if (flag) Atomics.store(flag, 0, 1);
        if (id) void engine.cancel(id);
      };
      signal?.addEventListener('abort', cancel);
      // Stream events come on a port of their own, then `{type: "end"}` before the answer.
      let ended: Promise<void> = Promise.resolve();
      let port: MessagePort | undefined;
      if (onStream) {
        const channel = new MessageChannel();
        ended = new Promise<void>((resolve) => {
          channel.port1.onmessage = ({ data }: MessageEvent<StreamPortMessage>) => {
            if (data.type === 'end') {
              channel.port1.close();
              resolve();
            } else if (!signal?.aborted) {
              streamed = true;
              onStream(data);
            }
          };
        });
        port = Comlink.transfer(channel.port2, [channel.port2]);
      }
      // A raw image or sound moves to the worker without a copy. A worker that must be replaced
      // hands it back with its answer, so the request can go to the next one.
      const body = mediaBytes(request.inputs);
      if (body && body.buffer.byteLength === 0) return { ok: false, status: 500, error: 'The request body was already sent to a worker that failed.' };
      const sent = { ...request, ...(id ? { id } : {}), ...(alone ? { noBatch: true } : {}), ...(flag ? { cancelFlag: flag } : {}) };
      try {
        const result = await engine.infer(
          body ? Comlink.transfer(sent, [body.buffer]) : sent,
          onProgress && Comlink.proxy(onProgress),
          port,
        );
        // Every event is handled before the answer (a worker that died sends no end: 1 s at most).
        await Promise.race([ended, new Promise((ok) => setTimeout(ok, 1000))]);
        if (!result.ok && result.noBatch) alone = true;
        if (!result.ok && result.body && body) request = { ...request, inputs: { ...(request.inputs as object), bytes: result.body } };
        if (!result.ok && streamed) return { ...result, retry: false };
        return result;
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    });
    if (!signal) return answer;
    // The caller stops waiting at once; the worker stops within one token.
    return Promise.race([answer, new Promise<EngineResult>((ok) => signal.addEventListener('abort', () => ok(cancelled()), { once: true }))]);
  }

  async load(
    request: LoadRequest,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<EngineResult> {
    return this.withRetries((engine) => engine.load(request, onProgress && Comlink.proxy(onProgress)));
  }

  async status(): Promise<EngineStatus> {
    return this.current().engine.status();
  }

  /** Frees a model's pipelines in the worker (every pipeline when no model is given). */
  async dispose(model?: string): Promise<void> {
    await this.live?.engine.dispose(model);
  }

  /** Frees a model's pipelines in the worker; its files stay in the model cache. */
  async unload(model: string): Promise<void> {
    await this.live?.engine.unload(model);
  }

  /** The models in the model cache (which the worker keeps), with files, sizes and last use. */
  async listCached(): Promise<CachedModel[]> {
    return this.current().engine.listCached();
  }

  /** Deletes a model's files from the model cache, and unloads it. */
  async deleteCached(model: string): Promise<boolean> {
    return this.current().engine.deleteCached(model);
  }

  /** The storage the model cache uses, the quota, and whether storage is persistent. */
  async storageEstimate(): Promise<StorageInfo> {
    return this.current().engine.storageEstimate();
  }

  /**
   * Asks the browser to keep this origin's storage (the model cache) under storage pressure
   * (`navigator.storage.persist()`, which only a page can call). True when it is persistent.
   */
  async persist(): Promise<boolean> {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (!storage?.persist) return false;
    return (await storage.persisted?.()) || storage.persist();
  }

  /** Stops the worker; the next request starts a new one. */
  terminate(): void {
    this.live?.worker.terminate();
    this.live = undefined;
  }

  private async withRetries(send: (engine: Comlink.Remote<WorkerApi>) => Promise<EngineResult>): Promise<EngineResult> {
    for (let attempt = 0; ; attempt++) {
      const live = this.current();
      live.pending++;
      const result = await send(live.engine).finally(() => {
        live.pending--;
        if (live.retired && live.pending === 0) live.worker.terminate();
      });
      if (result.ok) return result;
      if (result.webgpuFailure) this.webgpuFailures[result.webgpuFailure.model] = result.webgpuFailure.reason;
      if (result.replaceWorker) this.replace(live);
      if (!result.retry) return result;
      if (attempt >= MAX_RETRIES) return { ok: false, status: 500, error: result.error };
    }
  }

  private current(): Live {
    if (!this.live) {
      const { createWorker, workerUrl, sharedCancel: _, wasmPaths, ...engineOptions } = this.options;
      const worker = createWorker?.() ?? (workerUrl ? new Worker(workerUrl, { type: 'module', name: 'local-endpoint' }) : defaultWorker());
      const engine = Comlink.wrap<WorkerApi>(worker);
      // URL objects cannot be posted to a worker: the runtime gets absolute strings.
      const configured: EngineOptions = {
        ...engineOptions,
        ...(wasmPaths ? { wasmPaths: { mjs: absolute(wasmPaths.mjs), wasm: absolute(wasmPaths.wasm) } } : {}),
        webgpuFailures: { ...this.webgpuFailures },
      };
      void engine.configure(configured);
      this.live = { worker, engine, pending: 0, retired: false };
    }
    return this.live;
  }

  /** Replaces `poisoned` once, however many of its requests report it. */
  private replace(poisoned: Live): void {
    if (this.live !== poisoned) return;
    this.replacements++;
    // The poisoned worker answers what it still holds (each with retry) and ends after the last.
    poisoned.retired = true;
    if (poisoned.pending === 0) poisoned.worker.terminate();
    this.live = undefined;
  }
}

/** The bytes of a raw media body (see src/wire/media.ts), when the request carries one. */
function mediaBytes(inputs: unknown): Uint8Array | undefined {
  const bytes = (inputs as { bytes?: unknown } | null)?.bytes;
  return bytes instanceof Uint8Array && bytes.buffer instanceof ArrayBuffer ? bytes : undefined;
}

function sharedMemory(): boolean {
  return typeof SharedArrayBuffer === 'function' && Boolean((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated);
}

function cancelled(): EngineResult {
  return { ok: false, status: 499, error: 'The request was cancelled by the caller.', cancelled: true };
}

/**
 * This package's worker, in the one spelling bundlers recognise: Vite and webpack 5 build the
 * worker and its dependencies as a chunk of the app. The path is the same from the source
 * (src/host → worker/index.ts, which Vite finds for `.js`) and from the build (dist/src/host →
 * dist/worker/index.js).
 */
function defaultWorker(): Worker {
  return new Worker(new URL('../../worker/index.js', import.meta.url), { type: 'module', name: 'local-endpoint' });
}

function absolute(url: string | URL): string {
  return new URL(url, globalThis.location?.href).href;
}
