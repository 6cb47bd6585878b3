/**
 * `local-endpoint serve`: the engine in Node behind an HTTP server that speaks the Inference
 * Endpoint protocol (`POST /`, `/predict`, `GET /health`). A remote Endpoint to test against, and
 * a local one for apps.
 */
import http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { basename, dirname, resolve } from 'node:path';
import { Engine } from '../../worker/engine.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { MAX_ERROR_CHARS, createLocalFetch, errorResponse } from '../local-fetch/index.js';
import { quoteName } from '../protocol/errors.js';
import { MAX_BODY_BYTES } from '../wire/body.js';
import { DIALECT_HEADER } from '../wire/dialect.js';
import type { Dialect } from '../tasks/types.js';

export interface ServeOptions {
  task: string;
  /** A Hub id, a folder holding the model, or an id under `modelsDir`. */
  model: string;
  /** Folder that holds model folders by id (like the fixtures' output). */
  modelsDir?: string;
  port?: number;
  host?: string;
  dialect?: Dialect | 'auto';
  /** Allowed browser origins: `*`, a list, or (default) pages served from localhost only. */
  cors?: string[];
  /** Whether Hub downloads are allowed (default: only when the model is not a local folder). */
  allowRemoteModels?: boolean;
  /** A Hub mirror to download from (default the Hub, https://huggingface.co/). */
  remoteHost?: string;
  /**
   * Requests must send `Authorization: Bearer <apiKey>` (as the official client does with its
   * access token). `GET /health`, `GET /` and CORS preflights stay open. Default: no key.
   */
  apiKey?: string;
  /**
   * Host names (the request's `Host` header, port ignored) served besides localhost, `*.localhost`
   * and IP addresses: `name`, `name:port` (that port only), `.example.com` (the domain and its
   * subdomains), or `*` (any: no Host check). Others get a 403, which stops DNS rebinding.
   */
  allowedHosts?: string[];
  /** Where warnings go (binding beyond loopback without an API key). Default: stderr. */
  onWarning?: (message: string) => void;
  /**
   * Requests served at once (read, queued or running; not `/health`). Past it, a 429 with
   * `Retry-After`, as TGI's `max_concurrent_requests`. Default 128.
   */
  maxConcurrentRequests?: number;
  /** Request-body bytes held in memory across all connections. Past it, a 429. Default 256 MiB. */
  maxBufferedBytes?: number;
  /** A request's headers must arrive within this (a slowloris is closed with a 408). Default 10 s. */
  headersTimeoutMs?: number;
  /** A body that sends nothing for this long is dropped with a 408. Default 10 s. */
  bodyIdleTimeoutMs?: number;
  /** A request (headers and body) must arrive within this. Default 120 s. */
  requestTimeoutMs?: number;
  /** Audio longer than this is refused with a 413 (the engine's `maxAudioSeconds`). Default 600. */
  maxAudioSeconds?: number;
  /**
   * `--task custom`: the handler module file (`--handler <path>`) for the model, instead of the
   * `handler.js` in its model folder. The operator names it, so it runs.
   */
  handler?: string;
  /**
   * `--task custom`: run the model's handler.js when it is downloaded from the Hub
   * (`--trust-remote-code`, as `trust_remote_code` in transformers). Default false: only the
   * handler.js of a model folder under `modelsDir` (or the named `handler`) runs.
   */
  trustRemoteCode?: boolean;
  /** `--task custom`: how long a handler's call may take, in ms (`--handler-timeout <s>`). Default 60 000. */
  handlerTimeoutMs?: number;
}

/** The defaults of the limits above (the README's "Limits and security" lists them). */
export const SERVE_LIMITS = {
  maxConcurrentRequests: 128,
  maxBufferedBytes: 256 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  bodyIdleTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
} as const;

/** What `/health` answers: 503 while the model loads, 200 once it is ready, 500 if it failed. */
export type ServeHealth = { state: 'loading' } | { state: 'ready' } | { state: 'failed'; error: string };

