/** The widget families, and which family draws each task. */
import type { Family } from '../types.js';
import { answerSpanFamily } from './question-answering.js';
import { chatFamily } from './chat.js';
import { customFamily } from './custom.js';
import { detectionFamily } from './detection.js';
import { embeddingsFamily } from './embeddings.js';
import { entitiesFamily } from './entities.js';
import { fillMaskFamily } from './fill-mask.js';
import { generationFamily } from './generation.js';
import { labelsFamily } from './labels.js';
import { segmentationFamily } from './segmentation.js';
import { similarityFamily } from './similarity.js';
import { tableFamily } from './table.js';
import { textToImageFamily } from './text-to-image.js';
import { transcriptFamily } from './transcript.js';

export const FAMILIES: readonly Family[] = [
  labelsFamily,
  entitiesFamily,
  answerSpanFamily,
  fillMaskFamily,
  similarityFamily,
  embeddingsFamily,
  generationFamily,
  chatFamily,
  tableFamily,
  detectionFamily,
  segmentationFamily,
  transcriptFamily,
  textToImageFamily,
  customFamily,
];

const BY_TASK = new Map(FAMILIES.flatMap((family) => family.tasks.map((task) => [task, family] as const)));

/** The family that draws `task` (aliases are not accepted here: use the task id). */
export function familyOf(task: string): Family | undefined {
  return BY_TASK.get(task);
}

/** Every task a widget exists for. */
export function widgetTasks(): string[] {
  return [...BY_TASK.keys()];
}
