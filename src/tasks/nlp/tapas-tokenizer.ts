/**
 * TAPAS's tokenizer, as transformers' `TapasTokenizer` (`tokenization_tapas.py`) encodes a table
 * and its questions: pure, no model, no I/O.
 *
 * - Text: BERT's basic tokenizer (clean-up, CJK spacing, lowercasing and accent stripping,
 *   punctuation split) then greedy longest-match WordPiece; a cell whose text is empty of words
 *   (`""` aside, which has no tokens), `n/a`, `?` or `nan` is the one token `[EMPTY]`.
 * - Layout: `[CLS] question [SEP]`, then the header row and each data row, cell by cell, left to
 *   right. `truncation` (drop_rows_to_fit) drops rows from the end, then cuts every cell to the same
 *   number of word pieces (never inside a word), until the encoding fits `model_max_length`.
 * - The seven token-type channels of each token: segment (0 question, 1 table), column (from 1),
 *   row (from 1; the header is 0), previous label (the previous answer's cells, for sequential
 *   questions), column rank and inverse rank (the cell's place among its column's numbers or
 *   dates), and numeric relation (bits EQ 1, LT 2, GT 4: how a number or date of the question
 *   compares with the cell's).
 * - Numbers and dates are parsed as TAPAS's `number_utils.py` does: cardinal numbers with
 *   thousands commas, number words up to twelve, ordinals (`1st`, `third`), and dates in the 21
 *   `strptime` patterns (years 1700–2016); a cell keeps the longest spans, and a column takes the
 *   type (number or date) at least 70 % of its cells have.
 */
import { badRequest } from '../../protocol/errors.js';
import { columnNumericValues, columnRanks, numericRelations, splitWhitespace, type Table } from './tapas-numbers.js';

export type { Table } from './tapas-numbers.js';
export { columnNumericValues, columnRanks, normalizeForMatch, numericRelations, numericSortKey, parseDate, parseNumber, parseText } from './tapas-numbers.js';
export type { NumericSpan, NumericValue } from './tapas-numbers.js';


export interface TapasTokenizerOptions {
  doLowerCase: boolean;
  /** null: strip accents when lowercasing (BERT's default). */
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  maskToken: string;
  emptyToken: string;
  modelMaxLength: number;
  /** > 0: every cell is cut to this many word pieces (and cells are never cut further). */
  cellTrimLength: number;
  maxColumnId: number;
  maxRowId: number;
  stripColumnNames: boolean;
  maxInputCharsPerWord: number;
}

export type Padding = false | 'longest' | 'max_length';

export interface EncodeOptions {
  /** drop_rows_to_fit when true. */
  truncation: boolean;
  /** How a batch is padded (right side; token types 0, mask 0). */
  padding: Padding;
  /** The length to fit (default model_max_length). */
  maxLength?: number;
}

/** One question's encoding. `tokenTypeIds[i]` holds the seven channels of token i. */
export interface TapasEncoding {
  tokens: string[];
  inputIds: number[];
  attentionMask: number[];
  tokenTypeIds: number[][];
}

export const TOKEN_TYPES = ['segment', 'column', 'row', 'prev_label', 'column_rank', 'inv_column_rank', 'numeric_relation'] as const;

const DEFAULTS: TapasTokenizerOptions = {
  doLowerCase: true,
  stripAccents: null,
  tokenizeChineseChars: true,
  unkToken: '[UNK]',
  clsToken: '[CLS]',
  sepToken: '[SEP]',
  padToken: '[PAD]',
  maskToken: '[MASK]',
  emptyToken: '[EMPTY]',
  modelMaxLength: 512,
  cellTrimLength: -1,
  maxColumnId: 512,
  maxRowId: 512,
  stripColumnNames: false,
  maxInputCharsPerWord: 100,
};

