/**
 * The task registry: every Endpoint task local-endpoint serves, by its Hugging Face id.
 * Adding a task means adding one module and one line here.
 */
import type { TaskModule } from './types.js';
import { textClassification } from './nlp/text-classification.js';
import { featureExtraction } from './nlp/feature-extraction.js';
import { sentenceEmbeddings } from './nlp/sentence-embeddings.js';
import { sentenceSimilarity } from './nlp/sentence-similarity.js';
import { zeroShotClassification } from './nlp/zero-shot-classification.js';
import { fillMask } from './nlp/fill-mask.js';
import { ranking } from './nlp/ranking.js';
import { tokenClassification } from './nlp/token-classification.js';
import { questionAnswering } from './nlp/question-answering.js';
import { conversational, textGeneration } from './generation/text-generation.js';
import { summarization, text2textGeneration, translation } from './generation/seq2seq.js';
import { chatCompletions, completions } from './generation/openai.js';
import { imageClassification } from './vision/image-classification.js';
import { zeroShotImageClassification } from './vision/zero-shot-image-classification.js';
import { objectDetection } from './vision/object-detection.js';
import { imageSegmentation } from './vision/image-segmentation.js';
import { audioClassification } from './audio/audio-classification.js';
import { automaticSpeechRecognition } from './audio/automatic-speech-recognition.js';
import { badRequest } from '../protocol/errors.js';

const modules: TaskModule<any, any>[] = [
  textClassification,
  zeroShotClassification,
  tokenClassification,
  questionAnswering,
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
  automaticSpeechRecognition,
  audioClassification,
];

/** The OpenAI-compatible routes, served on generative endpoints (not tasks of their own). */
export const ROUTES: Readonly<Record<string, TaskModule<any, any>>> = {
  '/v1/completions': completions,
  '/v1/chat/completions': chatCompletions,
};

/** Endpoint tasks whose models the OpenAI routes can run on. */
export const ROUTE_TASKS: readonly string[] = ['text-generation', 'conversational'];

const byName = new Map<string, TaskModule<any, any>>();
for (const m of [...modules, ...Object.values(ROUTES)]) {
  byName.set(m.id, m);
  for (const alias of m.aliases ?? []) byName.set(alias, m);
}

/** The ids of the tasks served locally. */
export const supportedTasks: readonly string[] = modules.map((m) => m.id);

/** The task module for a task id or alias; a 400 naming the supported tasks otherwise. */
export function getTask(name: unknown): TaskModule<any, any> {
  const task = typeof name === 'string' ? byName.get(name) : undefined;
  if (!task) {
    throw badRequest(`Unknown task ${JSON.stringify(name)}. Supported tasks: ${supportedTasks.join(', ')}.`);
  }
  return task;
}
