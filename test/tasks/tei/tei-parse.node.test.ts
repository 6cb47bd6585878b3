/**
 * TEI's request bodies, read by the specs alone (pure, no model): defaults, the shapes TEI
 * accepts, and a 400 (or a 413 past the batch limit) naming the problem for everything else.
 */
import { describe, expect, it } from 'vitest';
import { EndpointError } from '../../../src/protocol/errors.js';
import { MAX_CLIENT_BATCH_SIZE, TEI_SPECS } from '../../../src/tasks/tei/index.js';

const spec = (id: string) => TEI_SPECS.find((s) => s.id === id)!;
const parse = (id: string, body: unknown) => spec(id).parse({ inputs: body } as never) as any;

/** The error a body gets: its status and message. */
function refusal(id: string, body: unknown): { status: number; message: string } {
  try {
    parse(id, body);
  } catch (err) {
    expect(err).toBeInstanceOf(EndpointError);
    return { status: (err as EndpointError).status, message: (err as Error).message };
  }
  throw new Error(`${id} accepted ${JSON.stringify(body)}`);
}

describe('defaults, as TEI has them', () => {
  it('/embed: normalize true, truncate true, Right, one input or a batch, ids as one input', () => {
    expect(parse('tei-embed', { inputs: 'a' })).toEqual({
      inputs: [{ kind: 'text', text: 'a' }],
      single: true,
      truncation: { truncate: true, direction: 'right' },
      promptName: undefined,
      normalize: true,
      dimensions: undefined,
    });
    expect(parse('tei-embed', { inputs: [1, 2, 3] }).inputs).toEqual([{ kind: 'ids', ids: [1, 2, 3] }]);
    const batch = parse('tei-embed', { inputs: ['a', [4, 5]], truncate: false, truncation_direction: 'Left', normalize: false, dimensions: 8, prompt_name: 'query', unknown_field: 1 });
    expect(batch).toMatchObject({ single: false, truncation: { truncate: false, direction: 'left' }, normalize: false, dimensions: 8, promptName: 'query' });
    expect(batch.inputs).toEqual([{ kind: 'text', text: 'a' }, { kind: 'ids', ids: [4, 5] }]);
  });
  it('/predict: a string, a pair, and a batch of texts and pairs', () => {
    expect(parse('tei-predict', { inputs: 'a' })).toMatchObject({ inputs: [['a']], single: true, rawScores: false });
    expect(parse('tei-predict', { inputs: ['a', 'b'] })).toMatchObject({ inputs: [['a', 'b']], single: true });
    expect(parse('tei-predict', { inputs: [['a'], ['b', 'c']], raw_scores: true })).toMatchObject({ inputs: [['a'], ['b', 'c']], single: false, rawScores: true });
  });
  it('/rerank, /tokenize, /decode, /v1/embeddings, /info', () => {
    expect(parse('tei-rerank', { query: 'q', texts: ['a'] })).toMatchObject({ rawScores: false, returnText: false, truncation: { truncate: true, direction: 'right' } });
    expect(parse('tei-tokenize', { inputs: ['a', 'b'] })).toEqual({ texts: ['a', 'b'], single: false, addSpecialTokens: true, promptName: undefined });
    expect(parse('tei-decode', { ids: [1, 2] })).toEqual({ ids: [[1, 2]], single: true, skipSpecialTokens: true });
    expect(parse('tei-decode', { ids: [[1], [2]], skip_special_tokens: false })).toEqual({ ids: [[1], [2]], single: false, skipSpecialTokens: false });
    expect(parse('openai-embeddings', { input: 'a', model: 'm', user: 'u', encoding_format: 'base64' })).toMatchObject({ base64: true, single: true });
    expect(parse('openai-embeddings', { input: [[1, 2], [3]] })).toMatchObject({ base64: false, single: false, inputs: [{ kind: 'ids', ids: [1, 2] }, { kind: 'ids', ids: [3] }] });
    expect(parse('tei-info', null)).toBeNull();
  });
});

const TOO_MANY = Array.from({ length: MAX_CLIENT_BATCH_SIZE + 1 }, () => 'a');

