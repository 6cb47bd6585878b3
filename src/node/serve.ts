/**
 * `local-endpoint serve`: the engine in Node behind an HTTP server that speaks the Inference
 * Endpoint protocol (`POST /`, `/predict`, `GET /health`). A remote Endpoint to test against, and
 * a local one for apps.
 */
import http from 'node:http';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Engine } from '../../worker/engine.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { createLocalFetch, errorResponse } from '../local-fetch/index.js';
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
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { localModelPath, model, isLocal } = resolveModel(options.model, options.modelsDir);
  const engine = new Engine(nodeRuntime(), {
    localModelPath,
    allowRemoteModels: options.allowRemoteModels ?? !isLocal,
  });
  const host = options.host ?? '127.0.0.1';
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

  server.on('request', (req, res) => {
    void answer(req, res, url, handle, options.cors);
  });
  return {
    url,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

async function answer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  base: string,
  handle: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>,
  cors: string[] | undefined,
): Promise<void> {
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
    response = errorResponse(400, (err as Error).message);
  }
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
 * Reads the body up to the limit. Past it, the rest is read and dropped, so that the client gets
 * a clean 400 rather than a reset connection; a body past four times the limit is cut off.
 */
function readBody(req: http.IncomingMessage): Promise<Buffer<ArrayBuffer>> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > 4 * MAX_BODY_BYTES) req.destroy();
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) fail(new Error(`The request body is ${size} bytes, over the limit of ${MAX_BODY_BYTES} bytes.`));
      else ok(Buffer.concat(chunks) as Buffer<ArrayBuffer>);
    });
    req.on('error', fail);
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

/** A folder path becomes (its parent as the model path, its name as the id). */
function resolveModel(model: string, modelsDir?: string) {
  if (modelsDir) return { localModelPath: resolve(modelsDir), model, isLocal: existsSync(resolve(modelsDir, model)) };
  const path = resolve(model);
  if (existsSync(path) && statSync(path).isDirectory()) {
    return { localModelPath: dirname(path), model: basename(path), isLocal: true };
  }
  return { localModelPath: resolve('models'), model, isLocal: false };
}
