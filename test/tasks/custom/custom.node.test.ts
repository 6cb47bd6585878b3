/**
 * The custom task in Node, as `local-endpoint serve --task custom` answers it: real `serve()`
 * servers over HTTP, the real engine (onnxruntime-node) and the fixture handlers (handler.js files
 * written into .fixtures/models by fixtures/handlers.ts), plus deliberately bad handlers
 * (test/tasks/custom/handlers/). The trust refusals come last: their Hub mirror changes
 * transformers.js's process-wide settings.
 */
import http from 'node:http';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { env } from '@huggingface/transformers';
import { serve, type RunningServer, type ServeOptions } from '../../../src/node/serve.js';

const MODELS = '.fixtures/models';
const TEXT = 'local-endpoint/tiny-handler-text';
const IMAGE = 'local-endpoint/tiny-handler-image';
const STREAM = 'local-endpoint/tiny-handler-stream';
const MOODY = 'test/tasks/custom/handlers/moody-handler.js';
/** The Endpoint toolkit's seed payload for a custom handler. */
const SEED = { inputs: 'This is a sample input', moreData: 1, customTask: true };

const servers: RunningServer[] = [];
async function start(options: Partial<ServeOptions> & Pick<ServeOptions, 'model'>): Promise<RunningServer> {
  const server = await serve({ task: 'custom', modelsDir: MODELS, port: 0, onWarning: () => undefined, ...options });
  servers.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const post = (url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(url, { method: 'POST', headers, body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body) });
const errorOf = async (r: Response) => ((await r.json()) as { error: string }).error;

let text: RunningServer;
let classifier: RunningServer;
beforeAll(async () => {
  text = await start({ model: TEXT });
  classifier = await serve({ task: 'text-classification', model: 'local-endpoint/tiny-bert-classifier', modelsDir: MODELS, port: 0 });
  servers.push(classifier);
  expect(await text.ready).toBe(true);
});

describe('serve --task custom: the handler.js of the model folder', () => {
  it('gets the seed payload whole: the extra top-level keys reach call(data)', async () => {
    const r = await post(text.url, SEED);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-compute-type')).toBe('cpu');
    const answer = (await r.json()) as { text: string; extra: Record<string, unknown> };
    expect(answer.text).toBe('This is a sample input');
    expect(answer.extra).toEqual({ moreData: 1, customTask: true });
  });

  it('its pipeline call answers exactly as the text-classification task does for the same (pre-processed) text', async () => {
    const messy = '  I love   you.\n I like you ';
    const custom = (await (await post(text.url, { inputs: messy, parameters: { top_k: 3 } })).json()) as { text: string; labels: unknown };
    expect(custom.text).toBe('I love you. I like you');
    const direct = await (await post(classifier.url, { inputs: 'I love you. I like you', parameters: { top_k: 3 } })).json();
    expect(custom.labels).toEqual(direct);
    expect(custom.labels).toHaveLength(3);
  });

  it('the official client’s request() gets the handler’s answer; GET /health is 200 once the handler loaded', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: text.url });
    const answer = (await client.request(SEED as never)) as { extra: unknown };
    expect(answer.extra).toEqual({ moreData: 1, customTask: true });
    expect((await fetch(`${text.url}/health`)).status).toBe(200);
  });

  it('a handler’s throw is a 400 {"error": message}, and the next request is answered', async () => {
    const r = await post(text.url, { inputs: ['not', 'a', 'string'] });
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toBe('inputs must be a string, got an array');
    expect((await post(text.url, SEED)).status).toBe(200);
  });

  it('an image body reaches the handler decoded (a RawImage), and its image pipeline answers as image-classification does', async () => {
    const image = await start({ model: IMAGE });
    const png = new Uint8Array(readFileSync(`${MODELS}/test-media/tiger.png`));
    const raw = await post(image.url, png, { 'content-type': 'image/png' });
    expect(raw.status).toBe(200);
    const answer = (await raw.json()) as { width: number; height: number; channels: number; labels: { label: string; score: number }[] };
    expect(answer).toMatchObject({ width: 612, height: 408, channels: 3 });
    expect(answer.labels).toHaveLength(3);
    const vit = await serve({ task: 'image-classification', model: 'local-endpoint/tiny-vit-classifier', modelsDir: MODELS, port: 0 });
    servers.push(vit);
    const direct = await (await fetch(`${vit.url}?top_k=3`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })).json();
    expect(answer.labels).toEqual(direct);
    // The same image as base64 JSON, decoded by the handler itself; and a body with no Content-Type.
    const b64 = await (await post(image.url, { inputs: Buffer.from(png).toString('base64') })).json();
    expect(b64).toEqual(answer);
    const untyped = await fetch(image.url, { method: 'POST', body: png });
    expect(await untyped.json()).toEqual(answer);
  });
});

