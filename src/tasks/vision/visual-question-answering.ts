/**
 * visual-question-answering: `{"inputs": {"image": "<base64 or data URL>", "question": "…"},
 * "parameters": {"top_k": 5}}` → `[{answer, score}]`, best first, as the Endpoint's pipeline
 * answers (the official client reads element 0, and requires `score`).
 *
 * transformers.js has no pipeline for it: the model is loaded here (TaskRunner.load), by family:
 * - ViLT (`model_type` "vilt", the transformers pipeline's default family): the answer classifier
 *   over `config.id2label`, with sigmoid scores (`vilt.ts`);
 * - generative vision-language models (`vision-language.ts`): the answer is the generated text,
 *   and its score is the sequence probability.
 */
import { badRequest, describeType } from '../../protocol/errors.js';
import { readMediaInput } from '../shared/media-input.js';
import { readParameters, readPositiveInteger } from '../shared/parameters.js';
import { flattenGenerationParameters, readGenerationOptions, type GenerationOptions } from '../generation/generation-parameters.js';
import type { EndpointPayload, TaskRunner, TaskSpec } from '../types.js';
import type { MediaBody } from '../../wire/media.js';
import { loadVisionTextModel } from './vision-text-load.js';
import { visionTextModel } from './vision-text-model.js';

export interface VisualQuestionAnsweringRequest {
  image: MediaBody;
  question: string;
  topK: number;
  generation: GenerationOptions;
}

/** Longest question, in characters (a question is a sentence, not a document). */
export const MAX_QUESTION_CHARS = 4096;

export const visualQuestionAnswering = {
  id: 'visual-question-answering',
  aliases: ['vqa'],
  client: ['visualQuestionAnswering'],
  parse({ inputs, parameters }: EndpointPayload) {
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw badRequest(`inputs must be an object {"image": "<base64>", "question": "…"}, got ${describeType(inputs)}.`);
    }
    const { image, question } = inputs as Record<string, unknown>;
    if (image === undefined) throw badRequest('inputs.image is missing: the image as base64 (or a data URL).');
    if (question === undefined) throw badRequest('inputs.question is missing.');
    if (typeof question !== 'string') throw badRequest(`inputs.question must be a string, got ${describeType(question)}.`);
    if (question.trim() === '') throw badRequest('inputs.question must not be empty.');
    if (question.length > MAX_QUESTION_CHARS) {
      throw badRequest(`inputs.question is ${question.length} characters long; at most ${MAX_QUESTION_CHARS} are allowed.`);
    }
    const params = flattenGenerationParameters(readParameters(parameters));
    const topK = readPositiveInteger(params, 'top_k');
    const { top_k: _answers, ...rest } = params;
    return {
      image: readMediaInput({ image }, 'image'),
      question,
      topK: topK ?? 5,
      // top_k is the number of answers here, as in the transformers pipeline: not a sampling parameter.
      generation: readGenerationOptions('visual-question-answering', rest),
    };
  },
  example: { inputs: { question: 'What animal is in the picture?' }, withMedia: 'image' },
} satisfies TaskSpec<VisualQuestionAnsweringRequest>;

export const visualQuestionAnsweringRunner: TaskRunner<VisualQuestionAnsweringRequest> = {
  spec: visualQuestionAnswering,
  pipeline: 'visual-question-answering',
  load: loadVisionTextModel,
  async run(pipe, request, _setup, ctx) {
    const model = visionTextModel(pipe);
    if (!model.answer) throw badRequest(`A ${model.family} model cannot answer questions about images.`);
    const image = await ctx!.decodeImage!(request.image.bytes);
    return model.answer(image, request.question, { topK: request.topK, generation: request.generation }, ctx!);
  },
};
