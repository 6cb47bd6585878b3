/**
 * `createLocalFetch`: a function with `fetch`'s signature that answers Inference Endpoint requests
 * locally. Passed as the `fetch` option of `@huggingface/inference`'s InferenceClient, it makes
 * unchanged client code run on the device.
 */
import { toErrorValue } from '../protocol/errors.js';
import { toBase64 } from '../tasks/shared/base64.js';
import { getTask, openAIId } from '../tasks/registry.js';
import { describeRoutes, endpointKind, routesOf, teiPredictFor, type ErrorShape, type Route } from '../tasks/routes.js';
import { EndpointMetrics } from './metrics.js';
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
   * generative endpoints also answer TGI's routes and OpenAI's, encoder endpoints TEI's routes and
   * OpenAI's embeddings (see `src/tasks/routes.ts` and the README's route tables).
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
    ...servedBy(stripSlash(new URL(url).href), endpoint),
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
    const path = url.href.slice(match.base.length).split(/[?#]/)[0]!.replace(/\/+$/, '');
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const { endpoint, routes, shape, metrics } = match;
    const onPath = routes.filter((r) => r.path === path);
    const route = onPath.find((r) => r.method === method);
    if (!route) {
      if (onPath.length) {
        const allow = onPath.map((r) => r.method).join(', ');
        return errorResponse(405, `Method ${request.method} is not allowed on ${path || '/'}; use ${allow}.`, onPath[0]!.errors, { allow });
      }
      return errorResponse(404, `No route ${method} ${path || '/'} on this ${endpoint.task} endpoint. It serves: ${describeRoutes(routes)}.`, shape);
    }
    const { answer } = route;
    if (answer.kind === 'health') return new Response('Ok', { headers: { 'content-type': 'text/plain' } });
    if (answer.kind === 'models') return jsonResponse(modelList(endpoint.model), null);
    if (answer.kind === 'metrics') {
      return new Response(metrics?.render() ?? '', { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
    }
    const end = metrics?.begin(method, path) ?? (() => undefined);
    try {
      const response = await answerRoute(options, request, url, headers, endpoint, route, init?.signal ?? undefined);
      return watched(response, end);
    } catch (err) {
      end(499);
      throw err;
    }
  };
}

/**
 * Each endpoint's counters, by URL, task and model: shared by every local fetch of this realm that
 * serves it (the Service Worker's page bridge makes one per request), so `/metrics` counts them all.
 */
const METRICS = new Map<string, EndpointMetrics>();

/** What an endpoint serves: its routes, the error shape of the routes that are not there, and its counters. */
function servedBy(base: string, endpoint: LocalEndpoint): { routes: readonly Route[]; shape: ErrorShape; metrics: EndpointMetrics | null } {
  let task: string;
  try {
    task = getTask(endpoint.task).id;
  } catch {
    return { routes: routesOf(''), shape: 'endpoint', metrics: null }; // an unknown task: POST / says so
  }
  const kind = endpointKind(task);
  return {
    routes: routesOf(task),
    shape: kind === 'generative' ? 'tgi' : kind === 'encoder' ? 'tei' : 'endpoint',
    metrics: kind === 'other' ? null : sharedMetrics(`${base} ${task} ${endpoint.model}`, kind === 'generative' ? 'tgi' : 'te', endpoint.model),
  };
}

function sharedMetrics(key: string, prefix: 'tgi' | 'te', model: string): EndpointMetrics {
  let metrics = METRICS.get(key);
  if (!metrics) METRICS.set(key, (metrics = new EndpointMetrics(prefix, model)));
  return metrics;
}

/** `GET /v1/models`: OpenAI's list, of the one model this endpoint serves (TGI's ModelInfo). */
const STARTED = Math.floor(Date.now() / 1000);
function modelList(model: string) {
  return { object: 'list', data: [{ id: model, object: 'model', created: STARTED, owned_by: 'local-endpoint' }] };
}

/**
 * The tokens an answer generated (the engine's `generatedTokens`), for the counters: a number for
 * a whole answer, a promise that settles when the engine has finished for a stream. Kept beside the
 * Response, never sent.
 */
const GENERATED = new WeakMap<Response, number | Promise<number | undefined>>();

/** Counts the answer when it is complete: at once, or when a stream's generation has ended. */
function watched(response: Response, end: (status: number, tokens?: number) => void): Response {
  const generated = GENERATED.get(response);
  if (generated instanceof Promise) void generated.then((tokens) => end(response.status, tokens));
  else end(response.status, generated);
  return response;
}

async function answerRoute(
  options: LocalFetchOptions,
  request: Request,
  url: URL,
  headers: Headers,
  endpoint: LocalEndpoint,
  route: Route,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const errors = route.errors;
  try {
    let task: TaskSpec;
    let payload: EndpointPayload;
    let dialect: Dialect = 'endpoint';
    const endpointTask = getTask(endpoint.task);
    if (route.answer.kind === 'spec') {
      task = getTask(route.answer.id);
      payload = request.method === 'GET' || request.method === 'HEAD' ? { inputs: null } : await readRouteBody(request);
    } else {
      task = endpointTask;
      if (task.wholeBody) return await customAnswer(options, task, endpoint, await readWholeBody(request, url), signal);
      dialect = detectDialect(headers, options.dialect);
      if (route.path === '/predict' && !task.media) {
        // TEI's /predict shares the path: a JSON body without `parameters` is TEI's request.
        const body = await readJsonBody(request.clone(), '{"inputs": …}').catch(() => null);
        if (teiPredictFor(task.id, body) && url.search === '') return await answerRoute(options, request, url, headers, endpoint, TEI_PREDICT, signal);
      }
      payload = task.media
        ? await readMediaPayload(request, url, task.media)
        : withClientDefaults(await readPayload(request, url), dialect, task.clientParameters);
    }
    const parsed = task.parse(payload); // a bad request is refused here, before the engine
    const engineRequest: EngineRequest = {
      ...endpoint,
      task: task.id,
      ...(task !== endpointTask ? { endpointTask: endpointTask.id } : {}),
      inputs: payload.inputs,
      parameters: payload.parameters,
      ...(payload.stream ? { stream: true } : {}),
    };
    if (payload.stream && !task.stream) return errorResponse(400, `${task.id} cannot stream: drop "stream": true.`, errors);
    if (task.stream?.wanted(parsed)) return await streamResponse(options, task, parsed, engineRequest, signal, errors);
    const result = await options.engine.infer(engineRequest, options.onProgress, undefined, signal);
    if (!result.ok) {
      if (result.cancelled) throw abortError(signal);
      return errorResponse(result.status, result.error, errors);
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
    if (signal?.aborted) throw err;
    const { status, error } = toErrorValue(err);
    return errorResponse(status, error, errors);
  }
}

const TEI_PREDICT: Route = { method: 'POST', path: '/predict', answer: { kind: 'spec', id: 'tei-predict' }, errors: 'tei' };

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

/** A route's body (OpenAI's, TGI's, TEI's) is the request itself: it travels as `inputs`. */
async function readRouteBody(request: Request): Promise<EndpointPayload> {
  const body = await readJsonBody(request, 'object');
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
  errors: ErrorShape = 'endpoint',
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
    return errorResponse(early.status, early.error, errors);
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
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(errorBody(final.status, final.error, errors))}\n\n`));
      controller.close();
    }
  });
  const response = new Response(body, { status: 200, headers });
  GENERATED.set(response, result.then((final) => (final.ok ? final.generatedTokens : undefined)));
  return response;
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

function jsonResponse(answer: unknown, result: Extract<EngineResult, { ok: true }> | null): Response {
  const headers = result ? computeHeaders('application/json', result) : { 'content-type': 'application/json' };
  const response = new Response(JSON.stringify(answer), { status: 200, headers });
  if (result?.generatedTokens !== undefined) GENERATED.set(response, result.generatedTokens);
  return response;
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

export function errorResponse(status: number, error: string, shape: ErrorShape = 'endpoint', headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(errorBody(status, error, shape)), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/**
 * An error in a route's shape: the Endpoint's `{error}`; TGI's and TEI's `{error, error_type}`
 * (TGI's types are lower case, TEI's capitalised, as their servers send them); and TEI's OpenAI
 * `{message, code, error_type}` on `/v1/embeddings`. The status stays this library's (a 400 for a
 * bad request), which TGI and TEI clients treat as they treat those servers' 4xx answers.
 */
export function errorBody(status: number, error: string, shape: ErrorShape): Record<string, unknown> {
  const message = error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error;
  if (shape === 'endpoint') return { error: message };
  if (shape === 'tgi') return { error: message, error_type: status === 429 ? 'overloaded' : status >= 500 ? 'generation' : 'validation' };
  const type = status === 429 ? 'Overloaded' : status === 503 ? 'Unhealthy' : status >= 500 ? 'Backend' : status === 422 ? 'Tokenizer' : 'Validation';
  return shape === 'tei' ? { error: message, error_type: type } : { message, code: status, error_type: type };
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
