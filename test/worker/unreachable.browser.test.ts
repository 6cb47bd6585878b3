/**
 * A model host that cannot be reached, or that answers an error, is not a model that has no such
 * file (worker/model-fetch.ts, worker/model-files.ts). The test server's `/flaky-models/` route
 * (build/vite-plugins.ts) serves the fixture models with one chosen file failing: `drop=<file>`
 * closes the connection without an answer, as a server that is gone does (the fetch rejects), and
 * `500=<file>` answers a 500. A file that fails so is a 502 naming it and its URL, never a
 * model loaded without it (a sentence-transformers model without its pooling: unpooled token
 * embeddings), and never the 400 of a model that does not exist.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { enginesPerTest } from './engines.js';
import { WorkerEngine } from '../../src/index.js';
import type { EngineRequest, EngineResult } from '../../src/protocol/engine.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER, LLAMA, norm } from '../helpers.js';

const MISSING = 'local-endpoint/no-such-model';
const CACHE = 'local-endpoint-models';
const flaky = (action: string, file: string) => `/flaky-models/${action}=${encodeURIComponent(file)}/`;
const url = (base: string, model: string, file: string) => new URL(`${base}${model}/${file}`, location.href).href;

const engineAt = enginesPerTest();
/**
 * The working host (`/models/`), one engine for the whole file: the tests ask it only for a
 * reference answer or a 400, never about its worker, so a worker of its own per test (each
 * starting ONNX Runtime) proved nothing more. Each failing host still gets a fresh engine.
 */
let working: WorkerEngine | undefined;
const workingHost = () => (working ??= new WorkerEngine());
afterAll(() => working?.terminate());

const embed = (): EngineRequest => ({ task: 'feature-extraction', model: ENCODER, device: 'wasm', inputs: EMBED_TEXT });
const classify = (): EngineRequest => ({ task: 'text-classification', model: CLASSIFIER, device: 'wasm', inputs: CLASSIFY_TEXT });

function errorOf(result: EngineResult): string {
  expect(result.ok, JSON.stringify(result).slice(0, 300)).toBe(false);
  return (result as { error: string }).error;
}

/** Nesting depth of an answer: 1 for a vector, 3 for token embeddings [batch][token][dim]. */
function depth(value: unknown): number {
  return Array.isArray(value) ? 1 + depth(value[0]) : 0;
}

