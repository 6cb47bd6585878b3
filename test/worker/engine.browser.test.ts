/**
 * The engine in a real module Worker in Chromium, on real ONNX Runtime: loading once, progress,
 * order, recovery from a poisoned worker, device fallback, threads and privacy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { WorkerEngine, createLocalFetch, type ProgressEvent } from '../../src/index.js';
import { CLASSIFIER, CLASSIFY_TEXT, CORRUPT, EMBED_TEXT, ENCODER, FP16_ONLY, OVERLONG, VARIED_TEXTS, deepCloseTo } from '../helpers.js';
import { supportedTasks } from '../../src/tasks/registry.js';
import { readMediaBody } from '../../src/wire/media.js';

const VIT = 'local-endpoint/tiny-vit-classifier';

let engine: WorkerEngine;
afterEach(() => engine?.terminate());

describe('WorkerEngine', () => {
  it('loads a pipeline once for concurrent requests, and reports file progress to each of them', async () => {
    engine = new WorkerEngine();
    const events: ProgressEvent[][] = [[], [], [], [], []];
    const results = await Promise.all(
      events.map((list) =>
        engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT, device: 'wasm' }, (e) => list.push(e)),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    for (const list of events) {
      // One load: each caller saw exactly one download of the weights, from 0 to the full size.
      const weights = list.filter((e) => e.file === 'onnx/model.onnx' && e.status === 'progress');
      expect(weights.length).toBeGreaterThan(0);
      const last = weights.at(-1)!;
      expect(last.total).toBeGreaterThan(100_000);
      expect(last.loaded).toBe(last.total);
      expect(list.filter((e) => e.file === 'onnx/model.onnx' && e.status === 'initiate')).toHaveLength(1);
      expect(list.at(-1)).toEqual({ status: 'ready', task: 'feature-extraction', model: ENCODER });
    }
    const status = await engine.status();
    expect(status.pipelines).toEqual([
      { task: 'feature-extraction', model: ENCODER, device: 'wasm', state: 'ready', queued: 0, bytes: expect.any(Number), lastUsed: expect.any(Number) },
    ]);
    // The size the memory budget counts: the model's files, the weights the largest of them.
    expect(status.pipelines[0]!.bytes).toBeGreaterThanOrEqual(events[0]!.filter((e) => e.file === 'onnx/model.onnx' && e.status === 'progress').at(-1)!.total!);
  });

  it('runs the calls to one pipeline one at a time, in the order they arrived (unbatched)', async () => {
    engine = new WorkerEngine({ batching: 'off' });
    const finished: number[] = [];
    await Promise.all(
      VARIED_TEXTS.map((text, i) =>
        engine
          .infer({ task: 'text-classification', model: CLASSIFIER, inputs: text, device: 'wasm' })
          .then(() => finished.push(i)),
      ),
    );
    expect(finished).toEqual(VARIED_TEXTS.map((_, i) => i));
  });

  it('reports the device, the threads and cross-origin isolation in its status', async () => {
    engine = new WorkerEngine();
    const status = await engine.status();
    expect(status.runtime).toBe('browser');
    // This project's Chromium has only SwiftShader, a software WebGPU adapter: `auto` takes WASM.
    expect(status.device).toEqual({
      device: 'wasm',
      reason: expect.stringMatching(/^the only WebGPU adapter \(.*swiftshader.*\) is a software fallback \(isFallbackAdapter\), slower than WASM$/i),
      fallbackAdapter: true,
    });
    expect(status.crossOriginIsolated).toBe(true);
    expect(status.threads).toBe(Math.min(4, navigator.hardwareConcurrency));
    expect(status.threads).toBeGreaterThan(1); // multithreaded WASM
    expect(status.tasks).toEqual(supportedTasks);
  });

  it('auto treats a software WebGPU adapter as no GPU and says so; by name, or when allowed, it runs on it', async () => {
    engine = new WorkerEngine();
    const auto = await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT });
    expect(auto).toMatchObject({ ok: true, device: 'wasm', fallback: expect.stringMatching(/software fallback/) });
    const named = await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT, device: 'webgpu' });
    expect(named).toMatchObject({ ok: true, device: 'webgpu' });
    expect((named as { output: unknown }).output).toEqual(deepCloseTo((auto as { output: unknown }).output));
    engine.terminate();
    engine = new WorkerEngine({ useFallbackAdapter: true });
    expect((await engine.status()).device).toEqual({ device: 'webgpu', fallbackAdapter: true });
    expect(await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT })).toMatchObject({ ok: true, device: 'webgpu' });
  });

  it('recovers from a failed session load: the error is reported, the worker replaced, later loads work', async () => {
    engine = new WorkerEngine();
    await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT, device: 'wasm' });
    // Concurrently: a corrupt model, and good requests that queue behind it in the same worker.
    const [corrupt, ...good] = await Promise.all([
      engine.infer({ task: 'text-classification', model: CORRUPT, inputs: CLASSIFY_TEXT, device: 'wasm' }),
      engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT, device: 'wasm' }),
      engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT, device: 'wasm' }),
    ]);
    expect(corrupt).toMatchObject({ ok: false, status: 500, error: expect.stringMatching(/test-broken\/corrupt-classifier" failed to load/) });
    expect(good.map((r) => r.ok)).toEqual([true, true]);
    expect(engine.replacements).toBe(1);
    // A model never loaded before (a new session) still loads in the fresh worker.
    const later = await engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: 'I live in Berlin', device: 'wasm' });
    expect(later.ok).toBe(true);
    expect((await engine.status()).poisoned).toBeUndefined();
  });

  it('a raw image queued behind a failed session load is sent again to the fresh worker, its bytes handed back', async () => {
    engine = new WorkerEngine();
    const png = new Uint8Array(await (await fetch('/models/test-media/tiger.png')).arrayBuffer());
    const image = (bytes: Uint8Array) => ({ task: 'image-classification', model: VIT, device: 'wasm' as const, inputs: readMediaBody(bytes, 'image/png', 'image') });
    const first = image(png.slice());
    const alone = await engine.infer(first);
    expect(alone.ok).toBe(true);
    expect(first.inputs.bytes.buffer.byteLength).toBe(0); // transferred, not copied
    // The corrupt model's load poisons the worker while the image waits behind it.
    const queued = image(png.slice());
    const [corrupt, again] = await Promise.all([
      engine.infer({ task: 'text-classification', model: CORRUPT, inputs: CLASSIFY_TEXT, device: 'wasm' }),
      engine.infer(queued),
    ]);
    expect(corrupt).toMatchObject({ ok: false, status: 500 });
    expect(engine.replacements).toBe(1);
    expect(again).toMatchObject({ ok: true, output: (alone as { output: unknown }).output });
  });

  it('recovers from a failed run: the failing request gets its error and no other request is lost', async () => {
    engine = new WorkerEngine();
    const long = 'berlin '.repeat(300); // more tokens than the model has positions
    const texts = [CLASSIFY_TEXT, long, 'I hate you', 'a great day'];
    const results = await Promise.all(
      texts.map((inputs) => engine.infer({ task: 'text-classification', model: OVERLONG, inputs, device: 'wasm' })),
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
    expect(results[1]).toMatchObject({ status: 500, error: expect.stringMatching(/OrtRun/) });
    expect(engine.replacements).toBe(1);
    // The answers after the failure are each text's own: the same as a fresh engine gives.
    const fresh = new WorkerEngine();
    for (const i of [2, 3]) {
      const again = await fresh.infer({ task: 'text-classification', model: OVERLONG, inputs: texts[i], device: 'wasm' });
      expect(again).toMatchObject({ ok: true, output: deepCloseTo((results[i] as { output: unknown }).output) });
    }
    fresh.terminate();
  });

  it('auto: when WebGPU cannot run a model it falls back to WASM and says why', async () => {
    engine = new WorkerEngine({ useFallbackAdapter: true }); // auto on this SwiftShader-only Chromium
    const result = await engine.infer({ task: 'text-classification', model: FP16_ONLY, inputs: CLASSIFY_TEXT });
    expect(result).toMatchObject({ ok: true, device: 'wasm', fallback: expect.stringMatching(/webgpu failed for test-broken\/fp16-classifier: .*fp16/i) });
    const localFetch = createLocalFetch({ engine, endpoints: { 'https://fp16.example/': { task: 'text-classification', model: FP16_ONLY } } });
    const response = await localFetch('https://fp16.example/', { method: 'POST', body: JSON.stringify({ inputs: CLASSIFY_TEXT }) });
    expect(response.headers.get('x-compute-type')).toBe('wasm');
    expect(response.headers.get('x-compute-fallback')).toMatch(/fp16/);
    // Asking for WebGPU by name gives the error instead of a silent fallback.
    const forced = await engine.infer({ task: 'text-classification', model: FP16_ONLY, inputs: CLASSIFY_TEXT, device: 'webgpu' });
    expect(forced).toMatchObject({ ok: false, status: 500, error: expect.stringMatching(/fp16/) });
    // Other models still use WebGPU.
    const other = await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT });
    expect(other).toMatchObject({ ok: true, device: 'webgpu' });
  });

  it('rejects devices that do not exist here with a 400', async () => {
    engine = new WorkerEngine();
    const result = await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: 'x', device: 'cpu' });
    expect(result).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/device "cpu" is not available in this browser. Use one of: auto, webgpu, wasm/) });
  });
});

describe('privacy', () => {
  it('in local mode nothing leaves the page’s origin: only the app’s own model and runtime files are fetched', async () => {
    // Earlier tests left the model in transformers.js's Cache Storage; start from the network.
    await caches.delete('local-endpoint-models');
    engine = new WorkerEngine();
    await commands.startNetworkRecording();
    const result = await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: 'my secret text', device: 'wasm' });
    // A Hub id that is not here: without allowRemoteModels it is not fetched from the Hub.
    const hub = await engine.infer({ task: 'text-classification', model: 'distilbert/distilbert-base-uncased-finetuned-sst-2-english', inputs: 'x', device: 'wasm' });
    const urls = await commands.stopNetworkRecording();
    expect(result.ok).toBe(true);
    expect(hub).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/could not be found/) });
    // The recording works: it saw the model being fetched…
    expect(urls.some((u) => u.endsWith(`/models/${CLASSIFIER}/onnx/model.onnx`))).toBe(true);
    expect(urls.some((u) => /ort-wasm-simd-threaded/.test(u))).toBe(true);
    // …and nothing went anywhere else.
    const elsewhere = urls.filter((u) => !u.startsWith(location.origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(elsewhere).toEqual([]);
  });
});
