/** The validator itself: the servers' documented examples pass, a wrong shape fails. */
import { describe, expect, it } from 'vitest';
import { schemaErrors, schemaNames } from './validate.js';

describe('OpenAPI validation', () => {
  it('compiles every schema of both documents', () => {
    for (const server of ['tgi', 'tei'] as const) {
      for (const name of schemaNames(server)) expect(() => schemaErrors(server, name, null)).not.toThrow();
    }
  });

  it('accepts a documented shape and rejects a wrong one', () => {
    expect(schemaErrors('tgi', 'GenerateResponse', { generated_text: 'test' })).toEqual([]);
    expect(schemaErrors('tgi', 'GenerateResponse', { text: 'test' }).length).toBeGreaterThan(0);
    expect(schemaErrors('tei', 'EmbedResponse', [[0.1, 0.2]])).toEqual([]);
    expect(schemaErrors('tei', 'EmbedResponse', [['x']]).length).toBeGreaterThan(0);
    expect(schemaErrors('tei', 'ErrorResponse', { error: 'x', error_type: 'Validation' })).toEqual([]);
    expect(schemaErrors('tei', 'ErrorResponse', { error: 'x', error_type: 'validation' }).length).toBeGreaterThan(0);
  });
});
