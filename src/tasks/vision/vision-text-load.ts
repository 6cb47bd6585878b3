/**
 * Loads the model of visual-question-answering or image-to-text (TaskRunner.load), by its
 * config's `model_type`: ViLT (`vilt.ts`), or a generative vision-language model
 * (`vision-language.ts`). Engine side.
 */
import { badRequest } from '../../protocol/errors.js';
import type { LoadContext, PipelineFn } from '../types.js';
import { loadVilt } from './vilt.js';
import { loadVisionLanguage } from './vision-language.js';
import { asPipeline } from './vision-text-model.js';

export async function loadVisionTextModel(ctx: LoadContext): Promise<PipelineFn> {
  const config = (await ctx.readJSON('config.json')) as { model_type?: unknown } | null;
  if (!config) throw badRequest(`Model ${JSON.stringify(ctx.model)} has no config.json.`);
  return asPipeline(config.model_type === 'vilt' ? await loadVilt(ctx) : await loadVisionLanguage(ctx));
}
