/** Token offsets against real tokenizers of both families (WordPiece and byte-level BPE). */
import { describe, expect, it } from 'vitest';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { offsetScheme, tokenSpans, isSubword } from '../../../src/tasks/shared/token-offsets.js';
import { NER, ROBERTA_NER, TRICKY_TEXTS } from '../../helpers.js';

env.localModelPath = '.fixtures/models/';
env.allowRemoteModels = false;

describe.each([
  ['WordPiece (BERT, uncased)', NER],
  ['byte-level BPE (RoBERTa)', ROBERTA_NER],
])('token offsets, %s', (_, model) => {
  it.each(TRICKY_TEXTS)('every token of %j maps to the text it came from', async (text) => {
    const tokenizer = (await AutoTokenizer.from_pretrained(model)) as unknown as {
      tokenize(text: string): string[];
      _tokenizer: { normalizer?: { normalize(s: string): string } | null };
    };
    const scheme = offsetScheme(tokenizer);
    const tokens = tokenizer.tokenize(text);
    const spans = tokenSpans(text, tokens, scheme);
    expect(spans).toHaveLength(tokens.length);
    let previous: readonly [number, number] = [0, 0];
    tokens.forEach((token, i) => {
      const span = spans[i];
      expect(span, `token ${i} ${JSON.stringify(token)}`).not.toBeNull();
      const [start, end] = span!;
      expect(end).toBeGreaterThan(start);
      // In order. Byte-level pieces of one character (é = Ã + ©) share that character's span.
      const sameCharacter = start === previous[0] && end === previous[1];
      if (!sameCharacter) expect(start).toBeGreaterThanOrEqual(previous[1]);
      previous = span!;
      const slice = text.slice(start, end);
      if (slice.trim() !== '') expect(slice.trim()).toBe(slice); // no spaces at the edges (but a lone `Ġ` is a space)
      if (scheme.kind === 'pieces') {
        const surface = token.replace(/^##/, '');
        const normalizedSlice = [...slice].map((c) => tokenizer._tokenizer.normalizer!.normalize(c)).join('');
        if (token !== '[UNK]') expect(normalizedSlice).toBe(surface);
      }
    });
    if (scheme.kind === 'byte-level') {
      // Together the byte-level tokens cover the text exactly, spaces aside.
      const distinct = spans.filter((s, i) => i === 0 || s![0] !== spans[i - 1]![0] || s![1] !== spans[i - 1]![1]);
      expect(distinct.map((s) => text.slice(s![0], s![1])).join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
    }
  });

  it('marks the pieces that continue a word', async () => {
    const tokenizer = (await AutoTokenizer.from_pretrained(model)) as unknown as { tokenize(text: string): string[] };
    const scheme = offsetScheme(tokenizer);
    const text = 'Wolfgang lives in Berlinnnn';
    const tokens = tokenizer.tokenize(text);
    const spans = tokenSpans(text, tokens, scheme);
    const flags = tokens.map((t, i) => isSubword(text, t, spans[i]!, scheme));
    expect(flags[0]).toBe(false);
    // Each word starts with a non-subword token; every later piece of that word is a subword.
    const wordStarts = tokens.filter((_, i) => !flags[i]).map((_, i) => i);
    expect(wordStarts.length).toBe(4);
  });
});
