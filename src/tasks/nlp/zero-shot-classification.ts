/**
 * zero-shot-classification: a text and candidate labels → `{sequence, labels, scores}`, scored by
 * an NLI model (entailment against contradiction) with a hypothesis per label.
 */
import { textPipeline, type ModelContext, type TaskRunner, type TaskSpec } from '../types.js';
import { cutForTokens, maxInputTokens } from '../shared/long-text.js';

import { checkKnownParameters, readBoolean, readParameters } from '../shared/parameters.js';
import { badRequest, describeType, quote } from '../../protocol/errors.js';

export interface ZeroShotRequest {
  inputs: string;
  labels: string[];
  multiLabel: boolean;
  hypothesisTemplate: string;
}

const PARAMETERS = ['candidate_labels', 'candidateLabels', 'multi_label', 'hypothesis_template'] as const;
export const DEFAULT_HYPOTHESIS = 'This example is {}.';

export const zeroShotClassification = {
  id: 'zero-shot-classification',
  client: ['zeroShotClassification'],
  example: {
    inputs: 'Hi, I recently bought a device from your company but it is not working as advertised and I would like to get reimbursed!',
    parameters: { candidate_labels: 'refund, legal, faq' },
  },

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('zero-shot-classification', parameters, PARAMETERS);
    const template = parameters.hypothesis_template ?? DEFAULT_HYPOTHESIS;
    if (typeof template !== 'string' || !template.includes('{}')) {
      throw badRequest(`parameters.hypothesis_template must be a string with a {} for the label, got ${quote(template)}.`);
    }
    return {
      inputs: readSequence(payload.inputs),
      labels: readCandidateLabels(parameters.candidate_labels ?? parameters.candidateLabels),
      multiLabel: readBoolean(parameters, 'multi_label') ?? false,
      hypothesisTemplate: template,
    };
  },
} satisfies TaskSpec<ZeroShotRequest>;

export const zeroShotClassificationRunner: TaskRunner<ZeroShotRequest, void> = {
  spec: zeroShotClassification,
  pipeline: 'zero-shot-classification',
  setup: checkNliLabels,

  async run(pipe, request) {
    // The pipeline truncates the sequence (only_first): cut it before tokenizing.
    const { tokenizer, model } = textPipeline(pipe);
    const sequence = cutForTokens(tokenizer, request.inputs, maxInputTokens(tokenizer, model.config));
    const result = (await (pipe as unknown as ZeroShotPipeline)(sequence, request.labels, {
      multi_label: request.multiLabel,
      hypothesis_template: request.hypothesisTemplate,
    })) as { sequence: string; labels: string[]; scores: number[] };
    return { sequence: request.inputs, labels: result.labels, scores: result.scores.map(Number) };
  },
};

type ZeroShotPipeline = (text: string, labels: string[], options: Record<string, unknown>) => Promise<unknown>;

/** The text: a string, or `{text}` / `{sequences}` as some callers send it. */
function readSequence(inputs: unknown): string {
  if (typeof inputs === 'string' && inputs.trim() !== '') return inputs;
  if (inputs && typeof inputs === 'object' && !Array.isArray(inputs)) {
    const { text, sequences } = inputs as Record<string, unknown>;
    const value = text ?? sequences;
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  if (typeof inputs === 'string') throw badRequest('inputs must not be empty.');
  throw badRequest(`inputs must be a string (or {"text": …}), got ${describeType(inputs)}.`);
}

/** A list of labels, or one comma-separated string, as the Endpoint accepts. */
export function readCandidateLabels(value: unknown): string[] {
  if (value === undefined || value === null) {
    throw badRequest('parameters.candidate_labels is required: a list of labels, or a comma-separated string.');
  }
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || list.some((l) => typeof l !== 'string')) {
    throw badRequest(`parameters.candidate_labels must be a list of strings or a comma-separated string, got ${describeType(value)}.`);
  }
  const labels = (list as string[]).map((l) => l.trim()).filter((l) => l !== '');
  if (labels.length === 0) throw badRequest('parameters.candidate_labels has no labels.');
  return labels;
}

/** transformers.js would silently guess the label ids of a model that is not an NLI model. */
async function checkNliLabels(model: ModelContext): Promise<void> {
  const label2id = (model.pipe.model?.config?.label2id ?? {}) as Record<string, number>;
  const names = Object.keys(label2id).map((l) => l.toLowerCase());
  const hasEntailment = names.includes('entailment');
  const hasContradiction = names.includes('contradiction') || names.includes('not_entailment');
  if (!hasEntailment || !hasContradiction) {
    throw badRequest(
      `zero-shot-classification needs an NLI model, with "entailment" and "contradiction" labels; ` +
        `this model's labels are ${JSON.stringify(Object.keys(label2id))}.`,
    );
  }
}