describe('serve --task custom: a streaming handler (an async generator)', () => {
  let stream: RunningServer;
  beforeAll(async () => {
    stream = await start({ model: STREAM });
  });

  it('streams each yielded value as one SSE event to the official client’s streamingRequest', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: stream.url });
    const values: unknown[] = [];
    for await (const value of client.streamingRequest({ inputs: 'I love you' } as never)) values.push(value);
    expect(values.slice(0, 3)).toEqual([{ index: 0, word: 'I' }, { index: 1, word: 'love' }, { index: 2, word: 'you' }]);
    const last = values[3] as { done: boolean; labels: unknown };
    expect(last.done).toBe(true);
    const direct = await (await post(classifier.url, { inputs: 'I love you' })).json();
    expect(last.labels).toEqual(direct);
    expect(values).toHaveLength(4);
  });

  it('raw: "stream": true is text/event-stream, one data: event each; without it, the JSON array of the values', async () => {
    const r = await post(stream.url, { inputs: 'a b', stream: true });
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const events = (await r.text()).split('\n\n').filter(Boolean);
    expect(events.slice(0, 2)).toEqual(['data: {"index":0,"word":"a"}', 'data: {"index":1,"word":"b"}']);
    expect(events).toHaveLength(3);
    const whole = await (await post(stream.url, { inputs: 'a b' })).json();
    expect((whole as unknown[]).slice(0, 2)).toEqual([{ index: 0, word: 'a' }, { index: 1, word: 'b' }]);
  });

  it('a non-streaming handler asked to stream sends its answer as one event', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: text.url });
    const values: unknown[] = [];
    for await (const value of client.streamingRequest(SEED as never)) values.push(value);
    expect(values).toHaveLength(1);
    expect((values[0] as { extra: unknown }).extra).toEqual({ moreData: 1, customTask: true, stream: true });
  });
});

describe('serve --task custom --handler: bad handlers, and the engine serves on', () => {
  let moody: RunningServer;
  beforeAll(async () => {
    moody = await start({ model: 'test/moody', handler: MOODY, handlerTimeoutMs: 400 });
    expect(await moody.ready).toBe(true);
  });

  it('a throw is a 400 with its message (a thrown string too), then a good request is answered', async () => {
    let r = await post(moody.url, { inputs: 'throw' });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'the moody handler refuses "throw"' });
    r = await post(moody.url, { inputs: 'throw-string' });
    expect(await r.json()).toEqual({ error: 'a bare string thrown' });
    r = await post(moody.url, { inputs: 'fine' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true, inputs: 'fine', runtime: 'node' });
  });

  it('past handlerTimeoutMs: a 504 naming the limit, the handler’s signal aborted; then a good request is answered', async () => {
    const t0 = performance.now();
    const r = await post(moody.url, { inputs: 'hang' });
    expect(r.status).toBe(504);
    expect(await errorOf(r)).toMatch(/did not answer within 400 ms \(handlerTimeoutMs\)/);
    expect(performance.now() - t0).toBeLessThan(3000);
    const signalled = await post(moody.url, { inputs: 'signal' }); // answers only once its signal aborts
    expect(signalled.status).toBe(504);
    expect(await (await post(moody.url, { inputs: 'last-abort' })).json()).toEqual({ aborted: expect.stringMatching(/did not answer within 400 ms/) });
    expect((await post(moody.url, { inputs: 'fine' })).status).toBe(200);
  });

  it('a caller that hangs up aborts the handler’s signal', async () => {
    const controller = new AbortController();
    const pending = fetch(moody.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'signal' }), signal: controller.signal }).catch((err: unknown) => err);
    await new Promise((ok) => setTimeout(ok, 100));
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await new Promise((ok) => setTimeout(ok, 100));
    expect(await (await post(moody.url, { inputs: 'last-abort' })).json()).toEqual({ aborted: 'The request was cancelled by the caller.' });
  });

  it.each([
    ['function', /answer is a function \(secret\)/],
    ['bigint', /answer\.count is a BigInt/],
    ['cyclic', /answer\.self is a cyclic value/],
    ['undefined', /answer is undefined/],
    ['symbol', /answer\[1\] is a symbol/],
    ['map', /answer is a Map, not a plain object/],
  ])('an answer that is not JSON (%s) is a 500 naming what was returned', async (inputs, message) => {
    const r = await post(moody.url, { inputs });
    expect(r.status).toBe(500);
    const error = await errorOf(r);
    expect(error).toMatch(/^The custom handler's answer is not JSON: /);
    expect(error).toMatch(message);
    expect((await post(moody.url, { inputs: 'fine' })).status).toBe(200);
  });

  it('bytes go out as the raw body (application/octet-stream)', async () => {
    const r = await post(moody.url, { inputs: 'bytes' });
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await r.arrayBuffer())]).toEqual([1, 2, 3, 250]);
  });

  it('a module without an EndpointHandler class, or a missing file: the load fails with a clear error and no path', async () => {
    const none = await start({ model: 'test/none', handler: 'test/tasks/custom/handlers/no-class.js' });
    expect(await none.ready).toBe(false);
    const r = await post(none.url, { inputs: 'x' });
    expect(r.status).toBe(500);
    expect(await errorOf(r)).toMatch(/exports no class EndpointHandler/);
    const missing = await start({ model: 'test/missing', handler: 'test/tasks/custom/handlers/nothing-here.js' });
    const m = await post(missing.url, { inputs: 'x' });
    expect(m.status).toBe(400);
    const error = await errorOf(m);
    expect(error).toMatch(/does not exist: nothing-here\.js is not a file/);
    expect(error).not.toContain(resolve('.'));
    const bare = await start({ model: 'local-endpoint/tiny-bert-classifier' }); // a model folder without handler.js
    const b = await post(bare.url, { inputs: 'x' });
    expect(b.status).toBe(400);
    expect(await errorOf(b)).toMatch(/has no custom handler: no handler\.js in the local model folder/);
  });
});

