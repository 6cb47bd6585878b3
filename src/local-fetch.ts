/**
 * `createLocalFetch`: a function with `fetch`'s signature that answers Inference Endpoint requests
 * locally. Passed as the `fetch` option of `@huggingface/inference`'s InferenceClient, it makes
 * unchanged client code run on the device.
 */
import { toErrorValue } from './errors.js';
import { getTask } from './tasks/registry.js';
import type { Dialect, EndpointPayload } from './tasks/types.js';
import { readPayload } from './wire/body.js';
import { detectDialect } from './wire/dialect.js';
import type { EngineLike, EngineResult, ProgressEvent } from './transport/engine-like.js';
import type { DevicePreference } from '../worker/runtime.js';

/** What one endpoint URL serves locally. */
export interface LocalEndpoint {
  task: string;
  model: string;
  device?: DevicePreference;
  dtype?: string;
}

export interface LocalFetchOptions {
  engine: EngineLike;
  /** Endpoint URL → what it serves. Requests to `<url>`, `<url>/` and `<url>/predict` run the model. */
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
    if (route !== '' && route !== '/predict') return errorResponse(404, `No route POST ${route}; use / or /predict.`);

    const { endpoint } = match;
    try {
      const task = getTask(endpoint.task);
      const dialect = detectDialect(headers, options.dialect);
      const payload = withClientDefaults(await readPayload(request, url), dialect, task.clientParameters);
      const result = await options.engine.infer(
        { ...endpoint, inputs: payload.inputs, parameters: payload.parameters },
        options.onProgress,
      );
      if (!result.ok) return errorResponse(result.status, result.error);
      // The answer is shaped again from the same request: parse is pure and cheap.
      const answer =
        dialect === 'client' && task.toClient ? task.toClient(result.output, task.parse(payload)) : result.output;
      return jsonResponse(answer, result);
    } catch (err) {
      const { status, error } = toErrorValue(err);
      return errorResponse(status, error);
    }
  };
}

/** The client's reader needs some parameters (see TaskModule.clientParameters); the caller's win. */
function withClientDefaults(payload: EndpointPayload, dialect: Dialect, defaults?: Readonly<Record<string, unknown>>): EndpointPayload {
  if (dialect !== 'client' || !defaults) return payload;
  return { ...payload, parameters: { ...defaults, ...payload.parameters } };
}

function jsonResponse(answer: unknown, result: Extract<EngineResult, { ok: true }>): Response {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-compute-type': result.device,
    'x-compute-time': (result.computeMs / 1000).toFixed(4),
  };
  if (result.fallback) headers['x-compute-fallback'] = result.fallback.replace(/[\r\n]+/g, ' ').slice(0, 500);
  return new Response(JSON.stringify(answer), { status: 200, headers });
}

export function errorResponse(status: number, error: string): Response {
  return new Response(JSON.stringify({ error }), { status, headers: { 'content-type': 'application/json' } });
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
