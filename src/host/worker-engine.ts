/**
 * The local transport: the engine in a module Web Worker, reached through comlink.
 *
 * One failed ONNX session load or run poisons every later one in the same worker
 * (transformers.js #1767). The engine reports it; this host then replaces the worker and sends
 * again the requests that were not at fault, so no request is lost.
 *
 * A worker can also die (a crash, `close()`, `terminate()`), and no event says so: a request
 * sent to it would wait forever. The worker holds a Web Lock for its whole life, and the host asks
 * for the same lock, which the browser grants only once the worker is gone. That works while the
 * worker is busy in a long synchronous ONNX run, when it could not answer a heartbeat. Its
 * requests then fail at once with a 502, a fresh worker starts, and the requests that were only
 * queued behind the one that was running are sent to it.
 */
import * as Comlink from 'comlink';
import type {
  CachedModel,
  StorageInfo,
  EngineFailure,
  EngineInterface,
  EngineOptions,
  EngineRequest,
  EngineResult,
  EngineStatus,
  LoadRequest,
  ProgressEvent,
  StreamEvent,
  WorkerApi,
  WorkerLiveness,
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
  /**
   * Where Web Locks do not exist (a page that is not a secure context, or a worker of the app's
   * own that lacks `holdLiveness`), and while a worker starts: it is taken for dead when it has not
   * answered a heartbeat for this long while requests wait on it. A long synchronous ONNX run
   * cannot answer, so keep it well above the longest run. Default 60 000 ms.
   */
  livenessTimeoutMs?: number;
}

/**
 * The status of a request whose worker died before it answered. Not a 503, which the official
 * client retries at once and forever; a 502 because the host is a gateway whose upstream, the
 * worker, went away mid-request (as the Service Worker answers when the answering page closes).
 * Like any local 5xx, it lets the client's policies try the remote Endpoint.
 */
export const WORKER_DIED_STATUS = 502;

/**
 * A custom request still unanswered this long past `handlerTimeoutMs` (by then the worker would
 * have answered it 504 itself, if its event loop ran) gets a heartbeat. A worker that answers no
 * heartbeat for `handlerTimeoutMs` more (at least this long) is running synchronous code that
 * never yields, such as a custom handler's endless loop, which nothing inside the worker can
 * interrupt: it is replaced, and the request answered 504. (A model load that blocks the worker
 * for that long, far past any measured here, would be taken for one too.)
 */
export const STUCK_GRACE_MS = 2000;

type Remote = Comlink.Remote<WorkerApi & WorkerLiveness>;

/** How a worker ended. */
interface Death {
  reason: string;
  /** Stopped by this host (`terminate()`, or a poisoned worker retired), not a crash. */
  planned: boolean;
  /** It had started (held its lock or answered a heartbeat): a fresh one should work. */
  started: boolean;
  /** The status its unanswered requests get (default WORKER_DIED_STATUS); a stuck handler's is 504. */
  status?: number;
  /** No request is to blame (a stuck custom handler's request is never sent again anyway). */
  noCulprit?: boolean;
}

interface Live {
  worker: Worker;
  /** The worker's own `terminate`. */
  kill: () => void;
  engine: Remote;
  /** Requests sent and not yet answered. */
  pending: number;
  retired: boolean;
  /**
   * The requests sent and not yet answered, oldest first, each with what settles it at a death.
   * The worker runs one ONNX operation at a time in arrival order, so the oldest is the one that
   * was running when it died: its likely cause, never sent again.
   */
  waiting: Map<object, (death: Death, culprit: boolean) => void>;
  /** Other calls (status, the model cache) waiting on it, failed at its death. */
  asking: Set<(death: Death) => void>;
  /** It has started: it holds its lock, or answered a heartbeat. */
  started: boolean;
  /** It holds its lock: the lock, granted to the host, tells of its death. */
  locked: boolean;
  dead: boolean;
  /** Aborts the host's request for the worker's lock. */
  watching: AbortController;
}

/** The answers made up for requests whose worker died (not sent again by `infer` itself). */
const deaths = new WeakSet<EngineResult>();

/** How many times one request is sent again to a fresh worker before its error is returned. */
const MAX_RETRIES = 2;

