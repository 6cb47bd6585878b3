/**
 * What a loaded vision-and-text model does, whichever family it is: a ViLT answer classifier
 * (`vilt.ts`) or a generative vision-language model (`vision-language.ts`). A loader returns it
 * in the pipeline's place (TaskRunner.load), and visual-question-answering and image-to-text call
 * it. Engine side only.
 */
import type { GenerationOptions } from '../generation/generation-parameters.js';
import type { PipelineFn, RunContext } from '../types.js';

export interface VqaAnswer {
  answer: string;
  score: number;
}

export interface VisionTextModel {
  /** The model family, as errors name it (`vilt`, `idefics3`, `smolvlm`…). */
  readonly family: string;
  /**
   * Answers a question about an image (a transformers.js RawImage): at most `topK` answers, best
   * first, each with its score (ViLT: the label's sigmoid; a generative model: the sequence probability).
   */
  answer?(image: unknown, question: string, options: { topK: number; generation: GenerationOptions }, ctx: RunContext): Promise<VqaAnswer[]>;
  /** Describes an image (image-to-text): the generated text, with an optional text prompt. */
  caption?(image: unknown, options: { prompt?: string; generation: GenerationOptions }, ctx: RunContext): Promise<string>;
  dispose(): Promise<void>;
}

/** A VisionTextModel in the pipeline's place (PipelineFn), as TaskRunner.load returns it. */
export function asPipeline(model: VisionTextModel): PipelineFn {
  const pipe = (async () => {
    throw new Error(`a ${model.family} model is called through its answer or caption method`);
  }) as unknown as PipelineFn & { visionText: VisionTextModel };
  pipe.visionText = model;
  pipe.dispose = () => model.dispose();
  return pipe;
}

/** The VisionTextModel a loader put in the pipeline's place. */
export function visionTextModel(pipe: PipelineFn): VisionTextModel {
  const model = (pipe as PipelineFn & { visionText?: VisionTextModel }).visionText;
  if (!model) throw new Error('not a vision-and-text model');
  return model;
}
