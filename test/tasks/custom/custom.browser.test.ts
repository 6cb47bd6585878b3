/**
 * The custom task in real Chromium, through a real module Worker (`new WorkerEngine()`) and the
 * page's local fetch: the fixture handlers (handler.js in /models/<model>/, fetched and imported
 * by the worker), an app-named handler module, the trust refusals, bad handlers, and parity with
 * the same handlers served by `local-endpoint serve --task custom` in Node.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';

const remote = inject('remote');
const TEXT = 'local-endpoint/tiny-handler-text';
const IMAGE = 'local-endpoint/tiny-handler-image';
const STREAM = 'local-endpoint/tiny-handler-stream';
const SEED = { inputs: 'This is a sample input', moreData: 1, customTask: true };
/** An app-named handler module on this page's own origin (served by the test server as JS). */
const MOODY_URL = new URL('./handlers/moody-handler.js', import.meta.url).href;
const LIMIT_MS = 3000;

const engines: WorkerEngine[] = [];
afterAll(() => engines.forEach((e) => e.terminate()));
function endpointsFor(engine: WorkerEngine, models: Record<string, string>) {
  engines.push(engine);
  const endpoints = Object.fromEntries(Object.entries(models).map(([name, model]) => [`https://${name}.custom.example`, { task: 'custom', model, device: 'wasm' as const }]));
  return createLocalFetch({ engine, endpoints });
}
const at = (name: string) => `https://${name}.custom.example`;

const engine = new WorkerEngine({ handlers: { 'test/moody': MOODY_URL }, handlerTimeoutMs: LIMIT_MS });
const localFetch = endpointsFor(engine, { text: TEXT, image: IMAGE, stream: STREAM, moody: 'test/moody' });
const post = (f: typeof fetch, url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  f(url, { method: 'POST', headers, body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body) });
const errorOf = async (r: Response) => ((await r.json()) as { error: string }).error;

/** Labels equal, scores within float noise (WASM against onnxruntime-node). */
function sameLabels(a: unknown, b: unknown) {
  const x = a as { label: string; score: number }[];
  const y = b as { label: string; score: number }[];
  expect(x.map((l) => l.label)).toEqual(y.map((l) => l.label));
  x.forEach((l, i) => expect(l.score).toBeCloseTo(y[i]!.score, 4));
}

