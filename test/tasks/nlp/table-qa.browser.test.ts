/**
 * table-question-answering in a real module Worker in real Chromium: the tiny TAPAS fixture (its
 * own ONNX session on onnxruntime-web, WASM) and the tiny TAPEX fixture (BART on the
 * text2text-generation pipeline), through the local fetch, raw and with the official client, and
 * in parity with the same requests to `serve` in Node (onnxruntime-node).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { locateAnswer, tableQuestionAnswering } from '../../../src/tasks/nlp/table-question-answering.js';

const remote = inject('remote');
const TAPAS_URL = 'https://tapas.example.endpoints.huggingface.cloud';
const TAPEX_URL = 'https://tapex.example.endpoints.huggingface.cloud';
/** The Endpoint server's own test payload. */
const PAYLOAD = tableQuestionAnswering.example.inputs as { query: string; table: Record<string, string[]> };
const TABLE = PAYLOAD.table;
const QUESTIONS = [PAYLOAD.query, 'What is the total number of contributors?', 'Which language does datasets use?'];

const engine = new WorkerEngine();
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [TAPAS_URL]: { task: 'table-question-answering', model: 'local-endpoint/tiny-tapas', device: 'wasm' },
    [TAPEX_URL]: { task: 'table-question-answering', model: 'local-endpoint/tiny-tapex', device: 'wasm' },
  },
});
afterAll(() => engine.terminate());

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const postLocal = (url: string, body: unknown) => localFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const cellAt = ([row, column]: number[]) => Object.values(TABLE)[column!]![row!]!;

describe('TAPAS in the worker', () => {
  it('answers the Endpoint payload raw with {answer, coordinates, cells, aggregator}, as serve does in Node', async () => {
    const local = await postLocal(TAPAS_URL, { inputs: PAYLOAD });
    expect(local.status).toBe(200);
    const a = (await local.json()) as { answer: string; coordinates: number[][]; cells: string[]; aggregator: string };
    expect(Object.keys(a)).toEqual(['answer', 'coordinates', 'cells', 'aggregator']);
    expect(a.cells.length).toBeGreaterThan(0);
    expect(a.cells).toEqual(a.coordinates.map(cellAt));
    expect(a.answer).toBe((a.aggregator === 'NONE' ? '' : `${a.aggregator} > `) + a.cells.join(', '));
    expect(a).toEqual(await (await post(remote.tableQuestionAnswering, { inputs: PAYLOAD })).json());
  });

  it('several questions, sequential, and `question` for `query` match serve', async () => {
    for (const body of [
      { inputs: { query: QUESTIONS, table: TABLE } },
      { inputs: { query: QUESTIONS, table: TABLE }, parameters: { sequential: true } },
      { inputs: { question: PAYLOAD.query, table: TABLE }, parameters: { padding: 'max_length' } },
    ]) {
      const local = await (await postLocal(TAPAS_URL, body)).json();
      expect(local).toEqual(await (await post(remote.tableQuestionAnswering, body)).json());
    }
  });

  it('the official client’s tableQuestionAnswering through the local fetch', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: TAPAS_URL, fetch: localFetch });
    const a = await client.tableQuestionAnswering({ inputs: { question: PAYLOAD.query, table: TABLE } });
    expect(a).toEqual(await (await post(remote.tableQuestionAnswering, { inputs: PAYLOAD })).json());
  });

  it('refuses a bad table with a 400 naming the problem, then answers', async () => {
    const r = await postLocal(TAPAS_URL, { inputs: { query: 'q', table: { a: ['1', '2'], b: ['1'] } } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/columns must have the same length/);
    expect((await postLocal(TAPAS_URL, { inputs: PAYLOAD })).status).toBe(200);
  });
});

describe('TAPEX in the worker', () => {
  it('answers {answer} raw, the same text as serve generates in Node', async () => {
    const local = (await (await postLocal(TAPEX_URL, { inputs: PAYLOAD })).json()) as { answer: string };
    expect(Object.keys(local)).toEqual(['answer']);
    expect(local.answer.trim().length).toBeGreaterThan(0);
    expect(local).toEqual(await (await post(remote.tapex, { inputs: PAYLOAD })).json());
  });

  it('gives the official client all four fields: the cells the answer names, aggregator NONE', async () => {
    const raw = ((await (await post(remote.tapex, { inputs: PAYLOAD })).json()) as { answer: string }).answer;
    const client = new InferenceClient(undefined, { endpointUrl: TAPEX_URL, fetch: localFetch });
    const a = await client.tableQuestionAnswering({ inputs: { question: PAYLOAD.query, table: TABLE } });
    const coordinates = locateAnswer(raw, tableQuestionAnswering.parse({ inputs: PAYLOAD }).items[0]!.table);
    expect(a).toEqual({ answer: raw, coordinates, cells: coordinates.map(cellAt), aggregator: 'NONE' });
  });
});
