/**
 * A worker that dies (terminated from the page, out of memory, a script that never starts) in
 * real Chromium: the requests waiting on it fail within a second with a 502 that says so, the
 * ones only queued behind the running one are answered by a fresh worker, and the next request
 * works. And an abort storm: 200 requests aborted at random leave nothing behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_DIED_STATUS, WorkerEngine } from '../../src/host/worker-engine.js';
import type { EngineRequest, EngineResult, StreamEvent } from '../../src/protocol/engine.js';
import { CLASSIFIER, CLASSIFY_TEXT, GPT2, VARIED_TEXTS, deepCloseTo } from '../helpers.js';
import type { DyingWorkerMessage } from './dying-worker.js';

let engine: WorkerEngine | undefined;
afterEach(() => {
  engine?.terminate();
  engine = undefined;
});

/** The workers created for the engine under test, newest last. */
const workers: Worker[] = [];
const realWorker = () => remember(new Worker(new URL('../../worker/index.js', import.meta.url), { type: 'module', name: 'local-endpoint' }));
const noLocksWorker = () => remember(new Worker(new URL('./no-locks-worker.js', import.meta.url), { type: 'module', name: 'no-locks-worker' }));
const dyingWorker = () => remember(new Worker(new URL('./dying-worker.js', import.meta.url), { type: 'module', name: 'dying-worker' }));
function remember(worker: Worker): Worker {
  workers.push(worker);
  return worker;
}

const classify = (inputs: string = CLASSIFY_TEXT, signal?: AbortSignal): EngineRequest & { signal?: AbortSignal } => ({
  task: 'text-classification',
  model: CLASSIFIER,
  inputs,
  device: 'wasm',
  ...(signal ? { signal } : {}),
});
const ask = (request: EngineRequest & { signal?: AbortSignal }) => {
  const { signal, ...sent } = request;
  return engine!.infer(sent, undefined, undefined, signal);
};
/** A generation that runs for seconds (tiny GPT-2 never stops before its 1,024 positions). */
const GENERATE: EngineRequest = { task: 'text-generation', model: GPT2, inputs: 'The weather in Berlin', parameters: { max_new_tokens: 1000 }, device: 'wasm' };

/** Starts a long stream; resolves `running` at its first token. */
function longStream(signal?: AbortSignal, maxNewTokens = 1000) {
  let first!: () => void;
  const running = new Promise<void>((ok) => (first = ok));
  let tokens = 0;
  const answer = engine!.infer({ ...GENERATE, parameters: { max_new_tokens: maxNewTokens }, stream: true }, undefined, (event: StreamEvent) => {
    if (event.type === 'token' && ++tokens === 1) first();
  }, signal);
  return { answer, running, tokens: () => tokens };
}

/**
 * A stream paced by timers, not by the machine's speed: the example streaming custom handler
 * yields one word every few milliseconds (200 000 of them: minutes), and stays responsive between
 * them. Resolves `running` at its first value.
 */
function pacedStream(signal?: AbortSignal) {
  let first!: () => void;
  const running = new Promise<void>((ok) => (first = ok));
  let values = 0;
  const request: EngineRequest = { task: 'custom', model: 'local-endpoint/tiny-handler-stream', inputs: 'word '.repeat(200_000), stream: true };
  // A custom handler's events are `{type: 'value', value}` (a StreamValue; WorkerEngine types its listener as StreamEvent's).
  const answer = engine!.infer(request, undefined, (event) => {
    if ((event as { type: string }).type === 'value' && ++values === 1) first();
  }, signal);
  // A stream that fails before its first value fails the test with its answer (instead of a hang).
  const failed = answer.then((result) => {
    throw new Error(`the stream ended before its first value: ${JSON.stringify(result)}`);
  });
  return { answer, running: Promise.race([running, failed]), tokens: () => values };
}

/** Each text's own answer, from a healthy engine, to compare answers after a death with. */
async function referenceAnswers(texts: string[]): Promise<unknown[]> {
  const results = await Promise.all(texts.map((text) => ask(classify(text))));
  expect(results.every((r) => r.ok)).toBe(true);
  return results.map((r) => (r as { output: unknown }).output);
}

/** Resolves with the result and how long after `since` it came. */
async function timed(answer: Promise<EngineResult>, since: () => number) {
  const result = await answer;
  return { result, ms: performance.now() - since() };
}

