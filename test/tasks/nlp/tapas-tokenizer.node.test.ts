/**
 * The TAPAS tokenizer and the TAPEX linearisation, pure, against what transformers' own tests
 * expect (`tests/models/tapas/test_tokenization_tapas.py`, `tests/models/tapex/test_tokenization_tapex.py`).
 */
import { describe, expect, it } from 'vitest';
import {
  TapasTokenizer,
  basicTokenize,
  columnNumericValues,
  columnRanks,
  numericRelations,
  parseDate,
  parseNumber,
  parseText,
  selectCells,
  wordpiece,
} from '../../../src/tasks/nlp/tapas-tokenizer.js';
import { linearizeTable, tapexSource, type TapexTokenizer } from '../../../src/tasks/nlp/tapex.js';

const vocabOf = (tokens: string[]) => new Map(tokens.map((t, i) => [t, i]));

/** The table and question of test_tapas_integration_test. */
const ACTORS = {
  columns: ['Actors', 'Age', 'Number of movies', 'Date of birth'],
  rows: [
    ['Brad Pitt', '56', '87', '18 december 1963'],
    ['Leonardo Di Caprio', '45', '53', '11 november 1974'],
    ['George Clooney', '59', '69', '6 may 1961'],
  ],
};
/** A vocabulary that splits those words as bert-base-uncased does (leonardo di cap ##rio, george cl ##oon ##ey). */
const ACTOR_VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '[EMPTY]', 'when', 'was', 'brad', 'pitt', 'born', '?', 'actors', 'age', 'number', 'of',
  'movies', 'date', 'birth', '56', '87', '18', 'december', '1963', 'leonardo', 'di', 'cap', '##rio', '45', '53', '11', 'november', '1974',
  'george', 'cl', '##oon', '##ey', '59', '69', '6', 'may', '1961', 'what', 'is', 'the', 'average', 'older', 'than', '50', 'in',
];

describe('the basic tokenizer and WordPiece (test_tokenization_tapas.py)', () => {
  const lower = { doLowerCase: true, stripAccents: null, tokenizeChineseChars: true };
  it('lowercases, strips accents, splits punctuation and CJK characters', () => {
    expect(basicTokenize(' \tHeLLo!how  \n Are yoU?  ', lower)).toEqual(['hello', '!', 'how', 'are', 'you', '?']);
    expect(basicTokenize('H\u00E9llo', lower)).toEqual(['hello']);
    expect(basicTokenize(' \tHäLLo!how  \n Are yoU?  ', { ...lower, stripAccents: false })).toEqual(['hällo', '!', 'how', 'are', 'you', '?']);
    expect(basicTokenize(' \tHeLLo!how  \n Are yoU?  ', { ...lower, doLowerCase: false })).toEqual(['HeLLo', '!', 'how', 'Are', 'yoU', '?']);
    expect(basicTokenize(' \tHäLLo!how  \n Are yoU?  ', { ...lower, doLowerCase: false, stripAccents: true })).toEqual(['HaLLo', '!', 'how', 'Are', 'yoU', '?']);
    expect(basicTokenize('ah\u535A\u63A8zz', lower)).toEqual(['ah', '\u535A', '\u63A8', 'zz']);
  });

  it('WordPiece: longest match first, [UNK] for a word it cannot cover', () => {
    const vocab = vocabOf(['[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing']);
    const run = (text: string) => text.split(' ').filter(Boolean).flatMap((w) => wordpiece(w, vocab, '[UNK]'));
    expect(run('')).toEqual([]);
    expect(run('unwanted running')).toEqual(['un', '##want', '##ed', 'runn', '##ing']);
    expect(run('unwantedX running')).toEqual(['[UNK]', 'runn', '##ing']);
  });

  it('tokenize: [EMPTY] for a cell without words, as test_clean_text expects', () => {
    const tokenizer = new TapasTokenizer(vocabOf(['[UNK]', '[CLS]', '[SEP]', '[PAD]', '[MASK]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing', ',', 'low', 'lowest', '[EMPTY]']));
    expect(['Test', '\xad', 'test'].map((t) => tokenizer.tokenize(t))).toEqual([['[UNK]'], ['[EMPTY]'], ['[UNK]']]);
    expect(tokenizer.tokenize('UNwant\u00E9d,running')).toEqual(['un', '##want', '##ed', ',', 'runn', '##ing']);
    expect(['n/a', '?', 'nan', ' - '].map((t) => tokenizer.tokenize(t))).toEqual([['[EMPTY]'], ['[EMPTY]'], ['[EMPTY]'], ['[EMPTY]']]);
    expect(tokenizer.tokenize('')).toEqual([]);
  });
});

