/**
 * zero-shot-image-classification (CLIP-style dual encoders): an image and candidate labels →
 * `[{label, score}]`, best first. `candidate_labels` (a list or a comma-separated string) and
 * `hypothesis_template` (default "This is a photo of {}."), in `parameters` or next to the image
 * in `inputs` ({image, candidate_labels}).
 */
import { badRequest } from '../../protocol/errors.js';
import { readMediaInput } from '../shared/media-input.js';
import { checkKnownParameters, readParameters } from '../shared/parameters.js';
import type { EndpointPayload, TaskRunner, TaskSpec } from '../types.js';
import type { MediaBody } from '../../wire/media.js';

export interface ZeroShotImageRequest {
  image: MediaBody;
  labels: string[];
  template: string;
}

type ZeroShotImagePipeline = (image: unknown, labels: string[], options: { hypothesis_template: string }) => Promise<{ label: string; score: number }[]>;

export const zeroShotImageClassification = {
  id: 'zero-shot-image-classification',
  media: 'image',
  client: ['zeroShotImageClassification'],
  example: { parameters: { candidate_labels: ['tiger', 'cat', 'car'] } },
  parse({ inputs, parameters }: EndpointPayload) {
    const params = { ...readParameters(parameters) };
    // {image, candidate_labels} in inputs: the labels may travel with the image.
    if (inputs && typeof inputs === 'object' && !(inputs as { bytes?: unknown }).bytes && 'candidate_labels' in inputs) {
      params.candidate_labels ??= (inputs as { candidate_labels: unknown }).candidate_labels;
    }
    checkKnownParameters('zero-shot-image-classification', params, ['candidate_labels', 'candidateLabels', 'hypothesis_template']);
    const raw = params.candidate_labels ?? params.candidateLabels;
    const labels = typeof raw === 'string' ? raw.split(',').map((l) => l.trim()).filter(Boolean) : raw;
    if (!Array.isArray(labels) || labels.length === 0 || labels.some((l) => typeof l !== 'string' || !l.trim())) {
      throw badRequest('parameters.candidate_labels is required: a non-empty list of labels (or a comma-separated string).');
    }
    const template = params.hypothesis_template ?? 'This is a photo of {}.';
    if (typeof template !== 'string' || !template.includes('{}')) {
      throw badRequest('parameters.hypothesis_template must be a string with {} where the label goes.');
    }
    return { image: readMediaInput(inputs, 'image'), labels: labels as string[], template };
  },
} satisfies TaskSpec<ZeroShotImageRequest>;

export const zeroShotImageClassificationRunner: TaskRunner<ZeroShotImageRequest> = {
  spec: zeroShotImageClassification,
  pipeline: 'zero-shot-image-classification',
  async run(pipe, request, _setup, ctx) {
    const image = await ctx!.decodeImage!(request.image.bytes);
    const answer = await (pipe as unknown as ZeroShotImagePipeline)(image, request.labels, { hypothesis_template: request.template });
    return answer.map(({ label, score }) => ({ label, score }));
  },
};
