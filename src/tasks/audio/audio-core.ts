/** What the audio runners share. Engine side. */
import type { PipelineFn } from '../types.js';

interface AudioPipeline {
  processor?: { feature_extractor?: { config?: { sampling_rate?: number } } };
}

/** The sampling rate the model's feature extractor expects. */
export function samplingRate(pipe: PipelineFn): number {
  return (pipe as unknown as AudioPipeline).processor?.feature_extractor?.config?.sampling_rate ?? 16000;
}