describe('numbers and dates (number_utils.py)', () => {
  it('parses cardinals, thousands commas and ordinals', () => {
    expect(['12', '1,234', '1,234.5', '3rd', '21st', '.5', 'abc', 'inf', 'nan', '1e3'].map(parseNumber)).toEqual([12, 1234, 1234.5, 3, 21, 0.5, null, null, null, 1000]);
  });

  it('parses the strptime date patterns, years 1700 to 2016 only', () => {
    expect(parseDate('18 december 1963')).toEqual({ kind: 'date', year: 1963, month: 12, day: 18 });
    expect(parseDate('may')).toEqual({ kind: 'date', month: 5 });
    expect(parseDate('1990s')).toEqual({ kind: 'date', year: 1990 });
    expect(parseDate('2010-05-07')).toEqual({ kind: 'date', year: 2010, month: 5, day: 7 });
    expect(parseDate('05-07-2010')).toEqual({ kind: 'date', year: 2010, month: 5, day: 7 });
    expect(parseDate('7.5.2010')).toEqual({ kind: 'date', year: 2010, month: 5, day: 7 });
    expect(parseDate('august 2007')).toEqual({ kind: 'date', year: 2007, month: 8 });
    expect(parseDate('monday, jan 5')).toEqual({ kind: 'date', month: 1, day: 5 });
    expect(parseDate('2020')).toBeNull(); // after MAX_YEAR
    expect(parseDate('february 30')).toBeNull();
    expect(parseDate('brad')).toBeNull();
  });

  it('keeps the longest spans: a date over its numbers, number words, a year as number and date', () => {
    const spans = parseText('born 18 december 1963 with two cats in 2010');
    expect(spans.map((s) => [s.begin, s.end, s.values])).toEqual([
      [5, 21, [{ kind: 'date', year: 1963, month: 12, day: 18 }]],
      [27, 30, [{ kind: 'number', value: 2 }]],
      [39, 43, [{ kind: 'number', value: 2010 }, { kind: 'date', year: 2010 }]],
    ]);
  });

  it('ranks each numeric column, as the integration test expects (ages 56 45 59, dates by day)', () => {
    const ranks = columnRanks(columnNumericValues(ACTORS));
    expect([0, 1, 2].map((r) => ranks.get(`1:${r}`))).toEqual([[2, 2], [1, 3], [3, 1]]);
    expect([0, 1, 2].map((r) => ranks.get(`2:${r}`))).toEqual([[3, 1], [1, 3], [2, 2]]);
    expect([0, 1, 2].map((r) => ranks.get(`3:${r}`))).toEqual([[2, 2], [3, 1], [1, 3]]);
    expect(ranks.has('0:0')).toBe(false);
  });

  it('relates the question’s numbers to each cell: EQ 1, LT 2, GT 4, over columns of the same type', () => {
    const values = columnNumericValues(ACTORS);
    const relations = numericRelations('Who is older than 56?', values);
    // 56 = 56, 56 > 45, 56 < 59; every "number of movies" (53 87 69) too; no date column compares with a number.
    expect([0, 1, 2].map((r) => relations.get(`1:${r}`))).toEqual([1, 4, 2]);
    expect([0, 1, 2].map((r) => relations.get(`2:${r}`))).toEqual([2, 4, 2]);
    expect(relations.has('3:0')).toBe(false);
    const years = numericRelations('born in 1963', values); // 1963 is a number and a year: it meets both kinds of column
    expect([0, 1, 2].map((r) => years.get(`3:${r}`))).toEqual([1, 2, 4]);
    expect(years.get('1:0')).toBe(4);
  });
});

