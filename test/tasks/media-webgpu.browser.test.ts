/**
 * Image and audio tasks on WebGPU (SwiftShader here: correctness only, not speed): the same
 * answers as on WASM, from the same decoded and resized inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerEngine } from '../../src/index.js';
import { readMediaBody } from '../../src/wire/media.js';

const engine = new WorkerEngine();
afterAll(() => engine.terminate());

const files: Record<string, Uint8Array> = {};
beforeAll(async () => {
  for (const name of ['tiger.png', 'sample1.wav']) files[name] = new Uint8Array(await (await fetch(`/models/test-media/${name}`)).arrayBuffer());
});

async function onBoth(task: string, model: string, file: string, type: string, parameters: Record<string, unknown> = {}) {
  const answers = [];
  for (const device of ['wasm', 'webgpu'] as const) {
    const body = readMediaBody(files[file]!.slice(), type, type.startsWith('image') ? 'image' : 'audio');
    const result = await engine.infer({ task, model, device, inputs: body, parameters });
    expect(result, `${task} on ${device}`).toMatchObject({ ok: true, device });
    answers.push((result as { output: unknown }).output);
  }
  return answers as [unknown, unknown];
}

describe('image and audio tasks on WebGPU', () => {
  it('image-classification (ViT): the same labels in the same order as WASM, scores within 1e-3', async () => {
    const [wasm, webgpu] = (await onBoth('image-classification', 'local-endpoint/tiny-vit-classifier', 'tiger.png', 'image/png')) as { label: string; score: number }[][];
    expect(webgpu.map((x) => x.label)).toEqual(wasm.map((x) => x.label));
    webgpu.forEach((x, i) => expect(Math.abs(x.score - wasm[i]!.score)).toBeLessThan(1e-3));
  });

  it('object-detection (YOLOS): the same boxes as WASM, within a pixel', async () => {
    type Detection = { label: string; score: number; box: Record<string, number> };
    const [wasm, webgpu] = (await onBoth('object-detection', 'local-endpoint/tiny-yolos', 'tiger.png', 'image/png', { threshold: 0.5 })) as Detection[][];
    expect(wasm.length).toBeGreaterThan(0);
    expect(webgpu.map((d) => d.label)).toEqual(wasm.map((d) => d.label));
    webgpu.forEach((d, i) => {
      for (const k of ['xmin', 'ymin', 'xmax', 'ymax']) expect(Math.abs(d.box[k]! - wasm[i]!.box[k]!)).toBeLessThanOrEqual(1);
    });
  });

  it('automatic-speech-recognition (Wav2Vec2 CTC): the same text as WASM', async () => {
    const [wasm, webgpu] = (await onBoth('automatic-speech-recognition', 'local-endpoint/tiny-wav2vec2-ctc', 'sample1.wav', 'audio/wav')) as { text: string }[];
    expect(wasm!.text.length).toBeGreaterThan(0);
    expect(webgpu!.text).toBe(wasm!.text);
  });
});
