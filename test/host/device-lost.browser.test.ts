/**
 * The GPUDevice that onnxruntime-web runs WebGPU sessions on is lost (here: destroyed inside the
 * worker, as a GPU reset or a crashed GPU process would lose it), in real Chromium on its
 * SwiftShader WebGPU adapter. The model moves to WASM: the next request answers there, with a
 * `fallback` that says the device was lost and why, and the requests after it keep working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerEngine } from '../../src/host/worker-engine.js';
import type { EngineRequest, EngineResult } from '../../src/protocol/engine.js';
import { CLASSIFIER, CLASSIFY_TEXT, deepCloseTo } from '../helpers.js';
import type { ReliabilityWorkerMessage } from './reliability-worker.js';

let engine: WorkerEngine | undefined;
afterEach(() => {
  engine?.terminate();
  engine = undefined;
});

/** The real worker entry, with a test-only message that destroys its GPU devices. */
const workers: Worker[] = [];
const reliabilityWorker = () => {
  const worker = new Worker(new URL('./reliability-worker.js', import.meta.url), { type: 'module', name: 'reliability-worker' });
  workers.push(worker);
  return worker;
};

/** Destroys the GPU devices of the newest worker; resolves with how many there were. */
function destroyDevices(): Promise<number> {
  const worker = workers.at(-1)!;
  return new Promise((done) => {
    const listener = ({ data }: MessageEvent) => {
      if (data?.reliabilityWorker !== 'destroyed') return;
      worker.removeEventListener('message', listener);
      done(data.devices);
    };
    worker.addEventListener('message', listener);
    worker.postMessage({ reliabilityWorker: 'destroy-devices' } satisfies ReliabilityWorkerMessage);
  });
}

/** `auto` with the software adapter allowed: WebGPU on SwiftShader, the one adapter here. */
const classify = (inputs = CLASSIFY_TEXT): EngineRequest => ({ task: 'text-classification', model: CLASSIFIER, inputs });
const LOST = /^webgpu failed for local-endpoint\/tiny-bert-classifier: the WebGPU device was lost \(reason "destroyed"/;

async function timed(answer: Promise<EngineResult>): Promise<EngineResult> {
  const started = performance.now();
  const result = await answer;
  console.info(`${result.ok ? result.device : `failed ${result.status} ${result.error}`}: ${(performance.now() - started).toFixed(0)} ms${result.ok && result.fallback ? ` (fallback: ${result.fallback})` : ''}`);
  return result;
}

describe('a lost WebGPU device', () => {
  it('between requests: the next request answers on WASM with a fallback that names the lost device, and later ones keep working', async () => {
    engine = new WorkerEngine({ createWorker: reliabilityWorker, useFallbackAdapter: true });
    const reference = await timed(engine.infer({ ...classify(), device: 'wasm' })); // WASM's own answer (q8)
    expect(reference).toMatchObject({ ok: true, device: 'wasm' });
    expect(await timed(engine.infer(classify()))).toMatchObject({ ok: true, device: 'webgpu' });
    expect(engine.replacements).toBe(0);

    expect(await destroyDevices()).toBe(1);
    const moved = await timed(engine.infer(classify()));
    expect(moved).toMatchObject({ ok: true, device: 'wasm', fallback: expect.stringMatching(LOST) });
    expect((moved as { output: unknown }).output).toEqual(deepCloseTo((reference as { output: unknown }).output));
    expect(engine.replacements).toBe(1); // a fresh worker, with a fresh device for anything else

    const later = await timed(engine.infer(classify('I hate you')));
    expect(later).toMatchObject({ ok: true, device: 'wasm', fallback: expect.stringMatching(LOST) });
    expect(engine.replacements).toBe(1);
    expect((await engine.status()).poisoned).toBeUndefined();
  });

  it('while a request runs on it: that request is sent again and answers on WASM', async () => {
    engine = new WorkerEngine({ createWorker: reliabilityWorker, useFallbackAdapter: true });
    const long = classify(Array.from({ length: 60 }, () => 'I love you. I like you').join(' '));
    const reference = await timed(engine.infer({ ...long, device: 'wasm' }));
    expect(await timed(engine.infer(classify()))).toMatchObject({ ok: true, device: 'webgpu' });
    let settled = false;
    const running = timed(engine.infer(long)).finally(() => (settled = true));
    await new Promise((ok) => setTimeout(ok, 50)); // sent, and running on SwiftShader
    expect(await destroyDevices()).toBe(1);
    expect(settled).toBe(false); // the device went while the request was in the worker
    expect(engine.pending).toBe(1);
    const result = await running;
    expect(result).toMatchObject({ ok: true, device: 'wasm', fallback: expect.stringMatching(LOST) });
    expect((result as { output: unknown }).output).toEqual(deepCloseTo((reference as { output: unknown }).output));
    expect(engine.replacements).toBe(1);
    expect(await timed(engine.infer(classify()))).toMatchObject({ ok: true, device: 'wasm', fallback: expect.stringMatching(LOST) });
  });
});