export interface RunningServer {
  url: string;
  close(): Promise<void>;
  /** The model's state, as `/health` reports it. */
  health(): ServeHealth;
  /** Settles when the model has loaded (true) or failed to (false). */
  ready: Promise<boolean>;
}

/** How long a connection closed after a 413 keeps reading (and dropping) what the client still sends. */
const LINGER_MS = 2000;

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { localModelPath, model, isLocal } = resolveModel(options.model, options.modelsDir);
  const engine = new Engine(nodeRuntime(), {
    localModelPath,
    allowRemoteModels: options.allowRemoteModels ?? !isLocal,
    ...(options.maxAudioSeconds !== undefined ? { maxAudioSeconds: options.maxAudioSeconds } : {}),
    // A path resolves against the working folder; a URL goes as it is (the runtime refuses all but file:).
    ...(options.handler !== undefined ? { handlers: { [model]: /^[a-z][a-z0-9+.-]+:/i.test(options.handler) ? options.handler : resolve(options.handler) } } : {}),
    ...(options.remoteHost !== undefined ? { remoteHost: options.remoteHost } : {}),
    ...(options.trustRemoteCode ? { trustRemoteCode: [model] } : {}),
    ...(options.handlerTimeoutMs !== undefined ? { handlerTimeoutMs: options.handlerTimeoutMs } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  if (options.apiKey === '') throw new Error('The API key is empty: give a key, or none.');
  const limits = { ...SERVE_LIMITS, ...definedOnly(options) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${value}.`);
  }
  // Node closes a connection whose headers (or whole request) are late with a 408, checking
  // every second rather than every 30 s.
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs + 1),
    connectionsCheckingInterval: 1000,
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, host, () => ok());
  });
  const address = server.address() as { port: number };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const handle = createLocalFetch({
    engine,
    endpoints: { [url]: { task: options.task, model } },
    dialect: options.dialect ?? 'auto',
  });
  const warn = options.onWarning ?? ((message: string) => void process.stderr.write(`local-endpoint: warning: ${message}\n`));
  if (!isLoopback(host) && !options.apiKey) {
    warn(
      `listening on ${host}, beyond this machine, without an API key: anyone who can reach port ${address.port} can use the model. ` +
        'Set one with --api-key or LOCAL_ENDPOINT_API_KEY.',
    );
  }

  // The model loads at start, as an Endpoint's does; /health says where that stands.
  const state: { health: ServeHealth } = { health: { state: 'loading' } };
  const ready = engine.load({ task: options.task, model }).then(
    (result) => {
      state.health = result.ok ? { state: 'ready' } : { state: 'failed', error: result.error };
      return result.ok;
    },
    (err: unknown) => {
      state.health = { state: 'failed', error: (err as Error)?.message ?? String(err) };
      return false;
    },
  );

  const context: ServeContext = {
    base: url,
    model,
    handle,
    cors: options.cors,
    hosts: allowedHostList(host, options.allowedHosts),
    keyDigest: options.apiKey ? digest(options.apiKey) : undefined,
    state,
    limits,
    inFlight: 0,
    buffered: 0,
  };
  server.on('request', (req, res) => {
    void answer(req, res, context);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket, limits));
  return {
    url,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
    health: () => state.health,
    ready,
  };
}

interface ServeContext {
  base: string;
  model: string;
  handle: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  cors: string[] | undefined;
  /** Host names allowed besides localhost and IP addresses; null: any. */
  hosts: string[] | null;
  keyDigest: Buffer | undefined;
  state: { health: ServeHealth };
  limits: Required<Pick<ServeOptions, keyof typeof SERVE_LIMITS>>;
  /** Requests being read, queued or run now. */
  inFlight: number;
  /** Body bytes held in memory now, across connections. */
  buffered: number;
}

/** The limits the caller set (undefined ones keep their defaults). */
function definedOnly(options: ServeOptions): Partial<typeof SERVE_LIMITS> {
  const set: Record<string, number> = {};
  for (const name of Object.keys(SERVE_LIMITS) as (keyof typeof SERVE_LIMITS)[]) {
    if (options[name] !== undefined) set[name] = options[name];
  }
  return set;
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, context: ServeContext): Promise<void> {
  const { base, handle, cors } = context;
  // DNS rebinding: a page on evil.example whose name now points here sends `Host: evil.example`.
  if (!hostAllowed(req.headers.host, context.hosts)) {
    const shown = quoteName(req.headers.host ?? '', 100);
    sendError(res, 403, `Host ${JSON.stringify(shown)} is not allowed: this server answers localhost and IP addresses. Allow a name with --allowed-host (allowedHosts).`);
    return;
  }
  const origin = req.headers.origin;
  const allowed = origin && corsAllows(origin, cors);
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'origin');
    res.setHeader('access-control-expose-headers', 'x-compute-type, x-compute-time, x-compute-fallback');
  }
  if (req.method === 'OPTIONS') {
    if (allowed) {
      res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      res.setHeader('access-control-allow-headers', req.headers['access-control-request-headers'] ?? `content-type, authorization, ${DIALECT_HEADER}`);
      res.setHeader('access-control-max-age', '600');
    }
    res.writeHead(allowed ? 204 : 403).end();
    return;
  }
  const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
  if ((req.method === 'GET' || req.method === 'HEAD') && (path === '' || path === '/health')) {
    answerHealth(res, context);
    return;
  }
  if (context.keyDigest && !keyMatches(req.headers.authorization, context.keyDigest)) {
    res.setHeader('www-authenticate', 'Bearer');
    const sent = req.headers.authorization !== undefined;
    sendError(res, 401, sent ? 'The API key is wrong: send Authorization: Bearer <key>.' : 'An API key is needed: send Authorization: Bearer <key>.');
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > 4 * MAX_BODY_BYTES) {
    // Not worth reading: answer at once, then close.
    closeAfterAnswer(res);
    sendError(res, 413, tooLargeMessage(declared));
    return;
  }
  const { limits } = context;
  // Past the bounds, a 429 before a byte of the body is held (TGI's "Model is overloaded").
  const overloaded =
    context.inFlight >= limits.maxConcurrentRequests
      ? `${context.inFlight} requests are being served, the most this server takes at once (maxConcurrentRequests, --max-concurrent-requests ${limits.maxConcurrentRequests})`
      : declared <= MAX_BODY_BYTES && context.buffered + declared > limits.maxBufferedBytes
        ? `the request bodies being read hold ${context.buffered} bytes; ${declared} more would pass the ${limits.maxBufferedBytes}-byte bound (maxBufferedBytes, --max-buffered-bytes)`
        : null;
  if (overloaded) {
    if (declared > 0) closeAfterAnswer(res); // the body is not read: close after the answer
    res.setHeader('retry-after', '1');
    sendError(res, 429, `The server is overloaded: ${overloaded}. Retry later.`);
    return;
  }
  context.inFlight++;
  // The body's bytes count against maxBufferedBytes until the answer is done (the engine holds them).
  const held = { bytes: 0 };
  res.once('close', () => {
    context.inFlight--;
    context.buffered -= held.bytes;
    held.bytes = 0;
  });
  // A client that hangs up cancels its request (a generation stops within one token).
  const hangUp = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) hangUp.abort();
  });
  let response: Response;
  try {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req, context, held);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) headers.set(name, value.join(', '));
    }
    response = await handle(new URL(req.url ?? '/', base), { method: req.method, headers, body, signal: hangUp.signal });
  } catch (err) {
    if (hangUp.signal.aborted) return;
    if (err instanceof BodyTooLarge) {
      if (err.cutOff) closeAfterAnswer(res);
      response = errorResponse(413, err.message);
    } else if (err instanceof BodyRefused) {
      closeAfterAnswer(res);
      if (err.status === 429) res.setHeader('retry-after', '1');
      response = errorResponse(err.status, err.message);
    } else {
      response = errorResponse(400, (err as Error).message);
    }
  }
  // A model that failed to load and answers now (loaded by a later request) is healthy again.
  if (response.ok && context.state.health.state !== 'ready') context.state.health = { state: 'ready' };
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  if (!response.body) {
    res.end();
    return;
  }
  // Streamed as it comes (server-sent events reach the client token by token).
  res.flushHeaders();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (res.destroyed) break;
      res.write(chunk);
    }
  } catch {
    // The generation was cancelled (the client left) or failed mid-stream.
  }
  res.end();
}

/**
 * What Node's HTTP parser refuses before a request exists (malformed HTTP, headers too large, a
 * request too slow to arrive: a slowloris) gets the Endpoint's JSON error too, then the close.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, limits: ServeContext['limits']): void {
  const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  const [status, reason, error] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', `The request did not arrive in time: its headers must come within ${limits.headersTimeoutMs / 1000} s (headersTimeoutMs), all of it within ${limits.requestTimeoutMs / 1000} s (requestTimeoutMs).`]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
        : [400, 'Bad Request', `The request is not valid HTTP/1.1 (${String(err.code ?? 'parse error')}).`];
  const body = JSON.stringify({ error });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** `GET /health` (and `GET /`): 200 "Ok" once the model is loaded, 503 while it loads, 500 if it failed. */
function answerHealth(res: http.ServerResponse, { model, state }: ServeContext): void {
  const health = state.health;
  if (health.state === 'ready') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Ok');
  } else if (health.state === 'loading') {
    res.setHeader('retry-after', '1');
    sendError(res, 503, `The model ${model} is loading.`);
  } else {
    sendError(res, 500, `The model ${model} failed to load: ${health.error}`);
  }
}

function sendError(res: http.ServerResponse, status: number, error: string): void {
  const body = JSON.stringify({ error: error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/**
 * Closes the connection after this answer, without losing it. Node destroys a `connection:
 * close` socket once the answer is written; with request bytes still unread, that sends a TCP
 * reset, and the client may drop the answer it has not read yet. Instead: half-close, read and
 * drop what still comes for LINGER_MS, then close (Apache's "lingering close").
 */
function closeAfterAnswer(res: http.ServerResponse): void {
  res.setHeader('connection', 'close');
  const socket = res.socket;
  if (!socket) return;
  socket.destroySoon = function destroySoon(this: typeof socket) {
    if (this.writable) this.end();
  };
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => clearTimeout(timer));
}

/** A body over the limit: a 413. `cutOff`: it passed four times the limit, and was not read to its end. */
class BodyTooLarge extends Error {
  readonly cutOff: boolean;

  constructor(size: number, cutOff: boolean) {
    super(tooLargeMessage(size, cutOff));
    this.cutOff = cutOff;
  }
}

function tooLargeMessage(size: number, cutOff = false): string {
  return `The request body is ${cutOff ? 'over ' : ''}${size} bytes, over the limit of ${MAX_BODY_BYTES} bytes.`;
}

/** A body refused while it was read: 408 (it stalled) or 429 (the buffered bytes passed their bound). */
class BodyRefused extends Error {
  constructor(readonly status: 408 | 429, message: string) {
    super(message);
  }
}

/**
 * Reads the body up to the limit. Past it, the rest is read and dropped, so that the client gets
 * a clean 413 rather than a reset connection. Past four times the limit, the 413 goes at once and
 * the connection closes after it. The bytes held count against `maxBufferedBytes` until the
 * request ends; a body that stalls for `bodyIdleTimeoutMs` is refused with a 408.
 */
function readBody(req: http.IncomingMessage, context: ServeContext, held: { bytes: number }): Promise<Buffer<ArrayBuffer>> {
  const { limits } = context;
  return new Promise((ok, fail) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const hold = (bytes: number) => {
      held.bytes += bytes;
      context.buffered += bytes;
    };
    const releaseHeld = () => {
      context.buffered -= held.bytes;
      held.bytes = 0;
    };
    const settle = (err: Error | null, body?: Buffer<ArrayBuffer>) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      if (err) {
        chunks = [];
        releaseHeld();
        fail(err);
      } else ok(body!);
    };
    let idle = setTimeout(stalled, limits.bodyIdleTimeoutMs);
    function stalled() {
      settle(new BodyRefused(408, `The request body stalled: no bytes for ${limits.bodyIdleTimeoutMs / 1000} s (bodyIdleTimeoutMs).`));
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (settled) return;
      clearTimeout(idle);
      idle = setTimeout(stalled, limits.bodyIdleTimeoutMs);
      if (size <= MAX_BODY_BYTES) {
        if (context.buffered + chunk.length > limits.maxBufferedBytes) {
          settle(new BodyRefused(429, `The server is overloaded: the request bodies being read hold ${context.buffered} bytes, the bound is ${limits.maxBufferedBytes} (maxBufferedBytes, --max-buffered-bytes). Retry later.`));
          return;
        }
        chunks.push(chunk);
        hold(chunk.length);
      } else {
        chunks = [];
        releaseHeld();
        if (size > 4 * MAX_BODY_BYTES) settle(new BodyTooLarge(size, true));
      }
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) settle(new BodyTooLarge(size, false));
      else settle(null, Buffer.concat(chunks) as Buffer<ArrayBuffer>);
    });
    req.on('error', (err) => settle(err));
  });
}

/** By default only pages on this machine may call the server from a browser. */
export function corsAllows(origin: string, cors: string[] | undefined): boolean {
  if (cors?.includes('*')) return true;
  if (cors?.length) return cors.includes(origin);
  try {
    const { hostname } = new URL(origin);
    return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
  } catch {
    return false;
  }
}

/** Whether an address to bind is on this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || /^::ffff:127\./.test(h);
}

/** The allowed host names: the configured ones, and the bound address when it is a name. Null: any. */
function allowedHostList(bound: string, configured: string[] | undefined): string[] | null {
  const hosts = (configured ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (hosts.includes('*')) return null;
  if (!isIP(bound.replace(/^\[|\]$/g, ''))) hosts.push(bound.toLowerCase());
  return hosts;
}

/**
 * The Host check (as Ollama's): localhost, `*.localhost`, any IP address (a DNS-rebinding page
 * reaches the server under a name of its own, never under an IP), and the allowed names. A
 * request without a Host header (HTTP/1.0; Node refuses HTTP/1.1 without one) passes.
 */
export function hostAllowed(header: string | undefined, allowed: string[] | null): boolean {
  if (allowed === null || header === undefined || header === '') return true;
  const value = header.trim().toLowerCase();
  let hostname: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return false;
    return isIP(value.slice(1, end)) === 6;
  }
  const colon = value.lastIndexOf(':');
  hostname = colon >= 0 ? value.slice(0, colon) : value;
  hostname = hostname.replace(/\.$/, '');
  if (isIP(hostname) === 4) return true;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  return allowed.some((entry) => {
    if (entry.startsWith('.')) return hostname === entry.slice(1) || hostname.endsWith(entry);
    return entry.includes(':') ? value === entry : hostname === entry.replace(/\.$/, '');
  });
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** `Authorization: Bearer <key>`, compared in constant time (SHA-256 digests of equal length). */
function keyMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer[ \t]+(.*)$/i.exec(header ?? '');
  const given = digest(match ? match[1]!.trim() : '');
  return timingSafeEqual(given, expected) && match !== null;
}

/** A folder path becomes (its parent as the model path, its name as the id). */
function resolveModel(model: string, modelsDir?: string) {
  if (modelsDir) return { localModelPath: resolve(modelsDir), model, isLocal: existsSync(resolve(modelsDir, model)) };
  const path = resolve(model);
  if (existsSync(path) && statSync(path).isDirectory()) {
    return { localModelPath: dirname(path), model: basename(path), isLocal: true };
  }
  return { localModelPath: resolve('models'), model, isLocal: false };
}
