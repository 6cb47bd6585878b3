/**
 * token-classification: a text → its entities, each with character offsets `start`/`end` in the
 * original text and `word === text.slice(start, end)`. Aggregation follows transformers:
 * - `none`: one entity per token, `{entity, score, index, word, start, end}`;
 * - `simple`: tokens grouped by BIO tag into `{entity_group, score, word, start, end}`;
 * - `first`, `average`, `max`: tokens first merged into words (the first token's label, the
 *   averaged scores, or the most confident token's label), then grouped like `simple`.
 * The official client requires `entity_group`, so it gets `simple` unless it asks otherwise.
 */
import { cutForTokens, maxInputTokens } from '../shared/long-text.js';
import { textPipeline, type TaskRunner, type TaskSpec } from '../types.js';
import { checkKnownParameters, readEnum, readParameters, readTextInputs } from '../shared/parameters.js';
import { softmax } from '../shared/scores.js';
import { isSubword, offsetScheme, tokenSpans } from '../shared/token-offsets.js';
import { badRequest, describeType } from '../../protocol/errors.js';

export type Aggregation = 'none' | 'simple' | 'first' | 'average' | 'max';

export interface TokenClassificationRequest {
  inputs: string | string[];
  aggregation: Aggregation;
  ignoreLabels: string[];
}

/** A token with its scores over all labels, before aggregation. */
export interface PreEntity {
  word: string;
  scores: number[];
  start: number;
  end: number;
  index: number;
  isSubword: boolean;
}

export interface TokenEntity {
  entity: string;
  score: number;
  index?: number;
  word: string;
  start: number;
  end: number;
}

export interface EntityGroup {
  entity_group: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

const PARAMETERS = ['aggregation_strategy', 'ignore_labels'] as const;
const STRATEGIES = ['none', 'simple', 'first', 'average', 'max'] as const;

export const tokenClassification = {
  id: 'token-classification',
  aliases: ['ner'],
  client: ['tokenClassification'],
  clientParameters: { aggregation_strategy: 'simple' },
  example: { inputs: 'My name is Wolfgang and I live in Berlin' },

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('token-classification', parameters, PARAMETERS);
    const inputs = readTextInputs(payload.inputs);
    if ((typeof inputs === 'string' ? [inputs] : inputs).some((t) => t.trim() === '')) throw badRequest('inputs must not be empty.');
    const ignore = parameters.ignore_labels ?? ['O'];
    if (!Array.isArray(ignore) || ignore.some((l) => typeof l !== 'string')) {
      throw badRequest(`parameters.ignore_labels must be a list of labels, got ${describeType(ignore)}.`);
    }
    return { inputs, aggregation: readEnum(parameters, 'aggregation_strategy', STRATEGIES) ?? 'none', ignoreLabels: ignore as string[] };
  },
} satisfies TaskSpec<TokenClassificationRequest>;

export const tokenClassificationRunner: TaskRunner<TokenClassificationRequest, void> = {
  spec: tokenClassification,
  pipeline: 'token-classification',

  async run(pipe, request, _setup, ctx) {
    const { tokenizer, model } = textPipeline(pipe);
    const id2label = (model.config.id2label ?? {}) as Record<string, string>;
    const scheme = offsetScheme(tokenizer);
    const special = new Set(((tokenizer as unknown as { all_special_ids?: number[] }).all_special_ids ?? []).filter((id) => id !== (tokenizer as unknown as { unk_token_id?: number }).unk_token_id));
    const texts = typeof request.inputs === 'string' ? [request.inputs] : request.inputs;
    const answers: unknown[] = [];
    const max = maxInputTokens(tokenizer, model.config);
    for (const whole of texts) {
      if (ctx?.cancelled()) return null; // the caller has gone: not the next text
      // Cut before tokenizing (truncation keeps the first tokens); offsets stay those of the whole text.
      const text = cutForTokens(tokenizer, whole, max);
      const encoded = tokenizer(text, { truncation: true });
      const ids = Array.from(encoded.input_ids!.data, Number);
      const { logits } = await model(encoded);
      const labels = logits!.dims.at(-1)!;
      const tokens = (tokenizer as unknown as { tokenize(text: string): string[] }).tokenize(text);
      const spans = tokenSpans(text, tokens, scheme);
      const pre: PreEntity[] = [];
      let t = 0; // the next token of `tokens`, which lists the non-special positions in order
      ids.forEach((id, index) => {
        if (special.has(id)) return;
        const token = tokens[t];
        const span = spans[t++];
        const word = span ? text.slice(span[0], span[1]) : '';
        if (token === undefined || !span || word.trim() === '') return; // a lone space token names nothing
        const row = Array.from((logits!.data as Float32Array).subarray(index * labels, (index + 1) * labels));
        const previous = pre.at(-1);
        // Byte-level pieces of one character (an emoji is 4 bytes) continue the token before them.
        const sameCharacter = previous !== undefined && previous.start === span[0] && previous.end === span[1];
        pre.push({
          word,
          scores: softmax(row),
          start: span[0],
          end: span[1],
          index,
          isSubword: sameCharacter || isSubword(text, token, span, scheme),
        });
      });
      answers.push(aggregate(text, pre, request.aggregation, id2label, request.ignoreLabels));
    }
    return typeof request.inputs === 'string' ? answers[0] : answers;
  },
};

