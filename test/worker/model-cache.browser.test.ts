/**
 * The one model cache (worker/model-cache.ts), in a real module Worker in Chromium: every model
 * file downloads once on a first visit (counted by the browser, not by the code under test), the
 * next worker loads it with no request at all (the engine's own reads and the absent optional
 * files included), and the user can list, measure and delete what is cached. And the memory
 * budget: least recently used pipelines are disposed, on WebGPU too, and load again when needed.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { LocalEndpointClient, WorkerEngine } from '../../src/index.js';
import type { ProgressEvent } from '../../src/protocol/engine.js';
import type { EngineRequest, EngineResult } from '../../src/protocol/engine.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER, NLI, maxAbsDiff } from '../helpers.js';

const CACHE = 'local-endpoint-models';
const engines: WorkerEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.terminate();
});
function engine(options: ConstructorParameters<typeof WorkerEngine>[0] = {}): WorkerEngine {
  const created = new WorkerEngine(options);
  engines.push(created);
  return created;
}

const embed = (): EngineRequest => ({ task: 'feature-extraction', model: ENCODER, device: 'wasm', inputs: EMBED_TEXT });
const modelUrl = (model: string) => new URL(`/models/${model}/`, location.href).href;

/** Requests under a model's folder, by file, from the browser's own record. */
function countByFile(urls: string[], model: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const url of urls) {
    if (!url.startsWith(modelUrl(model))) continue;
    const file = url.slice(modelUrl(model).length);
    counts[file] = (counts[file] ?? 0) + 1;
  }
  return counts;
}

function output(result: EngineResult): number[] {
  expect(result, JSON.stringify(result).slice(0, 300)).toMatchObject({ ok: true });
  return (result as { output: number[] }).output;
}

describe('the model cache', () => {
  /** The first visit's answer (downloaded), the reference for the second visit's (from the cache). */
  let firstAnswer: number[] | undefined;
  beforeAll(async () => {
    await caches.delete(CACHE);
  });

  it('first visit: each file of the model is requested once, the engine’s own reads included', async () => {
    await commands.startNetworkRecording();
    const first = output(await engine().infer(embed()));
    const counts = countByFile(await commands.stopNetworkRecording(), ENCODER);
    // transformers.js's files and the engine's own (modules.json, the pooling config) alike.
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'modules.json', '1_Pooling/config.json']) {
      expect(counts[file], `${file}: ${JSON.stringify(counts)}`).toBe(1);
    }
    expect(Math.max(...Object.values(counts))).toBe(1); // absent optional files are asked for once too
    expect(first.length).toBeGreaterThan(0);
    firstAnswer = first;
  });

  it('second visit (a new worker): no request under the model’s folder, the same answer', async () => {
    // After the first visit its answer and its stored files; run alone, a worker of its own fills the cache.
    const reference = firstAnswer ?? output(await engine().infer(embed()));
    await commands.startNetworkRecording();
    const fresh = engine();
    const again = output(await fresh.infer(embed()));
    const counts = countByFile(await commands.stopNetworkRecording(), ENCODER);
    expect(counts).toEqual({});
    expect(maxAbsDiff(again, reference)).toBe(0);
    expect((await fresh.status()).downloads ?? {}).toEqual({});
  });

  it('listCached names the model, its files and their true sizes, and when it was last used', async () => {
    const before = Date.now();
    const e = engine();
    output(await e.infer(embed()));
    const listed = (await e.listCached()).find((m) => m.model === ENCODER);
    expect(listed).toBeDefined();
    const paths = listed!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['config.json', 'modules.json', '1_Pooling/config.json', 'onnx/model.onnx', 'tokenizer.json']));
    for (const file of listed!.files) {
      const real = await (await fetch(`/models/${ENCODER}/${file.path}`)).arrayBuffer();
      expect(file.bytes, file.path).toBe(real.byteLength);
    }
    expect(listed!.bytes).toBe(listed!.files.reduce((n, f) => n + f.bytes, 0));
    expect(listed!.lastUsed).toBeGreaterThanOrEqual(before - 1000);
  });

  it('storageEstimate reports usage and quota; deleteCached removes the model, which then downloads again, once', async () => {
    const e = engine();
    output(await e.infer({ task: 'text-classification', model: CLASSIFIER, device: 'wasm', inputs: CLASSIFY_TEXT }));
    const estimate = await e.storageEstimate();
    expect(estimate.usage).toBeGreaterThan(0);
    expect(estimate.quota).toBeGreaterThan(estimate.usage!);
    expect(typeof estimate.persisted).toBe('boolean');
    expect(await e.deleteCached(CLASSIFIER)).toBe(true);
    expect((await e.listCached()).map((m) => m.model)).not.toContain(CLASSIFIER);
    expect((await e.listCached()).map((m) => m.model)).toContain(ENCODER); // the others stay
    expect(await e.deleteCached(CLASSIFIER)).toBe(false);
    expect((await e.status()).pipelines.filter((p) => p.model === CLASSIFIER)).toEqual([]); // unloaded too
    await commands.startNetworkRecording();
    output(await engine().infer({ task: 'text-classification', model: CLASSIFIER, device: 'wasm', inputs: CLASSIFY_TEXT }));
    const counts = countByFile(await commands.stopNetworkRecording(), CLASSIFIER);
    expect(counts['onnx/model.onnx']).toBe(1);
    expect(Math.max(...Object.values(counts))).toBe(1);
  });
});

