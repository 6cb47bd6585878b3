/**
 * Every policy over real HTTP: the remote is a real `serve()` behind a real proxy (up, slow,
 * answering 503) or a port nothing listens on (down); the local path is a real in-process engine
 * (onnxruntime-node). The proxy counts what reaches the remote.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { LocalEndpointClient } from '../../src/client/client.js';
import { policyFetch, type Mode, type RouteInfo } from '../../src/client/policy.js';
import { createLocalFetch } from '../../src/local-fetch/index.js';
import { createNodeEngine, serve, type RunningServer } from '../../src/node/index.js';
import type { EngineInterface } from '../../src/protocol/engine.js';
import { CLASSIFIER, CLASSIFY_TEXT, LABELS } from '../helpers.js';
import { refusedUrl, startProxy, type Proxy } from './policy-proxy.js';

const MODELS = '.fixtures/models';
/** The slow remote's timeout; it answers only after SLOW_MS. */
const TIMEOUT_MS = 1500;
const SLOW_MS = 6000;

let server: RunningServer;
let proxy: Proxy;
let down: string;
const engines: EngineInterface[] = [];

beforeAll(async () => {
  server = await serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0 });
  proxy = await startProxy(server.url);
  down = await refusedUrl();
  // The remote's first answer loads its model: not part of any test.
  await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'warm up' }) });
});
afterEach(() => proxy.reset());
afterAll(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
  await proxy.close();
  await server.close();
});

/** A fresh local engine: the model is neither loaded nor cached until something loads it. */
function freshEngine(modelsDir = MODELS): EngineInterface {
  const engine = createNodeEngine({ modelsDir });
  engines.push(engine);
  return engine;
}

type Remote = 'up' | 'down' | 'slow' | 'cold';

function clientFor(mode: Mode, remote: Remote, engine = freshEngine(), extra: Partial<ConstructorParameters<typeof LocalEndpointClient>[0]> = {}) {
  if (remote === 'slow') Object.assign(proxy, { behaviour: 'slow', delayMs: SLOW_MS });
  if (remote === 'cold') proxy.behaviour = 'cold';
  const routes: RouteInfo[] = [];
  const client = new LocalEndpointClient({
    mode,
    endpointUrl: remote === 'down' ? down : proxy.url,
    model: CLASSIFIER,
    engine,
    // Only the slow remote needs the short timeout: a loaded machine must not turn the others' answers into timeouts.
    timeoutMs: remote === 'slow' ? TIMEOUT_MS : 30_000,
    onRoute: (r) => routes.push(r),
    ...extra,
  });
  return { client, routes, engine };
}

const classify = (client: LocalEndpointClient) => client.textClassification({ inputs: CLASSIFY_TEXT });
const classification = [{ label: expect.toBeOneOf(LABELS), score: expect.any(Number) }];
const REASONS: Record<Exclude<Remote, 'up'>, RegExp> = {
  down: /remote Endpoint unreachable/,
  slow: new RegExp(`remote Endpoint did not answer within ${TIMEOUT_MS} ms`),
  cold: /remote Endpoint answered 503/,
};

describe('mode "local"', () => {
  it.each(['up', 'down', 'cold'] as const)('answers locally and sends nothing to the remote (remote %s)', async (remote) => {
    const { client, routes } = clientFor('local', remote);
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', mode: 'local', device: 'cpu', status: 200, breakerOpen: false })]);
    expect(proxy.requests).toBe(0);
  });
});

describe('mode "remote"', () => {
  it('answers remotely, with the remote x-compute-type and x-compute-time', async () => {
    const { client, routes } = clientFor('remote', 'up');
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([
      { path: 'remote', mode: 'remote', reason: expect.any(String), status: 200, computeType: 'cpu', computeTime: expect.any(Number), breakerOpen: false, breaker: 'closed' },
    ]);
    expect(proxy.requests).toBe(1);
  });

  it('fails when the remote is down, slow or cold, and never answers locally', async () => {
    for (const remote of ['down', 'slow', 'cold'] as const) {
      const { client, routes } = clientFor('remote', remote);
      await expect(classify(client)).rejects.toThrow();
      // Only an answer is reported: the 503.
      expect(routes).toEqual(remote === 'cold' ? [expect.objectContaining({ path: 'remote', status: 503, reason: expect.stringMatching(REASONS.cold) })] : []);
    }
  });
});

describe.each(['remote-first', 'auto'] as const)('mode "%s"', (mode) => {
  it('answers remotely while the remote is up', async () => {
    const { client, routes } = clientFor(mode, 'up');
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote', mode, status: 200, computeType: 'cpu' })]);
  });

  it.each(['down', 'slow', 'cold'] as const)('answers locally when the remote is %s, saying why', async (remote) => {
    const { client, routes } = clientFor(mode, remote);
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([
      expect.objectContaining({ path: 'local', mode, device: 'cpu', reason: expect.stringMatching(REASONS[remote]), fallbackReason: expect.stringMatching(REASONS[remote]) }),
    ]);
    // A cold remote (503, timeout) starts warming the local model at once; an unreachable one does not.
    if (remote === 'down') expect(routes[0]!.local).toBeUndefined();
    else expect(routes[0]!.local).toBeOneOf(['loading', 'loaded']);
  });

  it('passes a remote 4xx through: the caller’s error, not an outage', async () => {
    const { client, routes } = clientFor(mode, 'up');
    await expect(client.textClassification({ inputs: 42 as unknown as string })).rejects.toThrow(/inputs must be a string/);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote', status: 400 })]);
  });
});

