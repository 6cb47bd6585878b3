/**
 * The parameters panel's contents: each task's known parameters, typed, with the default the
 * pipeline uses when the parameter is left out (transformers' pipelines and the Endpoint server;
 * `undefined` where the model's config decides). Only the parameters the user sets are sent, so
 * the request on screen stays the one the Endpoint UI would send.
 */

export type ParameterType = 'integer' | 'number' | 'boolean' | 'string' | 'enum' | 'list';

export interface ParameterSpec {
  name: string;
  type: ParameterType;
  /** What the pipeline does without it (shown, never sent). */
  default?: string | number | boolean;
  /** What it does, in a few words. */
  help: string;
  /** `enum`: the values. */
  options?: readonly string[];
  min?: number;
  max?: number;
  step?: number;
}

const topK = (fallback: number | undefined, help = 'How many answers to return, best first'): ParameterSpec => ({
  name: 'top_k',
  type: 'integer',
  ...(fallback === undefined ? {} : { default: fallback }),
  min: 1,
  help,
});
const functionToApply: ParameterSpec = {
  name: 'function_to_apply',
  type: 'enum',
  options: ['softmax', 'sigmoid', 'none'],
  help: "Turns logits into scores (default: the model's problem type)",
};
const generation: ParameterSpec[] = [
  { name: 'max_new_tokens', type: 'integer', default: 20, min: 1, help: 'Most tokens to generate' },
  { name: 'do_sample', type: 'boolean', default: false, help: 'Sample instead of greedy decoding' },
  { name: 'temperature', type: 'number', default: 1, min: 0, step: 0.05, help: 'Sampling temperature' },
  { name: 'top_k', type: 'integer', default: 50, min: 0, help: 'Sample from the k most likely tokens' },
  { name: 'top_p', type: 'number', default: 1, min: 0, max: 1, step: 0.05, help: 'Nucleus sampling mass' },
  { name: 'repetition_penalty', type: 'number', default: 1, min: 0, step: 0.05, help: 'Penalty for repeated tokens' },
  { name: 'seed', type: 'integer', help: 'Seed for sampling (default: none)' },
];
const threshold = (fallback: number, help: string): ParameterSpec => ({ name: 'threshold', type: 'number', default: fallback, min: 0, max: 1, step: 0.05, help });
const hypothesis: ParameterSpec = {
  name: 'hypothesis_template',
  type: 'string',
  default: 'This example is {}.',
  help: 'The sentence each label is put into',
};
const embedding: ParameterSpec[] = [
  { name: 'normalize', type: 'boolean', help: 'L2-normalise the vectors (default: the model’s pooling config)' },
  { name: 'truncate', type: 'boolean', default: false, help: 'Cut inputs longer than the model takes' },
];

