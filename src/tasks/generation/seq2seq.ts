/**
 * text2text-generation, summarization and translation: encoder-decoder models (T5, BART, Marian,
 * M2M100/NLLB). One loaded model serves all three (they share the text2text pipeline); they
 * differ in their answer's key and, for translation, `src_lang`/`tgt_lang`.
 */
import { badRequest, quote } from '../../protocol/errors.js';
import {
  flattenGenerationParameters,
  readGenerationOptions,
  readPrompt,
  refuseStream,
  type GenerationOptions,
  type TranslationLanguages,
} from './generation-parameters.js';
import { generationSetup, runGeneration, type GenerationSetup } from './generate-core.js';
import { readParameters } from '../shared/parameters.js';
import type { EndpointPayload, PipelineFn, TaskRunner, TaskSpec } from '../types.js';

export interface Seq2SeqRequest {
  text: string;
  options: GenerationOptions;
  languages: TranslationLanguages;
}

type Seq2SeqTask = 'text2text-generation' | 'summarization' | 'translation';

/** The id and the parse of one of the three; each spec adds its own client method and example. */
function seq2seqSpec(id: Seq2SeqTask, extraParameters: readonly string[] = []) {
  return {
    id,
    parse({ inputs, parameters, stream }: EndpointPayload): Seq2SeqRequest {
      refuseStream(id, stream);
      const flat = flattenGenerationParameters(readParameters(parameters));
      const options = readGenerationOptions(id, flat, ['clean_up_tokenization_spaces', 'truncation', ...extraParameters]);
      const languages: TranslationLanguages = {};
      for (const [name, field] of [['src_lang', 'srcLang'], ['tgt_lang', 'tgtLang']] as const) {
        const v = flat[name];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'string' || v === '') throw badRequest(`parameters.${name} must be a language code string, got ${quote(v)}.`);
        languages[field] = v;
      }
      return { text: readPrompt(inputs), options, languages };
    },
  };
}

export const text2textGeneration = {
  ...seq2seqSpec('text2text-generation'),
  example: { inputs: 'My name is Wolfgang and I live in Berlin' },
} satisfies TaskSpec<Seq2SeqRequest>;

export const summarization = {
  ...seq2seqSpec('summarization'),
  client: ['summarization'],
  example: { inputs: 'My name is Wolfgang and I live in Berlin. This model is used with sagemaker for inference.' },
} satisfies TaskSpec<Seq2SeqRequest>;

export const translation = {
  ...seq2seqSpec('translation', ['src_lang', 'tgt_lang']),
  client: ['translation'],
  example: { inputs: 'My name is Wolfgang and I live in Berlin' },
} satisfies TaskSpec<Seq2SeqRequest>;

/** The runner of one of the three: the shared text2text pipeline, the answer under `key`. */
function seq2seqRunner(
  spec: TaskSpec<Seq2SeqRequest>,
  key: 'generated_text' | 'summary_text' | 'translation_text',
): TaskRunner<Seq2SeqRequest, GenerationSetup> {
  return {
    spec,
    pipeline: 'text2text-generation',
    ...(spec.id === 'text2text-generation' ? {} : { loadAs: 'text2text-generation' }),
    setup: generationSetup,
    async run(pipe, request, setup, ctx) {
      const text = taskPrefix(pipe, spec.id) + request.text;
      const result = await runGeneration(pipe, { kind: 'text', text }, request.options, setup, ctx, request.languages);
      return result.sequences.map(({ text }) => ({ [key]: text }));
    },
  };
}

export const text2textGenerationRunner = /* @__PURE__ */ seq2seqRunner(text2textGeneration, 'generated_text');
export const summarizationRunner = /* @__PURE__ */ seq2seqRunner(summarization, 'summary_text');
export const translationRunner = /* @__PURE__ */ seq2seqRunner(translation, 'translation_text');

/** The prompt prefix a model's config asks for (T5: `summarize: `), as the pipeline adds it. */
function taskPrefix(pipe: PipelineFn, task: string): string {
  const config = (pipe.model?.config ?? {}) as { prefix?: unknown; task_specific_params?: Record<string, { prefix?: unknown }> };
  const own = config.task_specific_params?.[task]?.prefix;
  return (typeof config.prefix === 'string' ? config.prefix : '') + (typeof own === 'string' ? own : '');
}
