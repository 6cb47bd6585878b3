/**
 * The task registry: every Endpoint task local-endpoint serves, by its Hugging Face id.
 *
 * A task file exports the task's spec (`textClassification`: parse, body, stream and client shapes,
 * the official client's methods, an example) and, as a second export, its runner
 * (`textClassificationRunner`: pipeline, setup, run, batching). Both are listed here, once each:
 *
 * - `SPECS` is the page side: `getTask`, `supportedTasks`, `ROUTE_SPECS`, `clientMethods`.
 * - `runners()` is the engine side, read by `getRunner`. It is a function, so a bundle that never
 *   calls it (the page's: local-fetch, the client, the demo) drops it, every runner in it, and the
 *   code only runners use (the generation loop, mask encoding, token offsets…).
 *
 * Adding a task: its file (the spec and the runner), its import here, and one entry in each list;
 * a spec without a runner, or a runner without its spec in `SPECS`, fails the first `getRunner`
 * (and the registry's test).
 */
import type { TaskRunner, TaskSpec } from './types.js';
import { textClassification, textClassificationRunner } from './nlp/text-classification.js';
import { featureExtraction, featureExtractionRunner } from './nlp/feature-extraction.js';
import { sentenceEmbeddings, sentenceEmbeddingsRunner } from './nlp/sentence-embeddings.js';
import { sentenceSimilarity, sentenceSimilarityRunner } from './nlp/sentence-similarity.js';
import { zeroShotClassification, zeroShotClassificationRunner } from './nlp/zero-shot-classification.js';
import { fillMask, fillMaskRunner } from './nlp/fill-mask.js';
import { ranking, rankingRunner } from './nlp/ranking.js';
import { tokenClassification, tokenClassificationRunner } from './nlp/token-classification.js';
import { questionAnswering, questionAnsweringRunner } from './nlp/question-answering.js';
import { conversational, conversationalRunner, textGeneration, textGenerationRunner } from './generation/text-generation.js';
import {
  summarization,
  summarizationRunner,
  text2textGeneration,
  text2textGenerationRunner,
  translation,
  translationRunner,
} from './generation/seq2seq.js';
import { chatCompletions, chatCompletionsRunner, completions, completionsRunner } from './generation/openai.js';
import { imageClassification, imageClassificationRunner } from './vision/image-classification.js';
import { zeroShotImageClassification, zeroShotImageClassificationRunner } from './vision/zero-shot-image-classification.js';
import { objectDetection, objectDetectionRunner } from './vision/object-detection.js';
import { imageSegmentation, imageSegmentationRunner } from './vision/image-segmentation.js';
import { textToImage, textToImageRunner } from './diffusion/text-to-image.js';
import { tableQuestionAnswering, tableQuestionAnsweringRunner } from './nlp/table-question-answering.js';
import { visualQuestionAnswering, visualQuestionAnsweringRunner } from './vision/visual-question-answering.js';
import { imageToText, imageToTextRunner } from './vision/image-to-text.js';
import { custom, customRunner } from './custom/custom.js';
import { audioClassification, audioClassificationRunner } from './audio/audio-classification.js';
import { automaticSpeechRecognition, automaticSpeechRecognitionRunner } from './audio/automatic-speech-recognition.js';
import { TGI_SPECS, tgiRunners } from './generation/tgi.js';
import { TEI_SPECS, teiRunners } from './tei/index.js';
import { badRequest } from '../protocol/errors.js';

export { openAIId } from './shared/ids.js';

/**
 * The tasks, in the order `supportedTasks` lists them. A tuple of each spec's own type (not
 * `TaskSpec[]`): the client's types read the method names in each spec's `client`.
 */
const SPECS = [
  textClassification,
  zeroShotClassification,
  tokenClassification,
  questionAnswering,
  tableQuestionAnswering,
  fillMask,
  featureExtraction,
  sentenceEmbeddings,
  sentenceSimilarity,
  ranking,
  textGeneration,
  conversational,
  text2textGeneration,
  summarization,
  translation,
  imageClassification,
  zeroShotImageClassification,
  objectDetection,
  imageSegmentation,
  visualQuestionAnswering,
  imageToText,
  textToImage,
  automaticSpeechRecognition,
  audioClassification,
  custom,
] as const satisfies readonly TaskSpec<any>[];

