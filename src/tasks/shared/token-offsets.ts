/**
 * Character offsets of tokens in the original text, which transformers.js's tokenizer does not
 * give. Each token's span is found by aligning the tokens with the text:
 * - byte-level BPE (GPT-2, RoBERTa): tokens are the text's UTF-8 bytes, exactly, in order;
 * - WordPiece and others: each token's surface (without `##`, `▁` read as a space) is matched
 *   against the text as the tokenizer's normalizer sees it, one character at a time.
 * Spans are [start, end) in UTF-16 code units, the units of `String.prototype.slice`.
 */

export type Span = readonly [start: number, end: number];

/** How a tokenizer's tokens map back to text, read from its `tokenizer.json`. */
export type OffsetScheme =
  | { kind: 'byte-level'; trimOffsets: boolean }
  | { kind: 'pieces'; prefix: string | null; normalize: (char: string) => string; unk: string | null };

interface TokenizerJSON {
  model?: { type?: string; continuing_subword_prefix?: string | null; unk_token?: string | null };
  pre_tokenizer?: { type?: string; trim_offsets?: boolean; pretokenizers?: { type?: string; trim_offsets?: boolean }[] } | null;
  decoder?: { type?: string } | null;
}

/** The scheme of a transformers.js tokenizer (its `_tokenizerJSON` and `_tokenizer.normalizer`). */
export function offsetScheme(tokenizer: unknown): OffsetScheme {
  const t = tokenizer as {
    _tokenizerJSON?: TokenizerJSON;
    _tokenizer?: { normalizer?: { normalize(text: string): string } | null };
    unk_token?: string | null;
  };
  const json = t._tokenizerJSON ?? {};
  const pre = json.pre_tokenizer;
  const byteLevel = [pre, ...(pre?.pretokenizers ?? [])].find((p) => p?.type === 'ByteLevel');
  if (byteLevel || json.decoder?.type === 'ByteLevel') {
    return { kind: 'byte-level', trimOffsets: byteLevel?.trim_offsets ?? true };
  }
  const normalizer = t._tokenizer?.normalizer;
  return {
    kind: 'pieces',
    prefix: json.model?.continuing_subword_prefix ?? null,
    normalize: normalizer ? (c) => normalizer.normalize(c) : (c) => c,
    unk: t.unk_token ?? json.model?.unk_token ?? null,
  };
}

/** The span of each token of `text` (null where a token cannot be placed). */
export function tokenSpans(text: string, tokens: readonly string[], scheme: OffsetScheme): (Span | null)[] {
  return scheme.kind === 'byte-level' ? byteLevelSpans(text, tokens, scheme.trimOffsets) : pieceSpans(text, tokens, scheme);
}

/** Whether a token continues the word before it (a WordPiece `##` piece, or no space before it). */
export function isSubword(text: string, token: string, span: Span | null, scheme: OffsetScheme): boolean {
  if (scheme.kind === 'pieces' && scheme.prefix) return token.startsWith(scheme.prefix);
  if (!span || span[0] === 0) return false;
  return !/\s/u.test(text[span[0] - 1]!) && !/\s/u.test(text[span[0]]!);
}

// -- byte-level BPE -------------------------------------------------------------------------------

let byteDecoder: Map<string, number> | undefined;

/** GPT-2's table from the printable characters byte-level tokens use back to bytes. */
function bytesOf(token: string): number[] | null {
  if (!byteDecoder) {
    byteDecoder = new Map();
    const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    let extra = 0;
    for (let b = 0; b < 256; b++) byteDecoder.set(String.fromCodePoint(printable(b) ? b : 256 + extra++), b);
  }
  const bytes: number[] = [];
  for (const ch of token) {
    const b = byteDecoder.get(ch);
    if (b === undefined) return null; // a special or unknown token
    bytes.push(b);
  }
  return bytes;
}

function byteLevelSpans(text: string, tokens: readonly string[], trimOffsets: boolean): (Span | null)[] {
  const utf8 = new TextEncoder().encode(text);
  // For each byte: the UTF-16 index where its character starts, and where it ends.
  const charStart = new Array<number>(utf8.length);
  const charEnd = new Array<number>(utf8.length);
  let byte = 0;
  let unit = 0;
  for (const ch of text) {
    const n = new TextEncoder().encode(ch).length;
    for (let k = 0; k < n; k++) {
      charStart[byte + k] = unit;
      charEnd[byte + k] = unit + ch.length;
    }
    byte += n;
    unit += ch.length;
  }
  let cursor = 0;
  return tokens.map((token) => {
    const bytes = bytesOf(token);
    if (!bytes || bytes.length === 0) return null;
    let start = indexOfBytes(utf8, bytes, cursor);
    if (start < 0) return null;
    let end = start + bytes.length;
    cursor = end;
    if (trimOffsets) {
      while (start < end - 1 && utf8[start] === 0x20) start++; // `Ġword` starts at the word
    }
    return [charStart[start]!, charEnd[end - 1]!] as const;
  });
}

function indexOfBytes(haystack: Uint8Array, needle: number[], from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// -- WordPiece, SentencePiece and other word-piece vocabularies ---------------------------------------

function pieceSpans(text: string, tokens: readonly string[], scheme: Extract<OffsetScheme, { kind: 'pieces' }>): (Span | null)[] {
  // The text as the normalizer sees it, with the original span of each normalized unit.
  let normalized = '';
  const from: number[] = [];
  const to: number[] = [];
  let unit = 0;
  for (const ch of text) {
    const n = scheme.normalize(ch);
    for (let k = 0; k < n.length; k++) {
      from.push(unit);
      to.push(unit + ch.length);
    }
    normalized += n;
    unit += ch.length;
  }
  let cursor = 0;
  const skipSpace = () => {
    while (cursor < normalized.length && /\s/u.test(normalized[cursor]!)) cursor++;
  };
  return tokens.map((token) => {
    skipSpace();
    if (cursor >= normalized.length) return null;
    if (scheme.unk !== null && token === scheme.unk) {
      // An unknown token stands for one whole pre-token: a word, or one symbol.
      const start = cursor;
      if (isWordChar(normalized[cursor]!)) while (cursor < normalized.length && isWordChar(normalized[cursor]!)) cursor++;
      else cursor += codePointLength(normalized, cursor);
      return [from[start]!, to[cursor - 1]!] as const;
    }
    let surface = scheme.prefix && token.startsWith(scheme.prefix) ? token.slice(scheme.prefix.length) : token;
    surface = surface.replaceAll('▁', ' ').trimStart();
    if (surface === '') return null;
    const at = normalized.startsWith(surface, cursor) ? cursor : normalized.indexOf(surface, cursor);
    if (at < 0) return null;
    cursor = at + surface.length;
    return [from[at]!, to[cursor - 1]!] as const;
  });
}

function isWordChar(ch: string): boolean {
  return /[\p{L}\p{N}\p{M}]/u.test(ch);
}

function codePointLength(s: string, i: number): number {
  const cp = s.codePointAt(i)!;
  return cp > 0xffff ? 2 : 1;
}