describe('the cache API on the client', () => {
  it('preload downloads with progress; afterwards a request needs no network; list, unload, delete, estimate, persist', async () => {
    await caches.delete(CACHE);
    const client = new LocalEndpointClient({ model: NLI, device: 'wasm', engine: engine() });
    const events: ProgressEvent[] = [];
    await client.preload('text-classification', NLI, { onProgress: (e) => events.push(e) });
    const weights = events.filter((e) => e.file === 'onnx/model.onnx' && e.status === 'progress');
    expect(weights.at(-1)).toMatchObject({ progress: 100 });
    expect(events.at(-1)).toMatchObject({ status: 'ready', model: NLI });
    await commands.startNetworkRecording();
    const answer = await client.textClassification({ inputs: CLASSIFY_TEXT });
    expect(await commands.stopNetworkRecording()).toEqual([]); // the worker had it loaded
    expect(answer[0]!.score).toBeGreaterThan(0);
    expect((await client.listCached()).find((m) => m.model === NLI)?.bytes).toBeGreaterThan(100_000);
    await client.unload();
    expect((await client.status()).pipelines.map((p) => p.model)).not.toContain(NLI);
    const estimate = await client.storageEstimate();
    expect(estimate.usage).toBeGreaterThan(0);
    const persisted = await client.persist();
    expect(typeof persisted).toBe('boolean');
    expect(persisted).toBe(await navigator.storage.persisted());
    expect(await client.deleteCached(NLI)).toBe(true);
    expect((await client.listCached()).map((m) => m.model)).not.toContain(NLI);
    // A model that cannot be found fails preload with its status and words.
    await expect(client.preload('text-classification', 'local-endpoint/no-such-model')).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/could not be found/) });
  });
});

describe('the memory budget', () => {
  const classify = (model: string, device: 'wasm' | 'webgpu'): EngineRequest => ({ task: 'text-classification', model, device, inputs: CLASSIFY_TEXT });

  it('keeps at most the budget loaded, least recently used out first; unload frees a model; status lists sizes', async () => {
    const e = engine({ memoryBudget: { pipelines: 2 } });
    const a = output(await e.infer(classify(CLASSIFIER, 'wasm')));
    output(await e.infer(embed()));
    output(await e.infer(classify(CLASSIFIER, 'wasm'))); // the classifier is now the most recent
    output(await e.infer(classify(NLI, 'wasm'))); // over budget: the encoder goes
    await expect.poll(async () => (await e.status()).pipelines.map((p) => p.model).sort()).toEqual([CLASSIFIER, NLI].sort());
    const status = await e.status();
    expect(status.evicted).toBe(1);
    for (const p of status.pipelines) expect(p.bytes, p.model).toBeGreaterThan(10_000);
    // An evicted model loads again (from the cache) and answers as before.
    expect(output(await e.infer(classify(CLASSIFIER, 'wasm')))).toEqual(a);
    await e.unload(NLI);
    expect((await e.status()).pipelines.map((p) => p.model)).not.toContain(NLI);
  });

  it('on WebGPU, a model disposed to make room does not lose the device: the others run on, the disposed one loads again', async () => {
    const e = engine({ memoryBudget: { pipelines: 1 } });
    const first = await e.infer(classify(CLASSIFIER, 'webgpu'));
    expect(first).toMatchObject({ ok: true, device: 'webgpu' });
    expect(await e.infer(classify(NLI, 'webgpu'))).toMatchObject({ ok: true, device: 'webgpu' });
    await expect.poll(async () => (await e.status()).evicted).toBe(1);
    const nliAgain = await e.infer(classify(NLI, 'webgpu'));
    expect(nliAgain).toMatchObject({ ok: true, device: 'webgpu' });
    const back = await e.infer(classify(CLASSIFIER, 'webgpu'));
    expect(back).toMatchObject({ ok: true, device: 'webgpu' });
    const scores = (r: EngineResult) => (r as { output: { score: number }[] }).output.map((x) => x.score);
    expect(maxAbsDiff(scores(back), scores(first))).toBeLessThan(1e-5);
    expect(e.replacements).toBe(0);
  });
});
