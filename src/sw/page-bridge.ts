/**
 * `serveFromPage()`: the page side of the Service Worker Endpoint. The Service Worker
 * (`local-endpoint/sw`) cannot run the model, so it sends each request to an open page; this
 * answers it with `createLocalFetch` over the page's engine and sends the answer back in chunks,
 * as the engine produces them (a stream stays a stream).
 */
import { defaultEngine } from '../client/client.js';
import { createLocalFetch } from '../local-fetch/index.js';
import type { EngineInterface, ProgressEvent } from '../protocol/engine.js';
import { BRIDGE_KEY, isBridgeMessage, type CancelMessage, type PageToWorker, type ReplyMessage, type WorkerToPage } from './bridge-messages.js';

export interface PageBridgeOptions {
  /**
   * The engine that answers. Default: the page's shared worker engine, the one
   * `LocalEndpointClient` uses, so no model is loaded twice. A function is called for each
   * request (for an app that replaces its engine).
   */
  engine?: EngineInterface | (() => EngineInterface);
  /** Model downloads started by requests from the Service Worker. */
  onProgress?: (event: ProgressEvent) => void;
  /** Default: `navigator.serviceWorker`. */
  container?: ServiceWorkerContainer;
}

export interface PageBridge {
  /** Requests being answered now. */
  readonly active: number;
  /** Stops answering (the Service Worker sends new requests to another page, or answers 504). */
  stop(): void;
}

let running: PageBridge | undefined;

/**
 * Answers the Service Worker's Endpoint requests from this page, until `stop()` or the page
 * closes. Register the Service Worker yourself (`navigator.serviceWorker.register('/sw.js',
 * { type: 'module' })`); this works before and after it is active. A second call replaces the
 * first.
 */
export function serveFromPage(options: PageBridgeOptions = {}): PageBridge {
  const container = options.container ?? globalThis.navigator?.serviceWorker;
  if (!container) {
    throw new Error('serveFromPage: Service Workers are not available here (they need a secure context: https, or http://localhost).');
  }
  running?.stop();
  let active = 0;
  const say = (state: PageToWorker[typeof BRIDGE_KEY]) => {
    const message = { [BRIDGE_KEY]: state } as PageToWorker;
    container.controller?.postMessage(message);
    // A page not (yet) controlled tells the active worker of its registration.
    void container.getRegistration().then((registration) => {
      const worker = registration?.active;
      if (worker && worker !== container.controller) worker.postMessage(message);
    });
  };

  const onMessage = (event: MessageEvent) => {
    if (!isBridgeMessage(event.data)) return;
    const data = event.data as WorkerToPage;
    if (data[BRIDGE_KEY] === 'ping') {
      (event.source as ServiceWorker | null)?.postMessage({ [BRIDGE_KEY]: 'ready' } satisfies PageToWorker);
    } else if (data[BRIDGE_KEY] === 'request' && event.ports[0]) {
      active++;
      void answer(data, event.ports[0], options).finally(() => active--);
    }
  };
  const onControllerChange = () => say('ready');
  const onPageHide = () => say('gone');
  const onPageShow = (event: PageTransitionEvent) => {
    if (event.persisted) say('ready');
  };

  container.addEventListener('message', onMessage);
  container.addEventListener('controllerchange', onControllerChange);
  globalThis.addEventListener?.('pagehide', onPageHide);
  globalThis.addEventListener?.('pageshow', onPageShow);
  container.startMessages();
  say('ready');

  const bridge: PageBridge = {
    get active() {
      return active;
    },
    stop() {
      container.removeEventListener('message', onMessage);
      container.removeEventListener('controllerchange', onControllerChange);
      globalThis.removeEventListener?.('pagehide', onPageHide);
      globalThis.removeEventListener?.('pageshow', onPageShow);
      say('gone');
      if (running === bridge) running = undefined;
    },
  };
  running = bridge;
  return bridge;
}

/** One request: the local fetch's answer, head first, then its body chunk by chunk. */
async function answer(request: Extract<WorkerToPage, { [BRIDGE_KEY]: 'request' }>, port: MessagePort, options: PageBridgeOptions): Promise<void> {
  const send = (message: ReplyMessage, transfer: Transferable[] = []) => port.postMessage(message, transfer);
  const stop = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  port.onmessage = ({ data }: MessageEvent<CancelMessage>) => {
    if (data?.type !== 'abort') return;
    stop.abort(new DOMException('The caller aborted the request.', 'AbortError'));
    void reader?.cancel().catch(() => undefined);
  };
  try {
    const { dialect, ...endpoint } = request.endpoint;
    const engine = typeof options.engine === 'function' ? options.engine() : (options.engine ?? defaultEngine());
    const localFetch = createLocalFetch({
      engine,
      endpoints: { [request.base]: endpoint },
      ...(dialect ? { dialect } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const response = await localFetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
      signal: stop.signal,
    });
    send({ type: 'head', status: response.status, statusText: response.statusText, headers: [...response.headers] });
    if (response.body) {
      reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // Each chunk moves to the Service Worker without a copy when it owns its whole buffer.
        const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength && value.buffer instanceof ArrayBuffer;
        const bytes = whole ? (value.buffer as ArrayBuffer) : value.slice().buffer;
        send({ type: 'chunk', bytes }, [bytes]);
      }
    }
    send({ type: 'end' });
  } catch (err) {
    send({ type: 'error', message: stop.signal.aborted ? 'The request was aborted.' : `The page could not answer: ${(err as Error)?.message ?? String(err)}` });
  } finally {
    port.onmessage = null;
    port.close();
  }
}
