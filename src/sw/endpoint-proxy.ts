/**
 * The Service Worker side of the Endpoint: requests to the configured Endpoint URLs are sent, as
 * plain bytes over a MessageChannel, to an open page that runs `serveFromPage()`, and its answer
 * is rebuilt here chunk by chunk, so a server-sent-events stream streams.
 *
 * Why a bridge to a page, and not the model in the Service Worker: transformers.js cannot run in a
 * Service Worker (its WASM backend loads onnxruntime-web with `import()`, which Service Workers
 * refuse: transformers.js #787), and a Service Worker cannot start a Web Worker of its own. The
 * page already has the engine (the module worker, on WebGPU or threaded WASM, with its model cache
 * and memory budget), so every request, whoever sends it, goes to that one engine and no model is
 * loaded twice. The cost is that something must be open to answer: when no page is, the request
 * gets a clear error at once (NO_PAGE_STATUS), never a 503, which the official client retries at
 * once and forever.
 *
 * Nothing here imports the engine, the page API or transformers.js: only the protocol's types.
 */
import { BRIDGE_KEY, isBridgeMessage, type ReplyMessage, type ServiceWorkerEndpoint, type WorkerToPage } from './bridge-messages.js';
import { serviceWorkerScope, type ClientLike, type ExtendableMessageEventLike, type FetchEventLike, type ServiceWorkerScopeLike } from './scope.js';

/**
 * No page can answer: none is open, or none runs `serveFromPage()` within `discoverMs`. 504
 * (Gateway Timeout): the Service Worker is a gateway whose upstream, the page, did not answer.
 * Not 503: `@huggingface/inference` retries a 503 at once and without end.
 */
export const NO_PAGE_STATUS = 504;
/** The page that took the request closed (or navigated away) before its answer began. */
export const PAGE_GONE_STATUS = 502;

export interface EndpointProxyOptions {
  /**
   * Endpoint URL → what it serves, as for `createLocalFetch` (absolute, or relative to the
   * Service Worker's URL). Every method to `<url>` and below is answered: `/`, `/predict`,
   * `/health`, and the TGI, TEI and OpenAI routes of the endpoint's kind (`src/tasks/routes.ts`).
   */
  endpoints: Record<string, ServiceWorkerEndpoint>;
  /**
   * How long a request waits for a page to say it can answer, when open pages have not said so
   * yet (a page still starting, or a Service Worker that was stopped and restarted). Default 2000 ms.
   */
  discoverMs?: number;
  /** How often a request in flight checks that its page is still open (ms, default 1000). */
  watchMs?: number;
}

export interface EndpointProxy {
  /** Answers the request when its URL is one of the endpoints; true when it did. */
  handleFetch(event: FetchEventLike): boolean;
  /** Reads the pages' `ready`/`gone` messages; true when the message was one of them. */
  handleMessage(event: ExtendableMessageEventLike): boolean;
}

