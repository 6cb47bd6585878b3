/**
 * `createLocalFetch`: a function with `fetch`'s signature that answers Inference Endpoint requests
 * locally. Passed as the `fetch` option of `@huggingface/inference`'s InferenceClient, it makes
 * unchanged client code run on the device.
 */
import { toErrorValue } from '../protocol/errors.js';
import { toBase64 } from '../tasks/shared/base64.js';
import { ROUTES, ROUTE_TASKS, getTask, openAIId } from '../tasks/registry.js';
import type { Dialect, EndpointPayload, StreamMeta, TaskSpec } from '../tasks/types.js';
import { readJsonBody, readMediaPayload, readPayload, readWholeBody } from '../wire/body.js';
import { detectDialect } from '../wire/dialect.js';
import type { EngineInterface, EngineRequest, EngineResult, ProgressEvent } from '../protocol/engine.js';
import type { DevicePreference } from '../protocol/engine.js';

/** What one endpoint URL serves locally. */
export interface LocalEndpoint {
  task: string;
  model: string;
  device?: DevicePreference;
  dtype?: string;
}

export interface LocalFetchOptions {
  engine: EngineInterface;
  /**
   * Endpoint URL → what it serves. Requests to `<url>`, `<url>/` and `<url>/predict` run the model;
   * generative endpoints also answer `<url>/v1/completions` and `<url>/v1/chat/completions`.
   */
  endpoints: Record<string, LocalEndpoint>;
  /** Force one answer shape; by default the official client is recognised by its User-Agent. */
  dialect?: Dialect | 'auto';
  onProgress?: (event: ProgressEvent) => void;
}

export type FetchFn = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export function createLocalFetch(options: LocalFetchOptions): FetchFn {
  const endpoints = Object.entries(options.endpoints).map(([url, endpoint]) => ({
    base: stripSlash(new URL(url).href),
    endpoint,
  }));

  return async function localFetch(input, init) {
    const request = new Request(input, init);
    const url = new URL(request.url);
    // Browsers may leave the User-Agent the client sets out of a Request: read it from `init` too.
    const headers = new Headers(request.headers);
    const agent = new Headers(init?.headers).get('user-agent');
    if (agent) headers.set('user-agent', agent);

    const match = endpoints.find(({ base }) => url.href === base || url.href.startsWith(`${base}/`));
    if (!match) {
      return errorResponse(404, `No local endpoint at ${url.origin}${url.pathname}. Known: ${endpoints.map((e) => e.base).join(', ')}.`);
    }
    const route = url.href.slice(match.base.length).split('?')[0]!.replace(/\/+$/, '');
    if (request.method === 'GET' || request.method === 'HEAD') {
      if (route === '' || route === '/health') return new Response('Ok', { headers: { 'content-type': 'text/plain' } });
      return errorResponse(404, `No route GET ${route}.`);
    }
    if (request.method !== 'POST') return errorResponse(405, `Method ${request.method} is not allowed; use POST.`);

    const { endpoint } = match;
    try {
      const routeTask = ROUTES[route];
      if (!routeTask && route !== '' && route !== '/predict') {
        return errorResponse(404, `No route POST ${route}; use /, /predict${ROUTE_TASKS.includes(endpoint.task) ? ', /v1/completions or /v1/chat/completions' : ''}.`);
      }
      if (routeTask && !ROUTE_TASKS.includes(getTask(endpoint.task).id)) {
        return errorResponse(404, `POST ${route} is served by text-generation and conversational endpoints; this one serves ${endpoint.task}.`);
      }
      const task = routeTask ?? getTask(endpoint.task);
      if (task.wholeBody) return await customAnswer(options, task, endpoint, await readWholeBody(request, url), init?.signal ?? undefined);
      const dialect = detectDialect(headers, options.dialect);
      const payload: EndpointPayload = routeTask
        ? await readRouteBody(request)
        : task.media
          ? await readMediaPayload(request, url, task.media)
          : withClientDefaults(await readPayload(request, url), dialect, task.clientParameters);
      const parsed = task.parse(payload); // a bad request is refused here, before the engine
      const engineRequest: EngineRequest = {
        ...endpoint,
        task: routeTask ? routeTask.id : endpoint.task,
        inputs: payload.inputs,
        parameters: payload.parameters,
        ...(payload.stream ? { stream: true } : {}),
      };
      if (payload.stream && !task.stream) return errorResponse(400, `${task.id} cannot stream: drop "stream": true.`);
      if (task.stream?.wanted(parsed)) return await streamResponse(options, task, parsed, engineRequest, init?.signal ?? undefined);
      const result = await options.engine.infer(engineRequest, options.onProgress, undefined, init?.signal ?? undefined);
      if (!result.ok) {
        if (result.cancelled) throw abortError(init?.signal ?? undefined);
        return errorResponse(result.status, result.error);
      }
      if (task.imageAnswer && result.output instanceof Uint8Array) {
        // A picture: its bytes for an Accept of image/* and for the official client (whose
        // textToImage sends no Accept and reads a Blob); else base64 in JSON, as the Endpoint does.
        const accept = headers.get('accept') ?? '';
        if (dialect === 'client' || accept.trim().toLowerCase().startsWith('image/')) return imageResponse(result.output, result);
        return jsonResponse(toBase64(result.output), result);
      }
      // The answer is shaped again from the same request: parse is pure and cheap.
      const answer = dialect === 'client' && task.toClient ? task.toClient(result.output, parsed) : result.output;
      return jsonResponse(answer, result);
    } catch (err) {
      if (init?.signal?.aborted) throw err;
      const { status, error } = toErrorValue(err);
      return errorResponse(status, error);
    }
  };
}

