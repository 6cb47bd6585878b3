/**
 * LocalEndpointClient's image and audio methods: the official client's argument and answer types,
 * answered by the worker (local), by the Node-served Endpoint (remote), or by the remote one with
 * the worker as fallback (auto), with the same answer from each path.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalEndpointClient, WorkerEngine } from '../../src/index.js';

const remote = inject('remote');
const engine = new WorkerEngine();
afterAll(() => engine.terminate());

const blobs: Record<string, Blob> = {};
beforeAll(async () => {
  for (const file of ['tiger.png', 'sample1.wav']) blobs[file] = await (await fetch(`/models/test-media/${file}`)).blob();
});

const client = (model: string, options: Partial<ConstructorParameters<typeof LocalEndpointClient>[0]> = {}) =>
  new LocalEndpointClient({ model, device: 'wasm', engine, ...options });

/** An address where nothing listens: the remote Endpoint is down. */
const DOWN = 'http://127.0.0.1:9/';

describe('LocalEndpointClient image and audio methods', () => {
  it('imageClassification: local and remote give the same labels, auto falls back to local when the Endpoint is down', async () => {
    const model = 'local-endpoint/tiny-vit-classifier';
    const local = client(model, { mode: 'local' });
    // The official client sends the image alone as the body (it drops `parameters` then): top_k 5.
    const answer = await local.imageClassification({ data: blobs['tiger.png']! });
    expect(answer).toHaveLength(5);
    expect(answer.map((x) => x.score)).toEqual([...answer.map((x) => x.score)].sort((a, b) => b - a));
    expect(local.lastRoute).toMatchObject({ path: 'local', device: 'wasm' });

    const viaRemote = client(model, { mode: 'remote', endpointUrl: remote.imageClassification });
    const remoteAnswer = await viaRemote.imageClassification({ data: blobs['tiger.png']! });
    expect(viaRemote.lastRoute).toMatchObject({ path: 'remote' });
    expect(remoteAnswer[0]!.label).toBe(answer[0]!.label);

    const auto = client(model, { mode: 'auto', endpointUrl: DOWN });
    expect(await auto.imageClassification({ data: blobs['tiger.png']! })).toEqual(answer);
    expect(auto.lastRoute).toMatchObject({ path: 'local', fallbackReason: expect.any(String) });
  });

  it('objectDetection, imageSegmentation and zeroShotImageClassification answer the official shapes locally', async () => {
    const image = blobs['tiger.png']!;
    const boxes = await client('local-endpoint/tiny-yolos').objectDetection({ data: image });
    expect(boxes.length).toBeGreaterThan(0);
    for (const { box } of boxes) {
      expect(Object.values(box).every(Number.isInteger)).toBe(true);
      expect(box.xmin).toBeGreaterThanOrEqual(0);
      expect(box.xmax).toBeLessThanOrEqual(612);
      expect(box.ymax).toBeLessThanOrEqual(408);
    }
    const segments = await client('local-endpoint/tiny-segformer').imageSegmentation({ inputs: image });
    expect(segments.length).toBeGreaterThan(0);
    for (const segment of segments) expect(segment.mask).toMatch(/^iVBORw0KGgo/); // base64 PNG
    const scores = await client('local-endpoint/tiny-clip').zeroShotImageClassification({
      inputs: { image },
      parameters: { candidate_labels: ['tiger', 'cat', 'car'] },
    });
    expect(scores.map((x) => x.label).sort()).toEqual(['car', 'cat', 'tiger']);
    expect(scores.reduce((sum, x) => sum + x.score, 0)).toBeCloseTo(1, 5);
  });

  it('automaticSpeechRecognition and audioClassification: local answers equal the remote ones', async () => {
    const sound = blobs['sample1.wav']!;
    const ctc = 'local-endpoint/tiny-wav2vec2-ctc';
    const [local, fromRemote] = await Promise.all([
      client(ctc, { mode: 'local' }).automaticSpeechRecognition({ data: sound }),
      client(ctc, { mode: 'remote', endpointUrl: remote.speechRecognition }).automaticSpeechRecognition({ data: sound }),
    ]);
    expect(local.text.length).toBeGreaterThan(0);
    expect(local).toEqual(fromRemote);

    const classifier = 'local-endpoint/tiny-wav2vec2-classifier';
    const [labels, remoteLabels] = await Promise.all([
      client(classifier, { mode: 'local' }).audioClassification({ data: sound, parameters: { top_k: 2 } }),
      client(classifier, { mode: 'remote', endpointUrl: remote.audioClassification }).audioClassification({ data: sound, parameters: { top_k: 2 } }),
    ]);
    expect(labels.map((x) => x.label)).toEqual(remoteLabels.map((x) => x.label));
    labels.forEach((x, i) => expect(x.score).toBeCloseTo(remoteLabels[i]!.score, 4));
  });

  it('a body the worker cannot decode is the Endpoint error, with its status, and the next call works', async () => {
    const local = client('local-endpoint/tiny-wav2vec2-ctc');
    const error = await local.automaticSpeechRecognition({ data: new Blob(['not a sound'], { type: 'audio/wav' }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { httpResponse?: { status: number } }).httpResponse?.status).toBe(400);
    expect((await local.automaticSpeechRecognition({ data: blobs['sample1.wav']! })).text.length).toBeGreaterThan(0);
  });
});
