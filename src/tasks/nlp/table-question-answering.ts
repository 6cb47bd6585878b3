/**
 * table-question-answering: `{"inputs": {"query": …, "table": {column: [cells…]}}}` → the answer
 * as transformers' TableQuestionAnsweringPipeline builds it.
 *
 * Request. `query` (the Endpoint server renames `question` to it) is a string or a list of
 * strings about the same table; `inputs` may also be a list of `{table, query}`. Every column is a
 * list of strings of the same length. Columns keep the JSON object's order, except that JavaScript
 * puts integer-like keys ("2020") first. Parameters: `sequential` (TAPAS: each question sees the
 * previous one's answer), `padding` (true/"longest", "max_length", false/"do_not_pad") and
 * `truncation` (true/"drop_rows_to_fit", false/"do_not_truncate"). Tables are capped at
 * MAX_TABLE_CELLS cells and MAX_TABLE_CHARACTERS characters (413).
 *
 * Answer. One object per question (a list when there are several), as the pipeline returns it.
 * - **TAPAS** (config.json `model_type` "tapas"): `{answer, coordinates, cells, aggregator}`:
 *   the cells whose mean token probability is above 0.5, as `[row, column]` pairs sorted by row;
 *   `answer` is their texts joined by ", ", after `"<AGGREGATOR> > "` when the aggregation head
 *   picks another label than `no_aggregation_label_index`. A model without aggregation labels
 *   answers without `aggregator`.
 * - **TAPEX** (a BART model, tokenizer_class "TapexTokenizer"): `{answer}`, the generated text.
 *   The official client requires all four fields: for it (`toClient`) a TAPEX answer gets the
 *   cells of the table that equal the answer, or else each of its comma-separated parts (trimmed,
 *   case-insensitively), with `aggregator: "NONE"`; an answer that matches no cell gets
 *   `coordinates: []` and `cells: []`. A TAPAS answer without `aggregator` gets "NONE".
 *
 * Truncation defaults to drop_rows_to_fit for both (the pipeline's default for TAPAS; for TAPEX
 * the pipeline does not truncate and an over-long table fails inside the model, so dropping rows
 * changes only what would otherwise be an error). With `truncation: false`, a table too long for
 * the model is a 400.
 *
 * The TAPAS model, in the layout this runner reads (Hub TAPAS repos have no ONNX; export one):
 * - `config.json`: TapasConfig (model_type "tapas", aggregation_labels, num_aggregation_labels,
 *   no_aggregation_label_index);
 * - `tokenizer.json`: a WordPiece tokenizer.json with the model's vocab.txt (Hub TAPAS repos ship
 *   only vocab.txt: save `BertTokenizerFast(vocab_file="vocab.txt", do_lower_case=True)` or
 *   `tokenizers`' BertWordPieceTokenizer over it), and `tokenizer_config.json` (TapasTokenizer's
 *   settings: do_lower_case, empty_token, cell_trim_length, max_row_id…);
 * - `onnx/model.onnx`: inputs `input_ids`, `attention_mask` int64 [batch, sequence] and
 *   `token_type_ids` int64 [batch, sequence, 7]; outputs `logits` float32 [batch, sequence] and,
 *   when the config has aggregation labels, `logits_aggregation` float32 [batch, labels]. E.g.
 *   `torch.onnx.export(TapasForQuestionAnswering.from_pretrained(id), (ids, mask, types),
 *   "onnx/model.onnx", input_names=[…], output_names=["logits", "logits_aggregation"],
 *   dynamic_axes={…: {0: "batch_size", 1: "sequence_length"}}, opset_version=17)`.
 * A TAPEX model is a transformers.js BART folder (`onnx/encoder_model.onnx`,
 * `onnx/decoder_model_merged.onnx`, a byte-level BPE tokenizer.json); it runs on the
 * text2text-generation pipeline of the same model.
 */
import type { EndpointPayload, LoadContext, OnnxModel, PipelineFn, TaskRunner, TaskSpec, TensorLike } from '../types.js';
import { checkKnownParameters, readBoolean, readParameters } from '../shared/parameters.js';
import { yieldToEventLoop } from '../shared/yield.js';
import { generationSetup, runGeneration, type GenerationSetup } from '../generation/generate-core.js';
import { TapasTokenizer, selectCells, type Padding, type Table, type TapasEncoding } from './tapas-tokenizer.js';
import { tapexSource, type TapexTokenizer } from './tapex.js';
import { EndpointError, badRequest, describeType, quote, quoteName } from '../../protocol/errors.js';