const died = (why: string) => `The local-endpoint worker died before it answered: ${why}. A fresh worker answers the requests after it.`;
const TERMINATED = died('Worker.terminate() was called on it');
const STOPPED = died('it stopped running (a crash, out of memory, or close())');
const QUEUED = VARIED_TEXTS.slice(0, 4);

describe('a worker that dies', () => {
  it('terminated from the page (no event) while a stream runs: it fails within 1 s with a 502, the queued requests go to a fresh worker', async () => {
    engine = new WorkerEngine({ createWorker: realWorker });
    const references = await referenceAnswers([CLASSIFY_TEXT, ...QUEUED]);
    const stream = longStream();
    await stream.running;
    const queued = QUEUED.map((text) => ask(classify(text)));
    let killedAt = 0;
    const failed = timed(stream.answer, () => killedAt);
    killedAt = performance.now();
    workers.at(-1)!.terminate(); // the raw Worker: the host is not told
    const { result, ms } = await failed;
    expect(result).toEqual({ ok: false, status: WORKER_DIED_STATUS, error: TERMINATED, retry: false });
    expect(ms).toBeLessThan(1000);
    console.info(`worker.terminate(): the running stream failed after ${ms.toFixed(0)} ms, ${stream.tokens()} tokens in`);
    // The stream had begun, so it is not sent again; the queued requests were, and answer right.
    const answers = await Promise.all(queued);
    expect(answers).toEqual(references.slice(1).map((output) => expect.objectContaining({ ok: true, output: deepCloseTo(output) })));
    expect(engine.replacements).toBe(1);
    expect(await ask(classify())).toMatchObject({ ok: true, output: deepCloseTo(references[0]) });
    expect(engine.pending).toBe(0);
  });

  it('terminated from the page while a request that does not stream runs: that one fails with a 502, the queued ones are answered', async () => {
    engine = new WorkerEngine({ createWorker: realWorker, sharedCancel: false });
    const references = await referenceAnswers([CLASSIFY_TEXT, ...QUEUED]);
    await engine.infer({ ...GENERATE, parameters: { max_new_tokens: 1 } }); // loaded: the next one runs at once
    const running = engine.infer(GENERATE);
    await new Promise((ok) => setTimeout(ok, 300));
    const queued = QUEUED.map((text) => ask(classify(text)));
    let killedAt = 0;
    const failed = timed(running, () => killedAt);
    killedAt = performance.now();
    workers.at(-1)!.terminate();
    const { result, ms } = await failed;
    expect(result).toEqual({ ok: false, status: WORKER_DIED_STATUS, error: TERMINATED, retry: false });
    expect(ms).toBeLessThan(1000);
    console.info(`worker.terminate(): the running request failed after ${ms.toFixed(0)} ms`);
    const answers = await Promise.all(queued);
    expect(answers).toEqual(references.slice(1).map((output) => expect.objectContaining({ ok: true, output: deepCloseTo(output) })));
    expect(engine.replacements).toBe(1);
    expect(await ask(classify())).toMatchObject({ ok: true, output: deepCloseTo(references[0]) });
  });

  it('WorkerEngine.terminate() fails everything it had not answered at once; the next request starts a fresh worker', async () => {
    engine = new WorkerEngine({ createWorker: realWorker });
    const [reference] = await referenceAnswers([CLASSIFY_TEXT]);
    const stream = longStream();
    await stream.running;
    const queued = QUEUED.map((text) => ask(classify(text)));
    const before = workers.length;
    const stoppedAt = performance.now();
    engine.terminate();
    const results = await Promise.all([stream.answer, ...queued]);
    const ms = performance.now() - stoppedAt;
    expect(results).toEqual(results.map(() => ({
      ok: false,
      status: WORKER_DIED_STATUS,
      error: 'The local-endpoint worker was stopped before it answered: WorkerEngine.terminate() was called.',
      retry: false,
    })));
    expect(ms).toBeLessThan(100);
    // A stop the caller asked for is not a replacement; the next request starts a worker.
    expect(engine.replacements).toBe(0);
    expect(await ask(classify())).toMatchObject({ ok: true, output: deepCloseTo(reference) });
    expect(workers.length).toBe(before + 1);
  });

  it('a worker that ends itself while a stream runs (no event): its lock tells the host, the stream fails with a 502 within 1 s', async () => {
    // Without a shared cancel flag the worker takes messages between tokens: the one that ends it.
    engine = new WorkerEngine({ createWorker: dyingWorker, sharedCancel: false });
    const references = await referenceAnswers([CLASSIFY_TEXT, ...QUEUED]);
    const controller = new AbortController();
    const stream = longStream(controller.signal);
    await stream.running;
    const queued = QUEUED.map((text) => ask(classify(text)));
    const postedAt = performance.now();
    workers.at(-1)!.postMessage({ dyingWorker: 'close' } satisfies DyingWorkerMessage);
    const { result, ms } = await timed(stream.answer, () => postedAt);
    console.info(`self.close(): the running stream failed ${ms.toFixed(0)} ms after the message was posted`);
    expect(result).toEqual({ ok: false, status: WORKER_DIED_STATUS, error: STOPPED, retry: false });
    expect(ms).toBeLessThan(1000);
    const answers = await Promise.all(queued);
    expect(answers).toEqual(references.slice(1).map((output) => expect.objectContaining({ ok: true, output: deepCloseTo(output) })));
    expect(engine.replacements).toBe(1);
    expect(await ask(classify())).toMatchObject({ ok: true, output: deepCloseTo(references[0]) });
  });

  it('a busy worker stopped behind the host’s back (Worker.prototype.terminate): its lock tells, once Chromium has stopped it', async () => {
    engine = new WorkerEngine({ createWorker: realWorker });
    const [reference] = await referenceAnswers([CLASSIFY_TEXT]);
    const stream = longStream();
    await stream.running;
    const queued = ask(classify());
    const killedAt = performance.now();
    Worker.prototype.terminate.call(workers.at(-1)!); // not the host's wrapper: only the lock can tell
    const { result, ms } = await timed(stream.answer, () => killedAt);
    console.info(`Worker.prototype.terminate: the running stream failed after ${ms.toFixed(0)} ms`);
    expect(result).toEqual({ ok: false, status: WORKER_DIED_STATUS, error: STOPPED, retry: false });
    // A worker busy in JavaScript is stopped by force 2 s after terminate() (Chromium's delay).
    expect(ms).toBeLessThan(3000);
    expect(await queued).toMatchObject({ ok: true, output: deepCloseTo(reference) });
    expect(engine.replacements).toBe(1);
  });

  it('huge ArrayBuffers until one fails to allocate, and an uncaught exception: the worker survives both, so nothing fails', async () => {
    engine = new WorkerEngine({ createWorker: dyingWorker, sharedCancel: false });
    const [reference] = await referenceAnswers([CLASSIFY_TEXT]);
    const controller = new AbortController();
    const stream = longStream(controller.signal);
    await stream.running;
    const errors: string[] = [];
    workers.at(-1)!.addEventListener('error', (event) => errors.push(event.message));
    workers.at(-1)!.postMessage({ dyingWorker: 'array-buffers' } satisfies DyingWorkerMessage);
    workers.at(-1)!.postMessage({ dyingWorker: 'throw' } satisfies DyingWorkerMessage);
    // Allocating (and zero-filling) buffers until one fails takes longer where memory is short: up to 15 s.
    const until = performance.now() + 15_000;
    while (errors.length < 2 && performance.now() < until) await new Promise((ok) => setTimeout(ok, 100));
    console.info(`array buffers and a throw: the worker reported ${JSON.stringify(errors)}; ${stream.tokens()} tokens so far`);
    expect(errors).toEqual([expect.stringMatching(/Array buffer allocation failed|RangeError/), expect.stringMatching(/uncaught exception the worker survives/)]);
    controller.abort();
    expect(await stream.answer).toMatchObject({ status: 499, cancelled: true });
    expect(await ask(classify())).toMatchObject({ ok: true, output: deepCloseTo(reference) });
    expect(engine.replacements).toBe(0);
  });

  it('a worker whose script never starts: the request fails within seconds with a 502 instead of hanging, and the next worker answers', async () => {
    let made = 0;
    engine = new WorkerEngine({
      createWorker: () => (made++ === 0 ? remember(new Worker('/no-such-worker-script.js', { type: 'module' })) : realWorker()),
    });
    const sentAt = performance.now();
    const result = await ask(classify());
    const ms = performance.now() - sentAt;
    expect(result).toEqual({ ok: false, status: WORKER_DIED_STATUS, error: expect.stringMatching(/^The local-endpoint worker died before it answered: it failed to start/), retry: false });
    // The worker's error event, after the script's 404: well under 1 s on a quiet machine, 1.5 s seen in CI under load.
    expect(ms).toBeLessThan(3000);
    expect(engine.replacements).toBe(1);
    expect(await ask(classify())).toMatchObject({ ok: true });
  });
});