describe('custom handlers in the worker', () => {
  // ONNX Runtime's start (the WASM module) blocks the worker for a moment: done before the clock matters.
  beforeAll(async () => {
    expect(await engine.load({ task: 'text-classification', model: 'local-endpoint/tiny-bert-classifier', device: 'wasm' })).toMatchObject({ ok: true });
  });

  it('the model folder’s handler.js runs in the worker: request() with the seed payload, its extra keys reaching call(data)', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: at('text'), fetch: localFetch });
    const answer = (await client.request(SEED as never)) as { text: string; labels: unknown; extra: unknown };
    expect(answer.text).toBe('This is a sample input');
    expect(answer.extra).toEqual({ moreData: 1, customTask: true });
    const status = await engine.status();
    expect(status.pipelines).toEqual(expect.arrayContaining([expect.objectContaining({ task: 'custom', model: TEXT, state: 'ready' })]));
    // Its pipeline call ran on the engine's own pipeline (cached, in the one ONNX queue).
    expect(status.pipelines).toEqual(expect.arrayContaining([expect.objectContaining({ task: 'text-classification', model: 'local-endpoint/tiny-bert-classifier' })]));
  });

  it('answers as the same handler served by Node (serve --task custom)', async () => {
    const body = { ...SEED, inputs: '  I love   you. I like you ', parameters: { top_k: 3 } };
    const local = (await (await post(localFetch, at('text'), body)).json()) as { text: string; labels: unknown; extra: unknown };
    const node = (await (await post(fetch, remote.customText, body)).json()) as typeof local;
    expect(local.text).toBe(node.text);
    expect(local.extra).toEqual(node.extra);
    sameLabels(local.labels, node.labels);
  });

  it('a raw image body reaches the handler decoded, as in Node', async () => {
    const png = new Uint8Array(await (await fetch('/models/test-media/tiger.png')).arrayBuffer());
    const r = await post(localFetch, at('image'), png.slice(), { 'content-type': 'image/png' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-compute-type')).toBe('wasm');
    const local = (await r.json()) as { width: number; height: number; labels: unknown };
    expect(local).toMatchObject({ width: 612, height: 408, channels: 3 });
    const node = (await (await post(fetch, remote.customImage, png, { 'content-type': 'image/png' })).json()) as typeof local;
    expect(local.width).toBe(node.width);
    sameLabels(local.labels, node.labels);
  });

  it('streams: the official client’s streamingRequest through the local fetch, one event per yielded value, as Node streams them', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: at('stream'), fetch: localFetch });
    const values: unknown[] = [];
    for await (const value of client.streamingRequest({ inputs: 'I love you' } as never)) values.push(value);
    expect(values.slice(0, 3)).toEqual([{ index: 0, word: 'I' }, { index: 1, word: 'love' }, { index: 2, word: 'you' }]);
    const node: unknown[] = [];
    const nodeClient = new InferenceClient(undefined, { endpointUrl: remote.customStream });
    for await (const value of nodeClient.streamingRequest({ inputs: 'I love you' } as never)) node.push(value);
    expect(values).toHaveLength(node.length);
    sameLabels((values[3] as { labels: unknown }).labels, (node[3] as { labels: unknown }).labels);
    // Raw: text/event-stream, and without "stream" the array of the values.
    const raw = await post(localFetch, at('stream'), { inputs: 'a b', stream: true });
    expect(raw.headers.get('content-type')).toBe('text/event-stream');
    expect((await raw.text()).split('\n\n').slice(0, 2)).toEqual(['data: {"index":0,"word":"a"}', 'data: {"index":1,"word":"b"}']);
    expect(((await (await post(localFetch, at('stream'), { inputs: 'a b' })).json()) as unknown[]).length).toBe(3);
  });

  it('an app-named handler module on the page’s origin loads by dynamic import; a throw is a 400, then a good request is answered', async () => {
    let r = await post(localFetch, at('moody'), { inputs: 'throw' });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'the moody handler refuses "throw"' });
    r = await post(localFetch, at('moody'), { inputs: 'fine' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true, inputs: 'fine', runtime: 'browser' });
  });

  it('a non-JSON answer is a 500 naming it; a hanging handler is a 504 after the limit; the worker serves on', async () => {
    const bigint = await post(localFetch, at('moody'), { inputs: 'bigint' });
    expect(bigint.status).toBe(500);
    expect(await errorOf(bigint)).toMatch(/answer\.count is a BigInt/);
    const t0 = performance.now();
    const hung = await post(localFetch, at('moody'), { inputs: 'hang' });
    expect(hung.status).toBe(504);
    expect(await errorOf(hung)).toMatch(new RegExp(`did not answer within ${LIMIT_MS} ms \\(handlerTimeoutMs\\)`));
    expect(performance.now() - t0).toBeLessThan(LIMIT_MS + 3000);
    const good = await post(localFetch, at('text'), SEED);
    expect(good.status).toBe(200);
    expect(engine.replacements).toBe(0);
  });

  it('a caller’s abort reaches the handler’s signal in the worker', async () => {
    const controller = new AbortController();
    const pending = localFetch(at('moody'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'signal' }), signal: controller.signal });
    await new Promise((ok) => setTimeout(ok, 200));
    controller.abort();
    await expect(pending).rejects.toThrow();
    await new Promise((ok) => setTimeout(ok, 200));
    expect(await (await post(localFetch, at('moody'), { inputs: 'last-abort' })).json()).toEqual({ aborted: 'The request was cancelled by the caller.' });
  });

  it('a handler stuck in a synchronous endless loop: the host replaces the worker and answers 504; the next request is answered', async () => {
    const t0 = performance.now();
    const stuck = await post(localFetch, at('moody'), { inputs: 'loop' });
    expect(stuck.status).toBe(504);
    expect(await errorOf(stuck)).toMatch(/synchronous code past the custom handler time limit \(handlerTimeoutMs, 3000 ms\) without yielding/);
    expect(performance.now() - t0).toBeLessThan(2 * LIMIT_MS + 6000);
    expect(engine.replacements).toBe(1);
    const next = await post(localFetch, at('moody'), { inputs: 'fine' });
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ ok: true, calls: 1 }); // a fresh worker, a fresh handler
  });
});

