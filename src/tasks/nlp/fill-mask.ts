/**
 * fill-mask: a text with the model's mask token → the likeliest tokens for it,
 * `[{sequence, score, token, token_str}]` (a list per input for several inputs).
 * `targets` restricts the candidates, as transformers does.
 */
import { cutForTokens, maxInputTokens } from '../shared/long-text.js';
import { textPipeline, type TaskRunner, type TaskSpec, type TokenizerFn } from '../types.js';
import { checkKnownParameters, readParameters, readPositiveInteger, readTextInputs } from '../shared/parameters.js';
import { softmax } from '../shared/scores.js';
import { badRequest, describeType, quote } from '../../protocol/errors.js';

export interface FillMaskRequest {
  inputs: string | string[];
  topK: number;
  targets?: string[];
}

export interface FillMaskCandidate {
  sequence: string;
  score: number;
  token: number;
  token_str: string;
}

const PARAMETERS = ['top_k', 'targets'] as const;

export const fillMask = {
  id: 'fill-mask',
  client: ['fillMask'],
  example: { inputs: 'The capital of France is [MASK].' },

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('fill-mask', parameters, PARAMETERS);
    const inputs = readTextInputs(payload.inputs);
    if ((typeof inputs === 'string' ? [inputs] : inputs).some((t) => t.trim() === '')) throw badRequest('inputs must not be empty.');
    return { inputs, topK: readPositiveInteger(parameters, 'top_k') ?? 5, targets: readTargets(parameters.targets) };
  },
} satisfies TaskSpec<FillMaskRequest>;

export const fillMaskRunner: TaskRunner<FillMaskRequest, void> = {
  spec: fillMask,
  pipeline: 'fill-mask',

  async run(pipe, request, _setup, ctx) {
    const { tokenizer, model } = textPipeline(pipe);
    const texts = typeof request.inputs === 'string' ? [request.inputs] : request.inputs;
    const targetIds = request.targets && targetTokenIds(tokenizer, request.targets);
    const answers: FillMaskCandidate[][] = [];
    const max = maxInputTokens(tokenizer, model.config);
    for (const [i, whole] of texts.entries()) {
      if (ctx?.cancelled()) return null; // the caller has gone: not the next text
      const text = cutForTokens(tokenizer, whole, max); // truncation keeps the first tokens: cut before tokenizing
      const encoded = tokenizer(text, { truncation: true });
      const ids = Array.from(encoded.input_ids!.data, Number);
      const position = maskPosition(tokenizer, ids, texts.length > 1 ? `inputs[${i}]` : 'inputs');
      const { logits } = await model(encoded);
      const vocab = logits!.dims.at(-1)!;
      const row = Array.from((logits!.data as Float32Array).subarray(position * vocab, (position + 1) * vocab));
      const probs = softmax(row);
      const candidates = targetIds ?? probs.map((_, id) => id);
      const best = [...candidates].sort((a, b) => probs[b]! - probs[a]!).slice(0, request.topK);
      answers.push(
        best.map((id) => ({
          sequence: tokenizer.decode(ids.map((t, p) => (p === position ? id : t)), { skip_special_tokens: true }),
          score: probs[id]!,
          token: id,
          token_str: tokenizer.decode([id]),
        })),
      );
    }
    return typeof request.inputs === 'string' ? answers[0] : answers;
  },
};

function readTargets(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== 'string' || t.trim() === '')) {
    throw badRequest(`parameters.targets must be a non-empty string or a list of them, got ${describeType(value)}.`);
  }
  return list as string[];
}

/** The one mask position; a 400 naming the mask token when there is none, or several. */
function maskPosition(tokenizer: TokenizerFn, ids: number[], where: string): number {
  const mask = tokenizer.mask_token_id;
  if (mask === null || mask === undefined) throw badRequest('This model has no mask token: it cannot do fill-mask.');
  const positions = ids.flatMap((id, p) => (id === mask ? [p] : []));
  if (positions.length === 0) {
    throw badRequest(`${where} has no mask token: put ${tokenizer.mask_token} where the missing word goes.`);
  }
  if (positions.length > 1) {
    throw badRequest(`${where} has ${positions.length} mask tokens (${tokenizer.mask_token}); only one is supported.`);
  }
  return positions[0]!;
}

/** Each target's token; a target of several tokens counts by its first one, as in transformers. */
function targetTokenIds(tokenizer: TokenizerFn, targets: string[]): number[] {
  const ids = targets.map((target) => {
    const encoded = tokenizer.encode(target, { add_special_tokens: false });
    if (encoded.length === 0) throw badRequest(`parameters.targets: ${quote(target)} is no token of this model.`);
    return encoded[0]!;
  });
  return [...new Set(ids)];
}
