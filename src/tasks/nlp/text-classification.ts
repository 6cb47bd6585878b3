/**
 * text-classification: a string or a list of strings → labels with scores.
 * Endpoint answer (transformers' `top_k` semantics): `[{label, score}]` for one string with the
 * default `top_k` of 1, one `{label, score}` per input for a list; all labels, or the best
 * `top_k`, as a list (a list of lists for several inputs) when `top_k` is null or above 1.
 * The official client wants `[[{label, score}…]]` and reads element 0.
 */
import { cutForTokens, maxInputTokens } from '../shared/long-text.js';
import { textPipeline, type PipelineFn, type TaskRunner, type TaskSpec } from '../types.js';
import { checkKnownParameters, readEnum, readParameters, readPositiveInteger, readTextInputs } from '../shared/parameters.js';
import { applyScoreFunction, defaultScoreFunction, rankLabels, type LabelScore, type ScoreFunction } from '../shared/scores.js';
import { paddedTokens, splitRows, textsOf } from '../shared/batch-texts.js';

export interface TextClassificationRequest {
  inputs: string | string[];
  /** Labels to return per input; null returns all of them. */
  topK: number | null;
  functionToApply?: ScoreFunction;
}

const PARAMETERS = ['top_k', 'function_to_apply'] as const;

export const textClassification = {
  id: 'text-classification',
  aliases: ['sentiment-analysis'],
  client: ['textClassification'],
  example: { inputs: 'I love you. I like you' },

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('text-classification', parameters, PARAMETERS);
    const topK = readPositiveInteger(parameters, 'top_k');
    return {
      inputs: readTextInputs(payload.inputs),
      topK: topK === undefined ? 1 : topK,
      functionToApply: readEnum(parameters, 'function_to_apply', ['softmax', 'sigmoid', 'none'] as const),
    };
  },

  toClient(answer, request) {
    // The client reads answer[0] as the list of labels for the (single) input.
    if (typeof request.inputs === 'string') return [answer];
    return (answer as unknown[]).map((perInput) => (Array.isArray(perInput) ? perInput : [perInput]));
  },
} satisfies TaskSpec<TextClassificationRequest>;

export const textClassificationRunner: TaskRunner<TextClassificationRequest> = {
  spec: textClassification,
  pipeline: 'text-classification',

  async run(pipe, request) {
    return (await classify(pipe, [request]))[0];
  },

  batch: {
    key: () => '', // every request can share a call: scoring happens per row
    tokens: (pipe, request) => paddedTokens(pipe, textsOf(request.inputs)),
    run: classify,
  },
};

/** One model call for the texts of all the requests; each request's answer. */
async function classify(pipe: PipelineFn, requests: TextClassificationRequest[]): Promise<unknown[]> {
  const { tokenizer, model } = textPipeline(pipe);
  // Cut before tokenizing: truncation keeps only the first tokens of an over-long text.
  const max = maxInputTokens(tokenizer, model.config);
  const texts = requests.flatMap((r) => textsOf(r.inputs)).map((t) => cutForTokens(tokenizer, t, max));
  const { logits } = await model(tokenizer(texts, { padding: true, truncation: true }));
  const rows = logits!.tolist() as number[][];
  const id2label = model.config.id2label as Record<string, string> | undefined;
  const perRequest = splitRows(rows, requests.map((r) => textsOf(r.inputs).length));
  return requests.map((request, i) => {
    const fn = request.functionToApply ?? defaultScoreFunction(model.config, rows[0]!.length);
    const ranked = perRequest[i]!.map((row) => rankLabels(applyScoreFunction(row, fn), id2label));
    return shapeLabels(ranked, request);
  });
}

/** The Endpoint server's shape for ranked labels, one list per input. Pure. */
export function shapeLabels(ranked: LabelScore[][], request: Pick<TextClassificationRequest, 'inputs' | 'topK'>): unknown {
  const single = typeof request.inputs === 'string';
  if (request.topK === 1) {
    const best = ranked.map((labels) => labels[0]!);
    return best; // one {label, score} per input: `[{…}]` for a single string
  }
  const kept = ranked.map((labels) => (request.topK === null ? labels : labels.slice(0, request.topK)));
  return single ? kept[0] : kept;
}
