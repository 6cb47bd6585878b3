/**
 * Model files behind a static host with an SPA fallback (`vite preview`, Netlify and Vercel
 * rewrites), where a missing file is answered `200 text/html` with the app's index.html. The test
 * server serves the same model folder at `/models/` (a 404 for a missing file) and at
 * `/spa-models/` (the fallback: build/vite-plugins.ts). Every model must load and answer the same
 * from both, and a file that is really missing must give an error naming it and its URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enginesPerTest } from './engines.js';
import { WorkerEngine } from '../../src/index.js';
import type { EngineRequest, ProgressEvent } from '../../src/protocol/engine.js';
import { readMediaBody } from '../../src/wire/media.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER, FP16_ONLY, NLI } from '../helpers.js';

const SPA = '/spa-models/';
const VIT = 'local-endpoint/tiny-vit-classifier';
const CTC = 'local-endpoint/tiny-wav2vec2-ctc';
const MISSING = 'local-endpoint/no-such-model';
const CACHE = 'local-endpoint-models';

let png: Uint8Array;
let wav: Uint8Array;
beforeAll(async () => {
  png = new Uint8Array(await (await fetch('/models/test-media/tiger.png')).arrayBuffer());
  wav = new Uint8Array(await (await fetch('/models/test-media/sample1.wav')).arrayBuffer());
});

const engineAt = enginesPerTest();

/** The same request for each engine (a raw body is transferred, so each gets its own copy). */
const REQUESTS: Record<string, () => EngineRequest> = {
  'image-classification': () => ({ task: 'image-classification', model: VIT, device: 'wasm', inputs: readMediaBody(png.slice(), 'image/png', 'image') }),
  'text-classification': () => ({ task: 'text-classification', model: CLASSIFIER, device: 'wasm', inputs: CLASSIFY_TEXT }),
  // No modules.json in this model: the engine's own read of it must see it as missing.
  'feature-extraction': () => ({ task: 'feature-extraction', model: CLASSIFIER, device: 'wasm', inputs: EMBED_TEXT }),
  // modules.json and 1_Pooling/config.json present, read by the engine itself.
  'sentence-embeddings': () => ({ task: 'sentence-embeddings', model: ENCODER, device: 'wasm', inputs: EMBED_TEXT }),
  'automatic-speech-recognition': () => ({ task: 'automatic-speech-recognition', model: CTC, device: 'wasm', inputs: readMediaBody(wav.slice(), 'audio/wav', 'audio') }),
};

/** The files a load reported as done, in order of name. */
function doneFiles(events: ProgressEvent[]): string[] {
  return events.filter((e) => e.status === 'done' && e.file).map((e) => e.file!).sort();
}

