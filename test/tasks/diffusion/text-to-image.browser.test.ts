/**
 * text-to-image in a real module Worker in real Chromium (issue 13): the tiny Stable Diffusion
 * fixture on onnxruntime-web (WASM), through the local fetch (raw, both Accept forms, and the
 * official client's textToImage), with step progress, abort mid-loop, and parity with the same
 * request to `serve` in Node (onnxruntime-node).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { decode } from 'fast-png';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import type { ProgressEvent } from '../../../src/protocol/engine.js';

const remote = inject('remote');
const SD = 'local-endpoint/tiny-sd';
const URL_ = 'https://sd.example.endpoints.huggingface.cloud';
/** The Endpoint server's own test payload. */
const PROMPT = 'a man on a horse jumps over a broken down airplane.';
const PARAMETERS = { num_inference_steps: 3, seed: 11, width: 64, height: 64 };

const progress: ProgressEvent[] = [];
const engine = new WorkerEngine();
const localFetch = createLocalFetch({ engine, endpoints: { [URL_]: { task: 'text-to-image', model: SD, device: 'wasm' } }, onProgress: (e) => void progress.push(e) });
afterAll(() => engine.terminate());

const post = (body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  localFetch(URL_, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
const bytesOf = async (r: Response) => new Uint8Array(await r.arrayBuffer());
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('text-to-image in the worker', () => {
  it('answers the Endpoint payload: PNG bytes for Accept image/png, the same PNG as base64 JSON otherwise; each step reported', async () => {
    progress.length = 0;
    const png = await post({ inputs: PROMPT, parameters: PARAMETERS }, { accept: 'image/png' });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('x-compute-type')).toBe('wasm');
    const bytes = await bytesOf(png);
    expect(decode(bytes)).toMatchObject({ width: 64, height: 64, channels: 3, depth: 8 });
    const steps = progress.filter((e) => e.status === 'step');
    expect(steps.map((e) => e.step)).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(steps.length).toBeGreaterThanOrEqual(3);

    const json = await post({ inputs: PROMPT, parameters: PARAMETERS });
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(same(fromBase64((await json.json()) as string), bytes)).toBe(true); // and deterministic
  });

  it('the official client’s textToImage gets a PNG Blob through the local fetch', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: URL_, fetch: localFetch });
    const blob = (await client.textToImage({ inputs: PROMPT, parameters: PARAMETERS })) as unknown as Blob;
    expect(blob.type).toBe('image/png');
    expect(decode(new Uint8Array(await blob.arrayBuffer())).width).toBe(64);
  });

  it('matches serve in Node (onnxruntime-node) pixel for pixel within 2/255', async () => {
    const local = decode(await bytesOf(await post({ inputs: PROMPT, parameters: PARAMETERS }, { accept: 'image/png' })));
    const served = await fetch(remote.textToImage, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'image/png' }, body: JSON.stringify({ inputs: PROMPT, parameters: PARAMETERS }) });
    const node = decode(new Uint8Array(await served.arrayBuffer()));
    let worst = 0;
    for (let i = 0; i < local.data.length; i++) worst = Math.max(worst, Math.abs(local.data[i]! - node.data[i]!));
    console.info(`text-to-image, WASM against onnxruntime-node: largest pixel difference ${worst}/255`);
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('on WebGPU (SwiftShader here) matches WASM within 3/255', async () => {
    const gpuFetch = createLocalFetch({ engine, endpoints: { [URL_]: { task: 'text-to-image', model: SD, device: 'webgpu' } } });
    const ask = (f: typeof localFetch) => f(URL_, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'image/png' }, body: JSON.stringify({ inputs: PROMPT, parameters: { ...PARAMETERS, num_inference_steps: 2 } }) });
    const gpu = await ask(gpuFetch);
    expect(gpu.headers.get('x-compute-type')).toBe('webgpu');
    const [a, b] = [decode(await bytesOf(gpu)), decode(await bytesOf(await ask(localFetch)))];
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
    console.info(`text-to-image, WebGPU (SwiftShader) against WASM: largest pixel difference ${worst}/255`);
    expect(worst).toBeLessThanOrEqual(3);
  });

  it('stops within a step when aborted mid-loop, then answers the next request', async () => {
    progress.length = 0;
    const controller = new AbortController();
    const long = post({ inputs: PROMPT, parameters: { ...PARAMETERS, num_inference_steps: 500, scheduler: 'EulerDiscreteScheduler' } }, {}, controller.signal);
    for (let i = 0; i < 400 && progress.filter((e) => e.status === 'step').length < 2; i++) await new Promise((ok) => setTimeout(ok, 25));
    controller.abort();
    await expect(long).rejects.toThrow();
    const at = progress.filter((e) => e.status === 'step').length;
    await new Promise((ok) => setTimeout(ok, 500));
    expect(progress.filter((e) => e.status === 'step').length).toBeLessThanOrEqual(at + 1); // at most the step under way
    expect((await post({ inputs: PROMPT, parameters: PARAMETERS })).status).toBe(200);
  });

  it('refuses bad input with a 400 naming it, and serves on', async () => {
    for (const [body, message] of [
      [{ inputs: PROMPT, parameters: { width: 64, height: 128 } }, /must be given together and be equal/],
      [{ inputs: PROMPT, parameters: { num_inference_steps: -1 } }, /num_inference_steps must be a positive integer/],
      [{ inputs: ['a', 'b'] }, /inputs must be a string/],
      [{ inputs: PROMPT, stream: true }, /text-to-image cannot stream/],
    ] as const) {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(message);
    }
    expect((await post({ inputs: PROMPT, parameters: { ...PARAMETERS, num_inference_steps: 1 } })).status).toBe(200);
  });
});
