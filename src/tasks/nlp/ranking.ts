/**
 * ranking: a cross-encoder (a one-label sequence classifier over text pairs) scores pairs.
 * - `inputs: [[a, b], …]` → `{"scores": […]}`, one per pair, in order.
 * - `inputs: {query, texts, return_documents?}` → `[{index, score, text?}]`, best first, as TEI's
 *   rerank answers.
 * Scores are sigmoids of the logit, as sentence-transformers' CrossEncoder gives; `raw_scores`
 * returns the logits.
 */
import { cutForTokens, maxInputTokens } from '../shared/long-text.js';
import { textPipeline, type ModelContext, type PipelineFn, type TaskRunner, type TaskSpec } from '../types.js';
import { checkKnownParameters, readBoolean, readParameters } from '../shared/parameters.js';
import { sigmoid } from '../shared/scores.js';
import { badRequest, describeType, quote } from '../../protocol/errors.js';
import { estimateTokens, splitRows } from '../shared/batch-texts.js';

export type RankingRequest =
  | { kind: 'pairs'; pairs: [string, string][]; rawScores: boolean }
  | { kind: 'query'; query: string; texts: string[]; returnDocuments: boolean; rawScores: boolean };

const PARAMETERS = ['return_documents', 'raw_scores'] as const;

export const ranking = {
  id: 'ranking',
  aliases: ['rerank', 'text-ranking'],
  example: { inputs: { query: 'what is the capital of germany', texts: ['berlin is the capital of germany', 'i love this movie'], return_documents: true } },

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('ranking', parameters, PARAMETERS);
    const rawScores = readBoolean(parameters, 'raw_scores') ?? false;
    const { inputs } = payload;
    if (Array.isArray(inputs)) return { kind: 'pairs', pairs: readPairs(inputs), rawScores };
    if (inputs && typeof inputs === 'object') {
      const { query, texts, return_documents } = inputs as Record<string, unknown>;
      if (typeof query !== 'string' || query.trim() === '') throw badRequest(`inputs.query must be a non-empty string, got ${describeType(query)}.`);
      if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== 'string')) {
        throw badRequest(`inputs.texts must be a non-empty list of strings, got ${describeType(texts)}.`);
      }
      const fromInputs = return_documents === undefined ? undefined : return_documents;
      if (fromInputs !== undefined && typeof fromInputs !== 'boolean') throw badRequest('inputs.return_documents must be a boolean.');
      const returnDocuments = (fromInputs as boolean | undefined) ?? readBoolean(parameters, 'return_documents') ?? false;
      return { kind: 'query', query, texts: texts as string[], returnDocuments, rawScores };
    }
    throw badRequest(`inputs must be a list of [text, text] pairs or {"query": …, "texts": […]}, got ${describeType(inputs)}.`);
  },
} satisfies TaskSpec<RankingRequest>;

export const rankingRunner: TaskRunner<RankingRequest, void> = {
  spec: ranking,
  pipeline: 'text-classification',
  setup: checkOneLabel,

  async run(pipe, request) {
    return (await rank(pipe, [request]))[0];
  },

  batch: {
    key: () => '',
    tokens(pipe, request) {
      const pairs = pairsOf(request);
      const longest = estimateTokens(Math.max(...pairs.map(([a, b]) => a.length + b.length)));
      return Math.min(longest, textPipeline(pipe).tokenizer.model_max_length ?? Infinity) * pairs.length;
    },
    run: rank,
  },
};

function pairsOf(request: RankingRequest): [string, string][] {
  return request.kind === 'pairs' ? request.pairs : request.texts.map((t) => [request.query, t] as [string, string]);
}

/** One model call for the pairs of all the requests; each request's answer. */
async function rank(pipe: PipelineFn, requests: RankingRequest[]): Promise<unknown[]> {
  const { tokenizer, model } = textPipeline(pipe);
  // Truncation keeps the first tokens of each text of a pair: cut them before tokenizing.
  const max = maxInputTokens(tokenizer, model.config);
  const pairs = requests.flatMap(pairsOf).map(([a, b]) => [cutForTokens(tokenizer, a, max), cutForTokens(tokenizer, b, max)]);
  const encoded = tokenizer(pairs.map((p) => p[0]), { text_pair: pairs.map((p) => p[1]), padding: true, truncation: true });
  const { logits } = await model(encoded);
  const perRequest = splitRows(Array.from(logits!.data, Number), requests.map((r) => pairsOf(r).length));
  return requests.map((request, i) => {
    const scores = perRequest[i]!.map((x) => (request.rawScores ? x : sigmoid(x)));
    if (request.kind === 'pairs') return { scores };
    return scores
      .map((score, index) => ({ index, score, ...(request.returnDocuments ? { text: request.texts[index] } : {}) }))
      .sort((a, b) => b.score - a.score);
  });
}

function readPairs(inputs: unknown[]): [string, string][] {
  if (inputs.length === 0) throw badRequest('inputs must not be an empty list.');
  inputs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((t) => typeof t !== 'string')) {
      throw badRequest(`inputs[${i}] must be a pair of strings [text, text], got ${quote(pair)}.`);
    }
  });
  return inputs as [string, string][];
}

async function checkOneLabel(model: ModelContext): Promise<void> {
  const id2label = (model.pipe.model?.config?.id2label ?? {}) as Record<string, string>;
  const count = Object.keys(id2label).length;
  if (count !== 1) {
    throw badRequest(`ranking needs a cross-encoder with one output label; this model has ${count}: ${JSON.stringify(Object.values(id2label))}.`);
  }
}
