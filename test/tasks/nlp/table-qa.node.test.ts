/**
 * table-question-answering in Node: the tiny TAPAS fixture (TapasForQuestionAnswering on
 * onnxruntime-node) and the tiny TAPEX fixture (BART on the text2text-generation pipeline), through
 * the real engine and through `serve` over HTTP, raw and with the official client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { Engine, type EngineRequest } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { serve, type RunningServer } from '../../../src/node/serve.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clientAnswer, locateAnswer, tableQuestionAnswering } from '../../../src/tasks/nlp/table-question-answering.js';
import { TapasTokenizer } from '../../../src/tasks/nlp/tapas-tokenizer.js';

const TAPAS = 'local-endpoint/tiny-tapas';
const TAPEX = 'local-endpoint/tiny-tapex';
const MODELS = '.fixtures/models';
/** The Endpoint server's own test payload. */
const PAYLOAD = tableQuestionAnswering.example.inputs as { query: string; table: Record<string, string[]> };
const TABLE = PAYLOAD.table;
const QUESTIONS = [PAYLOAD.query, 'What is the total number of contributors?', 'Which language does datasets use?', 'How many contributors does tokenizers have?'];

interface Answer {
  answer: string;
  coordinates: [number, number][];
  cells: string[];
  aggregator: string;
}

const engine = new Engine(nodeRuntime(), { localModelPath: MODELS });
async function ask(model: string, inputs: unknown, parameters: Record<string, unknown> = {}): Promise<unknown> {
  const r = await engine.infer({ task: 'table-question-answering', model, inputs, parameters } as EngineRequest);
  if (!r.ok) throw new Error(`${r.status}: ${r.error}`);
  return r.output;
}
const cellAt = ([row, column]: [number, number]) => Object.values(TABLE)[column]![row]!;

/** The pipeline's TAPAS answer shape: coordinates sorted, cells at them, answer = prefix + cells. */
function expectTapasAnswer(a: Answer) {
  expect(Object.keys(a)).toEqual(['answer', 'coordinates', 'cells', 'aggregator']);
  expect(['NONE', 'SUM', 'AVERAGE', 'COUNT']).toContain(a.aggregator);
  expect(a.cells).toEqual(a.coordinates.map(cellAt));
  expect([...a.coordinates].sort((x, y) => x[0] - y[0] || x[1] - y[1])).toEqual(a.coordinates);
  expect(a.answer).toBe((a.aggregator === 'NONE' ? '' : `${a.aggregator} > `) + a.cells.join(', '));
}

