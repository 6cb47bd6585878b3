import { describe, expect, it } from 'vitest';
import { textClassification } from '../../src/tasks/text-classification.js';
import { getTask, supportedTasks } from '../../src/tasks/registry.js';

describe('text-classification parse', () => {
  it('accepts a string or a list, and top_k (null meaning all labels)', () => {
    expect(textClassification.parse({ inputs: 'hi' })).toEqual({ inputs: 'hi', topK: 1 });
    expect(textClassification.parse({ inputs: ['a', 'b'], parameters: { top_k: 2 } })).toEqual({ inputs: ['a', 'b'], topK: 2 });
    expect(textClassification.parse({ inputs: 'hi', parameters: { top_k: null } })).toEqual({ inputs: 'hi', topK: null });
  });

  it.each([
    [{ inputs: 3 }, /inputs must be a string or a list of strings, got a number/],
    [{ inputs: [] }, /inputs must not be an empty list/],
    [{ inputs: ['a', 2] }, /inputs\[1\] must be a string, got a number/],
    [{ inputs: { text: 'a' } }, /got an object/],
    [{ inputs: 'a', parameters: { top_k: 1.5 } }, /parameters.top_k must be a positive integer, got 1.5/],
    [{ inputs: 'a', parameters: { top_k: '2' } }, /parameters.top_k must be a positive integer, got "2"/],
    [{ inputs: 'a', parameters: { function_to_apply: 'softmax', foo: 1 } }, /Unknown parameters for text-classification: function_to_apply, foo. Supported: top_k./],
    [{ inputs: 'a', parameters: [1] }, /parameters must be an object, got an array/],
  ])('rejects %j with a 400 naming the field', (payload, message) => {
    expect(() => textClassification.parse(payload as never)).toThrow(message);
    try {
      textClassification.parse(payload as never);
    } catch (err) {
      expect((err as { status: number }).status).toBe(400);
    }
  });
});

describe('text-classification toClient', () => {
  const one = [{ label: 'positive', score: 0.9 }];
  it('wraps a single input’s labels in a list, as the official client reads element 0', () => {
    expect(textClassification.toClient!(one, { inputs: 'x', topK: 1 })).toEqual([one]);
    const three = [...one, { label: 'neutral', score: 0.06 }, { label: 'negative', score: 0.04 }];
    expect(textClassification.toClient!(three, { inputs: 'x', topK: 3 })).toEqual([three]);
  });
  it('gives one list per input for a list of inputs', () => {
    const answer = [{ label: 'positive', score: 0.9 }, { label: 'negative', score: 0.8 }];
    expect(textClassification.toClient!(answer, { inputs: ['a', 'b'], topK: 1 })).toEqual([[answer[0]], [answer[1]]]);
    const lists = [[answer[0]], [answer[1]]];
    expect(textClassification.toClient!(lists, { inputs: ['a', 'b'], topK: 2 })).toEqual(lists);
  });
});

describe('task registry', () => {
  it('finds tasks by id and alias, and names the supported ones for an unknown task', () => {
    expect(supportedTasks).toEqual(['text-classification', 'feature-extraction']);
    expect(getTask('sentiment-analysis')).toBe(textClassification);
    expect(() => getTask('ner')).toThrow('Unknown task "ner". Supported tasks: text-classification, feature-extraction.');
    expect(() => getTask(undefined)).toThrow(/Unknown task undefined/);
  });
});
