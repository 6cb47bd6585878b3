/**
 * TEI's classifier routes:
 *
 *   POST /rerank   RerankRequest → RerankResponse `[{index, text?, score}]`, best first (ranking endpoints)
 *   POST /predict  PredictRequest → PredictResponse: `[{score, label}]` for one input, a list of
 *                  those for a batch; every label, best first (text-classification and ranking endpoints)
 *
 * Scores as TEI gives them: the softmax of the logits for a model of several labels (multi-label
 * models too: TEI does not read `problem_type`), the sigmoid of the logit for one label, the logits
 * with `raw_scores`. Ties keep TEI's order (an ascending stable sort, reversed).
 */
import { badRequest, describeType } from '../../protocol/errors.js';
import { sigmoid, softmax } from '../shared/scores.js';
import { textPipeline, type PipelineFn, type RunContext, type TaskRunner, type TaskSpec } from '../types.js';
import { checkBatchSize, readBody, readFlag, readTruncation, type Truncation } from './tei-body.js';
import { encodeInput, encodePair, requireEndpoint, teiTokenizer, type Encoding } from './tei-encode.js';
import { float32, runModel } from './tei-model.js';

export interface RerankRequest {
  query: string;
  texts: string[];
  truncation: Truncation;
  rawScores: boolean;
  returnText: boolean;
}

export const teiRerank = {
  id: 'tei-rerank',
  example: { inputs: { query: 'What is Deep Learning?', texts: ['Deep Learning is …', 'Paris is in France.'] } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /rerank');
    if (typeof b.query !== 'string') throw badRequest(`query must be a string, got ${describeType(b.query)}.`);
    if (!Array.isArray(b.texts)) throw badRequest(`texts must be a list of strings, got ${describeType(b.texts)}.`);
    if (b.texts.length === 0) throw badRequest('texts cannot be empty.');
    checkBatchSize(b.texts.length);
    b.texts.forEach((t, i) => {
      if (typeof t !== 'string') throw badRequest(`texts[${i}] must be a string, got ${describeType(t)}.`);
      if (t === '' && b.query === '') throw badRequest(`texts[${i}] and query cannot both be empty.`);
    });
    return {
      query: b.query,
      texts: b.texts as string[],
      truncation: readTruncation(b),
      rawScores: readFlag(b, 'raw_scores', false),
      returnText: readFlag(b, 'return_text', false),
    };
  },
} satisfies TaskSpec<RerankRequest>;

/** One input of /predict: a text, or a pair of texts. */
export type PredictInput = [string] | [string, string];

export interface PredictRequest {
  inputs: PredictInput[];
  single: boolean;
  truncation: Truncation;
  rawScores: boolean;
}

const PREDICT_SHAPES = 'a string, a pair of strings [a, b], or a batch of texts and pairs [[a], [a, b], …]';

export const teiPredict = {
  id: 'tei-predict',
  example: { inputs: { inputs: 'I like you. I love you' } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /predict');
    const base = { truncation: readTruncation(b), rawScores: readFlag(b, 'raw_scores', false) };
    const { inputs } = b;
    if (typeof inputs === 'string') return { ...base, inputs: [readSequence([inputs], 'inputs')], single: true };
    if (!Array.isArray(inputs)) throw badRequest(`inputs must be ${PREDICT_SHAPES}, got ${describeType(inputs)}.`);
    if (inputs.length === 0) throw badRequest('inputs cannot be empty.');
    if (!Array.isArray(inputs[0])) return { ...base, inputs: [readSequence(inputs, 'inputs')], single: true };
    checkBatchSize(inputs.length);
    return {
      ...base,
      inputs: inputs.map((x, i) => {
        if (!Array.isArray(x)) throw badRequest(`inputs[${i}] must be a list of one or two strings ([a] or [a, b]) in a batch, got ${describeType(x)}.`);
        return readSequence(x, `inputs[${i}]`);
      }),
      single: false,
    };
  },
} satisfies TaskSpec<PredictRequest>;

/** One text `[a]` or a pair `[a, b]` of strings, not all empty. */
function readSequence(items: unknown[], where: string): PredictInput {
  if (items.length < 1 || items.length > 2) throw badRequest(`${where} must be ${PREDICT_SHAPES}; a list of ${items.length} strings is none of them.`);
  items.forEach((x, i) => {
    if (typeof x !== 'string') throw badRequest(`${where}[${i}] must be a string, got ${describeType(x)}.`);
  });
  if (items.every((x) => x === '')) throw badRequest(`${where} cannot be empty.`);
  return items as PredictInput;
}

/** The logits of each encoding, one row of labels each. */
async function logitRows(pipe: PipelineFn, encodings: Encoding[]): Promise<number[][]> {
  const outputs = await runModel(pipe, teiTokenizer(pipe), encodings);
  const logits = outputs.logits;
  if (!logits || logits.dims.length !== 2) throw badRequest('This endpoint\'s model gives no logits: it is not a classifier.');
  const labels = logits.dims[1]!;
  const data = Array.from(logits.data, Number);
  return encodings.map((_, row) => data.slice(row * labels, (row + 1) * labels));
}

/** TEI's scores of one row of logits. */
function scores(logits: number[], raw: boolean): number[] {
  if (raw) return logits;
  return logits.length > 1 ? softmax(logits) : [sigmoid(logits[0]!)];
}

/** Best first, as TEI sorts: an ascending stable sort, reversed. */
function bestFirst<T extends { score: number }>(items: T[]): T[] {
  return items.sort((a, b) => a.score - b.score).reverse();
}

export const teiRerankRunner: TaskRunner<RerankRequest, void> = {
  spec: teiRerank,
  pipeline: 'text-classification',
  onEndpointTask: true,
  async run(pipe, request, _setup, ctx?: RunContext) {
    requireEndpoint(ctx?.endpointTask, ['ranking'], 'POST /rerank');
    const t = teiTokenizer(pipe);
    const encodings = request.texts.map((text, i) => encodePair(t, request.query, text, request.truncation, `texts[${i}]`));
    const rows = await logitRows(pipe, encodings);
    const ranks = rows.map((row, index) => ({
      index,
      ...(request.returnText ? { text: request.texts[index]! } : {}),
      score: float32(scores(row, request.rawScores))[0]!,
    }));
    return bestFirst(ranks);
  },
};

export const teiPredictRunner: TaskRunner<PredictRequest, void> = {
  spec: teiPredict,
  pipeline: 'text-classification',
  onEndpointTask: true,
  async run(pipe, request, _setup, ctx?: RunContext) {
    requireEndpoint(ctx?.endpointTask, ['text-classification', 'ranking'], 'POST /predict');
    const t = teiTokenizer(pipe);
    const encodings = request.inputs.map((input, i) => {
      const where = request.single ? 'inputs' : `inputs[${i}]`;
      return input.length === 2
        ? encodePair(t, input[0], input[1], request.truncation, where)
        : encodeInput(t, { kind: 'text', text: input[0] }, { truncation: request.truncation, where });
    });
    const id2label = (textPipeline(pipe).model.config.id2label ?? {}) as Record<string, string>;
    const predictions = (await logitRows(pipe, encodings)).map((row) =>
      bestFirst(float32(scores(row, request.rawScores)).map((score, i) => ({ score, label: id2label[String(i)] ?? `LABEL_${i}` }))),
    );
    return request.single ? predictions[0] : predictions;
  },
};