describe('TAPAS on the engine', () => {
  it('answers the Endpoint payload with {answer, coordinates, cells, aggregator}, at least one cell selected', async () => {
    const a = (await ask(TAPAS, PAYLOAD)) as Answer;
    expectTapasAnswer(a);
    expect(a.cells.length).toBeGreaterThan(0);
    expect(a.answer.length).toBeGreaterThan(0);
    expect(await ask(TAPAS, PAYLOAD)).toEqual(a); // deterministic
  });

  it('takes `question` as `query`, a list of questions, and a list of {table, query}', async () => {
    const a = await ask(TAPAS, PAYLOAD);
    expect(await ask(TAPAS, { question: PAYLOAD.query, table: TABLE })).toEqual(a);
    const several = (await ask(TAPAS, { query: QUESTIONS, table: TABLE })) as Answer[];
    expect(several).toHaveLength(4);
    several.forEach(expectTapasAnswer);
    expect(several[0]).toEqual(a);
    const items = (await ask(TAPAS, [PAYLOAD, { question: QUESTIONS[1], table: TABLE }])) as Answer[];
    expect(items).toEqual([a, several[1]]);
    expect(await ask(TAPAS, { query: [PAYLOAD.query], table: TABLE })).toEqual(a);
  });

  it('sequential: the first answer is the batch’s, the next ones see the previous answer’s cells', async () => {
    const batch = (await ask(TAPAS, { query: QUESTIONS, table: TABLE })) as Answer[];
    const sequential = (await ask(TAPAS, { query: QUESTIONS, table: TABLE }, { sequential: true })) as Answer[];
    sequential.forEach(expectTapasAnswer);
    expect(sequential[0]).toEqual(batch[0]);
    expect(sequential.slice(1)).not.toEqual(batch.slice(1)); // the previous-label channel is in use
  });

  it('padding max_length and false give the same answers as the default; truncation drops rows of a big table', async () => {
    const a = await ask(TAPAS, PAYLOAD);
    expect(await ask(TAPAS, PAYLOAD, { padding: 'max_length' })).toEqual(a);
    expect(await ask(TAPAS, PAYLOAD, { padding: false, truncation: 'drop_rows_to_fit' })).toEqual(a);
    // 300 rows of 5 word pieces do not fit 512 tokens: rows are dropped (and the 300 ranks of the
    // Value column, past its 256-row embedding, are clamped).
    const big = { Name: Array.from({ length: 300 }, (_, i) => `name ${i}`), Value: Array.from({ length: 300 }, (_, i) => String(i * 7)) };
    const question = 'Which value is largest?';
    const cut = (await ask(TAPAS, { query: question, table: big })) as Answer;
    expect(Object.keys(cut)).toEqual(['answer', 'coordinates', 'cells', 'aggregator']);
    const [json, config] = await Promise.all(['tokenizer.json', 'tokenizer_config.json'].map(async (f) => JSON.parse(await readFile(join(MODELS, TAPAS, f), 'utf8'))));
    const [encoding] = TapasTokenizer.fromFiles(json, config).encode(tableQuestionAnswering.parse({ inputs: { query: question, table: big } }).items[0]!.table, [question], { truncation: true, padding: false });
    const kept = Math.max(...encoding!.tokenTypeIds.map((t) => t[2]!));
    expect(encoding!.inputIds.length).toBeLessThanOrEqual(512);
    expect(kept).toBeLessThan(300);
    for (const [row] of cut.coordinates) expect(row).toBeLessThan(kept);
    const refused = await engine.infer({ task: 'table-question-answering', model: TAPAS, inputs: { query: question, table: big }, parameters: { truncation: 'do_not_truncate' } } as EngineRequest);
    expect(refused).toMatchObject({ ok: false, status: 400 });
    expect((refused as { error: string }).error).toMatch(/more than this TAPAS model's 512: set parameters.truncation to true to drop rows/);
  });
});

describe('TAPEX on the engine', () => {
  it('answers the Endpoint payload with {answer} only, generated by BART', async () => {
    const a = (await ask(TAPEX, PAYLOAD)) as { answer: string };
    expect(Object.keys(a)).toEqual(['answer']);
    expect(a.answer.trim().length).toBeGreaterThan(0);
    expect(await ask(TAPEX, { question: PAYLOAD.query, table: TABLE })).toEqual(a);
    const two = (await ask(TAPEX, { query: [PAYLOAD.query, QUESTIONS[1]], table: TABLE })) as { answer: string }[];
    expect(two[0]).toEqual(a);
    expect(two[1]!.answer).not.toBe(a.answer); // the question reaches the model
  });

  it('drops rows to fit a big table; with truncation false, a table too long for BART is a 400', async () => {
    const big = { Name: Array.from({ length: 400 }, (_, i) => `name ${i}`), Value: Array.from({ length: 400 }, (_, i) => String(i * 7)) };
    const a = (await ask(TAPEX, { query: 'Which value is largest?', table: big })) as { answer: string };
    expect(typeof a.answer).toBe('string');
    const r = await engine.infer({ task: 'table-question-answering', model: TAPEX, inputs: { query: 'Which value is largest?', table: big }, parameters: { truncation: false } } as EngineRequest);
    expect(r).toMatchObject({ ok: false, status: 400 });
    expect((r as { error: string }).error).toMatch(/more than this TAPEX model's 1024: set parameters.truncation/);
  });
});

describe('the official client’s shape (toClient)', () => {
  const table = tableQuestionAnswering.parse({ inputs: PAYLOAD }).items[0]!.table;
  it('a TAPEX answer gets the cells it names, case-insensitively, whole or by comma-separated parts; none when it names none', () => {
    expect(locateAnswer('python', table)).toEqual([[0, 3], [1, 3]]);
    expect(locateAnswer(' 36542, DATASETS ', table)).toEqual([[0, 1], [1, 0]]);
    expect(locateAnswer('rust, python and nodejs', table)).toEqual([[2, 3]]); // the whole answer first
    expect(clientAnswer({ answer: 'Tokenizers' }, table)).toEqual({ answer: 'Tokenizers', coordinates: [[2, 0]], cells: ['Tokenizers'], aggregator: 'NONE' });
    expect(clientAnswer({ answer: 'nothing like it' }, table)).toEqual({ answer: 'nothing like it', coordinates: [], cells: [], aggregator: 'NONE' });
  });
  it('a TAPAS answer keeps its cells; one without an aggregation head gets aggregator NONE', () => {
    const a = { answer: 'x', coordinates: [[0, 0]] as [number, number][], cells: ['Transformers'] };
    expect(clientAnswer(a, table)).toEqual({ ...a, aggregator: 'NONE' });
    expect(clientAnswer({ ...a, aggregator: 'SUM' }, table).aggregator).toBe('SUM');
  });
});

const BAD: [string, unknown, Record<string, unknown> | undefined, RegExp][] = [
  ['unequal columns', { query: 'q', table: { a: ['1', '2'], b: ['1'] } }, undefined, /columns must have the same length: "a" has 2 cells, "b" has 1/],
  ['no columns', { query: 'q', table: {} }, undefined, /inputs.table is empty: it has no columns/],
  ['no rows', { query: 'q', table: { a: [] } }, undefined, /inputs.table is empty: its columns have no cells/],
  ['a number cell', { query: 'q', table: { a: ['1', 2] } }, undefined, /inputs.table\["a"\]\[1\] must be a string \(every cell is text\), got a number 2/],
  ['a missing query', { table: { a: ['1'] } }, undefined, /inputs.query \(or inputs.question\) is missing/],
  ['an empty query', { query: '  ', table: { a: ['1'] } }, undefined, /inputs.query is empty/],
  ['a missing table', { query: 'q' }, undefined, /inputs.table is missing/],
  ['a list table', { query: 'q', table: [['1']] }, undefined, /inputs.table must be an object \{column: \[cells…\]\}, got an array/],
  ['a string input', 'q', undefined, /inputs must be an object \{"query": …, "table"/],
  ['an unknown parameter', PAYLOAD, { top_k: 2 }, /Unknown parameter for table-question-answering: top_k. Supported: sequential, padding, truncation/],
  ['a bad truncation', PAYLOAD, { truncation: 'longest_first' }, /parameters.truncation must be true, false or one of drop_rows_to_fit, do_not_truncate/],
  ['a bad sequential', PAYLOAD, { sequential: 'yes' }, /parameters.sequential must be a boolean/],
];

describe('table-question-answering through serve', () => {
  let tapas: RunningServer;
  let tapex: RunningServer;
  beforeAll(async () => {
    [tapas, tapex] = await Promise.all([
      serve({ task: 'table-question-answering', model: TAPAS, modelsDir: MODELS, port: 0 }),
      serve({ task: 'table-question-answering', model: TAPEX, modelsDir: MODELS, port: 0 }),
    ]);
    expect(await tapas.ready).toBe(true);
    expect(await tapex.ready).toBe(true);
  });
  afterAll(() => Promise.all([tapas?.close(), tapex?.close()]));
  const post = (server: RunningServer, body: unknown) =>
    fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers raw requests as the engine does: TAPAS all four fields, TAPEX {answer}', async () => {
    const raw = await post(tapas, { inputs: PAYLOAD });
    expect(raw.status).toBe(200);
    const a = (await raw.json()) as Answer;
    expectTapasAnswer(a);
    expect(a).toEqual(await ask(TAPAS, PAYLOAD));
    const x = await (await post(tapex, { inputs: { question: PAYLOAD.query, table: TABLE } })).json();
    expect(x).toEqual(await ask(TAPEX, PAYLOAD));
    expect(Object.keys(x as object)).toEqual(['answer']);
  });

  it('serves the official client’s tableQuestionAnswering for TAPAS and TAPEX (all four fields)', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: tapas.url });
    const a = await client.tableQuestionAnswering({ inputs: { query: PAYLOAD.query, table: TABLE } as never });
    expect(a).toEqual(await ask(TAPAS, PAYLOAD));
    const viaQuestion = await client.tableQuestionAnswering({ inputs: { question: PAYLOAD.query, table: TABLE } });
    expect(viaQuestion).toEqual(a);
    const x = await new InferenceClient(undefined, { endpointUrl: tapex.url }).tableQuestionAnswering({ inputs: { question: PAYLOAD.query, table: TABLE } });
    const generated = ((await ask(TAPEX, PAYLOAD)) as { answer: string }).answer;
    const cells = locateAnswer(generated, tableQuestionAnswering.parse({ inputs: PAYLOAD }).items[0]!.table);
    expect(x).toEqual({ answer: generated, coordinates: cells, cells: cells.map(cellAt), aggregator: 'NONE' });
  });

  it.each(BAD)('refuses %s with a 400 naming it, and serves on', async (_, inputs, parameters, message) => {
    for (const server of [tapas, tapex]) {
      const r = await post(server, { inputs, ...(parameters ? { parameters } : {}) });
      expect(r.status).toBe(400);
      const { error } = (await r.json()) as { error: string };
      expect(error).toMatch(message);
      expect(error).not.toMatch(/\/work|\/tmp|\/home/);
    }
    expect((await post(tapas, { inputs: PAYLOAD })).status).toBe(200);
    expect((await post(tapex, { inputs: PAYLOAD })).status).toBe(200);
  });

  it('caps the table: too many cells or characters is a 413 naming the limit', async () => {
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, c) => [`c${c}`, Array.from({ length: 1000 }, () => 'x')]));
    const many = await post(tapas, { inputs: { query: 'q', table: wide } });
    expect(many.status).toBe(413);
    expect(((await many.json()) as { error: string }).error).toBe('The table has 60000 cells; at most 50000 are accepted.');
    const long = await post(tapas, { inputs: { query: 'q', table: { a: ['y'.repeat(600_000)] } } });
    expect(long.status).toBe(413);
    expect(((await long.json()) as { error: string }).error).toMatch(/The table has 600001 characters; at most 500000 are accepted/);
    expect((await post(tapas, { inputs: PAYLOAD })).status).toBe(200);
  });
});
