/**
 * image-segmentation (SegFormer and other semantic models; MaskFormer and DETR panoptic models):
 * an image → `[{label, score, mask}]`, each mask a base64 PNG of the original image's size (255
 * inside, 0 outside). `threshold`, `mask_threshold`, `overlap_mask_area_threshold` and `subtask`
 * (semantic, instance, panoptic).
 *
 * Subtasks: a model supports those its image processor can post-process (panoptic, semantic), plus
 * instance for MaskFormer-style outputs (`class_queries_logits` + `masks_queries_logits`), which
 * this module post-processes itself (mask-instances.ts; transformers.js has none). Without
 * `subtask`, the pipeline picks the first of panoptic, instance, semantic the processor has, as
 * Python's does. A named subtask the model does not support is a 400 listing those it does.
 * transformers.js 4.3.1's pipeline fails on any named subtask (it calls the post-processor's name,
 * a string), so a named subtask other than the pipeline's own pick runs here: processor → model →
 * the processor's bound post-processor (or the instance port) → masks, as the pipeline does.
 */
import { badRequest, quote } from '../../protocol/errors.js';
import { readMediaInput } from '../shared/media-input.js';
import { checkKnownParameters, readEnum, readParameters, readThreshold } from '../shared/parameters.js';
import { encodeGrayPng } from './mask-png.js';
import { toBase64 } from '../shared/base64.js';
import { maskFormerInstances, type TensorData } from './mask-instances.js';
import type { EndpointPayload, TaskRunner, TaskSpec } from '../types.js';
import type { MediaBody } from '../../wire/media.js';

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
type Segment = { label: string | null; score: number | null; mask: Mask };
type Subtask = NonNullable<ImageSegmentationRequest['subtask']>;
type PostProcessor = (...args: unknown[]) => { segmentation: TensorData; segments_info?: SegmentInfo[]; labels?: number[] }[];
interface SegmentInfo {
  id: number;
  label_id: number;
  score: number | null;
}
/** The transformers.js image-segmentation pipeline, opened up. */
type SegmentationPipeline = ((image: unknown, options: Record<string, unknown>) => Promise<Segment[]>) & {
  processor: ((images: unknown[]) => Promise<Record<string, unknown>>) & { image_processor?: Record<string, unknown> };
  model: ((inputs: Record<string, unknown>) => Promise<Record<string, TensorData>>) & {
    config: { id2label?: Record<string, string> };
    sessions?: Record<string, { outputNames?: string[] }>;
  };
};

/** The image processor's post-processor for each subtask (the names transformers.js and Python use). */
const POST_PROCESSORS: Record<Subtask, string> = {
  panoptic: 'post_process_panoptic_segmentation',
  instance: 'post_process_instance_segmentation',
  semantic: 'post_process_semantic_segmentation',
};
/** The pipeline's order of preference when the request names no subtask. */
const AUTO_ORDER: readonly Subtask[] = ['panoptic', 'instance', 'semantic'];

export const imageSegmentation = {
  id: 'image-segmentation',
  media: 'image',
  client: ['imageSegmentation'],
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
  // The Endpoint answers `score: null` for semantic segments; the official client wants a number or nothing.
  toClient(answer) {
    return (answer as { score: number | null }[]).map(({ score, ...rest }) => (score === null ? rest : { ...rest, score }));
  },
} satisfies TaskSpec<ImageSegmentationRequest>;

