/**
 * audio-classification (Wav2Vec2, AST…): a sound → `[{label, score}]`, best first; `top_k`
 * (default 5, null: all).
 */
import { readMediaInput } from './media-input.js';
import { checkKnownParameters, readParameters, readPositiveInteger } from './parameters.js';
import type { EndpointPayload, PipelineFn, TaskModule } from './types.js';
import type { MediaBody } from '../wire/media.js';

export interface AudioClassificationRequest {
  audio: MediaBody;
  topK: number | null;
}

type AudioClassifier = PipelineFn & {
  processor: { feature_extractor: { config: { sampling_rate: number } } };
  model: { config: { id2label?: Record<string, string> } };
};

/** The sampling rate the model's feature extractor expects. */
export function samplingRate(pipe: PipelineFn): number {
  return (pipe as AudioClassifier).processor?.feature_extractor?.config?.sampling_rate ?? 16000;
}

export const audioClassification: TaskModule<AudioClassificationRequest> = {
  id: 'audio-classification',
  pipeline: 'audio-classification',
  media: 'audio',
  parse({ inputs, parameters }: EndpointPayload) {
    const params = readParameters(parameters);
    checkKnownParameters('audio-classification', params, ['top_k']);
    const topK = readPositiveInteger(params, 'top_k');
    return { audio: readMediaInput(inputs, 'audio'), topK: topK === undefined ? 5 : topK };
  },
  async run(pipe, request, _setup, ctx) {
    const audio = await ctx!.decodeAudio!(request.audio.bytes, samplingRate(pipe));
    const labels = Object.keys((pipe as AudioClassifier).model.config.id2label ?? {}).length || 1;
    const answer = (await pipe(audio, { top_k: request.topK ?? labels })) as { label: string; score: number }[];
    return answer.map(({ label, score }) => ({ label, score }));
  },
};
