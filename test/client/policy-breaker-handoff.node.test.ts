/**
 * The circuit breaker, handoff's switch from remote to local, the download veto and streams, over
 * real HTTP: a real `serve()` behind a real counting proxy as the remote, a real in-process
 * engine as the local path.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalEndpointClient, type LocalEndpointClientOptions } from '../../src/client/client.js';
import { RemoteUnavailableError, type RouteInfo } from '../../src/client/policy.js';
import { createNodeEngine, serve, type RunningServer } from '../../src/node/index.js';
import type { EngineInterface } from '../../src/protocol/engine.js';
import { CLASSIFIER, CLASSIFY_TEXT, GPT2 } from '../helpers.js';
import { refusedUrl, sleep, startProxy, type Proxy } from './policy-proxy.js';

const MODELS = '.fixtures/models';

let classifier: RunningServer;
let generator: RunningServer;
let proxy: Proxy;
let streamProxy: Proxy;
let down: string;
const engines: EngineInterface[] = [];

beforeAll(async () => {
  [classifier, generator] = await Promise.all([
    serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0 }),
    serve({ task: 'text-generation', model: GPT2, modelsDir: MODELS, port: 0 }),
  ]);
  [proxy, streamProxy] = await Promise.all([startProxy(classifier.url), startProxy(generator.url)]);
  down = await refusedUrl();
  // Each remote's first answer loads its model: not part of any test.
  for (const [url, body] of [[classifier.url, { inputs: 'warm up' }], [generator.url, { inputs: 'warm up', parameters: { max_new_tokens: 1 } }]] as const) {
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }
});
afterEach(() => {
  proxy.reset();
  streamProxy.reset();
  vi.unstubAllGlobals();
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
  await Promise.all([proxy.close(), streamProxy.close()]);
  await Promise.all([classifier.close(), generator.close()]);
});

function freshEngine(): EngineInterface {
  const engine = createNodeEngine({ modelsDir: MODELS });
  engines.push(engine);
  return engine;
}

function client(options: Partial<LocalEndpointClientOptions>) {
  const routes: RouteInfo[] = [];
  const engine = options.engine ?? freshEngine();
  const c = new LocalEndpointClient({ endpointUrl: proxy.url, model: CLASSIFIER, engine, onRoute: (r) => routes.push(r), ...options });
  return { client: c, routes, engine };
}

const classify = (c: LocalEndpointClient) => c.textClassification({ inputs: CLASSIFY_TEXT });

async function loaded(engine: EngineInterface, model: string): Promise<boolean> {
  return (await engine.status()).pipelines.some((p) => p.model === model && p.state === 'ready');
}

describe('circuit breaker', () => {
  it('opens after N consecutive failures, skips the remote for the cool-down, then a probe closes it', async () => {
    const { client: c, routes } = client({ mode: 'remote-first', breaker: { failures: 2, coolDownMs: 800 } });
    proxy.behaviour = 'cold';
    await classify(c);
    expect(c.breaker!.snapshot()).toEqual({ state: 'closed', failures: 1 });
    await classify(c);
    expect(c.breaker!.state).toBe('open');
    expect(routes[1]).toMatchObject({ path: 'local', breakerOpen: true, breaker: 'open', reason: 'remote Endpoint answered 503' });

    // Open: the remote is not asked at all.
    await classify(c);
    await classify(c);
    expect(proxy.requests).toBe(2);
    expect(routes[3]).toMatchObject({ path: 'local', breakerOpen: true, fallbackReason: expect.stringMatching(/circuit breaker open after 2 consecutive failures, next probe in 1 s/) });

    // After the cool-down one probe goes through; the remote is back, so the breaker closes.
    proxy.behaviour = 'pass';
    await sleep(900);
    expect(c.breaker!.state).toBe('half-open');
    await classify(c);
    expect(proxy.requests).toBe(3);
    expect(routes.at(-1)).toMatchObject({ path: 'remote', breakerOpen: false, breaker: 'closed' });
    expect(c.breaker!.snapshot()).toEqual({ state: 'closed', failures: 0 });
  });

  it('a failed probe opens it again for another cool-down; only one probe goes at a time', async () => {
    const { client: c, routes } = client({ mode: 'remote-first', breaker: { failures: 1, coolDownMs: 500 } });
    proxy.behaviour = 'cold';
    await classify(c);
    expect(c.breaker!.state).toBe('open');
    await sleep(600);
    // Three requests at once: one probe, the others stay local without asking.
    Object.assign(proxy, { behaviour: 'slow', delayMs: 300 });
    proxy.requests = 0;
    await Promise.all([classify(c), classify(c), classify(c)]);
    expect(proxy.requests).toBe(1);
    expect(routes.slice(1).map((r) => r.path).sort()).toEqual(['local', 'local', 'remote']);

    await sleep(600);
    proxy.behaviour = 'cold';
    await classify(c); // the probe fails
    expect(proxy.requests).toBe(2);
    expect(c.breaker!.state).toBe('open');
    await classify(c);
    expect(proxy.requests).toBe(2);
  });

  it('counts network errors and timeouts; in remote mode an open breaker fails at once', async () => {
    const unreachable = client({ mode: 'remote', endpointUrl: down, breaker: { failures: 2, coolDownMs: 60_000 } }).client;
    await expect(classify(unreachable)).rejects.toThrow();
    await expect(classify(unreachable)).rejects.toThrow();
    expect(unreachable.breaker!.state).toBe('open');
    const error = await classify(unreachable).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnavailableError);
    expect((error as Error).message).toMatch(/circuit breaker open after 2 consecutive failures, next probe in 60 s/);
    expect((error as RemoteUnavailableError).breaker).toMatchObject({ state: 'open', failures: 2, retryAt: expect.any(Number) });

    Object.assign(proxy, { behaviour: 'slow', delayMs: 3000 });
    const slow = client({ mode: 'remote-first', timeoutMs: 200, breaker: { failures: 1, coolDownMs: 60_000 } });
    await classify(slow.client);
    expect(slow.client.breaker!.state).toBe('open');
    expect(slow.routes[0]).toMatchObject({ path: 'local', breakerOpen: true, reason: 'remote Endpoint did not answer within 200 ms' });
  });

  it('breaker: false turns it off', () => {
    expect(client({ mode: 'remote-first', breaker: false }).client.breaker).toBeUndefined();
  });
});

describe('handoff', () => {
  it('answers remotely while the local model loads, then locally, with no remote request after the switch', async () => {
    const { client: c, routes, engine } = client({ mode: 'handoff' });
    expect(await loaded(engine, CLASSIFIER)).toBe(false);
    const answers: unknown[] = [];
    for (let i = 0; i < 200 && routes.at(-1)?.path !== 'local'; i++) {
      answers.push(await classify(c));
      if (routes.at(-1)?.path === 'remote') await sleep(20);
    }
    const switchedAt = routes.findIndex((r) => r.path === 'local');
    expect(switchedAt).toBeGreaterThan(0); // the first answer came from the remote, with no wait
    expect(routes[0]).toMatchObject({ path: 'remote', mode: 'handoff', local: 'loading', reason: 'handoff: local model loading in the background' });
    expect(routes[switchedAt]).toMatchObject({ path: 'local', reason: 'handoff: local model loaded', local: 'loaded', device: 'cpu' });
    const remoteRequests = proxy.requests;
    expect(remoteRequests).toBe(switchedAt);

    for (let i = 0; i < 5; i++) answers.push(await classify(c));
    expect(routes.slice(switchedAt).every((r) => r.path === 'local')).toBe(true);
    expect(proxy.requests).toBe(remoteRequests); // no network at the end
    // Remote and local answers are the same answer.
    const [first] = answers as { label: string; score: number }[][];
    for (const answer of answers as { label: string; score: number }[][]) {
      expect(answer[0]!.label).toBe(first![0]!.label);
      expect(answer[0]!.score).toBeCloseTo(first![0]!.score, 4);
    }
  });

  it('a local model that fails to load leaves the answers remote and says why', async () => {
    const model = 'test-broken/corrupt-classifier';
    const { client: c, routes } = client({ mode: 'handoff', model });
    await classify(c);
    await vi.waitFor(async () => {
      await classify(c);
      expect(routes.at(-1)).toMatchObject({ path: 'remote', local: 'failed', reason: expect.stringMatching(/^handoff: local model failed to load: /) });
    });
  });

  it('unload() sends it back to the remote until the model is loaded again', async () => {
    const { client: c, routes, engine } = client({ mode: 'handoff' });
    await engine.load({ task: 'text-classification', model: CLASSIFIER });
    await classify(c); // remote: this client has not seen the model loaded yet, and does not wait to ask
    await vi.waitFor(async () => {
      await classify(c);
      expect(routes.at(-1)!.path).toBe('local');
    });
    await c.unload();
    await classify(c);
    expect(routes.at(-1)).toMatchObject({ path: 'remote' });
  });
});

describe('download veto', () => {
  /** Whether the engine reports the fixture model as cached: then loading it downloads nothing, and no veto applies. */
  const cachedIn = async (engine: EngineInterface) => (await engine.listCached()).some((m) => m.model === CLASSIFIER);

  it.each([
    ['allowDownload: false', { allowDownload: false }, undefined, /downloads are off/],
    ['an app-given metered predicate', { metered: () => true }, undefined, /the connection is metered/],
    ['navigator.connection.saveData', {}, { saveData: true }, /save data \(navigator\.connection\.saveData\)/],
    ['a cellular navigator.connection', {}, { type: 'cellular', saveData: false }, /the connection is metered \(cellular\)/],
    ['allowDownload() refusing', { allowDownload: ({ metered }: { metered: boolean }) => !metered }, { type: 'cellular' }, /allowDownload refused it/],
  ] as const)('%s vetoes handoff’s background download: answers stay remote', async (_, options, connection, reason) => {
    if (connection) vi.stubGlobal('navigator', { connection });
    const { client: c, routes, engine } = client({ mode: 'handoff', ...options });
    const cached = await cachedIn(engine);
    for (let i = 0; i < 5; i++) {
      await classify(c);
      await sleep(30);
    }
    if (cached) {
      expect(routes.at(-1)!.path).toBe('local'); // nothing to download: no veto
      return;
    }
    expect(routes.map((r) => r.path)).toEqual(['remote', 'remote', 'remote', 'remote', 'remote']);
    expect(routes.at(-1)).toMatchObject({ local: 'vetoed', reason: expect.stringMatching(reason) });
    expect(await loaded(engine, CLASSIFIER)).toBe(false);
  });

  it('a vetoed download does not stop a loaded model from answering', async () => {
    vi.stubGlobal('navigator', { connection: { saveData: true } });
    const { client: c, routes, engine } = client({ mode: 'handoff' });
    await engine.load({ task: 'text-classification', model: CLASSIFIER });
    await classify(c);
    await vi.waitFor(async () => {
      await classify(c);
      expect(routes.at(-1)!.path).toBe('local');
    });
  });

  it('in Node there is no navigator.connection: no veto', async () => {
    const { client: c, routes } = client({ mode: 'handoff' });
    await vi.waitFor(async () => {
      await classify(c);
      expect(routes.at(-1)!.path).toBe('local');
    });
  });
});

