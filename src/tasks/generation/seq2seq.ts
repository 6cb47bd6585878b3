/**
 * text2text-generation, summarization and translation: encoder-decoder models (T5, BART, Marian,
 * M2M100/NLLB). One loaded model serves all three (they share the text2text pipeline); they
 * differ in their answer's key and, for translation, `src_lang`/`tgt_lang`.
 */
import { badRequest } from '../../protocol/errors.js';
import { flattenGenerationParameters, readGenerationOptions, readPrompt, type GenerationOptions } from './generation-parameters.js';
import { generationSetup, runGeneration, type GenerationSetup, type TranslationLanguages } from './generate-core.js';
import { readParameters } from '../shared/parameters.js';
import { refuseStream } from './text-generation.js';
import type { EndpointPayload, PipelineFn, TaskModule } from '../types.js';

export interface Seq2SeqRequest {
  text: string;
  options: GenerationOptions;
  languages: TranslationLanguages;
}

function seq2seqTask(
  id: 'text2text-generation' | 'summarization' | 'translation',
  key: 'generated_text' | 'summary_text' | 'translation_text',
  extraParameters: readonly string[] = [],
): TaskModule<Seq2SeqRequest, GenerationSetup> {
  return {
    id,
    pipeline: 'text2text-generation',
    ...(id === 'text2text-generation' ? {} : { loadAs: 'text2text-generation' }),
    parse({ inputs, parameters, stream }: EndpointPayload) {
      refuseStream(id, stream);
      const flat = flattenGenerationParameters(readParameters(parameters));
      const options = readGenerationOptions(id, flat, ['clean_up_tokenization_spaces', 'truncation', ...extraParameters]);
      const languages: TranslationLanguages = {};
      for (const [name, field] of [['src_lang', 'srcLang'], ['tgt_lang', 'tgtLang']] as const) {
        const v = flat[name];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'string' || v === '') throw badRequest(`parameters.${name} must be a language code string, got ${JSON.stringify(v)}.`);
        languages[field] = v;
      }
      return { text: readPrompt(inputs), options, languages };
    },
    setup: generationSetup,
    async run(pipe, request, setup, ctx) {
      const text = taskPrefix(pipe, id) + request.text;
      const result = await runGeneration(pipe, { kind: 'text', text }, request.options, setup, ctx, request.languages);
      return result.sequences.map(({ text }) => ({ [key]: text }));
    },
  };
}

export const text2textGeneration = seq2seqTask('text2text-generation', 'generated_text');
export const summarization = seq2seqTask('summarization', 'summary_text');
export const translation = seq2seqTask('translation', 'translation_text', ['src_lang', 'tgt_lang']);

/** The prompt prefix a model's config asks for (T5: `summarize: `), as the pipeline adds it. */
function taskPrefix(pipe: PipelineFn, task: string): string {
  const config = (pipe.model?.config ?? {}) as { prefix?: unknown; task_specific_params?: Record<string, { prefix?: unknown }> };
  const own = config.task_specific_params?.[task]?.prefix;
  return (typeof config.prefix === 'string' ? config.prefix : '') + (typeof own === 'string' ? own : '');
}
