import { describe, expect, it } from 'vitest';
import { textClassification } from '../../../src/tasks/nlp/text-classification.js';
import { getTask, supportedTasks } from '../../../src/tasks/registry.js';
import { shapeLabels } from '../../../src/tasks/nlp/text-classification.js';

describe('text-classification parse', () => {
  it('accepts a string or a list, and top_k (null meaning all labels)', () => {
    expect(textClassification.parse({ inputs: 'hi' })).toEqual({ inputs: 'hi', topK: 1, functionToApply: undefined });
    expect(textClassification.parse({ inputs: ['a', 'b'], parameters: { top_k: 2 } })).toMatchObject({ inputs: ['a', 'b'], topK: 2 });
    expect(textClassification.parse({ inputs: 'hi', parameters: { top_k: null } })).toMatchObject({ inputs: 'hi', topK: null });
    expect(textClassification.parse({ inputs: 'hi', parameters: { function_to_apply: 'none' } })).toEqual({ inputs: 'hi', topK: 1, functionToApply: 'none' });
  });

  it.each([
    [{ inputs: 3 }, /inputs must be a string or a list of strings, got a number/],
    [{ inputs: [] }, /inputs must not be an empty list/],
    [{ inputs: ['a', 2] }, /inputs\[1\] must be a string, got a number/],
    [{ inputs: { text: 'a' } }, /got an object/],
    [{ inputs: 'a', parameters: { top_k: 1.5 } }, /parameters.top_k must be a positive integer, got 1.5/],
    [{ inputs: 'a', parameters: { top_k: '2' } }, /parameters.top_k must be a positive integer, got "2"/],
    [{ inputs: 'a', parameters: { foo: 1, bar: 2 } }, /Unknown parameters for text-classification: foo, bar. Supported: top_k, function_to_apply./],
    [{ inputs: 'a', parameters: { function_to_apply: 'relu' } }, /parameters.function_to_apply must be one of softmax, sigmoid, none, got "relu"/],
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

describe('text-classification shape (transformers top_k semantics)', () => {
  const a = [{ label: 'x', score: 0.7 }, { label: 'y', score: 0.2 }, { label: 'z', score: 0.1 }];
  const b = [{ label: 'y', score: 0.5 }, { label: 'x', score: 0.3 }, { label: 'z', score: 0.2 }];
  it('top_k 1: one {label, score} per input', () => {
    expect(shapeLabels([a], { inputs: 's', topK: 1 })).toEqual([a[0]]);
    expect(shapeLabels([a, b], { inputs: ['s', 't'], topK: 1 })).toEqual([a[0], b[0]]);
  });
  it('top_k 2 or null: a list for one input, a list of lists for several', () => {
    expect(shapeLabels([a], { inputs: 's', topK: 2 })).toEqual(a.slice(0, 2));
    expect(shapeLabels([a], { inputs: 's', topK: null })).toEqual(a);
    expect(shapeLabels([a, b], { inputs: ['s', 't'], topK: 2 })).toEqual([a.slice(0, 2), b.slice(0, 2)]);
  });
});

describe('task registry', () => {
  it('finds tasks by id and alias, and names the supported ones for an unknown task', () => {
    expect(supportedTasks).toEqual([
      'text-classification',
      'zero-shot-classification',
      'token-classification',
      'question-answering',
      'table-question-answering',
      'fill-mask',
      'feature-extraction',
      'sentence-embeddings',
      'sentence-similarity',
      'ranking',
      'text-generation',
      'conversational',
      'text2text-generation',
      'summarization',
      'translation',
      'image-classification',
      'zero-shot-image-classification',
      'object-detection',
      'image-segmentation',
      'visual-question-answering',
      'image-to-text',
      'text-to-image',
      'automatic-speech-recognition',
      'audio-classification',
      'custom',
    ]);
    // The Endpoint's 24 tasks, and image-to-text, which its toolkit serves too.
    expect(supportedTasks.length).toBe(25);
    expect(getTask('sentiment-analysis')).toBe(textClassification);
    expect(() => getTask('text-to-speech')).toThrow(`Unknown task "text-to-speech". Supported tasks: ${supportedTasks.join(', ')}.`);
    expect(getTask('ner').id).toBe('token-classification');
    expect(() => getTask(undefined)).toThrow(/Unknown task undefined/);
  });
});
