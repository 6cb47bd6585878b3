/**
 * TEI's tokenizer routes, on every encoder endpoint:
 *
 *   POST /tokenize  TokenizeRequest → TokenizeResponse `[[{id, text, special, start, stop}]]`
 *   POST /decode    DecodeRequest → DecodeResponse `[string]`
 *
 * `/tokenize` answers a list per input (one list for one string). `start` and `stop` are UTF-8
 * byte offsets into the text (the prompt and the text, with `prompt_name`), as TEI gives them from
 * `tokenizers`; `text` is those bytes. Special tokens have no offsets and their own text. Nothing
 * is truncated; a text over TEI's limit of 250 characters a token of the model's maximum is a 413.
 */
import { badRequest, describeType } from '../../protocol/errors.js';
import type { EmbeddingDefaults } from '../nlp/embeddings-core.js';
import type { RunContext, TaskRunner, TaskSpec } from '../types.js';
import { checkBatchSize, readBody, readFlag, readIds, readPromptName, readTexts } from './tei-body.js';
import { offsetScheme, tokenSpans } from '../shared/token-offsets.js';
import { checkVocabulary, encodeInput, promptText, teiTokenizer, type Encoding, type TeiTokenizer } from './tei-encode.js';

export interface TokenizeRequest {
  texts: string[];
  single: boolean;
  addSpecialTokens: boolean;
  promptName?: string;
}

export const teiTokenize = {
  id: 'tei-tokenize',
  example: { inputs: { inputs: 'What is Deep Learning?' } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /tokenize');
    return { ...readTexts(b.inputs, 'inputs'), addSpecialTokens: readFlag(b, 'add_special_tokens', true), promptName: readPromptName(b) };
  },
} satisfies TaskSpec<TokenizeRequest>;

export interface DecodeRequest {
  ids: number[][];
  single: boolean;
  skipSpecialTokens: boolean;
}

export const teiDecode = {
  id: 'tei-decode',
  example: { inputs: { ids: [101, 2054, 2003, 2784, 4083, 1029, 102] } },
  parse({ inputs: body }) {
    const b = readBody(body, 'POST /decode');
    const skipSpecialTokens = readFlag(b, 'skip_special_tokens', true);
    const { ids } = b;
    const expected = 'a list of token ids or a list of such lists';
    if (!Array.isArray(ids)) throw badRequest(`ids must be ${expected}, got ${describeType(ids)}.`);
    if (ids.length === 0) throw badRequest('ids cannot be empty.');
    if (!Array.isArray(ids[0])) return { ids: [readIds(ids, 'ids')], single: true, skipSpecialTokens };
    checkBatchSize(ids.length);
    const lists = ids.map((list, i) => {
      if (!Array.isArray(list)) throw badRequest(`ids[${i}] must be a list of token ids, got ${describeType(list)}.`);
      if (list.length === 0) throw badRequest(`ids[${i}] cannot be empty.`);
      return readIds(list, `ids[${i}]`);
    });
    return { ids: lists, single: false, skipSpecialTokens };
  },
} satisfies TaskSpec<DecodeRequest>;

export const teiTokenizeRunner: TaskRunner<TokenizeRequest, EmbeddingDefaults | undefined | void> = {
  spec: teiTokenize,
  pipeline: 'feature-extraction',
  onEndpointTask: true,
  async run(pipe, request, setup, _ctx?: RunContext) {
    const t = teiTokenizer(pipe);
    const prompt = promptText((setup as EmbeddingDefaults | undefined)?.prompts, request.promptName);
    return request.texts.map((text, i) => {
      const where = request.single ? 'inputs' : `inputs[${i}]`;
      const encoding = encodeInput(t, { kind: 'text', text }, {
        truncation: { truncate: false, direction: 'right' },
        unlimited: true,
        prompt,
        where,
        addSpecialTokens: request.addSpecialTokens,
      });
      return simpleTokens(t, encoding);
    });
  },
};

export const teiDecodeRunner: TaskRunner<DecodeRequest, unknown> = {
  spec: teiDecode,
  pipeline: 'feature-extraction',
  onEndpointTask: true,
  async run(pipe, request) {
    const t = teiTokenizer(pipe);
    return request.ids.map((ids, i) => {
      checkVocabulary(t, ids, request.single ? 'ids' : `ids[${i}]`);
      return t.tokenizer.decode(ids, { skip_special_tokens: request.skipSpecialTokens });
    });
  },
};

/** TEI's SimpleToken list of one encoded text: special tokens without offsets, others with UTF-8 byte offsets. */
export function simpleTokens(t: TeiTokenizer, e: Encoding): { id: number; text: string; special: boolean; start: number | null; stop: number | null }[] {
  const text = e.text ?? '';
  const spans = tokenSpans(text, e.tokens.filter((_, i) => !e.special[i]), offsetScheme(t.tokenizer));
  const bytes = utf8Offsets(text);
  const utf8 = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  return e.tokens.map((token, i) => {
    const index = e.contentIndex?.[i];
    const span = index === null || index === undefined ? null : spans[index];
    if (!span) return { id: e.ids[i]!, text: token, special: e.special[i]!, start: null, stop: null };
    const start = bytes[span[0]]!;
    const stop = bytes[span[1]]!;
    return { id: e.ids[i]!, text: decoder.decode(utf8.subarray(start, stop)), special: false, start, stop };
  });
}

/** For each UTF-16 index of `text` (and its end), the UTF-8 byte offset. */
function utf8Offsets(text: string): number[] {
  const out = new Array<number>(text.length + 1);
  let byte = 0;
  for (let i = 0; i < text.length; i++) {
    out[i] = byte;
    const code = text.charCodeAt(i);
    if (code < 0x80) byte += 1;
    else if (code < 0x800) byte += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      out[i + 1] = byte; // the low half of a pair starts where its character does
      byte += 4;
      i++;
    } else byte += 3;
  }
  out[text.length] = byte;
  return out;
}
