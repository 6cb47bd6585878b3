/** The same engine, in-process in Node on onnxruntime-node: what `serve` and fast tests use. */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../worker/engine.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { CLASSIFIER, CLASSIFY_TEXT, CORRUPT, EMBED_TEXT, ENCODER, LABELS, VARIED_TEXTS, deepCloseTo, norm } from '../helpers.js';
import { supportedTasks } from '../../src/tasks/registry.js';

const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });

describe('Engine in Node', () => {
  it('classifies and embeds on the CPU', async () => {
    const labels = await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT, parameters: { top_k: null } });
    expect(labels).toMatchObject({ ok: true, device: 'cpu', task: 'text-classification' });
    const output = (labels as { output: { label: string; score: number }[] }).output;
    expect(output.map((l) => l.label).sort()).toEqual(LABELS);
    expect(output.map((l) => l.score)).toEqual([...output.map((l) => l.score)].sort((a, b) => b - a));

    const embedding = await engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT });
    expect(embedding.ok).toBe(true);
    const vector = (embedding as { output: number[] }).output;
    expect(vector).toHaveLength(32);
    expect(norm(vector)).toBeCloseTo(1, 5);
  });

  it('text-classification honours function_to_apply: none gives logits, sigmoid gives independent scores', async () => {
    const ask = async (parameters: Record<string, unknown>) =>
      ((await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT, parameters: { top_k: null, ...parameters } })) as {
        output: { label: string; score: number }[];
      }).output;
    const softmaxed = await ask({});
    const logits = await ask({ function_to_apply: 'none' });
    const sigmoids = await ask({ function_to_apply: 'sigmoid' });
    expect(logits.map((l) => l.label)).toEqual(softmaxed.map((l) => l.label)); // same order
    const exps = logits.map((l) => Math.exp(l.score));
    const sum = exps.reduce((a, b) => a + b, 0);
    logits.forEach((l, i) => expect(softmaxed[i]!.score).toBeCloseTo(exps[i]! / sum, 6));
    logits.forEach((l, i) => expect(sigmoids[i]!.score).toBeCloseTo(1 / (1 + Math.exp(-l.score)), 6));
    expect(sigmoids.reduce((a, b) => a + b.score, 0)).not.toBeCloseTo(1, 2);
  });

  it('answers pooling: none with unpadded token embeddings per input', async () => {
    const result = await engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: ['I live in Berlin', 'hi'], parameters: { pooling: 'none' } });
    const [a, b] = (result as { output: number[][][][] }).output;
    expect(a).toHaveLength(1);
    expect(a![0]!.length).toBeGreaterThan(b![0]!.length); // no padding to a common length
    expect(a![0]![0]).toHaveLength(32);
  });

  it('rejects an over-long input when truncate is false, naming the lengths', async () => {
    const result = await engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: ['ok', 'berlin '.repeat(200)], parameters: { truncate: false } });
    expect(result).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/inputs\[1\] is 202 tokens long, over the model's maximum of 128/) });
    const truncated = await engine.infer({ task: 'feature-extraction', model: ENCODER, inputs: 'berlin '.repeat(200) });
    expect(truncated.ok).toBe(true);
  });

  it('truncation_direction keeps the start (right) or the end (left) of an over-long text', async () => {
    const long = `${'my name is wolfgang and i live in berlin '.repeat(12)}${'the bad movie is terrible and i hate it '.repeat(12)}`;
    const embed = async (inputs: string, parameters: Record<string, unknown> = {}) =>
      ((await engine.infer({ task: 'feature-extraction', model: ENCODER, inputs, parameters, noBatch: true })) as { output: number[] }).output;
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const right = await embed(long);
    const left = await embed(long, { truncation_direction: 'Left' }); // TEI's spelling
    // About the 126 tokens that fit (9 tokens per 41 characters here).
    const start = await embed(long.slice(0, 560));
    const end = await embed(long.slice(-560));
    expect(cos(right, start)).toBeGreaterThan(cos(left, start));
    expect(cos(left, end)).toBeGreaterThan(cos(right, end));
    expect(cos(left, end)).toBeGreaterThan(0.99); // nearly the same text
    expect(cos(right, start)).toBeGreaterThan(0.99);
  });

  it('gives each of 20 concurrent requests its own answer', async () => {
    const ask = (text: string) => engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: text, parameters: { top_k: 3 } });
    const sequential = [];
    for (const text of VARIED_TEXTS) sequential.push(await ask(text));
    const concurrent = await Promise.all(VARIED_TEXTS.map(ask));
    expect(concurrent.map((r) => (r as { output: unknown }).output)).toEqual(deepCloseTo(sequential.map((r) => (r as { output: unknown }).output)));
  });

  it('returns errors as values and keeps serving: unknown task, missing model, corrupt model, bad device', async () => {
    const cases = [
      [{ task: 'text-to-speech', model: CLASSIFIER, inputs: 'x' }, 400, /Unknown task "text-to-speech"/],
      [{ task: 'text-classification', model: 'nobody/nothing', inputs: 'x' }, 400, /Model "nobody\/nothing" could not be found/],
      [{ task: 'text-classification', model: '', inputs: 'x' }, 400, /model must be a non-empty string/],
      [{ task: 'text-classification', model: CORRUPT, inputs: 'x' }, 500, /failed to load/],
      [{ task: 'text-classification', model: CLASSIFIER, inputs: 'x', device: 'wasm' }, 400, /device "wasm" is not available in Node. Use one of: auto, cpu/],
    ] as const;
    for (const [request, status, message] of cases) {
      const result = await engine.infer(request as never);
      expect(result).toMatchObject({ ok: false, status, error: expect.stringMatching(message) });
      expect(result).not.toHaveProperty('replaceWorker'); // nothing is poisoned in Node
    }
    expect((await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: 'x' })).ok).toBe(true);
  });

  it('reports its state, and frees a model on dispose', async () => {
    await engine.load({ task: 'text-classification', model: CLASSIFIER });
    const status = await engine.status();
    expect(status).toMatchObject({ runtime: 'node', device: { device: 'cpu' }, tasks: supportedTasks });
    expect(status.pipelines).toContainEqual(expect.objectContaining({ task: 'text-classification', model: CLASSIFIER, device: 'cpu', state: 'ready', queued: 0, bytes: expect.any(Number), lastUsed: expect.any(Number) }));
    await engine.dispose(CLASSIFIER);
    expect((await engine.status()).pipelines.some((p) => p.model === CLASSIFIER)).toBe(false);
    expect((await engine.infer({ task: 'text-classification', model: CLASSIFIER, inputs: 'x' })).ok).toBe(true);
  });
});

describe('the memory budget (Node)', () => {
  it('disposes the least recently used pipeline past the budget, reports sizes, and loads an evicted one again', async () => {
    const budgeted = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models', memoryBudget: { pipelines: 1 } });
    const first = await budgeted.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT });
    expect(first).toMatchObject({ ok: true });
    expect(await budgeted.infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT })).toMatchObject({ ok: true });
    await expect.poll(async () => (await budgeted.status()).pipelines.map((p) => p.model)).toEqual([ENCODER]);
    const status = await budgeted.status();
    expect(status).toMatchObject({ evicted: 1, memoryBudget: { pipelines: 1 } });
    expect(status.pipelines[0]!.bytes).toBeGreaterThan(10_000);
    const again = await budgeted.infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT });
    expect((again as { output: unknown }).output).toEqual((first as { output: unknown }).output);
    await budgeted.unload(CLASSIFIER);
    expect((await budgeted.status()).pipelines).toEqual([]);
    await budgeted.dispose();
  });
});
