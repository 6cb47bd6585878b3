/**
 * The one client, in every mode, on both browser devices. Remote is a real `local-endpoint serve`
 * process (Node, onnxruntime-node) on the same generated model.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LocalEndpointClient, WorkerEngine, type RouteInfo } from '../../src/index.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER, LABELS, byLabel, maxAbsDiff, norm } from '../helpers.js';

const remote = inject('remote');

describe.each(['wasm', 'webgpu'] as const)('LocalEndpointClient on %s', (device) => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());

  const classifier = (options: Partial<ConstructorParameters<typeof LocalEndpointClient>[0]> = {}) =>
    new LocalEndpointClient({ model: CLASSIFIER, device, engine, ...options });
  const encoder = (options: Partial<ConstructorParameters<typeof LocalEndpointClient>[0]> = {}) =>
    new LocalEndpointClient({ model: ENCODER, device, engine, ...options });

  it('local: textClassification answers [{label, score}] from the worker', async () => {
    const client = classifier({ mode: 'local' });
    const answer = await client.textClassification({ inputs: CLASSIFY_TEXT });
    expect(answer).toHaveLength(1);
    expect(LABELS).toContain(answer[0]!.label);
    expect(answer[0]!.score).toBeGreaterThan(1 / 3); // the top one of three softmax scores
    expect(client.lastRoute).toMatchObject({ path: 'local', device });

    const all = await client.textClassification({ inputs: CLASSIFY_TEXT, parameters: { top_k: 3 } });
    expect(all.map((x) => x.label).sort()).toEqual(LABELS);
    expect(all.reduce((s, x) => s + x.score, 0)).toBeCloseTo(1, 5);
    expect(all[0]).toEqual(answer[0]);
  });

  it('local: featureExtraction answers a mean-pooled, normalised sentence embedding', async () => {
    const client = encoder({ mode: 'local' });
    const one = (await client.featureExtraction({ inputs: EMBED_TEXT })) as number[];
    expect(one).toHaveLength(32);
    expect(norm(one)).toBeCloseTo(1, 5);
    const two = (await client.featureExtraction({ inputs: [EMBED_TEXT, 'I live in Berlin'] })) as number[][];
    expect(two).toHaveLength(2);
    expect(maxAbsDiff(two[0]!, one)).toBeLessThan(1e-5); // padding in the batch changes nothing
    expect(maxAbsDiff(two[1]!, one)).toBeGreaterThan(1e-2);
  });

  it('remote: the same calls through InferenceClient to the Node-served Endpoint give the same answers', async () => {
    const remoteClassifier = classifier({ mode: 'remote', endpointUrl: remote.textClassification });
    const localClassifier = classifier({ mode: 'local' });
    const parameters = { top_k: 3 };
    const [r, l] = await Promise.all([
      remoteClassifier.textClassification({ inputs: CLASSIFY_TEXT, parameters }),
      localClassifier.textClassification({ inputs: CLASSIFY_TEXT, parameters }),
    ]);
    expect(remoteClassifier.lastRoute).toMatchObject({ path: 'remote', computeType: 'cpu' });
    const remoteScores = byLabel(r);
    for (const [label, score] of Object.entries(byLabel(l))) expect(Math.abs(score - remoteScores[label]!)).toBeLessThan(1e-4);

    const remoteEncoder = encoder({ mode: 'remote', endpointUrl: remote.featureExtraction });
    const [re, le] = await Promise.all([
      remoteEncoder.featureExtraction({ inputs: EMBED_TEXT }),
      encoder({ mode: 'local' }).featureExtraction({ inputs: EMBED_TEXT }),
    ]);
    expect(maxAbsDiff(re as number[], le as number[])).toBeLessThan(1e-4);
  });

  it('remote: raw request() gets the Endpoint server shape from the Node-served Endpoint and locally', async () => {
    const payload = { inputs: CLASSIFY_TEXT };
    const r = await classifier({ mode: 'remote', endpointUrl: remote.textClassification, task: 'text-classification' }).request(payload);
    const l = await classifier({ mode: 'local', task: 'text-classification' }).request(payload);
    expect(r).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    expect(l).toEqual([{ label: (r as { label: string }[])[0]!.label, score: expect.closeTo((r as { score: number }[])[0]!.score, 4) }]);
  });

  it('auto: answers remotely while the remote Endpoint is up', async () => {
    const client = classifier({ mode: 'auto', endpointUrl: remote.textClassification });
    await client.textClassification({ inputs: CLASSIFY_TEXT });
    expect(client.lastRoute).toMatchObject({ path: 'remote' });
  });

  // Only the hanging remote needs the short timeout: a loaded machine must not turn the others'
  // answers into timeouts.
  it.each([
    ['down (connection refused)', 'down', /unreachable/, 30_000],
    ['cold (503)', 'cold', /answered 503/, 30_000],
    ['hanging (timeout)', 'hanging', /did not answer within 300 ms/, 300],
  ] as const)('auto: falls back to local when the remote Endpoint is %s', async (_, which, reason, timeoutMs) => {
    const routes: RouteInfo[] = [];
    const client = classifier({ mode: 'auto', endpointUrl: remote[which], timeoutMs, onRoute: (r) => routes.push(r) });
    const answer = await client.textClassification({ inputs: CLASSIFY_TEXT });
    const local = await classifier({ mode: 'local' }).textClassification({ inputs: CLASSIFY_TEXT });
    expect(answer).toEqual(local);
    expect(routes).toEqual([expect.objectContaining({ path: 'local', device, fallbackReason: expect.stringMatching(reason) })]);

    const embedder = encoder({ mode: 'auto', endpointUrl: remote[which], timeoutMs });
    const embedding = (await embedder.featureExtraction({ inputs: EMBED_TEXT })) as number[];
    expect(embedding).toHaveLength(32);
    expect(embedder.lastRoute?.path).toBe('local');
  });
});

describe('LocalEndpointClient options', () => {
  it('refuses remote and auto modes without an endpointUrl', () => {
    expect(() => new LocalEndpointClient({ mode: 'remote', model: CLASSIFIER })).toThrow(/needs an endpointUrl/);
    expect(() => new LocalEndpointClient({ mode: 'auto', model: CLASSIFIER })).toThrow(/needs an endpointUrl/);
  });

  it('a remote-mode client has no local engine, and says so', () => {
    const client = new LocalEndpointClient({ mode: 'remote', endpointUrl: 'https://x.example', model: CLASSIFIER });
    expect(() => client.status()).toThrow(/remote mode: it has no local engine/);
  });

  it('request() without a task says so', () => {
    const client = new LocalEndpointClient({ model: CLASSIFIER });
    expect(() => client.request({ inputs: 'x' })).toThrow(/needs a task/);
  });
});
