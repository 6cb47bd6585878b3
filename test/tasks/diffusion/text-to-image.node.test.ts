/**
 * text-to-image in Node (issue 13): the tiny Stable Diffusion fixture (diffusers ONNX layout, UNet
 * weights in model.onnx_data) through the real engine on onnxruntime-node, and through `serve`
 * over HTTP with the official client. Its output is noise, as expected of random weights: the
 * tests check PNG validity, shapes, determinism, that every parameter changes the image, step
 * progress, and cancellation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { InferenceClient } from '@huggingface/inference';
import { Engine, type EngineRequest, type ProgressEvent } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { serve, type RunningServer } from '../../../src/node/serve.js';
import { guidanceScaleEmbedding } from '../../../src/tasks/diffusion/text-to-image.js';

const SD = 'local-endpoint/tiny-sd';
const MODELS = '.fixtures/models';
/** The Endpoint server's own test payload. */
const PROMPT = 'a man on a horse jumps over a broken down airplane.';
const BASE = { num_inference_steps: 3, seed: 7, width: 64, height: 64 };

const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
async function image(parameters: Record<string, unknown> = {}, onProgress?: (e: ProgressEvent) => void): Promise<Uint8Array> {
  const r = await engine.infer({ task: 'text-to-image', model: SD, inputs: PROMPT, parameters: { ...BASE, ...parameters } } as EngineRequest, onProgress);
  if (!r.ok) throw new Error(r.error);
  expect(r.output).toBeInstanceOf(Uint8Array);
  return r.output as Uint8Array;
}
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('text-to-image on the engine (Node)', () => {
  it('answers a valid RGB PNG of the asked size, the same bytes for the same seed', async () => {
    const first = await image();
    const png = decode(first);
    expect([png.width, png.height, png.channels, png.depth]).toEqual([64, 64, 3, 8]);
    expect(new Set(png.data).size).toBeGreaterThan(10); // noise, not a flat picture
    expect(same(await image(), first)).toBe(true);
  });

  it.each([
    ['seed', { seed: 8 }],
    ['negative_prompt', { negative_prompt: 'blurry' }],
    ['guidance_scale', { guidance_scale: 2 }],
    ['guidance_scale 1 (no guidance: one UNet row)', { guidance_scale: 1 }],
    ['num_inference_steps', { num_inference_steps: 2 }],
    ['scheduler EulerDiscreteScheduler', { scheduler: 'EulerDiscreteScheduler' }],
    ['scheduler EulerAncestralDiscreteScheduler', { scheduler: 'EulerAncestralDiscreteScheduler' }],
    ['scheduler DPMSolverMultistepScheduler', { scheduler: 'DPMSolverMultistepScheduler' }],
    ['scheduler LCMScheduler', { scheduler: 'LCMScheduler' }],
  ])('%s changes the image', async (_, parameters) => {
    const changed = await image(parameters);
    expect(decode(changed).width).toBe(64);
    expect(same(changed, await image())).toBe(false);
  });

  it('width and height (or target_size) set the size', async () => {
    expect([decode(await image({ width: 32, height: 32 })).width, decode(await image({ width: undefined, height: undefined, target_size: { width: 128, height: 128 } })).height]).toEqual([32, 128]);
  });

  it('reports each denoising step, in order, as progress', async () => {
    const steps: ProgressEvent[] = [];
    await image({ scheduler: 'EulerDiscreteScheduler', num_inference_steps: 4 }, (e) => e.status === 'step' && steps.push(e));
    expect(steps.map((e) => [e.step, e.steps])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(steps[0]).toMatchObject({ task: 'text-to-image', model: SD });
  });

  it('stops within a step when aborted, then answers the next request', async () => {
    const controller = new AbortController();
    let seen = 0;
    const aborted = engine.infer(
      { task: 'text-to-image', model: SD, inputs: PROMPT, parameters: { ...BASE, num_inference_steps: 200, scheduler: 'EulerDiscreteScheduler' } },
      (e) => {
        if (e.status === 'step' && ++seen === 2) controller.abort();
      },
      undefined,
      controller.signal,
    );
    expect(await aborted).toMatchObject({ ok: false, cancelled: true });
    expect(seen).toBeLessThanOrEqual(3);
    expect(decode(await image()).width).toBe(64);
  });

  it('an LCM-distilled model (timestep_cond) runs without CFG, its guidance embedded: guidance_scale still changes the image', async () => {
    const lcm = (parameters: Record<string, unknown>) =>
      engine.infer({ task: 'text-to-image', model: 'local-endpoint/tiny-lcm', inputs: PROMPT, parameters: { num_inference_steps: 2, seed: 3, width: 64, height: 64, ...parameters } });
    const [a, b, again] = await Promise.all([lcm({}), lcm({ guidance_scale: 2 }), lcm({})]);
    for (const r of [a, b, again]) expect(r).toMatchObject({ ok: true });
    const bytes = (r: unknown) => (r as { output: Uint8Array }).output;
    expect(decode(bytes(a)).width).toBe(64);
    expect(same(bytes(a), bytes(again))).toBe(true);
    expect(same(bytes(a), bytes(b))).toBe(false);
    // The embedding, as diffusers' get_guidance_scale_embedding: w = 0 gives sines 0 and cosines 1.
    expect(Array.from(guidanceScaleEmbedding(0, 8))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    const e = guidanceScaleEmbedding(7.5, 32);
    expect(e[0]).toBeCloseTo(Math.sin(7500), 5);
    expect(e[16]).toBeCloseTo(Math.cos(7500), 5);
    expect(e[15]).toBeCloseTo(Math.sin(7500 * Math.exp(-Math.log(10000))), 5);
  });

  it('refuses a model that is not a diffusers layout with a 400 naming what is missing', async () => {
    const r = await engine.infer({ task: 'text-to-image', model: 'local-endpoint/tiny-bert-classifier', inputs: PROMPT });
    expect(r).toMatchObject({ ok: false, status: 400, error: 'Model "local-endpoint/tiny-bert-classifier" is not a diffusers model: it has no model_index.json.' });
  });
});

describe('text-to-image through serve', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ task: 'text-to-image', model: SD, modelsDir: MODELS, port: 0 });
    expect(await server.ready).toBe(true);
  });
  afterAll(() => server?.close());
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('answers PNG bytes for Accept: image/*, and a base64 PNG in JSON otherwise, as the Endpoint does', async () => {
    const reference = await image();
    const bytes = await post({ inputs: PROMPT, parameters: BASE }, { accept: 'image/png' });
    expect(bytes.headers.get('content-type')).toBe('image/png');
    expect(same(new Uint8Array(await bytes.arrayBuffer()), reference)).toBe(true);
    for (const accept of [undefined, '*/*', 'application/json']) {
      const json = await post({ inputs: PROMPT, parameters: BASE }, accept ? { accept } : {});
      expect(json.headers.get('content-type')).toBe('application/json');
      expect(same(Buffer.from((await json.json()) as string, 'base64'), reference)).toBe(true);
    }
  });

  it('serves the official client’s textToImage (a Blob) with the Endpoint payload', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: server.url });
    const blob = (await client.textToImage({ inputs: PROMPT, parameters: { num_inference_steps: 2, width: 64, height: 64 } })) as unknown as Blob;
    expect(blob.type).toBe('image/png');
    expect(decode(new Uint8Array(await blob.arrayBuffer())).width).toBe(64);
  });

  it.each([
    [{ inputs: PROMPT, parameters: { width: 64, height: 32 } }, /must be given together and be equal/],
    [{ inputs: PROMPT, parameters: { width: 60, height: 60 } }, /must be a multiple of 8/],
    [{ inputs: PROMPT, parameters: { num_inference_steps: 0 } }, /num_inference_steps must be a positive integer/],
    [{ inputs: PROMPT, parameters: { num_inference_steps: 5000 } }, /num_inference_steps must be at most 1000/],
    [{ inputs: 42 }, /inputs must be a string/],
    [{ inputs: PROMPT, stream: true }, /text-to-image cannot stream/],
    [{ inputs: PROMPT, parameters: { scheduler: 'DDIMScheduler' } }, /"DDIMScheduler" is not a supported scheduler; supported: /],
  ])('refuses %j with a 400 naming it, and serves on', async (body, message) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(message);
    expect((await post({ inputs: PROMPT, parameters: { ...BASE, num_inference_steps: 1 } })).status).toBe(200);
  });
});
