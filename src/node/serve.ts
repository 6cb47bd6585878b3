/**
 * `local-endpoint serve`: the engine in Node behind an HTTP server that speaks the Inference
 * Endpoint protocol (`POST /`, `/predict`, `GET /health`). A remote Endpoint to test against, and
 * a local one for apps.
 */
import http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
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
}

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
  });
  const host = options.host ?? '127.0.0.1';
  if (options.apiKey === '') throw new Error('The API key is empty: give a key, or none.');
  const server = http.createServer();
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
  };
  server.on('request', (req, res) => {
    void answer(req, res, context);
  });
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
  // A client that hangs up cancels its request (a generation stops within one token).
  const hangUp = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) hangUp.abort();
  });
  let response: Response;
  try {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
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

/**
 * Reads the body up to the limit. Past it, the rest is read and dropped, so that the client gets
 * a clean 413 rather than a reset connection. Past four times the limit, the 413 goes at once and
 * the connection closes after it.
 */
function readBody(req: http.IncomingMessage): Promise<Buffer<ArrayBuffer>> {
  return new Promise((ok, fail) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else {
        chunks = [];
        if (size > 4 * MAX_BODY_BYTES && !settled) {
          settled = true;
          fail(new BodyTooLarge(size, true));
        }
      }
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      if (size > MAX_BODY_BYTES) fail(new BodyTooLarge(size, false));
      else ok(Buffer.concat(chunks) as Buffer<ArrayBuffer>);
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      fail(err);
    });
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