/**
 * The custom task: the handler's answer as it is. JSON, or its bytes with their Content-Type;
 * a body with `"stream": true` gets server-sent events, one `data:` JSON event per value the
 * handler yields (or one for the value it returns), as the official client's `streamingRequest`
 * reads them.
 */
async function customAnswer(options: LocalFetchOptions, task: TaskSpec, endpoint: LocalEndpoint, payload: EndpointPayload, signal: AbortSignal | undefined): Promise<Response> {
  const engineRequest: EngineRequest = {
    ...endpoint,
    inputs: payload.inputs,
    ...(payload.parameters !== undefined ? { parameters: payload.parameters } : {}),
    ...(payload.stream !== undefined ? { stream: payload.stream === true } : {}),
    ...(payload.extra ? { extra: payload.extra } : {}),
  };
  if (payload.stream === true) return streamResponse(options, task, payload, engineRequest, signal);
  const result = await options.engine.infer(engineRequest, options.onProgress, undefined, signal);
  if (!result.ok) {
    if (result.cancelled) throw abortError(signal);
    return errorResponse(result.status, result.error);
  }
  if (result.contentType && result.output instanceof Uint8Array) {
    return new Response(result.output as Uint8Array<ArrayBuffer>, { status: 200, headers: computeHeaders(result.contentType, result) });
  }
  return jsonResponse(result.output, result);
}

/** The OpenAI routes' body is the request itself: it travels as `inputs`. */
async function readRouteBody(request: Request): Promise<EndpointPayload> {
  const body = await readJsonBody(request);
  return { inputs: body, stream: (body as { stream?: boolean }).stream };
}

/**
 * A streaming answer: `text/event-stream`, one `data:` message per event as the engine produces
 * it. Errors found before the first token (bad input, a missing model) are plain 400/500 JSON
 * answers; an error after it is a last `data: {"error": …}` message. Cancelling the body, or the
 * caller's signal, stops the generation.
 */