// -- text -------------------------------------------------------------------------------------

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || /\p{Zs}/u.test(c);
const isControl = (c: string) => c !== '\t' && c !== '\n' && c !== '\r' && /\p{C}/u.test(c);
function isPunctuation(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(c);
}
function isChinese(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** TAPAS's `format_text`: lowercased words, or `EMPTY` for a cell with none. */
export function formatText(text: string): string {
  let t = text.toLowerCase().trim();
  if (t === 'n/a' || t === '?' || t === 'nan') t = 'EMPTY';
  t = t.replace(/[^\p{L}\p{N}_]+/gu, ' ').replace(/_/g, ' ');
  t = splitWhitespace(t).join(' ');
  return t || 'EMPTY';
}

/** BERT's BasicTokenizer. */
export function basicTokenize(text: string, options: Pick<TapasTokenizerOptions, 'doLowerCase' | 'stripAccents' | 'tokenizeChineseChars'>, neverSplit: ReadonlySet<string> = new Set()): string[] {
  let clean = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(c)) continue;
    clean += isWhitespace(c) ? ' ' : options.tokenizeChineseChars && isChinese(cp) ? ` ${c} ` : c;
  }
  const out: string[] = [];
  for (let token of splitWhitespace(clean)) {
    if (neverSplit.has(token)) {
      out.push(token);
      continue;
    }
    if (options.doLowerCase) {
      token = token.toLowerCase();
      if (options.stripAccents !== false) token = stripAccents(token);
    } else if (options.stripAccents) token = stripAccents(token);
    let word = '';
    for (const c of token) {
      if (isPunctuation(c)) {
        if (word) out.push(word);
        out.push(c);
        word = '';
      } else word += c;
    }
    if (word) out.push(word);
  }
  return out;
}

const stripAccents = (text: string) => text.normalize('NFD').replace(/\p{Mn}/gu, '');

/** Greedy longest-match-first WordPiece over one basic token. */
export function wordpiece(token: string, vocab: ReadonlyMap<string, number>, unk: string, maxChars = 100): string[] {
  const chars = Array.from(token);
  if (chars.length > maxChars) return [unk];
  const pieces: string[] = [];
  for (let start = 0; start < chars.length; ) {
    let end = chars.length;
    let found: string | null = null;
    while (start < end) {
      const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
      if (vocab.has(piece)) {
        found = piece;
        break;
      }
      end--;
    }
    if (found === null) return [unk];
    pieces.push(found);
    start = end;
  }
  return pieces;
}

// -- the tokenizer ----------------------------------------------------------------------------

interface TokenizedCell {
  tokens: string[];
  /** For each token, the index of the word piece its word starts at. */
  wordStarts: number[];
}

export class TapasTokenizer {
  readonly options: TapasTokenizerOptions;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly special: string[];

  constructor(vocab: ReadonlyMap<string, number> | Record<string, number>, options: Partial<TapasTokenizerOptions> = {}) {
    this.vocab = vocab instanceof Map ? vocab : new Map(Object.entries(vocab));
    this.options = { ...DEFAULTS, maxColumnId: options.modelMaxLength ?? DEFAULTS.modelMaxLength, maxRowId: options.modelMaxLength ?? DEFAULTS.modelMaxLength, ...options };
    const o = this.options;
    this.special = [o.unkToken, o.sepToken, o.padToken, o.clsToken, o.maskToken, o.emptyToken].sort((a, b) => b.length - a.length);
  }

  /**
   * From a WordPiece `tokenizer.json` and `tokenizer_config.json` (TapasTokenizer's settings:
   * do_lower_case, strip_accents, empty_token, cell_trim_length, max_column_id…).
   */
  static fromFiles(tokenizerJson: unknown, config: unknown): TapasTokenizer {
    const model = (tokenizerJson as { model?: { type?: string; vocab?: unknown; max_input_chars_per_word?: number } } | null)?.model;
    if (!model || (model.type !== undefined && model.type !== 'WordPiece') || typeof model.vocab !== 'object' || model.vocab === null || Array.isArray(model.vocab)) {
      throw badRequest('A TAPAS model needs a WordPiece tokenizer.json (its "model" a WordPiece with a "vocab").');
    }
    const c = (config ?? {}) as Record<string, unknown>;
    const token = (name: string, fallback: string) => {
      const v = c[name];
      return typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : fallback;
    };
    const num = (name: string) => (typeof c[name] === 'number' && Number.isFinite(c[name]) ? (c[name] as number) : undefined);
    const maxLength = num('model_max_length');
    const options: Partial<TapasTokenizerOptions> = {
      ...(typeof c.do_lower_case === 'boolean' ? { doLowerCase: c.do_lower_case } : {}),
      ...(typeof c.strip_accents === 'boolean' ? { stripAccents: c.strip_accents } : {}),
      ...(typeof c.tokenize_chinese_chars === 'boolean' ? { tokenizeChineseChars: c.tokenize_chinese_chars } : {}),
      ...(typeof c.strip_column_names === 'boolean' ? { stripColumnNames: c.strip_column_names } : {}),
      unkToken: token('unk_token', DEFAULTS.unkToken),
      clsToken: token('cls_token', DEFAULTS.clsToken),
      sepToken: token('sep_token', DEFAULTS.sepToken),
      padToken: token('pad_token', DEFAULTS.padToken),
      maskToken: token('mask_token', DEFAULTS.maskToken),
      emptyToken: token('empty_token', DEFAULTS.emptyToken),
      ...(maxLength !== undefined && maxLength < 1e7 ? { modelMaxLength: maxLength } : {}),
      ...(num('cell_trim_length') !== undefined ? { cellTrimLength: num('cell_trim_length')! } : {}),
      ...(typeof model.max_input_chars_per_word === 'number' ? { maxInputCharsPerWord: model.max_input_chars_per_word } : {}),
    };
    const limit = options.modelMaxLength ?? DEFAULTS.modelMaxLength;
    options.maxColumnId = num('max_column_id') ?? limit;
    options.maxRowId = num('max_row_id') ?? limit;
    return new TapasTokenizer(model.vocab as Record<string, number>, options);
  }