/** One table and its questions. */
export interface TableQuestion {
  table: Table;
  queries: string[];
}

export interface TableQuestionAnsweringRequest {
  items: TableQuestion[];
  sequential: boolean;
  padding: Padding;
  /** Undefined: drop rows to fit (see the header). */
  truncation?: boolean;
}

export interface TableAnswer {
  answer: string;
  coordinates?: [number, number][];
  cells?: string[];
  aggregator?: string;
}

const PARAMETERS = ['sequential', 'padding', 'truncation'] as const;
/** The most cells and characters (cells and column names) a request's tables may hold. */
export const MAX_TABLE_CELLS = 50_000;
export const MAX_TABLE_CHARACTERS = 500_000;
/** The most questions a request may ask. */
export const MAX_QUERIES = 64;

export const tableQuestionAnswering = {
  id: 'table-question-answering',
  client: ['tableQuestionAnswering'],
  example: {
    inputs: {
      query: 'How many stars does the transformers repository have?',
      table: {
        Repository: ['Transformers', 'Datasets', 'Tokenizers'],
        Stars: ['36542', '4512', '3934'],
        Contributors: ['651', '77', '34'],
        'Programming language': ['Python', 'Python', 'Rust, Python and NodeJS'],
      },
    },
  },

  parse({ inputs, parameters: raw }: EndpointPayload): TableQuestionAnsweringRequest {
    const parameters = readParameters(raw);
    checkKnownParameters('table-question-answering', parameters, PARAMETERS);
    const list = Array.isArray(inputs);
    if (list && inputs.length === 0) throw badRequest('inputs must not be an empty list.');
    const items = (list ? (inputs as unknown[]) : [inputs]).map((item, i) => readItem(item, list ? `inputs[${i}]` : 'inputs'));
    let cells = 0;
    let characters = 0;
    for (const { table } of items) {
      cells += table.columns.length * table.rows.length;
      characters += table.columns.reduce((a, c) => a + c.length, 0) + table.rows.reduce((a, row) => row.reduce((b, c) => b + c.length, a), 0);
    }
    if (cells > MAX_TABLE_CELLS) throw new EndpointError(413, `The table has ${cells} cells; at most ${MAX_TABLE_CELLS} are accepted.`);
    if (characters > MAX_TABLE_CHARACTERS) throw new EndpointError(413, `The table has ${characters} characters; at most ${MAX_TABLE_CHARACTERS} are accepted.`);
    const queries = items.reduce((a, item) => a + item.queries.length, 0);
    if (queries > MAX_QUERIES) throw badRequest(`inputs asks ${queries} questions; at most ${MAX_QUERIES} are accepted in one request.`);
    const truncation = readChoice(parameters, 'truncation', { drop_rows_to_fit: true, do_not_truncate: false });
    const padding = readChoice<Padding>(parameters, 'padding', { longest: 'longest', max_length: 'max_length', do_not_pad: false }, { true: 'longest', false: false });
    return {
      items,
      sequential: readBoolean(parameters, 'sequential') ?? false,
      padding: padding ?? 'longest',
      ...(truncation !== undefined ? { truncation } : {}),
    };
  },

  toClient(answer, request) {
    const tables = request.items.map((item) => item.table);
    const one = (a: unknown, table: Table | undefined) => clientAnswer(a as TableAnswer, table);
    if (!Array.isArray(answer)) return one(answer, tables[0]);
    if (tables.length > 1) return answer.map((a, i) => (Array.isArray(a) ? a.map((x) => one(x, tables[i])) : one(a, tables[i])));
    return answer.map((a) => one(a, tables[0]));
  },
} satisfies TaskSpec<TableQuestionAnsweringRequest>;

function readItem(value: unknown, where: string): TableQuestion {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`${where} must be an object {"query": …, "table": {column: [cells…]}}, got ${describeType(value)}.`);
  }
  const item = value as Record<string, unknown>;
  const field = item.query !== undefined && item.query !== null ? 'query' : 'question';
  const query = item[field];
  if (query === undefined || query === null) throw badRequest(`${where}.query (or ${where}.question) is missing: it is the question about the table.`);
  const queries = Array.isArray(query) ? query : [query];
  if (queries.length === 0) throw badRequest(`${where}.${field} must not be an empty list.`);
  queries.forEach((q, i) => {
    const at = Array.isArray(query) ? `${where}.${field}[${i}]` : `${where}.${field}`;
    if (typeof q !== 'string') throw badRequest(`${at} must be a string, got ${describeType(q)}.`);
    if (q.trim() === '') throw badRequest(`${at} is empty: it is the question about the table.`);
  });
  return { table: readTable(item.table, `${where}.table`), queries: queries as string[] };
}

