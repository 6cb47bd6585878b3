/** A deterministic mix of batchable requests over four tasks, for batching tests. */
import type { EngineRequest } from '../worker/engine.js';
import { CLASSIFIER, CROSS_ENCODER, ENCODER, VARIED_TEXTS } from './helpers.js';

export function mixedRequests(n: number, device?: EngineRequest['device']): EngineRequest[] {
  return Array.from({ length: n }, (_, i): EngineRequest => {
    const text = VARIED_TEXTS[i % VARIED_TEXTS.length]!;
    const other = VARIED_TEXTS[(i * 7 + 3) % VARIED_TEXTS.length]!;
    const base = { device } as const;
    switch (i % 6) {
      case 0:
        return { ...base, task: 'feature-extraction', model: ENCODER, inputs: text };
      case 1:
        return { ...base, task: 'feature-extraction', model: ENCODER, inputs: [text, other] };
      case 2:
        return { ...base, task: 'text-classification', model: CLASSIFIER, inputs: text, parameters: { top_k: 1 + (i % 3) } };
      case 3:
        return { ...base, task: 'text-classification', model: CLASSIFIER, inputs: [other, text], parameters: { function_to_apply: 'none' } };
      case 4:
        return { ...base, task: 'ranking', model: CROSS_ENCODER, inputs: [[text, other], [other, text]] };
      default:
        return { ...base, task: 'sentence-embeddings', model: ENCODER, inputs: other };
    }
  });
}