describe('bad bodies: a 400 naming the problem, a 413 past the batch limit', () => {
  it.each([
    ['tei-embed', 'a', 400, /body of POST \/embed must be a JSON object, got a string/],
    ['tei-embed', {}, 400, /inputs must be a string, a list of token ids, or a list of strings and token-id lists, got nothing/],
    ['tei-embed', { inputs: '' }, 400, /inputs cannot be empty/],
    ['tei-embed', { inputs: [] }, 400, /inputs cannot be empty/],
    ['tei-embed', { inputs: ['a', ''] }, 400, /inputs\[1\] cannot be empty/],
    ['tei-embed', { inputs: ['a', []] }, 400, /inputs\[1\] cannot be empty/],
    ['tei-embed', { inputs: ['a', 3] }, 400, /inputs\[1\] must be a string or a list of token ids, got a number/],
    ['tei-embed', { inputs: [1, -2] }, 400, /inputs\[1\] must be a token id \(an integer from 0\), got -2/],
    ['tei-embed', { inputs: [[1.5]] }, 400, /inputs\[0\]\[0\] must be a token id/],
    ['tei-embed', { inputs: 'a', normalize: 'yes' }, 400, /normalize must be a boolean, got a string/],
    ['tei-embed', { inputs: 'a', truncate: 1 }, 400, /truncate must be a boolean, got a number/],
    ['tei-embed', { inputs: 'a', truncation_direction: 'middle' }, 400, /truncation_direction must be "Left" or "Right", got "middle"/],
    ['tei-embed', { inputs: 'a', dimensions: 0 }, 400, /dimensions must be a positive integer, got 0/],
    ['tei-embed', { inputs: 'a', dimensions: 2.5 }, 400, /dimensions must be a positive integer, got 2.5/],
    ['tei-embed', { inputs: 'a', prompt_name: 3 }, 400, /prompt_name must be a string, got a number/],
    ['tei-embed', { inputs: TOO_MANY }, 413, /batch size 33 > maximum allowed batch size 32/],
    ['tei-embed-all', { inputs: null }, 400, /inputs must be a string/],
    ['openai-embeddings', { input: [] }, 400, /input cannot be empty/],
    ['openai-embeddings', { inputs: 'a' }, 400, /input must be a string, a list of token ids/],
    ['openai-embeddings', { input: 'a', encoding_format: 'binary' }, 400, /encoding_format must be "float" or "base64", got "binary"/],
    ['openai-embeddings', { input: 'a', dimensions: -1 }, 400, /dimensions must be a positive integer, got -1/],
    ['openai-embeddings', { input: 'a', model: 3 }, 400, /model must be a string, got a number/],
    ['openai-embeddings', { input: TOO_MANY }, 413, /batch size 33 > maximum allowed batch size 32/],
    ['tei-similarity', { inputs: 'a' }, 400, /inputs must be an object \{"source_sentence"/],
    ['tei-similarity', { inputs: { source_sentence: 'a', sentences: [] } }, 400, /inputs.sentences cannot be empty/],
    ['tei-similarity', { inputs: { source_sentence: '', sentences: ['b'] } }, 400, /inputs.source_sentence cannot be empty/],
    ['tei-similarity', { inputs: { source_sentence: 'a', sentences: [1] } }, 400, /inputs.sentences\[0\] must be a string, got a number/],
    ['tei-similarity', { inputs: { source_sentence: 'a', sentences: ['b'] }, parameters: [] }, 400, /parameters must be an object, got an array/],
    ['tei-similarity', { inputs: { source_sentence: 'a', sentences: TOO_MANY.slice(1) } }, 413, /batch size 33 > maximum allowed batch size 32/],
    ['tei-rerank', { query: 'q' }, 400, /texts must be a list of strings, got nothing/],
    ['tei-rerank', { query: 'q', texts: [] }, 400, /texts cannot be empty/],
    ['tei-rerank', { texts: ['a'] }, 400, /query must be a string, got nothing/],
    ['tei-rerank', { query: 'q', texts: ['a', 2] }, 400, /texts\[1\] must be a string, got a number/],
    ['tei-rerank', { query: '', texts: [''] }, 400, /texts\[0\] and query cannot both be empty/],
    ['tei-rerank', { query: 'q', texts: ['a'], return_text: 'yes' }, 400, /return_text must be a boolean/],
    ['tei-rerank', { query: 'q', texts: TOO_MANY }, 413, /batch size 33 > maximum allowed batch size 32/],
    ['tei-predict', { inputs: [] }, 400, /inputs cannot be empty/],
    ['tei-predict', { inputs: '' }, 400, /inputs cannot be empty/],
    ['tei-predict', { inputs: ['a', 'b', 'c'] }, 400, /a list of 3 strings is none of them/],
    ['tei-predict', { inputs: [['a'], 'b'] }, 400, /inputs\[1\] must be a list of one or two strings/],
    ['tei-predict', { inputs: [['a'], []] }, 400, /a list of 0 strings is none of them/],
    ['tei-predict', { inputs: 7 }, 400, /inputs must be a string, a pair of strings/],
    ['tei-predict', { inputs: TOO_MANY.map((t) => [t]) }, 413, /batch size 33 > maximum allowed batch size 32/],
    ['tei-tokenize', { inputs: [] }, 400, /inputs cannot be empty/],
    ['tei-tokenize', { inputs: ['a', 1] }, 400, /inputs\[1\] must be a string, got a number/],
    ['tei-tokenize', { inputs: 'a', add_special_tokens: 'no' }, 400, /add_special_tokens must be a boolean/],
    ['tei-tokenize', { inputs: TOO_MANY }, 413, /batch size 33/],
    ['tei-decode', { ids: [] }, 400, /ids cannot be empty/],
    ['tei-decode', { ids: 'abc' }, 400, /ids must be a list of token ids or a list of such lists, got a string/],
    ['tei-decode', { ids: [[1], []] }, 400, /ids\[1\] cannot be empty/],
    ['tei-decode', { ids: [[1], 2] }, 400, /ids\[1\] must be a list of token ids, got a number/],
    ['tei-decode', { ids: [1, 'a'] }, 400, /ids\[1\] must be a token id/],
    ['tei-decode', { ids: TOO_MANY.map(() => [1]) }, 413, /batch size 33/],
  ])('%s %j', (id, body, status, message) => {
    const r = refusal(id, body);
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
  });
});