export function createEndpointProxy(options: EndpointProxyOptions, scope: ServiceWorkerScopeLike = serviceWorkerScope()): EndpointProxy {
  const endpoints = Object.entries(options.endpoints).map(([url, endpoint]) => ({
    base: new URL(url, scope.location.href).href.replace(/\/+$/, ''),
    endpoint,
  }));
  const discoverMs = options.discoverMs ?? 2000;
  const watchMs = options.watchMs ?? 1000;
  /** Pages that said they can answer → when (the most recent one wins a tie). */
  const ready = new Map<string, number>();
  let heard: (() => void)[] = [];

  const find = (url: string) => endpoints.find(({ base }) => url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`));

  /** The open pages that can answer, forgetting the ones that closed. */
  async function bridges(): Promise<ClientLike[]> {
    const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const id of ready.keys()) if (!windows.some((c) => c.id === id)) ready.delete(id);
    return windows.filter((c) => ready.has(c.id));
  }

  /**
   * The page that answers: the one that sent the request (or the one a navigation opens), else a
   * focused one, else a visible one, else the one that said `ready` last.
   */
  async function pick(event: FetchEventLike): Promise<{ client?: ClientLike; open: number }> {
    let found = await bridges();
    let open = found.length;
    if (!found.length) {
      const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
      open = windows.length;
      if (windows.length) {
        const wait = new Promise<void>((ok) => {
          heard.push(ok);
          setTimeout(ok, discoverMs);
        });
        for (const client of windows) client.postMessage({ [BRIDGE_KEY]: 'ping' } satisfies WorkerToPage, []);
        await wait;
        found = await bridges();
      }
    }
    const rank = (c: ClientLike) =>
      c.id === event.clientId ? 0 : c.id === event.resultingClientId ? 1 : c.focused ? 2 : c.visibilityState === 'visible' ? 3 : 4;
    return { client: found.sort((a, b) => rank(a) - rank(b) || ready.get(b.id)! - ready.get(a.id)!)[0], open };
  }

  async function answer(event: FetchEventLike, base: string, endpoint: ServiceWorkerEndpoint, done: () => void): Promise<Response> {
    const request = event.request;
    const { client, open } = await pick(event);
    if (!client) {
      done();
      const why = open ? `none of the ${open} open page(s) said it could within ${discoverMs} ms` : 'no page of it is open';
      return errorResponse(
        NO_PAGE_STATUS,
        `No page can answer ${request.method} ${request.url} locally: this Service Worker answers through an open page of the app that runs serveFromPage() from local-endpoint, and ${why}. Open the app, then retry.`,
      );
    }
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    const channel = new MessageChannel();
    const port = channel.port1;
    const message: WorkerToPage = { [BRIDGE_KEY]: 'request', base, endpoint, method: request.method, url: request.url, headers: [...request.headers], body };
    return new Promise<Response>((resolve) => {
      let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
      let eventStream = false;
      let settled = false;
      const finish = () => {
        settled = true;
        clearInterval(watch);
        request.signal?.removeEventListener('abort', abort);
        port.onmessage = null;
        port.close();
        done();
      };
      /** The page is gone: a plain error before the answer began, the stream's last event after. */
      const fail = (error: string) => {
        if (settled) return;
        if (!controller) resolve(errorResponse(PAGE_GONE_STATUS, error));
        else if (eventStream) {
          controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify({ error })}\n\n`));
          controller.close();
        } else controller.error(new Error(error));
        finish();
      };
      const gone = () => fail(`The page that was answering ${request.method} ${request.url} (${client.url}) closed before its answer ended.`);
      const abort = () => {
        if (settled) return;
        port.postMessage({ type: 'abort' });
        if (!controller) resolve(errorResponse(499, 'The request was aborted.'));
        else controller.error(new DOMException('The request was aborted.', 'AbortError'));
        finish();
      };
      request.signal?.addEventListener('abort', abort, { once: true });
      // Chromium closes the port when the page is destroyed; elsewhere, the page's client goes.
      port.addEventListener('close', gone);
      const watch = setInterval(() => {
        void scope.clients.get(client.id).then((alive) => alive || gone());
      }, watchMs);
      port.onmessage = ({ data }: MessageEvent<ReplyMessage>) => {
        if (settled) return;
        if (data.type === 'head') {
          eventStream = /^text\/event-stream/i.test(new Headers(data.headers).get('content-type') ?? '');
          const stream = new ReadableStream<Uint8Array>({
            start: (c) => {
              controller = c;
            },
            // The caller stopped reading (an aborted fetch, a `break` out of a stream): stop the page.
            cancel: () => {
              if (settled) return;
              port.postMessage({ type: 'abort' });
              finish();
            },
          });
          const empty = request.method === 'HEAD' || [101, 204, 205, 304].includes(data.status);
          resolve(new Response(empty ? null : stream, { status: data.status, statusText: data.statusText, headers: data.headers }));
          if (empty) finish();
        } else if (data.type === 'chunk') {
          controller?.enqueue(new Uint8Array(data.bytes));
        } else if (data.type === 'end') {
          controller?.close();
          finish();
        } else if (data.type === 'error') {
          fail(data.message);
        }
      };
      client.postMessage(message, body ? [channel.port2, body] : [channel.port2]);
    });
  }

  return {
    handleFetch(event) {
      const match = find(event.request.url);
      if (!match) return false;
      // The Service Worker stays alive until the answer has ended, not only until it began.
      let done!: () => void;
      event.waitUntil(new Promise<void>((ok) => (done = ok)));
      event.respondWith(
        answer(event, match.base, match.endpoint, done).catch((err: unknown) => {
          done();
          return errorResponse(500, `The Service Worker could not forward ${event.request.url}: ${(err as Error)?.message ?? String(err)}`);
        }),
      );
      return true;
    },

    handleMessage(event) {
      if (!isBridgeMessage(event.data)) return false;
      const source = event.source as ClientLike | null;
      const kind = event.data[BRIDGE_KEY];
      if (source && 'id' in source) {
        if (kind === 'ready') ready.set(source.id, performance.now());
        if (kind === 'gone') ready.delete(source.id);
      }
      if (kind === 'ready') {
        const waiting = heard;
        heard = [];
        for (const ok of waiting) ok();
      }
      return true;
    },
  };
}

function errorResponse(status: number, error: string): Response {
  return new Response(JSON.stringify({ error }), { status, headers: { 'content-type': 'application/json' } });
}