describe('a model host that cannot be reached or answers an error', () => {
  it('the route is real: the chosen file is dropped or answered 500, the others served as under /models/', async () => {
    await expect(fetch(`${flaky('drop', 'modules.json')}${ENCODER}/modules.json`)).rejects.toThrow(TypeError);
    expect((await fetch(`${flaky('500', 'modules.json')}${ENCODER}/modules.json`)).status).toBe(500);
    const served = await fetch(`${flaky('drop', 'modules.json')}${ENCODER}/config.json`);
    expect(await served.json()).toEqual(await (await fetch(`/models/${ENCODER}/config.json`)).json());
    expect((await fetch(`${flaky('drop', 'modules.json')}${MISSING}/config.json`)).status).toBe(404);
  });

  it('from /models/, feature-extraction of the sentence-transformers encoder answers its pooled, normalised vector', async () => {
    const result = await workingHost().infer(embed());
    expect(result).toMatchObject({ ok: true });
    const output = (result as { output: number[] }).output;
    expect(depth(output)).toBe(1);
    expect(norm(output)).toBeCloseTo(1, 5);
  });

  it.each([
    ['drop', 'modules.json', /could not be reached for modules\.json at (\S+): Failed to fetch/],
    ['500', 'modules.json', /answered 500 Internal Server Error for modules\.json at (\S+)\./],
    ['drop', '1_Pooling/config.json', /could not be reached for 1_Pooling\/config\.json at (\S+): Failed to fetch/],
  ])('%s %s: a 502 naming the file and its URL, never unpooled token embeddings; the worker serves on', async (action, file, message) => {
    await caches.delete(CACHE);
    const base = flaky(action, file);
    const engine = engineAt(base);
    const result = await engine.infer(embed());
    expect(result).toMatchObject({ ok: false, status: 502 });
    const error = errorOf(result);
    expect(error).toMatch(message);
    expect(message.exec(error)![1]).toBe(url(base, ENCODER, file));
    expect(error).not.toMatch(/could not be found/);
    // Asked again (the host is still failing): the same error, not a model that has no such file.
    expect(await engine.infer(embed())).toMatchObject({ ok: false, status: 502, error });
    // The other files were fine: another model loads and answers in the same worker.
    const other = await engine.infer(classify());
    expect(other).toMatchObject({ ok: true });
    expect(engine.replacements).toBe(0);
  });

  it('a cached model with the host gone: the files transformers.js keeps come from the Cache API, and modules.json is a 502, not an unpooled answer', async () => {
    await caches.delete(CACHE);
    const base = flaky('drop', 'modules.json');
    // The model's own files, stored under the flaky URLs by an earlier load from a working host.
    const cache = await caches.open(CACHE);
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      await cache.put(url(base, ENCODER, file), await fetch(`/models/${ENCODER}/${file}`));
    }
    const result = await engineAt(base).infer(embed());
    expect(result).toMatchObject({ ok: false, status: 502, error: expect.stringContaining(`modules.json at ${url(base, ENCODER, 'modules.json')}`) });
    await caches.delete(CACHE);
  });

  it.each([
    ['drop', /could not be reached for config\.json at (\S+): Failed to fetch/],
    ['500', /answered 500 Internal Server Error for config\.json at (\S+)/],
  ])('config.json %s: a 502 naming config.json and its URL, not the 400 of a model that does not exist', async (action, message) => {
    await caches.delete(CACHE);
    const base = flaky(action, 'config.json');
    const engine = engineAt(base);
    const result = await engine.infer(classify());
    expect(result).toMatchObject({ ok: false, status: 502 });
    const error = errorOf(result);
    expect(error).toMatch(new RegExp(`^Model "${CLASSIFIER}" could not be loaded: the model host ${message.source}`));
    expect(message.exec(error)![1]!.replace(/[.,]$/, '')).toBe(url(base, CLASSIFIER, 'config.json'));
    expect(error).not.toMatch(/could not be found|is missing/);
    expect(engine.replacements).toBe(0);
    // Through the same host, a model that truly does not exist is still the 400 when only another
    // file fails; the model answers from a working host.
    const other = flaky(action, 'modules.json');
    const missing = await engineAt(other).infer({ ...classify(), model: MISSING });
    expect(missing).toMatchObject({ ok: false, status: 400, error: expect.stringContaining(`Model "${MISSING}" could not be found: config.json is missing at ${url(other, MISSING, 'config.json')}`) });
    expect(await workingHost().infer(classify())).toMatchObject({ ok: true });
  });

  it('an optional file that could not be fetched is not skipped as missing: generation_config.json dropped fails the load', async () => {
    await caches.delete(CACHE);
    // transformers.js reads generation_config.json as optional (fatal = false): a failed fetch
    // of it would otherwise load the model with other generation settings, silently.
    const request = (): EngineRequest => ({ task: 'text-generation', model: LLAMA, device: 'wasm', inputs: 'Hello', parameters: { max_new_tokens: 3 } });
    expect(await workingHost().infer(request())).toMatchObject({ ok: true });
    await caches.delete(CACHE);
    for (const action of ['drop', '500']) {
      const base = flaky(action, 'generation_config.json');
      const engine = engineAt(base);
      const result = await engine.infer(request());
      expect(result).toMatchObject({ ok: false, status: 502 });
      expect(errorOf(result)).toContain(`for generation_config.json at ${url(base, LLAMA, 'generation_config.json')}`);
      expect(engine.replacements).toBe(0);
      expect(await engine.infer(classify())).toMatchObject({ ok: true });
    }
  });

  it('a model that does not exist is still a 400 naming config.json', async () => {
    const result = await workingHost().infer({ ...classify(), model: MISSING });
    expect(result).toMatchObject({ ok: false, status: 400, error: expect.stringContaining(`Model "${MISSING}" could not be found: config.json is missing at ${url('/models/', MISSING, 'config.json')}`) });
  });
});
