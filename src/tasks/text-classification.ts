/**
 * text-classification: a string or a list of strings → labels with scores.
 * Endpoint answer: `[{label, score}]` for one string (a list per input for several, or when
 * `top_k` > 1). The official client wants `[[{label, score}…]]` and reads element 0.
 */
import type { PipelineFn, TaskModule } from './types.js';
import { checkKnownParameters, readParameters, readPositiveInteger, readTextInputs } from './parameters.js';

export interface TextClassificationRequest {
  inputs: string | string[];
  /** Labels to return per input; null returns all of them. */
  topK: number | null;
}

interface Label {
  label: string;
  score: number;
}

const PARAMETERS = ['top_k'] as const;

function labelCount(pipe: PipelineFn): number | undefined {
  const id2label = pipe.model?.config?.id2label as Record<string, string> | undefined;
  return id2label ? Object.keys(id2label).length : undefined;
}

export const textClassification: TaskModule<TextClassificationRequest> = {
  id: 'text-classification',
  aliases: ['sentiment-analysis'],
  pipeline: 'text-classification',

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('text-classification', parameters, PARAMETERS);
    const topK = readPositiveInteger(parameters, 'top_k');
    return { inputs: readTextInputs(payload.inputs), topK: topK === undefined ? 1 : topK };
  },

  async run(pipe, request) {
    const labels = labelCount(pipe);
    // transformers.js wants a number; "all labels" is the model's label count.
    const top_k = request.topK === null ? (labels ?? 1) : Math.min(request.topK, labels ?? request.topK);
    const raw = (await pipe(request.inputs, { top_k })) as Label[] | Label[][];
    return normalise(raw, request, top_k);
  },

  toClient(answer, request) {
    // The client reads answer[0] as the list of labels for the (single) input.
    if (typeof request.inputs === 'string') return [answer];
    return (answer as unknown[]).map((perInput) => (Array.isArray(perInput) ? perInput : [perInput]));
  },
};

/** The Endpoint server's shape: transformers' `top_k` semantics, plain numbers. */
function normalise(raw: Label[] | Label[][], request: TextClassificationRequest, topK: number): unknown {
  const clean = (l: Label): Label => ({ label: l.label, score: Number(l.score) });
  const single = typeof request.inputs === 'string';
  if (topK === 1) {
    // transformers.js flattens to one {label, score} per input when it keeps one label.
    const labels = (raw as Label[]).map(clean);
    // With `top_k: null` (all labels) a multi-input answer is still one list per input.
    return request.topK === null && !single ? labels.map((l) => [l]) : labels;
  }
  return single ? (raw as Label[]).map(clean) : (raw as Label[][]).map((list) => list.map(clean));
}