  idOf(token: string): number {
    return this.vocab.get(token) ?? this.vocab.get(this.options.unkToken) ?? 0;
  }

  /** `tokenize`: special tokens kept whole, `[EMPTY]` for a piece without words, else basic + WordPiece. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const piece of this.splitSpecial(text)) {
      if (!piece) continue;
      if (this.special.includes(piece)) {
        out.push(piece);
        continue;
      }
      if (formatText(piece) === 'EMPTY') {
        out.push(this.options.emptyToken);
        continue;
      }
      for (const word of basicTokenize(piece, this.options, new Set(this.special))) {
        if (this.special.includes(word)) out.push(word);
        else out.push(...wordpiece(word, this.vocab, this.options.unkToken, this.options.maxInputCharsPerWord));
      }
    }
    return out;
  }

  private splitSpecial(text: string): string[] {
    const pieces: string[] = [];
    let rest = text;
    for (;;) {
      let at = -1;
      let found = '';
      for (const s of this.special) {
        const i = rest.indexOf(s);
        if (i >= 0 && (at < 0 || i < at)) [at, found] = [i, s];
      }
      if (at < 0) break;
      pieces.push(rest.slice(0, at).trim(), found);
      rest = rest.slice(at + found.length);
    }
    pieces.push(rest);
    return pieces;
  }

  private tokenizeCell(text: string): TokenizedCell {
    const tokens = this.tokenize(text);
    const wordStarts: number[] = [];
    tokens.forEach((t, i) => wordStarts.push(t.startsWith('##') && i > 0 ? wordStarts[i - 1]! : i));
    return { tokens, wordStarts };
  }

  /**
   * Encodes each question with the table, as `tokenizer(table, queries, truncation=…, padding=…)`.
   * `prevAnswers`, for sequential questions, marks the cells (`"column:row"`) of the previous answer.
   */
  encode(table: Table, queries: readonly string[], options: EncodeOptions): TapasEncoding[] {
    const o = this.options;
    const numColumns = table.columns.length;
    if (numColumns >= o.maxColumnId) throw badRequest(`The table has ${numColumns} columns; this TAPAS model takes fewer than ${o.maxColumnId}.`);
    let numRows = table.rows.length;
    if (numRows >= o.maxRowId) {
      if (!options.truncation) throw badRequest(`The table has ${numRows} rows; this TAPAS model takes fewer than ${o.maxRowId} (parameters.truncation drops the rest).`);
      numRows = o.maxRowId - 1;
    }
    // Row 0 is the header.
    const cells: TokenizedCell[][] = [
      table.columns.map((name) => this.tokenizeCell(o.stripColumnNames ? '' : name)),
      ...table.rows.slice(0, numRows).map((row) => row.map((cell) => this.tokenizeCell(cell))),
    ];
    const maxTokens = cells.reduce((m, row) => row.reduce((k, cell) => Math.max(k, cell.tokens.length), m), 0);
    const cost = tableCost(cells);
    const values = columnNumericValues(table);
    const ranks = columnRanks(values);
    const maxLength = options.maxLength ?? o.modelMaxLength;

    const encodings = queries.map((query) => {
      const questionTokens = this.tokenize(query);
      let rows = numRows;
      let keep = maxTokens; // word pieces kept per cell
      if (options.truncation) {
        const budget = maxLength - questionTokens.length - 2;
        let fit: number | null = null;
        for (;;) {
          fit = this.maxTokensFitting(cost, rows, maxTokens, budget);
          if (fit !== null) break;
          rows--;
          if (rows < 1) break;
        }
        keep = fit ?? 1;
      }
      const tokens = [o.clsToken, ...questionTokens, o.sepToken];
      const types: number[][] = tokens.map(() => [0, 0, 0, 0, 0, 0, 0]);
      const relations = numericRelations(query, values);
      cells.slice(0, rows + 1).forEach((row, r) => {
        row.forEach((cell, c) => {
          const at = `${c}:${r - 1}`;
          const [rank, inverse] = (r > 0 && ranks.get(at)) || [0, 0];
          const relation = r > 0 ? (relations.get(at) ?? 0) : 0;
          cell.tokens.forEach((token, k) => {
            if (cell.wordStarts[k]! >= keep) return;
            tokens.push(token);
            types.push([1, c + 1, r, 0, rank, inverse, relation]);
          });
        });
      });
      if (tokens.length > o.modelMaxLength) {
        throw badRequest(
          `The question and table come to ${tokens.length} tokens, more than this TAPAS model's ${o.modelMaxLength}` +
            (options.truncation ? ' even with the table cut to its header: shorten the question or the column names.' : ': set parameters.truncation to true to drop rows.'),
        );
      }
      return { tokens, inputIds: tokens.map((t) => this.idOf(t)), attentionMask: tokens.map(() => 1), tokenTypeIds: types };
    });
    return this.pad(encodings, options.padding, maxLength);
  }

