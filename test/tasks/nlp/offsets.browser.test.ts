/**
 * token-classification and question-answering in the worker: character offsets checked by
 * slicing, on both tokenizer families, under the official client and as raw Endpoint requests,
 * and against the Node-served Endpoints.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { NER, QA, ROBERTA_NER, ROBERTA_QA, TRICKY_TEXTS, postJson as post } from '../../helpers.js';

const remote = inject('remote');
const QA_INPUTS = {
  question: 'What is used for inference?',
  context: 'My Name is Philipp and I live in Nuremberg. This model is used with sagemaker for inference.',
};
const NER_TEXT = 'My name is Wolfgang and I live in Berlin';
const URLS = {
  ner: 'https://ner.example.endpoints.huggingface.cloud',
  robertaNer: 'https://roberta-ner.example.endpoints.huggingface.cloud',
  qa: 'https://qa.example.endpoints.huggingface.cloud',
  robertaQa: 'https://roberta-qa.example.endpoints.huggingface.cloud',
};
type Entity = { entity?: string; entity_group?: string; score: number; word: string; start: number; end: number; index?: number };

describe.each(['wasm', 'webgpu'] as const)('offset tasks on %s', (device) => {
  const engine = new WorkerEngine();
  afterAll(() => engine.terminate());
  const localFetch = createLocalFetch({
    engine,
    endpoints: {
      [URLS.ner]: { task: 'token-classification', model: NER, device },
      [URLS.robertaNer]: { task: 'token-classification', model: ROBERTA_NER, device },
      [URLS.qa]: { task: 'question-answering', model: QA, device },
      [URLS.robertaQa]: { task: 'question-answering', model: ROBERTA_QA, device },
    },
  });

  it('token-classification: the client gets entity groups, a raw request per-token entities, all with exact offsets', async () => {
    for (const url of [URLS.ner, URLS.robertaNer]) {
      const groups = await new InferenceClient('', { fetch: localFetch, endpointUrl: url }).tokenClassification({ inputs: NER_TEXT });
      expect(groups.length).toBeGreaterThan(0);
      for (const g of groups) expect(g.word).toBe(NER_TEXT.slice(g.start, g.end));

      const raw = await post(localFetch, url, { inputs: NER_TEXT });
      expect(raw.status).toBe(200);
      for (const e of raw.body as Entity[]) {
        expect(Object.keys(e).sort()).toEqual(['end', 'entity', 'index', 'score', 'start', 'word']);
        expect(e.word).toBe(NER_TEXT.slice(e.start, e.end));
      }
      const simple = await post(localFetch, url, { inputs: NER_TEXT, parameters: { aggregation_strategy: 'simple' } });
      expect(simple.body).toEqual(groups);
    }
  });

  it('token-classification: offsets stay exact on accents, punctuation, repeats and emoji, for every strategy', async () => {
    for (const url of [URLS.ner, URLS.robertaNer]) {
      for (const aggregation_strategy of ['none', 'simple', 'first', 'average', 'max']) {
        for (const text of TRICKY_TEXTS) {
          const { body } = await post(localFetch, url, { inputs: text, parameters: { aggregation_strategy, ignore_labels: [] } });
          expect(body.length).toBeGreaterThan(0);
          for (const e of body as Entity[]) expect(e.word).toBe(text.slice(e.start, e.end));
        }
      }
    }
  });

  it('token-classification: matches the Node-served Endpoint', async () => {
    const parameters = { aggregation_strategy: 'first', ignore_labels: [] };
    const local = await post(localFetch, URLS.robertaNer, { inputs: TRICKY_TEXTS[1], parameters });
    const fromRemote = await post(fetch, remote.tokenClassification, { inputs: TRICKY_TEXTS[1], parameters });
    expect(fromRemote.body.map((e: Entity) => [e.entity_group, e.start, e.end, e.word])).toEqual(
      local.body.map((e: Entity) => [e.entity_group, e.start, e.end, e.word]),
    );
    fromRemote.body.forEach((e: Entity, i: number) => expect(Math.abs(e.score - local.body[i].score)).toBeLessThan(1e-4));
  });

  it('question-answering: the client and a raw request agree; answers are the context between their offsets', async () => {
    for (const url of [URLS.qa, URLS.robertaQa]) {
      const viaClient = await new InferenceClient('', { fetch: localFetch, endpointUrl: url }).questionAnswering({ inputs: QA_INPUTS });
      const raw = await post(localFetch, url, { inputs: QA_INPUTS });
      expect(raw.body).toEqual(viaClient);
      expect(Object.keys(raw.body).sort()).toEqual(['answer', 'end', 'score', 'start']);
      expect(raw.body.answer).toBe(QA_INPUTS.context.slice(raw.body.start, raw.body.end));
      const top = await post(localFetch, url, { inputs: QA_INPUTS, parameters: { top_k: 3 } });
      expect(top.body).toHaveLength(3);
      expect(top.body[0]).toEqual(raw.body);
    }
    const fromRemote = await post(fetch, remote.questionAnswering, { inputs: QA_INPUTS, parameters: { top_k: 3 } });
    const local = await post(localFetch, URLS.qa, { inputs: QA_INPUTS, parameters: { top_k: 3 } });
    expect(fromRemote.body.map((a: { answer: string }) => a.answer)).toEqual(local.body.map((a: { answer: string }) => a.answer));
    fromRemote.body.forEach((a: { score: number }, i: number) => expect(Math.abs(a.score - local.body[i].score)).toBeLessThan(1e-4));
  });

  it('bad input gets a 400: no context, an empty string, the wrong type', async () => {
    expect(await post(localFetch, URLS.qa, { inputs: { question: 'q' } })).toEqual({ status: 400, body: { error: 'inputs.context must be a string, got nothing.' } });
    expect(await post(localFetch, URLS.ner, { inputs: '' })).toEqual({ status: 400, body: { error: 'inputs must not be empty.' } });
    expect((await post(localFetch, URLS.ner, { inputs: { text: 'x' } })).status).toBe(400);
    expect((await post(localFetch, URLS.ner, { inputs: NER_TEXT })).status).toBe(200);
  });
});