/** transformers' aggregation, with words taken from the text by offsets. Pure. */
export function aggregate(
  text: string,
  pre: PreEntity[],
  strategy: Aggregation,
  id2label: Record<string, string>,
  ignoreLabels: string[],
): (TokenEntity | EntityGroup)[] {
  const label = (i: number) => id2label[String(i)] ?? `LABEL_${i}`;
  const best = (scores: number[]) => scores.reduce((bi, s, i) => (s > scores[bi]! ? i : bi), 0);
  let entities: TokenEntity[];
  if (strategy === 'none' || strategy === 'simple') {
    entities = pre.map((p) => {
      const i = best(p.scores);
      return { entity: label(i), score: p.scores[i]!, index: p.index, word: p.word, start: p.start, end: p.end };
    });
    if (strategy === 'none') return entities.filter((e) => !ignoreLabels.includes(e.entity));
  } else {
    entities = words(pre).map((word) => {
      const first = word[0]!;
      const last = word.at(-1)!;
      let i: number;
      let score: number;
      if (strategy === 'first') {
        i = best(first.scores);
        score = first.scores[i]!;
      } else if (strategy === 'max') {
        const top = word.reduce((a, b) => (Math.max(...b.scores) > Math.max(...a.scores) ? b : a));
        i = best(top.scores);
        score = top.scores[i]!;
      } else {
        const mean = first.scores.map((_, k) => word.reduce((s, p) => s + p.scores[k]!, 0) / word.length);
        i = best(mean);
        score = mean[i]!;
      }
      return { entity: label(i), score, word: text.slice(first.start, last.end), start: first.start, end: last.end };
    });
  }
  return groupEntities(text, entities).filter((g) => !ignoreLabels.includes(g.entity_group));
}

/** Tokens merged into words: a word is a token that is not a subword, then its subwords. */
function words(pre: PreEntity[]): PreEntity[][] {
  const out: PreEntity[][] = [];
  for (const p of pre) {
    if (p.isSubword && out.length > 0) out.at(-1)!.push(p);
    else out.push([p]);
  }
  return out;
}

function tagOf(entity: string): { bi: 'B' | 'I'; tag: string } {
  if (entity.startsWith('B-')) return { bi: 'B', tag: entity.slice(2) };
  if (entity.startsWith('I-')) return { bi: 'I', tag: entity.slice(2) };
  return { bi: 'I', tag: entity }; // not in BIO format: consecutive equal labels group
}

/** Consecutive entities of one tag group, a `B-` starting a new group. */
function groupEntities(text: string, entities: TokenEntity[]): EntityGroup[] {
  const groups: EntityGroup[] = [];
  let current: TokenEntity[] = [];
  const close = () => {
    if (current.length === 0) return;
    const first = current[0]!;
    const last = current.at(-1)!;
    groups.push({
      entity_group: tagOf(first.entity).tag,
      score: current.reduce((s, e) => s + e.score, 0) / current.length,
      word: text.slice(first.start, last.end),
      start: first.start,
      end: last.end,
    });
    current = [];
  };
  for (const entity of entities) {
    const { bi, tag } = tagOf(entity.entity);
    const previous = current.at(-1);
    if (previous && tagOf(previous.entity).tag === tag && bi !== 'B') current.push(entity);
    else {
      close();
      current = [entity];
    }
  }
  close();
  return groups;
}