describe('custom handlers: what is refused in the browser', () => {
  it('a handler module on another origin, a data: URL and a blob: URL are refused with a 403', async () => {
    const blob = URL.createObjectURL(new Blob(['export class EndpointHandler { call() { return "ran" } }'], { type: 'text/javascript' }));
    const refusing = new WorkerEngine({
      handlers: {
        'evil/other-origin': `${remote.textClassification}/handler.js`,
        'evil/data': 'data:text/javascript,export class EndpointHandler { call() { return "ran" } }',
        'evil/blob': blob,
      },
    });
    const f = endpointsFor(refusing, { other: 'evil/other-origin', data: 'evil/data', blob: 'evil/blob' });
    const other = await post(f, at('other'), { inputs: 'x' });
    expect(other.status).toBe(403);
    expect(await errorOf(other)).toMatch(new RegExp(`^The custom handler of "evil/other-origin" is refused: its module http://127\\.0\\.0\\.1:\\d+/handler\\.js is on another origin than the app's \\(${location.origin.replace(/[.:/]/g, '\\$&')}\\)`));
    for (const [name, scheme] of [['data', 'data:'], ['blob', 'blob:']]) {
      const r = await post(f, at(name!), { inputs: 'x' });
      expect(r.status).toBe(403);
      expect(await errorOf(r)).toMatch(new RegExp(`refused: its module URL is a ${scheme} URL\\. Only modules served from the app's own origin`));
    }
    URL.revokeObjectURL(blob);
  });

  // The Hub, simulated: the test server's model folder as the remote host (plain folders), and no local folder.
  const hub = { localModelPath: '/no-local-models/', allowRemoteModels: true, remoteHost: `${location.origin}/models/`, remotePathTemplate: '{model}/' };

  it('a handler.js downloaded from the Hub never runs without the opt-in: a 403 naming trustRemoteCode', async () => {
    const f = endpointsFor(new WorkerEngine(hub), { text: TEXT });
    const r = await post(f, at('text'), SEED);
    expect(r.status).toBe(403);
    const error = await errorOf(r);
    expect(error).toMatch(/^The custom handler of "local-endpoint\/tiny-handler-text" is refused: its handler\.js would be downloaded from the Hub \(http:\/\/[^)]+\/models\/local-endpoint\/tiny-handler-text\/handler\.js\)/);
    expect(error).toContain('trustRemoteCode: ["local-endpoint/tiny-handler-text"]');
  });

  it('with trustRemoteCode for that repository it runs, and answers as the local folder’s', async () => {
    const f = endpointsFor(new WorkerEngine({ ...hub, trustRemoteCode: [TEXT] }), { text: TEXT });
    const r = await post(f, at('text'), SEED);
    expect(r.status).toBe(200);
    const fromHub = (await r.json()) as { text: string; labels: unknown; extra: unknown };
    const local = (await (await post(localFetch, at('text'), SEED)).json()) as typeof fromHub;
    expect(fromHub.extra).toEqual(local.extra);
    sameLabels(fromHub.labels, local.labels);
  });
});