/**
 * The specs of the routes beside an Endpoint's own (`/v1/chat/completions`, TGI's `/generate`,
 * TEI's `/embed`…): not tasks of their own, but run by the engine like tasks. Which endpoint serves
 * which is `routes.ts`.
 */
export const ROUTE_SPECS: readonly TaskSpec<any>[] = [completions, chatCompletions, ...TGI_SPECS, ...TEI_SPECS];

/**
 * Every runner, for the engine. Only `getRunner` calls this: the page never does, so its bundle
 * has none of them.
 */
function runners(): readonly TaskRunner<any, any>[] {
  return [
    textClassificationRunner,
    zeroShotClassificationRunner,
    tokenClassificationRunner,
    questionAnsweringRunner,
    tableQuestionAnsweringRunner,
    fillMaskRunner,
    featureExtractionRunner,
    sentenceEmbeddingsRunner,
    sentenceSimilarityRunner,
    rankingRunner,
    textGenerationRunner,
    conversationalRunner,
    text2textGenerationRunner,
    summarizationRunner,
    translationRunner,
    imageClassificationRunner,
    zeroShotImageClassificationRunner,
    objectDetectionRunner,
    imageSegmentationRunner,
    visualQuestionAnsweringRunner,
    imageToTextRunner,
    textToImageRunner,
    automaticSpeechRecognitionRunner,
    audioClassificationRunner,
    customRunner,
    completionsRunner,
    chatCompletionsRunner,
    ...tgiRunners(),
    ...teiRunners(),
  ];
}

const ALL: readonly TaskSpec<any>[] = [...SPECS, ...ROUTE_SPECS];

const byName = new Map<string, TaskSpec<any>>();
for (const spec of ALL) {
  byName.set(spec.id, spec);
  for (const alias of spec.aliases ?? []) byName.set(alias, spec);
}

/** The ids of the tasks served locally. */
export const supportedTasks: readonly string[] = SPECS.map((m) => m.id);

/** The spec of a task id or alias; a 400 naming the supported tasks otherwise. */
export function getTask(name: unknown): TaskSpec<any> {
  const task = typeof name === 'string' ? byName.get(name) : undefined;
  if (!task) {
    throw badRequest(`Unknown task ${JSON.stringify(name)}. Supported tasks: ${supportedTasks.join(', ')}.`);
  }
  return task;
}

// -- the engine side ------------------------------------------------------------------------

let runnersById: Map<string, TaskRunner<any, any>> | undefined;

/** The runner of a task id or alias (its spec is `runner.spec`); the same 400 as `getTask` otherwise. */
export function getRunner(name: unknown): TaskRunner<any, any> {
  const spec = getTask(name);
  runnersById ??= indexRunners(runners());
  return runnersById.get(spec.id)!;
}

/** Runners by task id, checked against the specs: one runner for each, of that very spec. */
function indexRunners(list: readonly TaskRunner<any, any>[]): Map<string, TaskRunner<any, any>> {
  const index = new Map(list.map((runner) => [runner.spec.id, runner]));
  const missing = ALL.filter((spec) => index.get(spec.id)?.spec !== spec).map((spec) => spec.id);
  const extra = list.filter((runner) => byName.get(runner.spec.id) !== runner.spec).map((runner) => runner.spec.id);
  if (missing.length || extra.length || index.size !== list.length) {
    throw new Error(`The task registry is inconsistent: no runner for ${missing.join(', ') || '-'}; runners of unlisted or repeated specs: ${extra.join(', ') || '-'}.`);
  }
  return index;
}

// -- the official client's methods ------------------------------------------------------------

type ClientMethodsOf<S> = S extends { readonly client: readonly (infer M)[] } ? M : never;

/** The official client's methods the local tasks answer: the union of every spec's `client`. */
export type TaskClientMethod = { [K in keyof typeof SPECS]: ClientMethodsOf<(typeof SPECS)[K]> }[number];

/** Each official client method some task answers, with the task it routes to, in registry order. */
export function clientMethods(): { method: TaskClientMethod; task: string }[] {
  return SPECS.flatMap((spec) => ((spec as TaskSpec).client ?? []).map((method) => ({ method: method as TaskClientMethod, task: spec.id })));
}