describe('a worker without Web Locks (not a secure context)', () => {
  /** livenessTimeoutMs: long enough for a busy 2-core CI machine's pauses, short enough for a test. */
  const LIMIT = 4000;
  it('is watched by heartbeat: no false death while it streams, death after livenessTimeoutMs of silence', async () => {
    // No model load runs under the heartbeat (a load blocks a worker for seconds on a busy 2-core
    // machine, CI): the reference answer comes from a worker of its own, the watched worker only
    // runs the stream (a handler, no ONNX session), and its replacement is a real worker (with its lock).
    engine = new WorkerEngine();
    const [reference] = await referenceAnswers([CLASSIFY_TEXT]);
    engine.terminate();
    let made = 0;
    engine = new WorkerEngine({ createWorker: () => (made++ === 0 ? noLocksWorker() : realWorker()), sharedCancel: false, livenessTimeoutMs: LIMIT });
    await engine.status(); // the watched worker has started (its module loaded) before the stream
    // A stream that yields between values answers every heartbeat: it runs past the limit.
    const controller = new AbortController();
    const stream = pacedStream(controller.signal);
    await stream.running;
    await new Promise((ok) => setTimeout(ok, LIMIT + 1500));
    expect(engine.replacements).toBe(0);
    const queued = ask(classify());
    const killedAt = performance.now();
    Worker.prototype.terminate.call(workers.at(-1)!); // behind the host's back: only the heartbeat can tell
    const { result, ms } = await timed(stream.answer, () => killedAt);
    console.info(`no Web Locks: the running stream failed ${ms.toFixed(0)} ms after the worker was stopped, ${stream.tokens()} values in`);
    expect(result).toEqual({ ok: false, status: WORKER_DIED_STATUS, error: died(`it answered no heartbeat for ${LIMIT} ms`), retry: false });
    // Its last answer came up to a beat (1 s) before it stopped; death is seen at the first beat past the limit.
    expect(ms).toBeGreaterThan(LIMIT - 1000);
    expect(ms).toBeLessThan(LIMIT + 5000);
    expect(await queued).toMatchObject({ ok: true, output: deepCloseTo(reference) });
    expect(engine.replacements).toBe(1);
  });
});