describe('serve --task custom: where a handler may come from (trust)', () => {
  const root = resolve(MODELS);
  let mirror: http.Server;
  let hub: string;
  const requested: string[] = [];
  let cacheDir: string;
  beforeAll(async () => {
    // A Hub mirror: `<model>/resolve/main/<file>` from the fixture folder, handler.js as the Hub sends it (text/plain).
    mirror = http.createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
      requested.push(path);
      const match = /^\/(.+?)\/resolve\/[^/]+\/(.+)$/.exec(path);
      const file = match ? normalize(join(root, match[1]!, match[2]!)) : '';
      if (!file.startsWith(root) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
        return;
      }
      res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : file.endsWith('.js') ? 'text/plain; charset=utf-8' : 'application/octet-stream' });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((ok) => mirror.listen(0, '127.0.0.1', () => ok()));
    hub = `http://127.0.0.1:${(mirror.address() as { port: number }).port}/`;
    cacheDir = env.cacheDir = mkdtempSync(join(tmpdir(), 'local-endpoint-custom-cache-'));
  });
  afterAll(() => {
    mirror.closeAllConnections();
    mirror.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('a handler.js downloaded from the Hub never runs without --trust-remote-code: a 403 saying how to allow it', async () => {
    requested.length = 0;
    const server = await start({ model: TEXT, modelsDir: '.fixtures/no-local-models', remoteHost: hub });
    expect(await server.ready).toBe(false);
    const r = await post(server.url, SEED);
    expect(r.status).toBe(403);
    const error = await errorOf(r);
    expect(error).toMatch(/^The custom handler of "local-endpoint\/tiny-handler-text" is refused: its handler\.js would be downloaded from the Hub \(http:\/\/127\.0\.0\.1:\d+\/local-endpoint\/tiny-handler-text\/resolve\/main\/handler\.js\)/);
    expect(error).toContain('--trust-remote-code');
    // It was looked up on the Hub (to tell a refused handler from none), not run.
    expect(requested.filter((u) => u.endsWith('handler.js')).length).toBeGreaterThan(0);
  });

  it('with --trust-remote-code it runs (and its pipeline comes from the Hub too), answering as the local folder’s', async () => {
    const server = await start({ model: TEXT, modelsDir: '.fixtures/no-local-models', remoteHost: hub, trustRemoteCode: true });
    expect(await server.ready).toBe(true);
    const r = await post(server.url, SEED);
    expect(r.status).toBe(200);
    const local = await (await post(text.url, SEED)).json();
    expect(await r.json()).toEqual(local);
  });

  it('--handler must be a file: a data: or https: URL is refused with a 403', async () => {
    for (const handler of ['data:text/javascript,export class EndpointHandler { call() { return 1 } }', 'https://handlers.example/handler.js']) {
      const server = await start({ model: 'test/url', handler });
      const r = await post(server.url, { inputs: 'x' });
      expect(r.status).toBe(403);
      expect(await errorOf(r)).toMatch(/refused: in Node a handler is a file the operator names \(a path or a file: URL\), not a (data|https): URL/);
    }
  });
});
