/**
 * audio-classification (Wav2Vec2, AST…): a sound → `[{label, score}]`, best first; `top_k`
 * (default 5, null: all) and `function_to_apply` (softmax by default, as transformers' audio
 * pipeline does whatever the model's `problem_type`; transformers.js's pipeline only knows
 * softmax, so the scores are computed here from the logits).
 */
import { readMediaInput } from '../shared/media-input.js';
import { checkKnownParameters, readEnum, readParameters, readPositiveInteger } from '../shared/parameters.js';
import { applyScoreFunction, rankLabels, type ScoreFunction } from '../shared/scores.js';
import { checkAudioLength, samplingRate } from './audio-core.js';
import type { EndpointPayload, TaskRunner, TaskSpec, TensorLike } from '../types.js';
import type { MediaBody } from '../../wire/media.js';

export interface AudioClassificationRequest {
  audio: MediaBody;
  topK: number | null;
  functionToApply: ScoreFunction;
}

interface AudioClassifier {
  processor: (audio: Float32Array) => Promise<Record<string, TensorLike>>;
  model: ((inputs: Record<string, TensorLike>) => Promise<Record<string, TensorLike>>) & {
    config: { id2label?: Record<string, string> };
  };
}

export const audioClassification = {
  id: 'audio-classification',
  media: 'audio',
  client: ['audioClassification'],
  parse({ inputs, parameters }: EndpointPayload) {
    const params = readParameters(parameters);
    checkKnownParameters('audio-classification', params, ['top_k', 'function_to_apply']);
    const topK = readPositiveInteger(params, 'top_k');
    return {
      audio: readMediaInput(inputs, 'audio'),
      topK: topK === undefined ? 5 : topK,
      functionToApply: readEnum(params, 'function_to_apply', ['softmax', 'sigmoid', 'none'] as const) ?? 'softmax',
    };
  },
} satisfies TaskSpec<AudioClassificationRequest>;

export const audioClassificationRunner: TaskRunner<AudioClassificationRequest> = {
  spec: audioClassification,
  pipeline: 'audio-classification',
  async run(pipe, request, _setup, ctx) {
    const { processor, model } = pipe as unknown as AudioClassifier;
    const audio = await ctx!.decodeAudio!(request.audio.bytes, samplingRate(pipe), ctx!.maxAudioSeconds);
    checkAudioLength(pipe, audio);
    const { logits } = await model(await processor(audio));
    const row = (logits!.tolist() as number[][])[0]!;
    const ranked = rankLabels(applyScoreFunction(row, request.functionToApply), model.config.id2label);
    return request.topK === null ? ranked : ranked.slice(0, request.topK);
  },
};
