/**
 * `serve` bounds what callers can hold (issue 12, defect 6): requests at once, body bytes held
 * across connections, and the time headers and bodies may take. Past a bound: a 429 with
 * Retry-After (TGI's "Model is overloaded"), or a 408 for a stalled request, always a JSON
 * `{"error"}`; the requests within the bounds are answered as before. Real `serve()`, real sockets.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, SERVE_LIMITS, type RunningServer, type ServeOptions } from '../../src/node/serve.js';
import { CLASSIFIER, CLASSIFY_TEXT } from '../helpers.js';

const MODELS = '.fixtures/models';
const GOOD = JSON.stringify({ inputs: CLASSIFY_TEXT });

/** A connection that sends a request's head and the first `sent` bytes of a `declared`-byte body, then waits. */
interface Held {
  /** Sends the rest of the body. */
  finish(): void;
  /** The raw answer, once the server has sent it and closed or finished it. */
  answer: Promise<{ status: number; headers: string; body: string; closedAfterMs: number }>;
  socket: net.Socket;
}

function hold(url: string, declared: number, sent: number, head = true): Held {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const started = Date.now();
  const body = Buffer.alloc(declared, 0x20);
  GOOD.length <= declared && Buffer.from(GOOD).copy(body); // a good request, padded with spaces
  const headText = `POST / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`;
  if (head) socket.write(headText);
  if (sent > 0) socket.write(body.subarray(0, sent));
  socket.on('error', () => undefined);
  const answer = new Promise<{ status: number; headers: string; body: string; closedAfterMs: number }>((ok) => {
    let text = '';
    let answered = false;
    /** The body when the answer is whole (Content-Length, or chunked up to its last chunk), else null. */
    const whole = (): { status: number; headers: string; body: string } | null => {
      const at = text.indexOf('\r\n\r\n');
      if (at < 0) return null;
      const headers = text.slice(0, at);
      const rest = text.slice(at + 4);
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1] ?? 0);
      const length = /content-length: (\d+)/i.exec(headers);
      if (length) return rest.length >= Number(length[1]) ? { status, headers, body: rest.slice(0, Number(length[1])) } : null;
      if (!/transfer-encoding: chunked/i.test(headers)) return null;
      let body = '';
      for (let i = 0; ; ) {
        const eol = rest.indexOf('\r\n', i);
        if (eol < 0) return null;
        const size = parseInt(rest.slice(i, eol), 16);
        if (size === 0) return { status, headers, body };
        if (rest.length < eol + 2 + size + 2) return null;
        body += rest.slice(eol + 2, eol + 2 + size);
        i = eol + 2 + size + 2;
      }
    };
    const done = (found: { status: number; headers: string; body: string } | null) => {
      if (answered) return;
      answered = true;
      ok({ ...(found ?? { status: 0, headers: text, body: '' }), closedAfterMs: Date.now() - started });
    };
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const found = whole();
      if (found) {
        done(found);
        socket.destroy();
      }
    });
    socket.on('close', () => done(whole()));
  });
  return { finish: () => socket.write(body.subarray(sent)), answer, socket };
}

async function post(url: string, body = GOOD): Promise<{ status: number; json: unknown; retryAfter: string | null }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, json: await response.json(), retryAfter: response.headers.get('retry-after') };
}

async function started(options: Partial<ServeOptions>): Promise<RunningServer> {
  const server = await serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0, ...options });
  expect(await server.ready).toBe(true);
  return server;
}

