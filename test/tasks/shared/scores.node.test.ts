import { describe, expect, it } from 'vitest';
import { applyScoreFunction, defaultScoreFunction, rankLabels, sigmoid, softmax } from '../../../src/tasks/shared/scores.js';

describe('scores', () => {
  it('softmax sums to 1 and keeps order; sigmoid maps each logit alone', () => {
    const p = softmax([2, 1, 0]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[0]).toBeGreaterThan(p[1]!);
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]); // no overflow
    expect(sigmoid(0)).toBe(0.5);
    expect(applyScoreFunction([0, 2], 'sigmoid')).toEqual([0.5, sigmoid(2)]);
    expect(applyScoreFunction([3, -1], 'none')).toEqual([3, -1]);
  });

  it('defaults like transformers: sigmoid for multi-label and single-output models, softmax otherwise', () => {
    expect(defaultScoreFunction({ problem_type: 'multi_label_classification' }, 4)).toBe('sigmoid');
    expect(defaultScoreFunction({}, 1)).toBe('sigmoid');
    expect(defaultScoreFunction({ problem_type: 'single_label_classification' }, 3)).toBe('softmax');
    expect(defaultScoreFunction({ problem_type: 'regression' }, 2)).toBe('none');
  });

  it('ranks labels best first, naming unlabelled ones LABEL_i', () => {
    expect(rankLabels([0.1, 0.7, 0.2], { 0: 'a', 1: 'b', 2: 'c' })).toEqual([
      { label: 'b', score: 0.7 },
      { label: 'c', score: 0.2 },
      { label: 'a', score: 0.1 },
    ]);
    expect(rankLabels([0.3], undefined)).toEqual([{ label: 'LABEL_0', score: 0.3 }]);
  });
});
