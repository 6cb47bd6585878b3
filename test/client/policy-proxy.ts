/**
 * A real, tiny HTTP proxy in front of a real `serve()`, for the policy tests: it passes requests
 * through, delays them, answers 503 like a cold Endpoint, or drips a streamed answer, and counts
 * what it sees (requests, and those the client gave up on before the answer ended).
 */
import http from 'node:http';

export type ProxyBehaviour =
  /** Forward as it comes. */
  | 'pass'
  /** Forward after `delayMs` (a slow Endpoint). */
  | 'slow'
  /** Answer 503, as a cold Endpoint does. */
  | 'cold'
  /** Forward the headers at once, then hold each chunk of the body, and its end, `delayMs` (a slow stream). */
  | 'drip';

export interface Proxy {
  url: string;
  behaviour: ProxyBehaviour;
  delayMs: number;
  /** Requests received (POSTs and GETs, not CORS preflights). */
  requests: number;
  /** Requests whose client hung up before the answer was complete. */
  abandoned: number;
  /** Waits until `abandoned` reaches `n` (a client's abort reaches the proxy a moment later). */
  abandonedAtLeast(n: number, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const server = http.createServer();
  const proxy: Proxy = {
    url: '',
    behaviour: 'pass',
    delayMs: 0,
    requests: 0,
    abandoned: 0,
    async abandonedAtLeast(n, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (proxy.abandoned < n && Date.now() < until) await sleep(10);
    },
    reset() {
      proxy.behaviour = 'pass';
      proxy.delayMs = 0;
      proxy.requests = 0;
      proxy.abandoned = 0;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
  server.on('request', (req, res) => {
    if (req.method !== 'OPTIONS') proxy.requests++;
    res.on('close', () => {
      if (!res.writableFinished) proxy.abandoned++;
    });
    const { behaviour, delayMs } = proxy;
    if (behaviour === 'cold') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Endpoint is initializing' }));
      return;
    }
    const forward = () => {
      if (res.destroyed) return;
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        async (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (behaviour !== 'drip') return void answer.pipe(res);
          res.flushHeaders();
          for await (const chunk of answer) {
            await sleep(delayMs);
            if (res.destroyed) return void answer.destroy();
            res.write(chunk);
          }
          await sleep(delayMs);
          res.end();
        },
      );
      out.on('error', () => res.destroy());
      res.on('close', () => out.destroy());
      req.pipe(out);
    };
    if (behaviour === 'slow') setTimeout(forward, delayMs);
    else forward();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}

/**
 * A URL where nothing listens: connections are refused. The port is below Linux's ephemeral range
 * (32768–60999), so no server listening on port 0 (the tests start many) can take it later and
 * answer, or hang, in its place. Also used by test/global-setup.ts.
 */
export async function refusedUrl(): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = http.createServer();
    const bound = await new Promise<boolean>((ok) => {
      server.once('error', () => ok(false));
      server.listen(port, '127.0.0.1', () => ok(true));
    });
    if (!bound) continue;
    await new Promise<void>((ok) => server.close(() => ok()));
    return `http://127.0.0.1:${port}`;
  }
  throw new Error('no free port below the ephemeral range');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}
