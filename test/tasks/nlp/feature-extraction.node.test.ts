import { describe, expect, it } from 'vitest';
import { featureExtraction } from '../../../src/tasks/nlp/feature-extraction.js';
import { readSentenceTransformersDefaults } from '../../../src/tasks/nlp/embeddings-core.js';
import type { ModelContext } from '../../../src/tasks/types.js';

/** A model repo as plain data: file path → JSON. */
const repo = (files: Record<string, unknown>): ModelContext => ({
  pipe: (async () => null) as never,
  readJSON: async (path) => files[path] ?? null,
});

describe('feature-extraction parse', () => {
  it('reads pooling, normalize and truncate', () => {
    expect(featureExtraction.parse({ inputs: 'x' })).toEqual({ inputs: 'x', pooling: undefined, normalize: undefined, truncate: true, truncationDirection: 'right' });
    expect(featureExtraction.parse({ inputs: ['x'], parameters: { pooling: 'cls', normalize: false, truncate: false, truncation_direction: 'Left' } })).toEqual({
      inputs: ['x'],
      pooling: 'cls',
      normalize: false,
      truncate: false,
      truncationDirection: 'left',
    });
  });
  it.each([
    [{ inputs: 'x', parameters: { pooling: 'max' } }, /parameters.pooling must be one of mean, cls, none, got "max"/],
    [{ inputs: 'x', parameters: { normalize: 'yes' } }, /parameters.normalize must be a boolean, got a string/],
    [{ inputs: null }, /inputs must be a string or a list of strings, got null/],
    [{ inputs: 'x', parameters: { prompt_name: 'q' } }, /Unknown parameter for feature-extraction: prompt_name/],
    [{ inputs: 'x', parameters: { truncation_direction: 'middle' } }, /truncation_direction must be left or right, got "middle"/],
  ])('rejects %j', (payload, message) => expect(() => featureExtraction.parse(payload as never)).toThrow(message));
});

describe('sentence-transformers defaults', () => {
  const pooling = (config: Record<string, boolean>, normalize = true) =>
    repo({
      'modules.json': [
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        ...(normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
      ],
      '1_Pooling/config.json': config,
    });

  it('uses mean pooling and normalisation when the model ships them', async () => {
    expect(await readSentenceTransformersDefaults(pooling({ pooling_mode_mean_tokens: true }))).toEqual({ pooling: 'mean', normalize: true });
  });
  it('uses CLS pooling when the Pooling config says so, and no normalisation without a Normalize module', async () => {
    expect(await readSentenceTransformersDefaults(pooling({ pooling_mode_cls_token: true }, false))).toEqual({ pooling: 'cls', normalize: false });
  });
  it('falls back to token embeddings for a plain transformers model', async () => {
    expect(await readSentenceTransformersDefaults(repo({}))).toEqual({ pooling: 'none', normalize: false });
  });
});
