/** Payload checks of zero-shot-classification, fill-mask and ranking. Pure. */
import { describe, expect, it } from 'vitest';
import { readCandidateLabels, zeroShotClassification } from '../../../src/tasks/nlp/zero-shot-classification.js';
import { fillMask } from '../../../src/tasks/nlp/fill-mask.js';
import { ranking } from '../../../src/tasks/nlp/ranking.js';

describe('zero-shot-classification parse', () => {
  it('takes candidate_labels as a list or a comma-separated string, and candidateLabels too', () => {
    expect(readCandidateLabels('refund, legal,faq')).toEqual(['refund', 'legal', 'faq']);
    expect(readCandidateLabels(['a', ' b '])).toEqual(['a', 'b']);
    expect(zeroShotClassification.parse({ inputs: 'x', parameters: { candidateLabels: ['a'] } })).toEqual({
      inputs: 'x',
      labels: ['a'],
      multiLabel: false,
      hypothesisTemplate: 'This example is {}.',
    });
    expect(zeroShotClassification.parse({ inputs: { text: 'x' }, parameters: { candidate_labels: 'a', multi_label: true, hypothesis_template: 'About {}.' } })).toEqual({
      inputs: 'x',
      labels: ['a'],
      multiLabel: true,
      hypothesisTemplate: 'About {}.',
    });
  });
  it.each([
    [{ inputs: 'x' }, /parameters.candidate_labels is required/],
    [{ inputs: 'x', parameters: { candidate_labels: ' , ' } }, /has no labels/],
    [{ inputs: 'x', parameters: { candidate_labels: [1] } }, /must be a list of strings or a comma-separated string/],
    [{ inputs: '', parameters: { candidate_labels: 'a' } }, /inputs must not be empty/],
    [{ inputs: 5, parameters: { candidate_labels: 'a' } }, /inputs must be a string \(or \{"text": …\}\), got a number/],
    [{ inputs: 'x', parameters: { candidate_labels: 'a', hypothesis_template: 'no slot' } }, /must be a string with a \{\} for the label/],
  ])('rejects %j', (payload, message) => expect(() => zeroShotClassification.parse(payload as never)).toThrow(message));
});

describe('fill-mask parse', () => {
  it('defaults top_k to 5 and takes targets as a string or list', () => {
    expect(fillMask.parse({ inputs: 'a [MASK]' })).toEqual({ inputs: 'a [MASK]', topK: 5, targets: undefined });
    expect(fillMask.parse({ inputs: 'a [MASK]', parameters: { top_k: 2, targets: 'b' } })).toEqual({ inputs: 'a [MASK]', topK: 2, targets: ['b'] });
  });
  it.each([
    [{ inputs: '' }, /inputs must not be empty/],
    [{ inputs: 3 }, /inputs must be a string or a list of strings/],
    [{ inputs: 'a', parameters: { targets: [] } }, /parameters.targets must be a non-empty string or a list of them/],
    [{ inputs: 'a', parameters: { top_k: -1 } }, /parameters.top_k must be a positive integer/],
  ])('rejects %j', (payload, message) => expect(() => fillMask.parse(payload as never)).toThrow(message));
});

describe('ranking parse', () => {
  it('takes pairs, or {query, texts, return_documents}', () => {
    expect(ranking.parse({ inputs: [['q', 'a']] })).toEqual({ kind: 'pairs', pairs: [['q', 'a']], rawScores: false });
    expect(ranking.parse({ inputs: { query: 'q', texts: ['a', 'b'], return_documents: true } })).toEqual({
      kind: 'query',
      query: 'q',
      texts: ['a', 'b'],
      returnDocuments: true,
      rawScores: false,
    });
    expect(ranking.parse({ inputs: { query: 'q', texts: ['a'] }, parameters: { return_documents: true, raw_scores: true } })).toMatchObject({
      returnDocuments: true,
      rawScores: true,
    });
  });
  it.each([
    [{ inputs: [] }, /inputs must not be an empty list/],
    [{ inputs: [['only one']] }, /inputs\[0\] must be a pair of strings/],
    [{ inputs: 'text' }, /inputs must be a list of \[text, text\] pairs or \{"query": …, "texts": \[…\]\}, got a string/],
    [{ inputs: { query: '', texts: ['a'] } }, /inputs.query must be a non-empty string/],
    [{ inputs: { query: 'q', texts: [] } }, /inputs.texts must be a non-empty list of strings/],
  ])('rejects %j', (payload, message) => expect(() => ranking.parse(payload as never)).toThrow(message));
});
