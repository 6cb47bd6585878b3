/** Dynamic batching on the in-process engine (Node, onnxruntime-node): every request gets its own answer. */
import { describe, expect, it } from 'vitest';
import { Engine, type EngineAnswer, type EngineRequest } from '../../worker/engine.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { mixedRequests } from '../batching-requests.js';
import { ENCODER, OVERLONG, deepCloseTo } from '../helpers.js';

describe('dynamic batching (Node)', () => {
  it('50 mixed concurrent requests: batched calls form, and each request gets exactly its own answer', async () => {
    const requests = mixedRequests(50);
    const alone = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models', batching: 'off' });
    const expected: unknown[] = [];
    for (const r of requests) expected.push(((await alone.infer(r)) as EngineAnswer).output);

    const batched = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models', batching: 'on' });
    for (const r of requests) await batched.load(r); // loaded first, so the requests meet in the queues
    const results = (await Promise.all(requests.map((r) => batched.infer(r)))) as EngineAnswer[];
    expect(results.every((r) => r.ok)).toBe(true);
    expect(Math.max(...results.map((r) => r.batchSize))).toBeGreaterThan(4);
    results.forEach((r, i) => expect(r.output, `request ${i} (${requests[i]!.task})`).toEqual(deepCloseTo(expected[i])));
  });

  it('auto on the CPU batches short requests and runs long ones alone', async () => {
    const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
    const request = (inputs: string): EngineRequest => ({ task: 'feature-extraction', model: ENCODER, inputs });
    await engine.load(request('x'));
    const burst = async (inputs: string) => ((await Promise.all(Array.from({ length: 8 }, () => engine.infer(request(inputs))))) as EngineAnswer[]).map((r) => r.batchSize);
    expect(Math.max(...(await burst('I love this movie')))).toBeGreaterThan(1);
    expect(await burst('berlin is a good city '.repeat(15))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect((await engine.status()).batching).toBe('auto');
    const off = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models', batching: 'off' });
    const alone = (await Promise.all(mixedRequests(12).map((r) => off.infer(r)))) as EngineAnswer[];
    expect(alone.map((r) => r.batchSize)).toEqual(alone.map(() => 1));
  });

  it('a batch that fails is run again one by one, so only the faulty request gets the error', async () => {
    const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models', batching: 'on' });
    const request = (inputs: string): EngineRequest => ({ task: 'text-classification', model: OVERLONG, inputs });
    await engine.load(request('x'));
    const results = await Promise.all(['I love you', 'berlin '.repeat(300), 'I hate you', 'a good day'].map((t) => engine.infer(request(t))));
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
  });
});
