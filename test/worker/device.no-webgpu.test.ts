/**
 * In a Chromium with no WebGPU adapter (`navigator.gpu` exists, `requestAdapter()` gives null),
 * `device: 'auto'` must use WASM and say why.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { LocalEndpointClient, WorkerEngine, createLocalFetch } from '../../src/index.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER } from '../helpers.js';

describe('auto device without a WebGPU adapter', () => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());

  it('the page sees navigator.gpu but no adapter (the case `"gpu" in navigator` gets wrong)', async () => {
    expect('gpu' in navigator).toBe(true);
    expect(await (navigator as unknown as { gpu: { requestAdapter(): Promise<unknown> } }).gpu.requestAdapter()).toBeNull();
  });

  it('the engine status says WASM and why', async () => {
    const status = await engine.status();
    expect(status.device).toEqual({ device: 'wasm', reason: 'WebGPU returned no adapter' });
  });

  it('requests run on WASM, with the device in x-compute-type and the reason in x-compute-fallback', async () => {
    const url = 'https://classifier.example/';
    const localFetch = createLocalFetch({ engine, endpoints: { [url]: { task: 'text-classification', model: CLASSIFIER } } });
    const response = await localFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: CLASSIFY_TEXT }) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-compute-type')).toBe('wasm');
    expect(response.headers.get('x-compute-fallback')).toBe('WebGPU returned no adapter');

    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: url });
    expect(await hf.textClassification({ inputs: CLASSIFY_TEXT })).toEqual(await response.json());
  });

  it('the client in local mode reports the WASM device', async () => {
    const client = new LocalEndpointClient({ model: ENCODER, engine });
    const embedding = (await client.featureExtraction({ inputs: EMBED_TEXT })) as number[];
    expect(embedding).toHaveLength(32);
    expect(client.lastRoute).toMatchObject({ path: 'local', device: 'wasm', deviceFallback: 'WebGPU returned no adapter' });
  });

  it('asking for WebGPU by name is a 400 that says why', async () => {
    const result = await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: 'x', device: 'webgpu' });
    expect(result).toMatchObject({ ok: false, status: 400, error: 'device "webgpu" was asked for, but WebGPU returned no adapter.' });
  });
});
