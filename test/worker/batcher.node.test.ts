import { describe, expect, it } from 'vitest';
import { planBatches } from '../../worker/batcher.js';

const w = (key: string, tokens: number, id: string) => ({ key, tokens, id });

describe('planBatches', () => {
  it('keeps incompatible requests apart and sorts each group by length', () => {
    const batches = planBatches([w('a', 30, '1'), w('b', 5, '2'), w('a', 10, '3'), w('a', 20, '4')], 1000);
    expect(batches.map((b) => b.map((x) => x.id))).toEqual([['3', '4', '1'], ['2']]);
  });

  it('caps a batch by its padded size (longest × count)', () => {
    // 4 × 10 = 40 fits in 45; adding the 30-token one would make 5 × 30 = 150.
    const batches = planBatches([w('k', 10, '1'), w('k', 10, '2'), w('k', 10, '3'), w('k', 10, '4'), w('k', 30, '5')], 45);
    expect(batches.map((b) => b.map((x) => x.id))).toEqual([['1', '2', '3', '4'], ['5']]);
  });

  it('runs a request larger than the cap alone rather than dropping it', () => {
    expect(planBatches([w('k', 5000, 'big'), w('k', 10, 'small')], 100).map((b) => b.map((x) => x.id))).toEqual([['small'], ['big']]);
  });
});