function readTable(value: unknown, where: string): Table {
  if (value === undefined || value === null) throw badRequest(`${where} is missing: it is an object {column: [cells…]}.`);
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${where} must be an object {column: [cells…]}, got ${describeType(value)}.`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw badRequest(`${where} is empty: it has no columns.`);
  let length = -1;
  let first = '';
  for (const [name, cells] of entries) {
    const at = `${where}[${JSON.stringify(quoteName(name))}]`;
    if (!Array.isArray(cells)) throw badRequest(`${at} must be a list of cells (strings), got ${describeType(cells)}.`);
    const bad = cells.findIndex((c) => typeof c !== 'string');
    if (bad >= 0) throw badRequest(`${at}[${bad}] must be a string (every cell is text), got ${describeType(cells[bad])} ${quote(cells[bad], 20)}.`);
    if (length < 0) [length, first] = [cells.length, name];
    else if (cells.length !== length) {
      throw badRequest(`${where}'s columns must have the same length: ${JSON.stringify(quoteName(first))} has ${length} cells, ${JSON.stringify(quoteName(name))} has ${cells.length}.`);
    }
  }
  if (length === 0) throw badRequest(`${where} is empty: its columns have no cells.`);
  const columns = entries.map(([name]) => name);
  const rows = Array.from({ length }, (_, r) => entries.map(([, cells]) => (cells as string[])[r]!));
  return { columns, rows };
}