describe('streams', () => {
  const generate = (c: LocalEndpointClient) => c.textGenerationStream({ inputs: 'Hello', parameters: { max_new_tokens: 12 } });

  it('a timeout stops waiting for the answer, never a stream that has started', async () => {
    // The headers come at once; the first token 400 ms later, past the timeout.
    Object.assign(streamProxy, { behaviour: 'drip', delayMs: 400 });
    const { client: c, routes } = client({ mode: 'remote-first', endpointUrl: streamProxy.url, model: GPT2, timeoutMs: 300 });
    const t0 = performance.now();
    let chunks = 0;
    for await (const _ of generate(c)) chunks++;
    expect(performance.now() - t0).toBeGreaterThan(800);
    expect(chunks).toBe(12);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote' })]);
  });

  it('handoff: a stream that started remotely ends remotely though the local model became ready mid-way; the next is local', async () => {
    Object.assign(streamProxy, { behaviour: 'drip', delayMs: 20 });
    const { client: c, routes, engine } = client({ mode: 'handoff', endpointUrl: streamProxy.url, model: GPT2 });
    let chunks = 0;
    let readyMidway = false;
    for await (const _ of generate(c)) {
      if (++chunks === 1) {
        await vi.waitFor(async () => expect(await loaded(engine, GPT2)).toBe(true), { timeout: 30_000 });
        readyMidway = true;
      }
    }
    expect(readyMidway).toBe(true);
    expect(chunks).toBe(12);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote' })]);
    expect(streamProxy.requests).toBe(1);

    chunks = 0;
    for await (const _ of generate(c)) chunks++;
    expect(chunks).toBe(12);
    expect(routes.at(-1)).toMatchObject({ path: 'local', reason: 'handoff: local model loaded' });
    expect(streamProxy.requests).toBe(1);
  });
});