export const TASK_PARAMETERS: Readonly<Record<string, readonly ParameterSpec[]>> = {
  'text-classification': [topK(1), functionToApply],
  'zero-shot-classification': [{ name: 'multi_label', type: 'boolean', default: false, help: 'Labels are independent (each scored alone)' }, hypothesis],
  'token-classification': [
    { name: 'aggregation_strategy', type: 'enum', options: ['none', 'simple', 'first', 'average', 'max'], default: 'simple', help: 'How word pieces are grouped into entities' },
    { name: 'ignore_labels', type: 'list', default: 'O', help: 'Labels left out (comma-separated)' },
  ],
  'question-answering': [
    topK(1),
    { name: 'max_answer_len', type: 'integer', default: 15, min: 1, help: 'Longest answer, in tokens' },
    { name: 'handle_impossible_answer', type: 'boolean', default: false, help: 'Allow an empty answer' },
  ],
  'fill-mask': [topK(5), { name: 'targets', type: 'list', help: 'Only these words, comma-separated (default: the whole vocabulary)' }],
  summarization: generation.filter((p) => p.name !== 'seed'),
  // src_lang and tgt_lang are the translation widget's own inputs.
  translation: generation.filter((p) => p.name !== 'seed'),
  'text2text-generation': generation.filter((p) => p.name !== 'seed'),
  'text-generation': [
    ...generation,
    { name: 'return_full_text', type: 'boolean', default: true, help: 'Answer with the prompt in front' },
    { name: 'stop', type: 'list', help: 'Stop at these strings, comma-separated (default: none)' },
  ],
  conversational: [
    { name: 'max_tokens', type: 'integer', default: 64, min: 1, help: 'Most tokens in the answer' },
    { name: 'temperature', type: 'number', default: 1, min: 0, step: 0.05, help: 'Sampling temperature (0: greedy)' },
    { name: 'top_p', type: 'number', default: 1, min: 0, max: 1, step: 0.05, help: 'Nucleus sampling mass' },
    { name: 'seed', type: 'integer', help: 'Seed for sampling (default: none)' },
  ],
  'feature-extraction': [
    ...embedding,
    { name: 'pooling', type: 'enum', options: ['none', 'mean', 'cls'], default: 'none', help: 'One vector per token, or pooled' },
  ],
  'sentence-embeddings': embedding,
  'sentence-similarity': [],
  ranking: [
    { name: 'raw_scores', type: 'boolean', default: false, help: 'Logits instead of sigmoid scores' },
    { name: 'return_documents', type: 'boolean', default: false, help: 'Each answer carries its text' },
  ],
  'image-classification': [topK(5), functionToApply],
  'automatic-speech-recognition': [
    { name: 'return_timestamps', type: 'enum', options: ['true', 'word', 'char'], help: 'Timestamps per chunk, word or character (default: none)' },
    { name: 'chunk_length_s', type: 'number', min: 0, help: 'Split long audio into chunks of this many seconds (default: no chunks)' },
    { name: 'language', type: 'string', help: 'Spoken language, for Whisper (default: detected)' },
    { name: 'max_new_tokens', type: 'integer', min: 1, help: 'Most tokens to generate, for Whisper (default: the model’s)' },
  ],
  'audio-classification': [topK(5), functionToApply],
  'object-detection': [threshold(0.5, 'Smallest score kept')],
  'image-segmentation': [
    threshold(0.9, 'Smallest score kept'),
    { name: 'mask_threshold', type: 'number', default: 0.5, min: 0, max: 1, step: 0.05, help: 'Binarises the masks' },
    { name: 'overlap_mask_area_threshold', type: 'number', default: 0.5, min: 0, max: 1, step: 0.05, help: 'Merges overlapping masks' },
    { name: 'subtask', type: 'enum', options: ['semantic', 'instance', 'panoptic'], help: "The kind of segmentation (default: the model's)" },
  ],
  'zero-shot-image-classification': [{ ...hypothesis, default: 'This is a photo of {}.' }],
  'text-to-image': [
    { name: 'negative_prompt', type: 'string', help: 'What the image should not show (default: none)' },
    { name: 'num_inference_steps', type: 'integer', default: 50, min: 1, help: 'Denoising steps' },
    { name: 'guidance_scale', type: 'number', default: 7.5, min: 0, step: 0.5, help: 'Classifier-free guidance' },
    { name: 'width', type: 'integer', min: 8, step: 8, help: "Width in pixels (default: the model's)" },
    { name: 'height', type: 'integer', min: 8, step: 8, help: "Height in pixels (default: the model's)" },
    { name: 'seed', type: 'integer', help: 'Seed of the starting noise (default: random)' },
  ],
  'table-question-answering': [
    { name: 'sequential', type: 'boolean', default: false, help: 'Questions follow from each other' },
    { name: 'truncation', type: 'boolean', default: false, help: 'Cut a table that does not fit' },
  ],
  'visual-question-answering': [topK(5), { name: 'max_new_tokens', type: 'integer', min: 1, help: 'Most tokens, for generative models (default: the model’s)' }],
  'image-to-text': [
    { name: 'max_new_tokens', type: 'integer', min: 1, help: 'Most tokens to generate (default: the model’s)' },
    { name: 'prompt', type: 'string', help: 'What to ask of the image, for vision-language models (default: a caption)' },
  ],
  custom: [],
};

/** The parameters the panel shows for a task (none for a task it does not know). */
export function parametersOf(task: string): readonly ParameterSpec[] {
  return TASK_PARAMETERS[task] ?? [];
}

/**
 * A panel value, as typed text, turned into the parameter's JSON value: a number, a boolean, a
 * list of strings or the string. Empty means unset (`undefined`); a number that does not parse is
 * an error message.
 */
export function parseParameter(spec: ParameterSpec, raw: string | boolean): { value: unknown } | { error: string } | undefined {
  if (typeof raw === 'boolean') return { value: raw };
  const text = raw.trim();
  if (!text) return undefined;
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const value = Number(text);
      if (!Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
        return { error: `${spec.name} must be ${spec.type === 'integer' ? 'a whole number' : 'a number'}, not "${text}".` };
      }
      return { value };
    }
    case 'boolean':
      return { value: text === 'true' };
    case 'list':
      return { value: text.split(',').map((item) => item.trim()).filter(Boolean) };
    case 'enum':
      // return_timestamps takes true as well as "word"/"char".
      return { value: text === 'true' ? true : text };
    default:
      return { value: text };
  }
}
