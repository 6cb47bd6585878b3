/** Dynamic batching in the worker: answers matched to their requests, the policy, and recovery. */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerEngine, type EngineAnswer, type EngineRequest } from '../../src/index.js';
import { mixedRequests } from '../batching-requests.js';
import { CLASSIFY_TEXT, EMBED_TEXT, ENCODER, OVERLONG, deepCloseTo } from '../helpers.js';

const engines: WorkerEngine[] = [];
const engine = (options: ConstructorParameters<typeof WorkerEngine>[0]) => {
  const e = new WorkerEngine(options);
  engines.push(e);
  return e;
};
afterEach(() => engines.splice(0).forEach((e) => e.terminate()));

describe('dynamic batching in the worker', () => {
  it('50 mixed concurrent requests, batched: each gets exactly its own answer', async () => {
    const requests = mixedRequests(50, 'wasm');
    const alone = engine({ batching: 'off' });
    const expected: unknown[] = [];
    for (const r of requests) expected.push(((await alone.infer(r)) as EngineAnswer).output);

    const batched = engine({ batching: 'on' });
    for (const r of requests) await batched.load(r);
    const results = (await Promise.all(requests.map((r) => batched.infer(r)))) as EngineAnswer[];
    expect(results.every((r) => r.ok)).toBe(true);
    expect(Math.max(...results.map((r) => r.batchSize))).toBeGreaterThan(4);
    results.forEach((r, i) => expect(r.output, `request ${i} (${requests[i]!.task})`).toEqual(deepCloseTo(expected[i])));
  });

  it('auto batches everything on WebGPU, and on WASM only short requests, where it pays', async () => {
    const e = engine({});
    const request = (device: 'wasm' | 'webgpu', inputs = EMBED_TEXT): EngineRequest => ({ task: 'feature-extraction', model: ENCODER, inputs, device });
    const long = 'berlin is a good city '.repeat(15); // over 64 tokens
    for (const device of ['wasm', 'webgpu'] as const) await e.load(request(device));
    const burst = async (r: EngineRequest) => ((await Promise.all(Array.from({ length: 8 }, () => e.infer(r)))) as EngineAnswer[]).map((a) => a.batchSize);
    expect(Math.max(...(await burst(request('wasm'))))).toBeGreaterThan(1);
    expect(await burst(request('wasm', long))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Math.max(...(await burst(request('webgpu', long))))).toBeGreaterThan(1);
    expect((await e.status()).batching).toBe('auto');
  });

  it('a batch that fails poisons the worker: its requests go again, alone, to a fresh one', async () => {
    const e = engine({ batching: 'on' });
    const request = (inputs: string): EngineRequest => ({ task: 'text-classification', model: OVERLONG, inputs, device: 'wasm' });
    await e.load(request('x'));
    const texts = [CLASSIFY_TEXT, 'berlin '.repeat(300), 'I hate you', 'a good day'];
    const results = await Promise.all(texts.map((t) => e.infer(request(t))));
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
    expect(results[1]).toMatchObject({ status: 500, error: expect.stringMatching(/OrtRun/) });
    expect(e.replacements).toBeGreaterThanOrEqual(1);
  });
});
