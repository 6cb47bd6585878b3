/**
 * image-segmentation (SegFormer and other semantic models; panoptic and instance where the
 * model's image processor supports them): an image → `[{label, score, mask}]`, each mask a
 * base64 PNG of the original image's size (255 inside, 0 outside). `threshold`, `mask_threshold`,
 * `overlap_mask_area_threshold` and `subtask` (semantic, instance, panoptic).
 */
import { badRequest } from '../errors.js';
import { readMediaInput } from './media-input.js';
import { readThreshold } from './object-detection.js';
import { checkKnownParameters, readEnum, readParameters } from './parameters.js';
import { encodeGrayPng, toBase64 } from './png.js';
import type { EndpointPayload, TaskModule } from './types.js';
import type { MediaBody } from '../wire/media.js';

export interface ImageSegmentationRequest {
  image: MediaBody;
  threshold: number;
  maskThreshold: number;
  overlapMaskAreaThreshold: number;
  subtask?: 'semantic' | 'instance' | 'panoptic';
}

interface Mask {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: number;
}
type SegmentationPipeline = (image: unknown, options: Record<string, unknown>) => Promise<{ label: string | null; score: number | null; mask: Mask }[]>;

export const imageSegmentation: TaskModule<ImageSegmentationRequest> = {
  id: 'image-segmentation',
  pipeline: 'image-segmentation',
  media: 'image',
  parse({ inputs, parameters }: EndpointPayload) {
    const params = readParameters(parameters);
    checkKnownParameters('image-segmentation', params, ['threshold', 'mask_threshold', 'overlap_mask_area_threshold', 'subtask']);
    return {
      image: readMediaInput(inputs, 'image'),
      threshold: readThreshold(params, 'threshold', 0.9),
      maskThreshold: readThreshold(params, 'mask_threshold', 0.5),
      overlapMaskAreaThreshold: readThreshold(params, 'overlap_mask_area_threshold', 0.5),
      subtask: readEnum(params, 'subtask', ['semantic', 'instance', 'panoptic'] as const),
    };
  },
  async run(pipe, request, _setup, ctx) {
    const image = await ctx!.decodeImage!(request.image.bytes);
    let segments;
    try {
      segments = await (pipe as unknown as SegmentationPipeline)(image, {
        threshold: request.threshold,
        mask_threshold: request.maskThreshold,
        overlap_mask_area_threshold: request.overlapMaskAreaThreshold,
        subtask: request.subtask ?? null,
      });
    } catch (err) {
      if (request.subtask && /not a function|undefined/i.test((err as Error).message)) {
        throw badRequest(`This model does not support subtask ${JSON.stringify(request.subtask)}.`);
      }
      throw err;
    }
    return Promise.all(
      segments.map(async ({ label, score, mask }) => ({
        label,
        score,
        mask: toBase64(await encodeGrayPng(gray(mask), mask.width, mask.height)),
      })),
    );
  },
  // The Endpoint answers `score: null` for semantic segments; the official client wants a number or nothing.
  toClient(answer) {
    return (answer as { score: number | null }[]).map(({ score, ...rest }) => (score === null ? rest : { ...rest, score }));
  },
};

/** One channel of a mask (RawImage masks are 1-channel; keep the first if more). */
function gray(mask: Mask): ArrayLike<number> {
  if (mask.channels === 1) return mask.data;
  const out = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < out.length; i++) out[i] = mask.data[i * mask.channels]!;
  return out;
}