describe('mode "local-first"', () => {
  it('a model neither loaded nor cached: answers remotely', async () => {
    const { client, routes } = clientFor('local-first', 'up');
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote', local: 'absent', reason: 'local model neither loaded nor cached' })]);
    expect(proxy.requests).toBe(1);
  });

  it.each(['down', 'slow', 'cold'] as const)('a model neither loaded nor cached, remote %s: answers locally', async (remote) => {
    const { client, routes } = clientFor('local-first', remote);
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', fallbackReason: expect.stringMatching(REASONS[remote]) })]);
  });

  it.each(['up', 'down', 'slow', 'cold'] as const)('a loaded model answers locally without asking the remote (remote %s)', async (remote) => {
    const engine = freshEngine();
    expect((await engine.load({ task: 'text-classification', model: CLASSIFIER, device: 'cpu' })).ok).toBe(true);
    const { client, routes } = clientFor('local-first', remote, engine);
    const t0 = performance.now();
    expect(await classify(client)).toEqual(classification);
    expect(performance.now() - t0).toBeLessThan(SLOW_MS / 2);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', reason: 'local model loaded', local: 'loaded', device: 'cpu' })]);
    expect(proxy.requests).toBe(0);
  });

  it('a local failure goes to the remote', async () => {
    // A long input fails inside ONNX Runtime with this model (its tokenizer allows more tokens than it has positions).
    const engine = freshEngine();
    const model = 'test-broken/overlong-tokenizer-classifier';
    expect((await engine.load({ task: 'text-classification', model })).ok).toBe(true);
    const { client, routes } = clientFor('local-first', 'up', engine, { model });
    const answer = await client.textClassification({ inputs: 'word '.repeat(1000) });
    expect(answer).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote', reason: expect.stringMatching(/^local engine answered 5\d\d/) })]);
    expect(proxy.requests).toBe(1);
  });
});

describe('mode "race"', () => {
  it('remote slow: the local answer wins and the remote request is aborted', async () => {
    const { client, routes } = clientFor('race', 'slow', freshEngine(), { timeoutMs: undefined });
    const t0 = performance.now();
    expect(await classify(client)).toEqual(classification);
    expect(performance.now() - t0).toBeLessThan(SLOW_MS / 2);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', reason: 'race: the local engine answered first' })]);
    await proxy.abandonedAtLeast(1);
    expect(proxy.requests).toBe(1);
    expect(proxy.abandoned).toBe(1);
  });

  it('the model is not there locally: the remote answer wins', async () => {
    const { client, routes } = clientFor('race', 'up', freshEngine('.fixtures/no-such-models'));
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote', reason: expect.stringMatching(/^race: the remote Endpoint answered first \(local engine answered 400: Model .* could not be found/) })]);
  });

  it.each(['down', 'cold'] as const)('remote %s: the local answer wins', async (remote) => {
    const { client, routes } = clientFor('race', remote);
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', reason: expect.stringMatching(/^race: the local engine answered first/) })]);
  });

  it('a local 400 for a bad request is a good answer: it wins over a slow remote', async () => {
    const { client, routes } = clientFor('race', 'slow', freshEngine(), { timeoutMs: undefined });
    await expect(client.textClassification({ inputs: 42 as unknown as string })).rejects.toThrow(/inputs must be a string/);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', status: 400 })]);
    await proxy.abandonedAtLeast(1);
    expect(proxy.abandoned).toBe(1);
  });

  it('both down: the local failure is the answer', async () => {
    const { client, routes } = clientFor('race', 'down', freshEngine('.fixtures/no-such-models'));
    await expect(classify(client)).rejects.toThrow(/could not be found/);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', status: 400, reason: expect.stringMatching(/^race: both failed/) })]);
  });
});

describe('mode "handoff" (first request, nothing loaded)', () => {
  it('remote up: answers remotely at once while the local model loads', async () => {
    const { client, routes } = clientFor('handoff', 'up');
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'remote', local: expect.toBeOneOf(['loading', 'loaded']), reason: expect.stringMatching(/^handoff: local model/) })]);
  });

  it.each(['down', 'slow', 'cold'] as const)('remote %s: answers locally', async (remote) => {
    const { client, routes } = clientFor('handoff', remote);
    expect(await classify(client)).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', fallbackReason: expect.stringMatching(REASONS[remote]) })]);
  });
});

describe('policyFetch on its own', () => {
  it('works with the official client and a plain fetch (auto)', async () => {
    const routes: RouteInfo[] = [];
    const engine = freshEngine();
    const local = createLocalFetch({ engine, endpoints: { [down]: { task: 'text-classification', model: CLASSIFIER } } });
    const fetch = policyFetch({ mode: 'auto', local, remote: globalThis.fetch, onRoute: (r) => routes.push(r) });
    const hf = new InferenceClient('', { endpointUrl: down, fetch, retry_on_error: false });
    expect(await hf.textClassification({ inputs: CLASSIFY_TEXT })).toEqual(classification);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', mode: 'auto', fallbackReason: expect.stringMatching(/unreachable/) })]);
  });

  it('handoff needs the local model', () => {
    expect(() => policyFetch({ mode: 'handoff', local: fetch, remote: fetch })).toThrow(/needs the local model/);
  });

  it('does not answer locally when the caller aborted', async () => {
    const { client, routes } = clientFor('remote-first', 'slow', freshEngine(), { timeoutMs: undefined });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client.textClassification({ inputs: CLASSIFY_TEXT }, { signal: controller.signal })).rejects.toThrow();
    expect(routes).toEqual([]);
    expect(client.breaker?.snapshot()).toEqual({ state: 'closed', failures: 0 });
  });
});
