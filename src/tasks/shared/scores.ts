/** Turning logits into labelled scores, as transformers' classification pipelines do. Pure. */

export type ScoreFunction = 'softmax' | 'sigmoid' | 'none';

export function softmax(values: readonly number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}

export function applyScoreFunction(logits: readonly number[], fn: ScoreFunction): number[] {
  if (fn === 'softmax') return softmax(logits);
  if (fn === 'sigmoid') return logits.map(sigmoid);
  return [...logits];
}

/**
 * transformers' default: sigmoid for multi-label models and for single-output (regression-like)
 * models, softmax otherwise.
 */
export function defaultScoreFunction(config: Record<string, unknown>, labels: number): ScoreFunction {
  if (config.problem_type === 'multi_label_classification' || labels === 1) return 'sigmoid';
  if (config.problem_type === 'regression') return 'none';
  return 'softmax';
}

export interface LabelScore {
  label: string;
  score: number;
}

/** Scores with their labels, best first. */
export function rankLabels(scores: readonly number[], id2label: Record<string, string> | undefined): LabelScore[] {
  return scores
    .map((score, i) => ({ label: id2label?.[String(i)] ?? `LABEL_${i}`, score }))
    .sort((a, b) => b.score - a.score);
}
