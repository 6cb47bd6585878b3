/**
 * object-detection (DETR, YOLOS…): an image → `[{label, score, box: {xmin, ymin, xmax, ymax}}]`,
 * boxes in whole pixels of the original image, clamped to its bounds. `threshold` (default 0.5, the
 * Endpoint pipeline's) keeps the detections scored at least that.
 */
import { readMediaInput } from '../shared/media-input.js';
import { checkKnownParameters, readParameters, readThreshold } from '../shared/parameters.js';
import type { EndpointPayload, TaskRunner, TaskSpec } from '../types.js';
import type { MediaBody } from '../../wire/media.js';

export interface ObjectDetectionRequest {
  image: MediaBody;
  threshold: number;
}

interface Detection {
  label: string;
  score: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
}
type DetectionPipeline = (image: unknown, options: { threshold: number; percentage: boolean }) => Promise<Detection[]>;

export const objectDetection = {
  id: 'object-detection',
  media: 'image',
  client: ['objectDetection'],
  parse({ inputs, parameters }: EndpointPayload) {
    const params = readParameters(parameters);
    checkKnownParameters('object-detection', params, ['threshold']);
    return { image: readMediaInput(inputs, 'image'), threshold: readThreshold(params, 'threshold', 0.5) };
  },
} satisfies TaskSpec<ObjectDetectionRequest>;

export const objectDetectionRunner: TaskRunner<ObjectDetectionRequest> = {
  spec: objectDetection,
  pipeline: 'object-detection',
  async run(pipe, request, _setup, ctx) {
    const image = (await ctx!.decodeImage!(request.image.bytes)) as { width: number; height: number };
    const found = await (pipe as unknown as DetectionPipeline)(image, { threshold: request.threshold, percentage: false });
    const clamp = (v: number, max: number) => Math.min(Math.max(Math.round(v), 0), max);
    return found
      .map(({ label, score, box }) => ({
        label,
        score,
        box: {
          xmin: clamp(box.xmin, image.width),
          ymin: clamp(box.ymin, image.height),
          xmax: clamp(box.xmax, image.width),
          ymax: clamp(box.ymax, image.height),
        },
      }))
      .sort((a, b) => b.score - a.score);
  },
};