async function streamResponse(
  options: LocalFetchOptions,
  task: TaskSpec,
  parsed: unknown,
  request: EngineRequest,
  signal: AbortSignal | undefined,
): Promise<Response> {
  // A custom handler's stream has no shape of its own: each value is one event (`value`).
  const shape = task.stream;
  const meta: StreamMeta = { model: request.model, id: openAIId(shape?.idPrefix ?? 'custom'), created: Math.floor(Date.now() / 1000), promptTokens: 0 };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const send = (text: string) => {
    if (open) controller.enqueue(encoder.encode(text));
  };
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      open = false;
      stop.abort();
    },
  });
  let begin!: () => void;
  const begun = new Promise<null>((ok) => {
    begin = () => ok(null);
  });
  const headers: Record<string, string> = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
  const result = options.engine.infer(
    request,
    options.onProgress,
    (event) => {
      if (event.type === 'start') {
        meta.promptTokens = event.promptTokens;
        if (event.device) headers['x-compute-type'] = event.device;
        if (event.fallback) headers['x-compute-fallback'] = event.fallback.replace(/[\r\n]+/g, ' ').slice(0, 500);
        begin();
        return;
      }
      if (event.type === 'value') {
        send(`data: ${JSON.stringify(event.value)}\n\n`);
        return;
      }
      for (const message of shape?.token(event, parsed, meta) ?? []) send(`data: ${JSON.stringify(message)}\n\n`);
    },
    stop.signal,
  );
  const early = await Promise.race([begun, result]);
  if (early && !early.ok) {
    signal?.removeEventListener('abort', onAbort);
    if (early.cancelled) throw abortError(signal);
    return errorResponse(early.status, early.error);
  }
  void result.then((final) => {
    signal?.removeEventListener('abort', onAbort);
    if (!open) return;
    open = false;
    if (final.ok) {
      if (shape?.done) controller.enqueue(encoder.encode('data: [DONE]\n\n'));
      controller.close();
    } else if (final.cancelled) {
      controller.error(abortError(signal));
    } else {
      controller.enqueue(encoder.encode(`data: ${JSON.stringify({ error: final.error })}\n\n`));
      controller.close();
    }
  });
  return new Response(body, { status: 200, headers });
}

/** What `fetch` rejects with when its signal aborts. */
function abortError(signal: AbortSignal | undefined): unknown {
  return signal?.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted.', 'AbortError');
}

/** The client's reader needs some parameters (see TaskSpec.clientParameters); the caller's win. */
function withClientDefaults(payload: EndpointPayload, dialect: Dialect, defaults?: Readonly<Record<string, unknown>>): EndpointPayload {
  if (dialect !== 'client' || !defaults) return payload;
  return { ...payload, parameters: { ...defaults, ...payload.parameters } };
}

function imageResponse(png: Uint8Array, result: Extract<EngineResult, { ok: true }>): Response {
  return new Response(png as Uint8Array<ArrayBuffer>, { status: 200, headers: computeHeaders('image/png', result) });
}

function jsonResponse(answer: unknown, result: Extract<EngineResult, { ok: true }>): Response {
  return new Response(JSON.stringify(answer), { status: 200, headers: computeHeaders('application/json', result) });
}

function computeHeaders(type: string, result: Extract<EngineResult, { ok: true }>): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': type,
    'x-compute-type': result.device,
    'x-compute-time': (result.computeMs / 1000).toFixed(4),
  };
  if (result.fallback) headers['x-compute-fallback'] = result.fallback.replace(/[\r\n]+/g, ' ').slice(0, 500);
  return headers;
}

/**
 * The most characters an error message keeps. Messages quote bad values only in part (see
 * `quote`); this bounds whatever else an error may carry, so an error body stays under 64 KB.
 */
export const MAX_ERROR_CHARS = 8192;

export function errorResponse(status: number, error: string): Response {
  const message = error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error;
  return new Response(JSON.stringify({ error: message }), { status, headers: { 'content-type': 'application/json' } });
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
