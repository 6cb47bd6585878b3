/**
 * image-classification: an image → labels with scores, best first (`[{label, score}]`), as the
 * Endpoint's pipeline answers; `top_k` (default 5) and `function_to_apply`. The official client
 * reads the same shape.
 */
import { readMediaInput } from '../shared/media-input.js';
import { checkKnownParameters, readEnum, readParameters, readPositiveInteger } from '../shared/parameters.js';
import { applyScoreFunction, defaultScoreFunction, rankLabels, type ScoreFunction } from '../shared/scores.js';
import type { EndpointPayload, TaskRunner, TaskSpec, TensorLike } from '../types.js';
import type { MediaBody } from '../../wire/media.js';

export interface ImageClassificationRequest {
  image: MediaBody;
  topK: number | null;
  functionToApply?: ScoreFunction;
}

interface VisionPipeline {
  processor: (images: unknown) => Promise<{ pixel_values: TensorLike }>;
  model: ((inputs: Record<string, TensorLike>) => Promise<Record<string, TensorLike>>) & { config: Record<string, unknown> };
}

export const imageClassification = {
  id: 'image-classification',
  media: 'image',
  client: ['imageClassification'],
  parse({ inputs, parameters }: EndpointPayload) {
    const params = readParameters(parameters);
    checkKnownParameters('image-classification', params, ['top_k', 'function_to_apply']);
    const topK = readPositiveInteger(params, 'top_k');
    return {
      image: readMediaInput(inputs, 'image'),
      topK: topK === undefined ? 5 : topK,
      functionToApply: readEnum(params, 'function_to_apply', ['softmax', 'sigmoid', 'none'] as const),
    };
  },
} satisfies TaskSpec<ImageClassificationRequest>;

export const imageClassificationRunner: TaskRunner<ImageClassificationRequest> = {
  spec: imageClassification,
  pipeline: 'image-classification',
  async run(pipe, request, _setup, ctx) {
    const { processor, model } = pipe as unknown as VisionPipeline;
    const image = await ctx!.decodeImage!(request.image.bytes);
    const { pixel_values } = await processor(image);
    const { logits } = await model({ pixel_values });
    const row = (logits!.tolist() as number[][])[0]!;
    const fn = request.functionToApply ?? defaultScoreFunction(model.config, row.length);
    const ranked = rankLabels(applyScoreFunction(row, fn), model.config.id2label as Record<string, string> | undefined);
    return request.topK === null ? ranked : ranked.slice(0, request.topK);
  },
};
