/**
 * `serve` bounds the work a request makes (issue 12, defect 5). The probe found a 10 MB QA context
 * kept the model busy 140 s after its client had gone, the next request waiting 128 s and
 * `/health` blocked 11.6 s; and 49 MB of text to text-classification took 22.7 s and 3.6 GB before
 * it was truncated. Now: a long context is read window by window, with the event loop free
 * between windows, and stops when its client hangs up; an over-long text is cut before it is
 * tokenized. Real `serve()` over real HTTP, real models.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../src/node/serve.js';
import { CLASSIFIER, QA } from '../helpers.js';

const MODELS = '.fixtures/models';

let qa: RunningServer;
let classify: RunningServer;
beforeAll(async () => {
  [qa, classify] = await Promise.all([
    serve({ task: 'question-answering', model: QA, modelsDir: MODELS, port: 0 }),
    serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0 }),
  ]);
  expect(await qa.ready).toBe(true);
  expect(await classify.ready).toBe(true);
});
afterAll(async () => {
  await Promise.all([qa?.close(), classify?.close()]);
});

const post = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

/** Polls `/health` every 50 ms until `stop` settles; the slowest answer, in ms. */
async function slowestHealth(url: string, stop: Promise<unknown>): Promise<number> {
  let done = false;
  void stop.finally(() => (done = true)).catch(() => undefined);
  let slowest = 0;
  while (!done) {
    const t = performance.now();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    slowest = Math.max(slowest, performance.now() - t);
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return slowest;
}

const sentence = (i: number) => `Sentence ${i} says that the model ${i % 7 === 0 ? 'is used with sagemaker for inference' : 'lives in Nuremberg with Philipp'}. `;

describe('serve: bounded work (defect 5)', () => {
  it('a client that hangs up on a long QA context stops it; /health answers throughout; the next request is not kept waiting', async () => {
    const small = { question: 'What is used for inference?', context: Array.from({ length: 40 }, (_, i) => sentence(i)).join('') };
    const t0 = performance.now();
    const reference = await (await post(qa.url, { inputs: small })).json();
    const smallMs = performance.now() - t0;
    // About 8 MB: thousands of windows, minutes of work were it to run to its end.
    const context = Array.from({ length: 120_000 }, (_, i) => sentence(i)).join('');
    const hangUp = new AbortController();
    const long = post(qa.url, { inputs: { question: small.question, context } }, hangUp.signal);
    long.catch(() => undefined);
    const aborted = new Promise((ok) => setTimeout(ok, 3000)).then(() => hangUp.abort());
    const slowest = await slowestHealth(qa.url, aborted);
    await expect(long).rejects.toThrow();
    const t1 = performance.now();
    expect(await (await post(qa.url, { inputs: small })).json()).toEqual(reference);
    const nextMs = performance.now() - t1;
    expect(slowest).toBeLessThan(1500); // was 11.6 s, tokenizing the whole context at once
    expect(nextMs).toBeLessThan(Math.max(5000, 20 * smallMs)); // was 128 s: the long run went on
  }, 60_000);

  it('49 MB of text to text-classification answers as its start does, without holding the event loop', async () => {
    const start = Array.from({ length: 30 }, (_, i) => sentence(i)).join('');
    const reference = await (await post(classify.url, { inputs: start })).json();
    let text = start;
    for (let i = 30; text.length < 49_000_000; i++) text += sentence(i);
    const rss = process.memoryUsage().rss;
    const answered = post(classify.url, { inputs: text }).then((r) => r.json());
    const slowest = await slowestHealth(classify.url, answered);
    expect(await answered).toEqual(reference);
    expect(process.memoryUsage().rss - rss).toBeLessThan(1024 ** 3); // was 3.6 GB
    expect(slowest).toBeLessThan(3000); // the 49 MB body is parsed as JSON on the event loop: one pause
  }, 60_000);
});
