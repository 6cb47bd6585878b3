/**
 * Pure checks of the widgets' tables: every served task has a family and a parameters list, each
 * parameter's default is of its type, and typed panel values become the request's values.
 */
import { describe, expect, test } from 'vitest';
import { supportedTasks } from '../../src/index.ts';
import { FAMILIES, familyOf, widgetTasks } from '../../src/widgets/families/index.ts';
import { TASK_PARAMETERS, parseParameter, type ParameterSpec } from '../../src/widgets/parameters.ts';
import { collectParameters } from '../../src/widgets/parts/parameters-panel.ts';

describe('families', () => {
  test('every served task has exactly one family, and no family names a task that is not served', () => {
    expect([...widgetTasks()].sort()).toEqual([...supportedTasks].sort());
    const counted = FAMILIES.flatMap((family) => family.tasks);
    expect(counted.length).toBe(new Set(counted).size);
    for (const task of supportedTasks) expect(familyOf(task)?.tasks).toContain(task);
  });

  test('every family starts each of its tasks from inputs, and names a media kind only for media tasks', () => {
    const media = new Set(['image-classification', 'zero-shot-image-classification', 'visual-question-answering', 'object-detection', 'image-segmentation', 'image-to-text', 'audio-classification', 'automatic-speech-recognition']);
    for (const family of FAMILIES) {
      for (const task of family.tasks) {
        expect(family.initialInputs(task), task).toBeTypeOf('object');
        expect(Boolean(family.media?.(task)), task).toBe(media.has(task));
      }
    }
  });
});

describe('parameters', () => {
  test('every served task has a parameters list, with defaults of the declared type', () => {
    for (const task of supportedTasks) expect(TASK_PARAMETERS[task], task).toBeDefined();
    for (const [task, specs] of Object.entries(TASK_PARAMETERS)) {
      expect(new Set(specs.map((s) => s.name)).size, task).toBe(specs.length);
      for (const spec of specs) {
        if (spec.default === undefined) continue;
        const expected = { integer: 'number', number: 'number', boolean: 'boolean', string: 'string', enum: 'string', list: 'string' }[spec.type];
        expect(typeof spec.default, `${task}.${spec.name}`).toBe(expected);
        if (spec.type === 'integer') expect(Number.isInteger(spec.default), `${task}.${spec.name}`).toBe(true);
        if (spec.type === 'enum') expect(spec.options, `${task}.${spec.name}`).toContain(spec.default);
      }
    }
  });

  const spec = (type: ParameterSpec['type']): ParameterSpec => ({ name: 'p', type, help: '' });
  test.each([
    ['integer', '3', 3],
    ['number', '0.25', 0.25],
    ['boolean', 'false', false],
    ['list', ' a, b ,, c ', ['a', 'b', 'c']],
    ['enum', 'true', true],
    ['enum', 'word', 'word'],
    ['string', ' x ', 'x'],
  ] as const)('a typed %s value %j becomes %j', (type, raw, value) => {
    expect(parseParameter(spec(type), raw)).toEqual({ value });
  });

  test('empty is unset; a bad number is a message naming the parameter', () => {
    expect(parseParameter(spec('integer'), '  ')).toBeUndefined();
    expect(parseParameter(spec('integer'), '2.5')).toEqual({ error: 'p must be a whole number, not "2.5".' });
    expect(parseParameter(spec('number'), 'abc')).toEqual({ error: 'p must be a number, not "abc".' });
  });

  test('the panel sends only what is set, and its JSON box wins over the typed fields', () => {
    const host = { task: 'text-classification', uid: 't', parameterValues: { top_k: '2' } as Record<string, string>, extraParameters: '', requestUpdate() {} };
    expect(collectParameters(host)).toEqual({ value: { top_k: 2 } });
    host.extraParameters = '{"top_k": 4, "function_to_apply": "none"}';
    expect(collectParameters(host)).toEqual({ value: { top_k: 4, function_to_apply: 'none' } });
    host.extraParameters = '[1]';
    expect(collectParameters(host)).toEqual({ error: 'Other parameters must be a JSON object, like {"top_k": 3}.' });
    host.extraParameters = '{';
    expect(collectParameters(host)).toMatchObject({ error: expect.stringMatching(/^Other parameters are not valid JSON/) });
  });
});