describe('an abort storm', () => {
  it('200 requests (classifications and streams) aborted at random: every one settles, nothing is left behind, the next answers', async () => {
    engine = new WorkerEngine();
    const texts = VARIED_TEXTS;
    const references = await referenceAnswers(texts);
    await engine.infer({ ...GENERATE, parameters: { max_new_tokens: 1 } });
    let seed = 12;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const started = performance.now();
    const runs = Array.from({ length: 200 }, (_, i) => {
      const controller = new AbortController();
      const aborted = i % 4 !== 0; // a quarter run to the end
      if (aborted) setTimeout(() => controller.abort(), random() * 400);
      const stream = i % 10 === 5;
      const answer = stream
        ? engine!.infer({ ...GENERATE, stream: true, parameters: { max_new_tokens: 30 } }, undefined, () => undefined, controller.signal)
        : ask(classify(texts[i % texts.length], controller.signal));
      return { i, aborted, stream, answer };
    });
    const settled = await Promise.allSettled(runs.map((r) => r.answer));
    const ms = performance.now() - started;
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    const results = settled.map((s) => (s as PromiseFulfilledResult<EngineResult>).value);
    let cancelledCount = 0;
    for (const { i, aborted, stream } of runs) {
      const result = results[i]!;
      if (!result.ok) {
        expect(aborted, `request ${i}: ${JSON.stringify(result)}`).toBe(true);
        expect(result).toEqual({ ok: false, status: 499, error: 'The request was cancelled by the caller.', cancelled: true });
        cancelledCount++;
      } else if (!stream) {
        expect(result.output).toEqual(deepCloseTo(references[i % texts.length]));
      }
    }
    console.info(`abort storm: 200 settled in ${ms.toFixed(0)} ms, ${cancelledCount} cancelled`);
    expect(cancelledCount).toBeGreaterThan(50);
    // The worker finishes or drops what was cancelled: nothing stays sent, queued or running.
    const deadline = performance.now() + 5000;
    while (engine.pending > 0 && performance.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
    expect(engine.pending).toBe(0);
    const status = await engine.status();
    expect(status.pipelines.map((p) => p.queued)).toEqual(status.pipelines.map(() => 0));
    expect(status.poisoned).toBeUndefined();
    expect(engine.replacements).toBe(0);
    expect(await ask(classify(texts[3]))).toMatchObject({ ok: true, output: deepCloseTo(references[3]) });
  });
});