describe('TapasTokenizer.encode (test_tapas_integration_test)', () => {
  const tokenizer = new TapasTokenizer(vocabOf(ACTOR_VOCAB));
  it('gives the seven token-type channels transformers expects for "When was Brad Pitt born?"', () => {
    const [e] = tokenizer.encode(ACTORS, ['When was Brad Pitt born?'], { truncation: true, padding: 'longest' });
    const z = [0, 0, 0, 0, 0, 0, 0];
    const rep = (n: number, t: number[]) => Array.from({ length: n }, () => t);
    const expected = [
      ...rep(8, z),
      [1, 1, 0, 0, 0, 0, 0], [1, 2, 0, 0, 0, 0, 0], ...rep(3, [1, 3, 0, 0, 0, 0, 0]), ...rep(3, [1, 4, 0, 0, 0, 0, 0]),
      ...rep(2, [1, 1, 1, 0, 0, 0, 0]), [1, 2, 1, 0, 2, 2, 0], [1, 3, 1, 0, 3, 1, 0], ...rep(3, [1, 4, 1, 0, 2, 2, 0]),
      ...rep(4, [1, 1, 2, 0, 0, 0, 0]), [1, 2, 2, 0, 1, 3, 0], [1, 3, 2, 0, 1, 3, 0], ...rep(3, [1, 4, 2, 0, 3, 1, 0]),
      ...rep(4, [1, 1, 3, 0, 0, 0, 0]), [1, 2, 3, 0, 3, 1, 0], [1, 3, 3, 0, 2, 2, 0], ...rep(3, [1, 4, 3, 0, 1, 3, 0]),
    ];
    expect(e!.tokenTypeIds).toEqual(expected);
    expect(e!.tokens.slice(0, 9)).toEqual(['[CLS]', 'when', 'was', 'brad', 'pitt', 'born', '?', '[SEP]', 'actors']);
    expect(e!.tokens.slice(23, 27)).toEqual(['leonardo', 'di', 'cap', '##rio']);
    expect(e!.attentionMask).toEqual(expected.map(() => 1));
    expect(e!.inputIds[0]).toBe(2);
  });

  it('pads a batch to its longest question (right, token types 0), or not at all', () => {
    const padded = tokenizer.encode(ACTORS, ['When was Brad Pitt born?', 'What is the average?'], { truncation: true, padding: 'longest' });
    expect(padded.map((e) => e.inputIds.length)).toEqual([41, 41]);
    expect(padded[1]!.attentionMask.at(-1)).toBe(0);
    expect(padded[1]!.tokenTypeIds.at(-1)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const unpadded = tokenizer.encode(ACTORS, ['When was Brad Pitt born?', 'What is the average?'], { truncation: true, padding: false });
    expect(unpadded.map((e) => e.inputIds.length)).toEqual([41, 40]);
  });

  it('drop_rows_to_fit: drops rows, then cuts cells at whole words, to fit max_length', () => {
    for (let max = 20; max < 41; max++) {
      const [e] = tokenizer.encode(ACTORS, ['When was Brad Pitt born?'], { truncation: true, padding: false, maxLength: max });
      expect(e!.inputIds.length).toBeLessThanOrEqual(max);
    }
    // 24 tokens for the table: all rows fit at one word per cell (16), not at two (26): cells are cut first.
    const [cut] = tokenizer.encode(ACTORS, ['When was Brad Pitt born?'], { truncation: true, padding: false, maxLength: 32 });
    expect(Math.max(...cut!.tokenTypeIds.map((t) => t[2]!))).toBe(3);
    expect(cut!.tokens.slice(8, 16)).toEqual(['actors', 'age', 'number', 'date', 'brad', '56', '87', '18']);
    expect(cut!.inputIds.length).toBe(24);
    // 10 for the table: not even one word per cell of three rows (16) or two (12): rows are dropped.
    const [header] = tokenizer.encode(ACTORS, ['When was Brad Pitt born?'], { truncation: true, padding: false, maxLength: 18 });
    expect(header!.tokens.slice(8)).toEqual(['actors', 'age', 'number', 'date', 'brad', '56', '87', '18']);
    const short = new TapasTokenizer(vocabOf(ACTOR_VOCAB), { modelMaxLength: 11 });
    expect(() => short.encode(ACTORS, ['When was Brad Pitt born?'], { truncation: true, padding: false })).toThrow(/more than this TAPAS model's 11/);
    expect(() => short.encode(ACTORS, ['When was Brad Pitt born?'], { truncation: false, padding: false })).toThrow(/set parameters.truncation/);
  });
});

describe('cell selection (convert_logits_to_predictions)', () => {
  it('averages token probabilities per cell and keeps cells above 0.5, sorted by row then column', () => {
    const tokenizer = new TapasTokenizer(vocabOf(ACTOR_VOCAB));
    const [e] = tokenizer.encode(ACTORS, ['When was Brad Pitt born?'], { truncation: true, padding: false });
    const logits: number[] = e!.tokenTypeIds.map(([, col, row]) => (row === 1 && col === 1 ? 3 : row === 3 && col === 2 ? 2 : row === 2 && col === 4 ? -5 : -1));
    logits[16] = -2; // "brad": mean of sigmoid(-2) and sigmoid(3) = 0.53
    const { coordinates, probabilities } = selectCells(logits, e!);
    expect(coordinates).toEqual([[0, 0], [2, 1]]);
    expect(probabilities.get('0:0')).toBeCloseTo((1 / (1 + Math.exp(2)) + 1 / (1 + Math.exp(-3))) / 2, 6);
    expect(probabilities.size).toBe(12);
  });
});

describe('TAPEX linearisation (test_tokenization_tapex.py)', () => {
  /** Words as tokens: the linearisation is what is tested. */
  const words: TapexTokenizer = { tokenize: (t) => t.split(/\s+/).filter(Boolean), prefix: (t, n) => t.split(/\s+/).filter(Boolean).slice(0, n).join(' ') };
  const OLYMPICS = {
    columns: ['Year', 'City', 'Country', 'Nations'],
    rows: [
      ['1896', 'Athens', 'Greece', '14'],
      ['1900', 'Paris', 'France', '24'],
      ['1904', 'St. Louis', 'USA', '12'],
      ['2004', 'Athens', 'Greece', '201'],
      ['2008', 'Beijing', 'China', '204'],
      ['2012', 'London', 'UK', '204'],
    ],
  };
  const QUESTION = 'Greece held its last Summer Olympics in 2004';

  it('linearises as test_full_tokenizer’s encoding decodes: the question, col : …, row n : …, lowercased', () => {
    expect(tapexSource(OLYMPICS, QUESTION, words, { truncation: false, maxLength: 1024 })).toBe(
      'greece held its last summer olympics in 2004 col : year | city | country | nations row 1 : 1896 | athens | greece | 14 ' +
        'row 2 : 1900 | paris | france | 24 row 3 : 1904 | st. louis | usa | 12 row 4 : 2004 | athens | greece | 201 ' +
        'row 5 : 2008 | beijing | china | 204 row 6 : 2012 | london | uk | 204',
    );
    expect(linearizeTable(['a', 'b'], [['1', '2']])).toBe('col : a | b row 1 : 1 | 2');
    expect(tapexSource(OLYMPICS, QUESTION, words, { truncation: false, maxLength: 1024, lowercase: false })).toMatch(/^Greece held .* row 6 : 2012 \| London \| UK \| 204$/);
  });

  it('cuts a cell of 15 tokens or more to 15, and drops rows to fit', () => {
    const long = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
    const source = tapexSource({ columns: ['x'], rows: [[long]] }, 'q', words, { truncation: false, maxLength: 1024 });
    expect(source).toBe(`q col : x row 1 : ${long.split(' ').slice(0, 15).join(' ')}`);
    // Question 8 words + header 9: 21 left. The 1896 row shares no word with the question and is
    // not within two rows of the 2004 one: it goes first; then 10 + 11 tokens of rows fit.
    const fitted = tapexSource(OLYMPICS, QUESTION, words, { truncation: true, maxLength: 38 });
    expect(fitted).toBe('greece held its last summer olympics in 2004 col : year | city | country | nations row 1 : 1900 | paris | france | 24 row 2 : 1904 | st. louis | usa | 12');
    expect(tapexSource(OLYMPICS, QUESTION, words, { truncation: true, maxLength: 1024 })).toBe(tapexSource(OLYMPICS, QUESTION, words, { truncation: false, maxLength: 1024 }));
  });
});