/** A parameter given as a boolean or as one of the transformers strategy names. */
function readChoice<T>(parameters: Record<string, unknown>, name: string, names: Record<string, T>, booleans: { true: T; false: T } = { true: true as T, false: false as T }): T | undefined {
  const v = parameters[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v ? booleans.true : booleans.false;
  if (typeof v === 'string' && Object.hasOwn(names, v)) return names[v];
  throw badRequest(`parameters.${name} must be true, false or one of ${Object.keys(names).join(', ')}, got ${quote(v)}.`);
}

/** The official client's shape of one answer (see the header). */
export function clientAnswer(answer: TableAnswer, table: Table | undefined): Required<TableAnswer> {
  if (Array.isArray(answer.coordinates) && Array.isArray(answer.cells)) {
    return { answer: answer.answer, coordinates: answer.coordinates, cells: answer.cells, aggregator: answer.aggregator ?? 'NONE' };
  }
  const coordinates = table ? locateAnswer(String(answer.answer ?? ''), table) : [];
  return { answer: answer.answer, coordinates, cells: coordinates.map(([r, c]) => table!.rows[r]![c]!), aggregator: 'NONE' };
}

/** The cells equal to the answer, or else to any of its comma-separated parts (case-insensitive), sorted. */
export function locateAnswer(answer: string, table: Table): [number, number][] {
  const find = (texts: string[]) => {
    const wanted = new Set(texts.map((t) => t.trim().toLowerCase()).filter(Boolean));
    const found: [number, number][] = [];
    table.rows.forEach((row, r) => row.forEach((cell, c) => wanted.has(cell.trim().toLowerCase()) && found.push([r, c])));
    return found;
  };
  const whole = find([answer]);
  return whole.length > 0 ? whole : find(answer.split(','));
}

// -- the runner -------------------------------------------------------------------------------

interface TapasModel {
  kind: 'tapas';
  tokenizer: TapasTokenizer;
  session: OnnxModel;
  tensor: LoadContext['tensor'];
  int32: boolean;
  /** Aggregation label names by index; null when the model has no aggregation head. */
  aggregationLabels: string[] | null;
  noAggregationIndex: number | null;
  /** The size of each token-type embedding: values past it are clamped to its last row. */
  typeVocabSizes: number[];
}

interface TapexSetup {
  kind: 'tapex';
  generation: GenerationSetup;
  maxCellLength: number;
  lowercase: boolean;
}

type Setup = { kind: 'tapas' } | TapexSetup;

const tapasOf = (pipe: PipelineFn) => (pipe as unknown as { tapas?: TapasModel }).tapas;

export const tableQuestionAnsweringRunner: TaskRunner<TableQuestionAnsweringRequest, Setup> = {
  spec: tableQuestionAnswering,
  pipeline: 'table-question-answering',

  async load(ctx) {
    const config = (await ctx.readJSON('config.json')) as Record<string, unknown> | null;
    if (!config) throw badRequest(`Model ${JSON.stringify(ctx.model)} has no config.json.`);
    if (config.model_type === 'tapas') return loadTapas(ctx, config);
    if (!config.is_encoder_decoder) {
      throw badRequest(
        `Model ${JSON.stringify(ctx.model)} is neither TAPAS (config.json model_type "tapas") nor a TAPEX encoder-decoder (BART) model: table-question-answering cannot run it.`,
      );
    }
    return ctx.pipeline('text2text-generation');
  },

  async setup(model) {
    if (tapasOf(model.pipe)) return { kind: 'tapas' };
    const tokenizerConfig = ((await model.readJSON('tokenizer_config.json')) ?? {}) as Record<string, unknown>;
    return {
      kind: 'tapex',
      generation: await generationSetup(model),
      maxCellLength: typeof tokenizerConfig.max_cell_length === 'number' ? tokenizerConfig.max_cell_length : 15,
      lowercase: tokenizerConfig.do_lower_case !== false,
    };
  },

  async run(pipe, request, setup, ctx) {
    const results: unknown[] = [];
    for (const item of request.items) {
      if (ctx?.cancelled()) return null;
      const answers = setup.kind === 'tapas' ? await answerTapas(tapasOf(pipe)!, item, request) : await answerTapex(pipe, item, request, setup, ctx);
      if (answers === null) return null;
      results.push(answers.length > 1 ? answers : answers[0]);
      await yieldToEventLoop();
    }
    return results.length > 1 ? results : results[0];
  },
};

async function loadTapas(ctx: LoadContext, config: Record<string, unknown>): Promise<PipelineFn> {
  const [tokenizerJson, tokenizerConfig] = await Promise.all([ctx.readJSON('tokenizer.json'), ctx.readJSON('tokenizer_config.json')]);
  if (!tokenizerJson) {
    throw badRequest(`Model ${JSON.stringify(ctx.model)} has no tokenizer.json: a TAPAS model needs its vocabulary as a WordPiece tokenizer.json (made from vocab.txt).`);
  }
  const tokenizer = TapasTokenizer.fromFiles(tokenizerJson, tokenizerConfig);
  const session = await ctx.session('onnx');
  const names = session.inputs.map((i) => i.name);
  for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) {
    if (!names.includes(name)) {
      await session.dispose();
      throw badRequest(`Model ${JSON.stringify(ctx.model)}: onnx/model.onnx has no input ${JSON.stringify(name)} (TAPAS takes input_ids, attention_mask and token_type_ids [batch, sequence, 7]).`);
    }
  }
  const labels = config.aggregation_labels as Record<string, unknown> | undefined;
  const count = typeof config.num_aggregation_labels === 'number' ? config.num_aggregation_labels : 0;
  const aggregationLabels = labels && typeof labels === 'object' && Object.keys(labels).length > 0 && count > 0
    ? Array.from({ length: count }, (_, i) => String(labels[String(i)] ?? i))
    : null;
  const model: TapasModel = {
    kind: 'tapas',
    tokenizer,
    session,
    tensor: ctx.tensor,
    int32: session.inputs.find((i) => i.name === 'input_ids')?.type === 'int32',
    aggregationLabels,
    noAggregationIndex: typeof config.no_aggregation_label_index === 'number' ? config.no_aggregation_label_index : null,
    typeVocabSizes: Array.isArray(config.type_vocab_sizes) && config.type_vocab_sizes.length === 7 ? config.type_vocab_sizes.map(Number) : [3, 256, 256, 2, 256, 256, 10],
  };
  const pipe = (async () => {
    throw new Error('table-question-answering runs through its runner');
  }) as unknown as PipelineFn;
  return Object.assign(pipe, { tapas: model, model: { config }, dispose: () => session.dispose() });
}

