/**
 * image-to-text: an image (the raw body, or base64 in JSON) → `[{generated_text}]`, as the
 * Endpoint toolkit's pipeline answers; the official client's `imageToText` reads
 * `{generated_text}`, the first element. Generation parameters as for text generation, and an
 * optional `parameters.prompt` (a text the description starts from, for the models that take one).
 *
 * Served by the generative vision-language models that visual-question-answering runs
 * (`vision-language.ts`), loaded by this task itself (transformers.js has no pipeline for them).
 */
import { badRequest, describeType } from '../../protocol/errors.js';
import { readMediaInput } from '../shared/media-input.js';
import { readParameters } from '../shared/parameters.js';
import { flattenGenerationParameters, readGenerationOptions, type GenerationOptions } from '../generation/generation-parameters.js';
import type { EndpointPayload, TaskRunner, TaskSpec } from '../types.js';
import type { MediaBody } from '../../wire/media.js';
import { loadVisionTextModel } from './vision-text-load.js';
import { visionTextModel } from './vision-text-model.js';

export interface ImageToTextRequest {
  image: MediaBody;
  prompt?: string;
  generation: GenerationOptions;
}

export const imageToText = {
  id: 'image-to-text',
  media: 'image',
  client: ['imageToText'],
  parse({ inputs, parameters }: EndpointPayload) {
    const params = flattenGenerationParameters(readParameters(parameters));
    const { prompt, ...rest } = params;
    if (prompt !== undefined && typeof prompt !== 'string') throw badRequest(`parameters.prompt must be a string, got ${describeType(prompt)}.`);
    return {
      image: readMediaInput(inputs, 'image'),
      ...(prompt ? { prompt } : {}),
      generation: readGenerationOptions('image-to-text', rest, ['prompt']),
    };
  },
  toClient(answer: unknown) {
    return Array.isArray(answer) ? answer[0] : answer;
  },
} satisfies TaskSpec<ImageToTextRequest>;

export const imageToTextRunner: TaskRunner<ImageToTextRequest> = {
  spec: imageToText,
  pipeline: 'visual-question-answering',
  // The model a page asks both questions and descriptions of loads once.
  loadAs: 'visual-question-answering',
  load: loadVisionTextModel,
  async run(pipe, request, _setup, ctx) {
    const model = visionTextModel(pipe);
    if (!model.caption) throw badRequest(`A ${model.family} model cannot describe images: use a generative vision-language model for image-to-text.`);
    const image = await ctx!.decodeImage!(request.image.bytes);
    const text = await model.caption(image, { ...(request.prompt ? { prompt: request.prompt } : {}), generation: request.generation }, ctx!);
    return [{ generated_text: text }];
  },
};