describe('models behind a static host whose fallback answers 200 text/html', () => {
  it('the fallback is real: a missing file under /spa-models/ is a 200 HTML page, under /models/ a 404', async () => {
    const spa = await fetch(`${SPA}${VIT}/generation_config.json`);
    expect(spa.status).toBe(200);
    expect(spa.headers.get('content-type')).toBe('text/html');
    expect(await spa.text()).toMatch(/^<!doctype html>/);
    expect((await fetch(`/models/${VIT}/generation_config.json`)).status).toBe(404);
  });

  describe('each task', () => {
    // One engine per folder for these five: each request is a task and model pair neither has
    // loaded yet, so each test still loads it, and with the store emptied, from the network. (A
    // fresh worker per test started ONNX Runtime ten times over, the most time these took.)
    let plainEngine: WorkerEngine | undefined;
    let spaEngine: WorkerEngine | undefined;
    afterAll(() => {
      plainEngine?.terminate();
      spaEngine?.terminate();
    });

    it.each(Object.keys(REQUESTS))('%s loads and answers exactly as under /models/, the same files downloaded', async (name) => {
      await caches.delete(CACHE); // from the network, both times
      const plainEvents: ProgressEvent[] = [];
      const plain = await (plainEngine ??= new WorkerEngine()).infer(REQUESTS[name]!(), (e) => plainEvents.push(e));
      await caches.delete(CACHE);
      const spaEvents: ProgressEvent[] = [];
      const spa = await (spaEngine ??= new WorkerEngine({ localModelPath: SPA })).infer(REQUESTS[name]!(), (e) => spaEvents.push(e));
      expect(plain).toMatchObject({ ok: true });
      expect(spa).toMatchObject({ ok: true, device: 'wasm' });
      expect((spa as { output: unknown }).output).toEqual((plain as { output: unknown }).output);
      // Streaming downloads still report progress, and the missing optional files are skipped alike.
      expect(doneFiles(spaEvents)).toEqual(doneFiles(plainEvents));
      const onnx = spaEvents.filter((e) => e.status === 'progress' && e.file?.endsWith('.onnx'));
      expect(onnx.length).toBeGreaterThan(0);
      expect(onnx.at(-1)).toMatchObject({ progress: 100 });
      expect(onnx.at(-1)!.loaded).toBe(onnx.at(-1)!.total);
    });
  });

  it('keeps no HTML answer in the Cache API store', async () => {
    await caches.delete(CACHE);
    const engine = engineAt(SPA);
    for (const name of ['image-classification', 'feature-extraction']) expect((await engine.infer(REQUESTS[name]!())).ok).toBe(true);
    const cache = await caches.open(CACHE);
    const keys = (await cache.keys()).map((r) => r.url).filter((u) => u.includes(SPA));
    expect(keys.some((u) => u.endsWith(`${VIT}/preprocessor_config.json`))).toBe(true); // the store is in use…
    for (const url of keys) {
      const type = (await cache.match(url))!.headers.get('content-type');
      expect(type, url).not.toMatch(/html/); // …and holds only the real files
    }
    // Files the host does not have (its HTML page for them) are kept only as empty "absent" marks.
    const absent = keys.filter((u) => u.endsWith('generation_config.json') || u.endsWith('modules.json'));
    expect(absent.length).toBeGreaterThan(0);
    for (const url of absent) {
      const entry = (await cache.match(url))!;
      expect(entry.headers.get('x-local-endpoint-absent'), url).toBe('1');
      expect(await entry.text()).toBe('');
    }
  });

  it('heals a Cache API store an earlier version filled with an HTML answer', async () => {
    await caches.delete(CACHE);
    const cache = await caches.open(CACHE);
    // As a version without these checks stored it: the fallback page under a model file's key.
    const key = new URL(`${SPA}${NLI}/tokenizer_config.json`, location.href).href;
    await cache.put(key, new Response('<!doctype html><html><body>app</body></html>', { headers: { 'content-type': 'text/html' } }));
    const result = await engineAt(SPA).infer({ task: 'text-classification', model: NLI, device: 'wasm', inputs: CLASSIFY_TEXT });
    expect(result).toMatchObject({ ok: true });
    const healed = await (await caches.open(CACHE)).match(key);
    expect(healed?.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(await healed!.text())).toEqual(await (await fetch(`/models/${NLI}/tokenizer_config.json`)).json());
  });

  it('a model that does not exist is a 400 naming its config.json and the URL, never a JSON parse error', async () => {
    const spa = await engineAt(SPA).infer({ task: 'image-classification', model: MISSING, device: 'wasm', inputs: readMediaBody(png.slice(), 'image/png', 'image') });
    const url = new URL(`${SPA}${MISSING}/config.json`, location.href).href;
    expect(spa).toMatchObject({ ok: false, status: 400 });
    const error = (spa as { error: string }).error;
    expect(error).toContain(`Model "${MISSING}" could not be found: config.json is missing at ${url}`);
    expect(error).toMatch(/answered 200 with an HTML page/);
    expect(error).not.toContain('JSON');
    expect(error).not.toMatch(/Unexpected token|SyntaxError|<!doctype/i);
    // Under /models/ the same error, without the HTML note.
    const plain = await engineAt().infer({ task: 'text-classification', model: MISSING, device: 'wasm', inputs: 'x' });
    expect(plain).toMatchObject({ ok: false, status: 400, error: expect.stringContaining(`config.json is missing at ${new URL(`/models/${MISSING}/config.json`, location.href).href}`) });
  });

  it('a model whose ONNX file is missing is the same 400 as under /models/, not a failed session that poisons the worker', async () => {
    // This copy has only onnx/model_fp16.onnx: asking for fp32 needs onnx/model.onnx.
    const request = { task: 'text-classification', model: FP16_ONLY, device: 'wasm' as const, dtype: 'fp32', inputs: CLASSIFY_TEXT };
    const engine = engineAt(SPA);
    const spa = await engine.infer(request);
    expect(spa).toMatchObject({ ok: false, status: 400, error: expect.stringContaining(`onnx/model.onnx is missing at ${new URL(`${SPA}${FP16_ONLY}/onnx/model.onnx`, location.href).href}`) });
    expect((spa as { error: string }).error).not.toContain('JSON');
    expect(engine.replacements).toBe(0);
    expect((await engine.infer(REQUESTS['text-classification']!())).ok).toBe(true);
    const plain = await engineAt().infer(request);
    expect(plain).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('onnx/model.onnx is missing at') });
  });
});