async function answerTapas(model: TapasModel, item: TableQuestion, request: TableQuestionAnsweringRequest): Promise<TableAnswer[]> {
  const encodings = model.tokenizer.encode(item.table, item.queries, { truncation: request.truncation ?? true, padding: request.padding });
  if (new Set(encodings.map((e) => e.inputIds.length)).size > 1 && !request.sequential) {
    throw badRequest('parameters.padding false cannot batch questions whose encodings differ in length: set padding to true, or sequential to true.');
  }
  const logits: Float32Array[] = [];
  const aggregation: Float32Array[] = [];
  if (request.sequential) {
    // Each question sees the cells the previous one selected, in its previous-label channel.
    let previous: Map<string, number> | null = null;
    for (const encoding of encodings) {
      if (previous) {
        for (const types of encoding.tokenTypeIds) {
          const [segment, column, row] = types;
          if (segment === 1 && column! > 0 && row! > 0) types[3] = (previous.get(`${column! - 1}:${row! - 1}`) ?? 0) > 0.5 ? 1 : 0;
        }
      }
      const out = await runTapas(model, [encoding]);
      logits.push(out.logits[0]!);
      if (out.aggregation[0]) aggregation.push(out.aggregation[0]);
      previous = selectCells(out.logits[0]!, encoding).probabilities;
    }
  } else {
    const out = await runTapas(model, encodings);
    logits.push(...out.logits);
    aggregation.push(...out.aggregation);
  }
  return encodings.map((encoding, i) => {
    const { coordinates } = selectCells(logits[i]!, encoding);
    const cells = coordinates.map(([r, c]) => item.table.rows[r]![c]!);
    if (!model.aggregationLabels) return { answer: cells.join(', '), coordinates, cells };
    const scores = aggregation[i]!;
    let best = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]!) best = k;
    const aggregator = model.aggregationLabels[best] ?? String(best);
    const prefix = best !== model.noAggregationIndex ? `${aggregator} > ` : '';
    return { answer: prefix + cells.join(', '), coordinates, cells, aggregator };
  });
}

async function runTapas(model: TapasModel, encodings: TapasEncoding[]): Promise<{ logits: Float32Array[]; aggregation: Float32Array[] }> {
  const batch = encodings.length;
  const length = encodings[0]!.inputIds.length;
  const ints = (values: number[], dims: number[]) =>
    model.int32 ? model.tensor('int32', Int32Array.from(values), dims) : model.tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
  const outputs = await model.session({
    input_ids: ints(encodings.flatMap((e) => e.inputIds), [batch, length]),
    attention_mask: ints(encodings.flatMap((e) => e.attentionMask), [batch, length]),
    // A rank or row past its embedding (a column of over 255 numbers) is clamped to the last row,
    // where transformers would fail with an index error.
    token_type_ids: ints(encodings.flatMap((e) => e.tokenTypeIds.flatMap((types) => types.map((v, k) => Math.min(v, model.typeVocabSizes[k]! - 1)))), [batch, length, 7]),
  });
  const split = (t: TensorLike | undefined, width: number) =>
    t ? Array.from({ length: batch }, (_, b) => Float32Array.from(Array.from(t.data as ArrayLike<number>).slice(b * width, (b + 1) * width))) : [];
  const logits = outputs.logits;
  if (!logits) throw new EndpointError(500, 'The TAPAS model gave no "logits" output.');
  const aggregation = outputs.logits_aggregation;
  if (model.aggregationLabels && !aggregation) throw new EndpointError(500, 'The TAPAS model has aggregation labels but gave no "logits_aggregation" output.');
  return { logits: split(logits, length), aggregation: model.aggregationLabels ? split(aggregation, aggregation!.dims.at(-1)!) : [] };
}

interface Bpe {
  tokenize(text: string): string[];
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  model_max_length?: number;
}

async function answerTapex(pipe: PipelineFn, item: TableQuestion, request: TableQuestionAnsweringRequest, setup: TapexSetup, ctx: Parameters<TaskRunner['run']>[3]): Promise<TableAnswer[] | null> {
  const bpe = (pipe as unknown as { tokenizer: Bpe }).tokenizer;
  const tokenizer: TapexTokenizer = {
    tokenize: (text) => bpe.tokenize(text),
    prefix: (text, n) => bpe.decode(bpe.encode(text, { add_special_tokens: false }).slice(0, n), { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
  };
  const maxLength = Number.isFinite(bpe.model_max_length) && bpe.model_max_length! < 1e7 ? bpe.model_max_length! : (setup.generation.contextLength ?? 1024);
  const truncation = request.truncation ?? true;
  const answers: TableAnswer[] = [];
  for (const query of item.queries) {
    if (ctx?.cancelled()) return null;
    const source = tapexSource(item.table, query, tokenizer, { truncation, maxLength, maxCellLength: setup.maxCellLength, lowercase: setup.lowercase });
    if (!truncation) {
      const tokens = bpe.encode(source).length;
      if (tokens > maxLength) throw badRequest(`The question and table come to ${tokens} tokens, more than this TAPEX model's ${maxLength}: set parameters.truncation to true to drop rows.`);
    }
    const result = await runGeneration(pipe, { kind: 'text', text: source }, { maxNewTokens: null, doSample: null, stop: [], numReturnSequences: 1 }, setup.generation, ctx);
    answers.push({ answer: result.sequences[0]!.text });
  }
  return answers;
}
