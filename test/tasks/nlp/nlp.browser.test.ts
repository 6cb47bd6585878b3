/**
 * zero-shot-classification, fill-mask and ranking in the worker: under the official client, as raw
 * Endpoint requests checked field by field, and against the Node-served Endpoints.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { CROSS_ENCODER, MASK_TEXT, MLM, NLI, RANK_QUERY, RANK_TEXTS, ZERO_SHOT_LABELS, ZERO_SHOT_TEXT, postJson as post } from '../../helpers.js';

const remote = inject('remote');
const URLS = {
  zeroShot: 'https://zero-shot.example.endpoints.huggingface.cloud',
  fillMask: 'https://fill-mask.example.endpoints.huggingface.cloud',
  ranking: 'https://ranking.example.endpoints.huggingface.cloud',
};

describe.each(['wasm', 'webgpu'] as const)('NLP tasks on %s', (device) => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());
  const localFetch = createLocalFetch({
    engine,
    endpoints: {
      [URLS.zeroShot]: { task: 'zero-shot-classification', model: NLI, device },
      [URLS.fillMask]: { task: 'fill-mask', model: MLM, device },
      [URLS.ranking]: { task: 'ranking', model: CROSS_ENCODER, device },
    },
  });
  const hf = (endpointUrl: string) => new InferenceClient('', { fetch: localFetch, endpointUrl });

  it('zero-shot-classification: the Endpoint payload, raw and through zeroShotClassification, matches the remote', async () => {
    const payload = { inputs: ZERO_SHOT_TEXT, parameters: { candidate_labels: ZERO_SHOT_LABELS } };
    const raw = await post(localFetch, URLS.zeroShot, payload);
    expect(raw.status).toBe(200);
    expect(Object.keys(raw.body)).toEqual(['sequence', 'labels', 'scores']);
    expect(raw.body.sequence).toBe(ZERO_SHOT_TEXT);
    expect([...raw.body.labels].sort()).toEqual([...ZERO_SHOT_LABELS].sort());
    expect(raw.body.scores.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);

    const viaClient = await hf(URLS.zeroShot).zeroShotClassification(payload);
    expect(viaClient).toEqual(raw.body.labels.map((label: string, i: number) => ({ label, score: raw.body.scores[i] })));

    const fromRemote = await post(fetch, remote.zeroShotClassification, payload);
    expect(fromRemote.body.labels).toEqual(raw.body.labels);
    fromRemote.body.scores.forEach((s: number, i: number) => expect(Math.abs(s - raw.body.scores[i])).toBeLessThan(1e-4));

    const missing = await post(localFetch, URLS.zeroShot, { inputs: ZERO_SHOT_TEXT });
    expect(missing).toEqual({ status: 400, body: { error: expect.stringMatching(/candidate_labels is required/) } });
  });

  it('fill-mask: raw and through fillMask, top_k and targets, matching the remote', async () => {
    const raw = await post(localFetch, URLS.fillMask, { inputs: MASK_TEXT, parameters: { top_k: 2 } });
    expect(raw.status).toBe(200);
    expect(raw.body).toHaveLength(2);
    for (const c of raw.body) {
      expect(Object.keys(c).sort()).toEqual(['score', 'sequence', 'token', 'token_str']);
      expect(c.sequence).toBe(`the capital of france is ${c.token_str}.`);
    }
    const viaClient = await hf(URLS.fillMask).fillMask({ inputs: MASK_TEXT, parameters: { top_k: 2 } });
    expect(viaClient).toEqual(raw.body);
    const fromRemote = await post(fetch, remote.fillMask, { inputs: MASK_TEXT, parameters: { top_k: 2 } });
    expect(fromRemote.body.map((c: { token: number }) => c.token)).toEqual(raw.body.map((c: { token: number }) => c.token));
    fromRemote.body.forEach((c: { score: number }, i: number) => expect(Math.abs(c.score - raw.body[i].score)).toBeLessThan(1e-4));

    const targeted = await post(localFetch, URLS.fillMask, { inputs: MASK_TEXT, parameters: { targets: ['berlin'] } });
    expect(targeted.body.map((c: { token_str: string }) => c.token_str)).toEqual(['berlin']);
    const noMask = await post(localFetch, URLS.fillMask, { inputs: 'The capital of France is Paris.' });
    expect(noMask).toEqual({ status: 400, body: { error: 'inputs has no mask token: put [MASK] where the missing word goes.' } });
  });

  it('ranking: pairs and {query, texts} as raw Endpoint requests, matching the remote', async () => {
    const pairs = RANK_TEXTS.map((t) => [RANK_QUERY, t]);
    const raw = await post(localFetch, URLS.ranking, { inputs: pairs });
    expect(Object.keys(raw.body)).toEqual(['scores']);
    expect(raw.body.scores).toHaveLength(3);
    const ranked = await post(localFetch, URLS.ranking, { inputs: { query: RANK_QUERY, texts: RANK_TEXTS, return_documents: true } });
    expect(ranked.body[0]).toEqual({ index: expect.any(Number), score: Math.max(...raw.body.scores), text: RANK_TEXTS[ranked.body[0].index] });
    const fromRemote = await post(fetch, remote.ranking, { inputs: pairs });
    fromRemote.body.scores.forEach((s: number, i: number) => expect(Math.abs(s - raw.body.scores[i])).toBeLessThan(1e-4));
    const bad = await post(localFetch, URLS.ranking, { inputs: 'not pairs' });
    expect(bad.status).toBe(400);
  });

  it('an input far over the model’s maximum length is truncated, never a crash', async () => {
    const long = 'berlin '.repeat(2000);
    expect((await post(localFetch, URLS.zeroShot, { inputs: long, parameters: { candidate_labels: 'a, b' } })).status).toBe(200);
    expect((await post(localFetch, URLS.fillMask, { inputs: `[MASK] ${long}` })).status).toBe(200);
    expect((await post(localFetch, URLS.ranking, { inputs: [[long, long]] })).status).toBe(200);
  });
});