export class WorkerEngine implements EngineInterface {
  private live: Live | undefined;
  /** Every worker not yet ended: the current one, and poisoned ones still answering. */
  private readonly lives = new Set<Live>();
  private readonly webgpuFailures: Record<string, string> = {};
  /** Workers replaced after a poisoning failure or a death (not `terminate()`), since this host started. */
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
    const answer = this.withRetries(async (engine, died, live) => {
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
      let channel: MessageChannel | undefined;
      if (onStream) {
        channel = new MessageChannel();
        const ports = channel;
        ended = new Promise<void>((resolve) => {
          ports.port1.onmessage = ({ data }: MessageEvent<StreamPortMessage>) => {
            if (data.type === 'end') {
              ports.port1.close();
              resolve();
            } else if (!signal?.aborted) {
              streamed = true;
              // A custom handler's `value` events too (the caller's listener is a StreamListener).
              onStream(data as StreamEvent);
            }
          };
        });
        port = Comlink.transfer(ports.port2, [ports.port2]);
      }
      // A raw image or sound moves to the worker without a copy. A worker that must be replaced
      // hands it back with its answer, so the request can go to the next one.
      const body = mediaBytes(request.inputs);
      if (body && body.buffer.byteLength === 0) return { ok: false, status: 500, error: 'The request body was already sent to a worker that failed.' };
      const sent = { ...request, ...(id ? { id } : {}), ...(alone ? { noBatch: true } : {}), ...(flag ? { cancelFlag: flag } : {}) };
      // A custom handler in a synchronous endless loop blocks the whole worker: only replacing it helps.
      const stuck = request.task === 'custom' ? this.watchStuck(live) : undefined;
      try {
        const result = await Promise.race([
          engine.infer(body ? Comlink.transfer(sent, [body.buffer]) : sent, onProgress && Comlink.proxy(onProgress), port),
          died,
        ]);
        if (deaths.has(result)) {
          channel?.port1.close(); // a dead worker sends no end
          return result;
        }
        // Every event is handled before the answer (a worker that died sends no end: 1 s at most).
        await Promise.race([ended, new Promise((ok) => setTimeout(ok, 1000))]);
        if (!result.ok && result.noBatch) alone = true;
        if (!result.ok && result.body && body) request = { ...request, inputs: { ...(request.inputs as object), bytes: result.body } };
        if (!result.ok && streamed) return { ...result, retry: false };
        return result;
      } finally {
        if (stuck) clearTimeout(stuck.timer);
        signal?.removeEventListener('abort', cancel);
      }
      // After a death: never a stream that began, nor a body the dead worker took, nor a custom
      // request (its handler may have done things already, or be what killed the worker).
    }, () => !streamed && mediaBytes(request.inputs)?.buffer.byteLength !== 0 && request.task !== 'custom');
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
    return this.ask((engine) => engine.status());
  }

  /** Frees a model's pipelines in the worker (every pipeline when no model is given). */
  async dispose(model?: string): Promise<void> {
    // A worker that dies meanwhile has freed them too.
    if (this.live) await this.ask((engine) => engine.dispose(model), this.live).catch(() => undefined);
  }

  /** Frees a model's pipelines in the worker; its files stay in the model cache. */
  async unload(model: string): Promise<void> {
    if (this.live) await this.ask((engine) => engine.unload(model), this.live).catch(() => undefined);
  }

  /** The models in the model cache (which the worker keeps), with files, sizes and last use. */
  async listCached(): Promise<CachedModel[]> {
    return this.ask((engine) => engine.listCached());
  }

  /** Deletes a model's files from the model cache, and unloads it. */
  async deleteCached(model: string): Promise<boolean> {
    return this.ask((engine) => engine.deleteCached(model));
  }

  /** The storage the model cache uses, the quota, and whether storage is persistent. */
  async storageEstimate(): Promise<StorageInfo> {
    return this.ask((engine) => engine.storageEstimate());
  }

  /** Requests sent to a worker and not yet answered by it (a cancelled one counts until it stops). */
  get pending(): number {
    let count = 0;
    for (const live of this.lives) count += live.pending;
    return count;
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

  /**
   * Stops the worker; the next request starts a new one. Requests it had not answered fail at
   * once (a worker stopped from the page fires no event, so nothing else would end them).
   */
  terminate(): void {
    for (const live of [...this.lives]) this.end(live, 'WorkerEngine.terminate() was called', true);
  }

  /**
   * Sends a request to the current worker, again to a fresh one when the worker asks for it
   * (poisoned) or died with the request only queued (and `resendable`), at most MAX_RETRIES times.
   * `send` gets the answer made up should the worker die first (its own wait can end on it).
   */
  private async withRetries(
    send: (engine: Remote, died: Promise<EngineFailure>, live: Live) => Promise<EngineResult>,
    resendable: () => boolean = () => true,
  ): Promise<EngineResult> {
    for (let attempt = 0; ; attempt++) {
      const live = this.current();
      live.pending++;
      const ticket = {};
      const died = new Promise<EngineFailure>((settle) => live.waiting.set(ticket, (death, culprit) => settle(diedBefore(death, culprit))));
      let result = await Promise.race([send(live.engine, died, live), died]).finally(() => {
        live.waiting.delete(ticket);
        live.pending--;
        if (live.retired && live.pending === 0) this.end(live, 'replaced', true);
      });
      if (result.ok) return result;
      if (result.retry && !resendable()) result = { ...result, retry: false };
      if (result.webgpuFailures) Object.assign(this.webgpuFailures, result.webgpuFailures);
      if (result.webgpuFailure) this.webgpuFailures[result.webgpuFailure.model] = result.webgpuFailure.reason;
      if (result.replaceWorker) this.replace(live);
      if (!result.retry) return result;
      // A poisoned worker's 503 is this host's to retry, never the caller's: past the retries, a 500.
      if (attempt >= MAX_RETRIES) return { ok: false, status: result.status === 503 ? 500 : result.status, error: result.error };
    }
  }

  /**
   * A call other than a request (status, the model cache). If the worker dies first, it goes once
   * more to a fresh worker (`on`: only to that worker), then fails with the death's reason.
   */
  private async ask<T>(call: (engine: Remote) => Promise<T>, on?: Live): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const live = on ?? this.current();
      let fail!: (death: Death) => void;
      const died = new Promise<never>((_, reject) => {
        fail = (death) => reject(new Error(diedBefore(death, false).error));
      });
      live.asking.add(fail);
      try {
        return await Promise.race([call(live.engine), died]);
      } catch (err) {
        if (!live.dead || on || attempt > 0) throw err;
      } finally {
        live.asking.delete(fail);
      }
    }
  }

  private current(): Live {
    if (!this.live) {
      const { createWorker, workerUrl, sharedCancel: _, wasmPaths, ...engineOptions } = this.options;
      const worker = createWorker?.() ?? (workerUrl ? new Worker(workerUrl, { type: 'module', name: 'local-endpoint' }) : defaultWorker());
      const engine = Comlink.wrap<WorkerApi & WorkerLiveness>(worker);
      // URL objects cannot be posted to a worker: the runtime gets absolute strings.
      const configured: EngineOptions = {
        ...engineOptions,
        // Handler module URLs name files relative to the page, not to the worker's script.
        ...(engineOptions.handlers ? { handlers: Object.fromEntries(Object.entries(engineOptions.handlers).map(([model, url]) => [model, absoluteOrAsIs(url)])) } : {}),
        ...(wasmPaths ? { wasmPaths: { mjs: absolute(wasmPaths.mjs), wasm: absolute(wasmPaths.wasm) } } : {}),
        webgpuFailures: { ...this.webgpuFailures },
      };
      void engine.configure(configured).catch(() => undefined);
      const live: Live = { worker, kill: worker.terminate.bind(worker), engine, pending: 0, retired: false, waiting: new Map(), asking: new Set(), started: false, locked: false, dead: false, watching: new AbortController() };
      this.live = live;
      this.lives.add(live);
      this.watch(live);
      // `worker.terminate()` fires no event, and Chromium stops a busy worker only 2 s later (its
      // lock goes then): the app that holds the Worker (from `createWorker`) is noticed at once.
      worker.terminate = () => this.end(live, 'Worker.terminate() was called on it');
    }
    return this.live;
  }

  /**
   * For a custom request: once `handlerTimeoutMs` and STUCK_GRACE_MS have passed with no answer,
   * the worker gets a heartbeat, and if it cannot answer within STUCK_GRACE_MS it is ended: its
   * requests are answered (this one 504) and the next ones go to a fresh worker.
   */
  private watchStuck(live: Live): { timer: ReturnType<typeof setTimeout> } {
    const limit = this.options.handlerTimeoutMs ?? 60_000;
    const watch = { timer: undefined as unknown as ReturnType<typeof setTimeout> };
    const check = async () => {
      if (live.dead) return;
      const answered = await Promise.race([
        live.engine.ping().then(() => true, () => false),
        new Promise<boolean>((ok) => setTimeout(() => ok(false), Math.max(limit, STUCK_GRACE_MS))),
      ]);
      if (live.dead) return;
      if (!answered) {
        this.end(live, `it ran synchronous code past the custom handler time limit (handlerTimeoutMs, ${limit} ms) without yielding, and answered no heartbeat (a custom handler's endless loop cannot be stopped inside a worker)`, false, { status: 504, noCulprit: true });
      } else {
        watch.timer = setTimeout(() => void check(), STUCK_GRACE_MS); // busy but alive: look again
      }
    };
    watch.timer = setTimeout(() => void check(), limit + STUCK_GRACE_MS);
    return watch;
  }

  /** Replaces `poisoned` once, however many of its requests report it. */
  private replace(poisoned: Live): void {
    if (this.live !== poisoned) return;
    this.replacements++;
    // The poisoned worker answers what it still holds (each with retry) and ends after the last.
    poisoned.retired = true;
    this.live = undefined;
    if (poisoned.pending === 0) this.end(poisoned, 'replaced', true);
  }

  /** Watches for the worker's death: its lock, or a heartbeat where there are no Web Locks. */
  private watch(live: Live): void {
    const { worker, engine } = live;
    // Once it has started, an error event is an uncaught exception the worker survives: only its
    // lock tells of its death. Before, its script failed to load or to run.
    worker.addEventListener('error', (event) => {
      if (!live.started) this.end(live, `it failed to start (${describeError(event)})`);
    });
    // A message from the worker that cannot be read: the answer it carried is lost for good.
    worker.addEventListener('messageerror', () => this.end(live, 'a message from it could not be read'));
    // Web Locks exist in secure contexts (https, localhost), as does crypto.randomUUID.
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (locks) {
      const name = `local-endpoint-worker-${crypto.randomUUID()}`;
      engine.holdLiveness(name).then(
        () => {
          live.started = live.locked = true;
          locks
            .request(name, { signal: live.watching.signal }, () => this.end(live, 'it stopped running (a crash, out of memory, or close())'))
            .catch(() => undefined); // aborted: the host stopped it
        },
        () => undefined, // a worker of the app's own without holdLiveness: the heartbeat watches it
      );
    }
    // Until it holds its lock (a worker that dies while it starts), or for good without one.
    this.heartbeat(live);
  }

  /** A ping each second, and death after a long silence while requests wait (until it holds its lock). */
  private heartbeat(live: Live): void {
    const limit = this.options.livenessTimeoutMs ?? 60_000;
    let answered = Date.now();
    let asked = false;
    const beat = () => {
      if (live.dead || live.locked) return;
      if (live.pending === 0 && !asked) answered = Date.now();
      if (live.pending > 0 && Date.now() - answered > limit) return this.end(live, `it answered no heartbeat for ${limit} ms`);
      if (!asked && (live.pending > 0 || !live.started)) {
        asked = true;
        live.engine.ping().then(
          () => {
            asked = false;
            answered = Date.now();
            live.started = true;
          },
          () => undefined,
        );
      }
      setTimeout(beat, 1000);
    };
    beat();
  }

  /**
   * The worker is gone, or must go: stop it, settle everything that waits on it, and let the
   * next request start a fresh worker. Unplanned, that counts as a replacement.
   */
  private end(live: Live, reason: string, planned = false, how: Pick<Death, 'status' | 'noCulprit'> = {}): void {
    if (live.dead) return;
    live.dead = true;
    live.watching.abort();
    live.kill();
    this.lives.delete(live);
    if (this.live === live) {
      this.live = undefined;
      if (!planned) this.replacements++;
    }
    const death: Death = { reason, planned, started: live.started, ...how };
    const culprit = how.noCulprit ? undefined : live.waiting.keys().next().value;
    for (const [ticket, settle] of live.waiting) settle(death, ticket === culprit);
    live.waiting.clear();
    for (const fail of live.asking) fail(death);
    live.asking.clear();
  }
}

/** The answer of a request whose worker ended first; `culprit`: it was the one running. */
function diedBefore(death: Death, culprit: boolean): EngineFailure {
  const error = death.planned
    ? `The local-endpoint worker was stopped before it answered: ${death.reason}.`
    : `The local-endpoint worker died before it answered: ${death.reason}. A fresh worker answers the requests after it.`;
  const result: EngineFailure = { ok: false, status: death.status ?? WORKER_DIED_STATUS, error, retry: !death.planned && death.started && !culprit };
  deaths.add(result);
  return result;
}

function describeError(event: Event): string {
  const message = (event as ErrorEvent).message;
  return message ? message : 'its script could not be loaded';
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

/** A URL resolved against the page; a string that is no URL is left for the worker to refuse. */
function absoluteOrAsIs(url: string): string {
  try {
    return absolute(url);
  } catch {
    return url;
  }
}

function absolute(url: string | URL): string {
  return new URL(url, globalThis.location?.href).href;
}