export const imageSegmentationRunner: TaskRunner<ImageSegmentationRequest> = {
  spec: imageSegmentation,
  pipeline: 'image-segmentation',
  async run(pipe, request, _setup, ctx) {
    const segmenter = pipe as unknown as SegmentationPipeline;
    const { subtask } = request;
    if (subtask) {
      const supported = supportedSubtasks(segmenter);
      if (!supported.includes(subtask)) {
        throw badRequest(
          `This model does not support subtask ${quote(subtask)}; it supports ${supported.length ? supported.join(', ') : 'none (it answers unlabelled masks)'}.`,
        );
      }
    }
    const image = (await ctx!.decodeImage!(request.image.bytes)) as { width: number; height: number };
    const segments =
      subtask && subtask !== pipelineSubtask(segmenter)
        ? await segmentWith(segmenter, image, subtask, request)
        : await segmenter(image, {
            threshold: request.threshold,
            mask_threshold: request.maskThreshold,
            overlap_mask_area_threshold: request.overlapMaskAreaThreshold,
            subtask: null, // the pipeline's own pick (a named one fails in transformers.js 4.3.1)
            // Fuse nothing, as unset does, without transformers.js's console warning on every request.
            label_ids_to_fuse: new Set<number>(),
          });
    return Promise.all(
      segments.map(async ({ label, score, mask }) => ({
        label,
        score,
        mask: toBase64(await encodeGrayPng(gray(mask), mask.width, mask.height)),
      })),
    );
  },
};

/** The subtasks this model can answer, in the pipeline's order of preference. */
export function supportedSubtasks(pipe: SegmentationPipeline): Subtask[] {
  const processor = pipe.processor?.image_processor ?? {};
  const outputs = pipe.model?.sessions?.model?.outputNames ?? [];
  return AUTO_ORDER.filter((subtask) =>
    subtask === 'instance'
      ? outputs.includes('class_queries_logits') && outputs.includes('masks_queries_logits')
      : typeof processor[POST_PROCESSORS[subtask]] === 'function',
  );
}

/** The subtask the pipeline runs when given none: the first post-processor the image processor has. */
function pipelineSubtask(pipe: SegmentationPipeline): Subtask | null {
  const processor = pipe.processor?.image_processor ?? {};
  return AUTO_ORDER.find((subtask) => POST_PROCESSORS[subtask] in processor) ?? null;
}

/**
 * A named subtask, run as the pipeline runs its own pick: the processor, the model, then the image
 * processor's post-processor (instance: mask-instances.ts) at the image's size, one mask per segment.
 */
export async function segmentWith(
  pipe: SegmentationPipeline,
  image: { width: number; height: number },
  subtask: Subtask,
  request: Pick<ImageSegmentationRequest, 'threshold' | 'maskThreshold' | 'overlapMaskAreaThreshold'>,
): Promise<Segment[]> {
  const size: [number, number] = [image.height, image.width];
  const outputs = await pipe.model(await pipe.processor([image]));
  let segmentation: ArrayLike<number>;
  let segments: SegmentInfo[];
  if (subtask === 'instance') {
    ({ segmentation, segments } = maskFormerInstances(outputs.class_queries_logits!, outputs.masks_queries_logits!, request.threshold, size));
  } else {
    const processor = pipe.processor.image_processor!;
    const postProcess = (processor[POST_PROCESSORS[subtask]] as PostProcessor).bind(processor);
    const result =
      subtask === 'panoptic'
        ? postProcess(outputs, request.threshold, request.maskThreshold, request.overlapMaskAreaThreshold, new Set<number>(), [size])[0]!
        : postProcess(outputs, [size])[0]!;
    segmentation = result.segmentation.data;
    segments = subtask === 'panoptic' ? result.segments_info! : result.labels!.map((label) => ({ id: label, label_id: label, score: null }));
  }
  const id2label = pipe.model.config.id2label ?? {};
  return segments.map(({ id, label_id, score }) => {
    const data = new Uint8ClampedArray(size[0] * size[1]);
    for (let i = 0; i < data.length; i++) if (segmentation[i] === id) data[i] = 255;
    return { label: id2label[label_id] ?? null, score, mask: { data, width: size[1], height: size[0], channels: 1 } };
  });
}

/** One channel of a mask (RawImage masks are 1-channel; keep the first if more). */
function gray(mask: Mask): ArrayLike<number> {
  if (mask.channels === 1) return mask.data;
  const out = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < out.length; i++) out[i] = mask.data[i * mask.channels]!;
  return out;
}