  /** `_get_max_num_tokens`: the most word pieces per cell that fit `budget`, or null. */
  private maxTokensFitting(cost: (n: number, rows: number) => number, rows: number, maxTokens: number, budget: number): number | null {
    const o = this.options;
    let limit = maxTokens;
    if (o.cellTrimLength >= 0 && limit > o.cellTrimLength) limit = o.cellTrimLength;
    let n = 0;
    for (n = 0; n <= limit; n++) {
      if (cost(n + 1, rows) > budget) break;
    }
    if (n > limit) n = limit;
    if (n < limit) {
      if (o.cellTrimLength >= 0) return null;
      if (n === 0) return null;
    }
    return n;
  }

  private pad(encodings: TapasEncoding[], padding: Padding, maxLength: number): TapasEncoding[] {
    if (padding === false) return encodings;
    const length = padding === 'max_length' ? maxLength : Math.max(...encodings.map((e) => e.inputIds.length));
    const padId = this.idOf(this.options.padToken);
    return encodings.map((e) => {
      const extra = Math.max(0, length - e.inputIds.length);
      return {
        tokens: [...e.tokens, ...Array<string>(extra).fill(this.options.padToken)],
        inputIds: [...e.inputIds, ...Array<number>(extra).fill(padId)],
        attentionMask: [...e.attentionMask, ...Array<number>(extra).fill(0)],
        tokenTypeIds: [...e.tokenTypeIds, ...Array.from({ length: extra }, () => [0, 0, 0, 0, 0, 0, 0])],
      };
    });
  }
}

/**
 * The table's token count when each cell keeps the words that start before piece `n`, over the
 * header and the first `rows` rows: memoised per `n`, as prefix sums over the rows.
 */
function tableCost(cells: TokenizedCell[][]): (n: number, rows: number) => number {
  const memo = new Map<number, Int32Array>();
  return (n, rows) => {
    let sums = memo.get(n);
    if (!sums) {
      sums = new Int32Array(cells.length + 1);
      cells.forEach((row, r) => {
        let count = 0;
        for (const cell of row) for (const start of cell.wordStarts) if (start < n) count++;
        sums![r + 1] = sums![r]! + count;
      });
      memo.set(n, sums);
    }
    return sums[Math.min(rows + 1, cells.length)]!;
  };
}

/**
 * `convert_logits_to_predictions` for one example: each table cell's mean token probability
 * (sigmoid of its logits, logits clipped at -88.7), and the cells above `threshold` as sorted
 * `[row, column]` pairs.
 */
export function selectCells(logits: ArrayLike<number>, encoding: TapasEncoding, threshold = 0.5): { coordinates: [number, number][]; probabilities: Map<string, number> } {
  const sums = new Map<string, [number, number]>();
  for (let i = 0; i < encoding.tokenTypeIds.length; i++) {
    const [segment, column, row] = encoding.tokenTypeIds[i]!;
    if (segment !== 1 || column! < 1 || row! < 1) continue;
    const p = (1 / (1 + Math.exp(-Math.max(Number(logits[i]), -88.7)))) * encoding.attentionMask[i]!;
    const key = `${column! - 1}:${row! - 1}`;
    const s = sums.get(key) ?? [0, 0];
    sums.set(key, [s[0] + p, s[1] + 1]);
  }
  const probabilities = new Map([...sums].map(([k, [sum, n]]) => [k, sum / n]));
  const coordinates: [number, number][] = [];
  for (const [key, p] of probabilities) {
    if (p > threshold) {
      const [column, row] = key.split(':').map(Number) as [number, number];
      coordinates.push([row, column]);
    }
  }
  coordinates.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { coordinates, probabilities };
}