const servers: RunningServer[] = [];
let reference: unknown;
beforeAll(async () => {
  const plain = await started({});
  servers.push(plain);
  reference = (await post(plain.url)).json;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('serve: bounds on what callers hold (defect 6)', () => {
  it('has bounds by default: 128 requests, 256 MiB of bodies, headers within 10 s, bodies never idle 10 s', () => {
    expect(SERVE_LIMITS).toEqual({
      maxConcurrentRequests: 128,
      maxBufferedBytes: 256 * 1024 * 1024,
      headersTimeoutMs: 10_000,
      bodyIdleTimeoutMs: 10_000,
      requestTimeoutMs: 120_000,
    });
  });

  it('answers 429 with Retry-After past maxConcurrentRequests, and serves the requests within it', async () => {
    const server = await started({ maxConcurrentRequests: 2 });
    servers.push(server);
    const held = [hold(server.url, GOOD.length + 10, 5), hold(server.url, GOOD.length + 10, 5)];
    await new Promise((ok) => setTimeout(ok, 200)); // both are being read
    const refused = await post(server.url);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.json).toEqual({ error: expect.stringMatching(/^The server is overloaded: 2 requests are being served, the most this server takes at once \(maxConcurrentRequests/) });
    for (const h of held) h.finish();
    for (const h of held) {
      const answer = await h.answer;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual(reference);
    }
    // The slots are free again.
    expect(await post(server.url)).toMatchObject({ status: 200, json: reference });
  });

  it('answers 429 once the bodies being read hold maxBufferedBytes, declared or streamed, and frees the bytes after', async () => {
    const bound = 1024 * 1024;
    const server = await started({ maxBufferedBytes: bound });
    servers.push(server);
    const first = hold(server.url, 700 * 1024, 600 * 1024);
    await new Promise((ok) => setTimeout(ok, 300));
    // Declared: refused before a byte of its body is read.
    const declared = hold(server.url, 500 * 1024, 0);
    const refused = await declared.answer;
    expect(refused.status).toBe(429);
    expect(refused.headers).toMatch(/retry-after: 1/i);
    expect(JSON.parse(refused.body).error).toMatch(/the request bodies being read hold \d+ bytes; 512000 more would pass the 1048576-byte bound \(maxBufferedBytes/);
    // Chunked (no Content-Length): refused when its bytes pass the bound.
    const chunked = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(new Uint8Array(64 * 1024).fill(0x20)) }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(429);
    expect((await chunked.json()).error).toMatch(/the bound is 1048576 \(maxBufferedBytes/);
    // The first body, within the bound, is answered; then its bytes are free again.
    first.finish();
    expect(JSON.parse((await first.answer).body)).toEqual(reference);
    const again = hold(server.url, 900 * 1024, 900 * 1024);
    expect((await again.answer).status).toBe(200);
  });

  it('drops a body that stalls for bodyIdleTimeoutMs with a 408, and keeps serving', async () => {
    const server = await started({ bodyIdleTimeoutMs: 1000 });
    servers.push(server);
    const stalled = hold(server.url, 1000, 10);
    const answer = await stalled.answer;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({ error: 'The request body stalled: no bytes for 1 s (bodyIdleTimeoutMs).' });
    expect(answer.closedAfterMs).toBeLessThan(5000);
    expect(await post(server.url)).toMatchObject({ status: 200, json: reference });
  });

  it('closes a slowloris (headers a byte a second) within 20 s by default with a 408, while serving others', async () => {
    const server = servers[0]!; // default limits
    const { hostname, port } = new URL(server.url);
    const slow = Array.from({ length: 20 }, () => {
      const h = hold(server.url, 0, 0, false);
      const head = `POST / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nX-Padding: ${'x'.repeat(60)}`;
      let i = 0;
      const timer = setInterval(() => (i < head.length && !h.socket.destroyed ? h.socket.write(head[i++]!) : clearInterval(timer)), 1000);
      return h.answer.finally(() => clearInterval(timer));
    });
    // Meanwhile good requests are answered.
    expect(await post(server.url)).toMatchObject({ status: 200, json: reference });
    const answers = await Promise.all(slow);
    for (const answer of answers) {
      expect(answer.closedAfterMs).toBeLessThan(20_000);
      expect(answer.status).toBe(408);
    }
    expect(await post(server.url)).toMatchObject({ status: 200, json: reference });
  }, 40_000);

  it('the CLI takes the bounds as flags and refuses values that are not positive numbers', () => {
    const run = (...flags: string[]) =>
      spawnSync(process.execPath, ['bin/local-endpoint.js', 'serve', '--task', 'text-classification', '--model', CLASSIFIER, '--models-dir', MODELS, ...flags], { encoding: 'utf8', timeout: 30_000 });
    for (const [flag, value, kind] of [
      ['--max-concurrent-requests', '0', 'integer'],
      ['--max-buffered-bytes', '1.5', 'integer'],
      ['--max-audio-seconds', 'abc', 'number'],
      ['--request-timeout', '-3', 'number'],
    ] as const) {
      const result = run(`${flag}=${value}`);
      expect(result.status).toBe(2);
      expect(result.stderr).toBe(`${flag} must be a positive ${kind}, got "${value}".\n`);
    }
    expect(spawnSync(process.execPath, ['bin/local-endpoint.js', '--help'], { encoding: 'utf8' }).stdout).toMatch(/--max-concurrent-requests <n> +requests served at once \(default 128\)/);
  });
});
