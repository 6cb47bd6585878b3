/**
 * TAPAS's numbers and dates, as transformers' `tokenization_tapas.py` and TAPAS's `number_utils.py`
 * parse them for the token-type channels: cardinal numbers with thousands commas, number words up
 * to twelve, ordinals (`1st`, `third`), and dates in the 21 `strptime` patterns (years 1700–2016);
 * a cell keeps its longest spans, and a column takes the type (number or date) that at least 70 %
 * of its cells have. From them: each cell's column rank and inverse rank, and the numeric relation
 * (EQ, LT, GT bits) between the question's values and each cell's. Pure.
 */

/** A table as TAPAS reads it: the header, and rows of cells (every row as long as the header). */
export interface Table {
  columns: readonly string[];
  rows: readonly (readonly string[])[];
}

export const splitWhitespace = (text: string) => text.trim().split(/\s+/u).filter(Boolean);

export type NumericValue = { kind: 'number'; value: number } | { kind: 'date'; year?: number; month?: number; day?: number };
export interface NumericSpan {
  begin: number;
  end: number;
  values: NumericValue[];
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const ORDINAL_WORDS = ['zeroth', 'first', 'second', 'third', 'fourth', 'fith', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth'];
const ORDINAL_SUFFIXES = ['st', 'nd', 'rd', 'th'];
const NUMBER_PATTERN = /((^|\s)[+-])?((\.\p{Nd}+)|(\p{Nd}+(,\p{Nd}\p{Nd}\p{Nd})*(\.\p{Nd}*)?))/gu;
const MIN_YEAR = 1700;
const MAX_YEAR = 2016;
const MAX_DATE_NGRAM = 5;

/** A decimal digit of any script as its ASCII digit (Python's float() reads them all). */
function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (d) => {
    let zero = d.codePointAt(0)!;
    while (/\p{Nd}/u.test(String.fromCodePoint(zero - 1))) zero--;
    return String((d.codePointAt(0)! - zero) % 10);
  });
}

/** Python's float() of a string, or null where it raises (or gives NaN or infinity). */
function pythonFloat(text: string): number | null {
  const t = asciiDigits(text.trim());
  if (!/^[+-]?((\d+(_\d+)*)(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+(_\d+)*)?$/.test(t)) return null;
  const value = Number(t.replace(/_/g, ''));
  return Number.isFinite(value) ? value : null;
}

/** `_parse_number`: a cardinal (commas allowed) or an ordinal with its suffix. */
export function parseNumber(text: string): number | null {
  let t = text;
  for (const suffix of ORDINAL_SUFFIXES) {
    if (t.endsWith(suffix)) {
      t = t.slice(0, -suffix.length);
      break;
    }
  }
  return pythonFloat(t.replace(/,/g, ''));
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
type DateMask = [year: boolean, month: boolean, day: boolean];
const Y: DateMask = [true, false, false];
const YM: DateMask = [true, true, false];
const YMD: DateMask = [true, true, true];
const M: DateMask = [false, true, false];
const MD: DateMask = [false, true, true];
const DATE_PATTERNS: [string, DateMask][] = [
  ['%B', M], ['%Y', Y], ['%Ys', Y], ['%b %Y', YM], ['%B %Y', YM], ['%B %d', MD], ['%b %d', MD], ['%d %b', MD],
  ['%d %B', MD], ['%B %d, %Y', YMD], ['%d %B %Y', YMD], ['%m-%d-%Y', YMD], ['%Y-%m-%d', YMD], ['%Y-%m', YM],
  ['%B %Y', YM], ['%d %b %Y', YMD], ['%Y-%m-%d', YMD], ['%b %d, %Y', YMD], ['%d.%m.%Y', YMD], ['%A, %b %d', MD],
  ['%A, %B %d', MD],
];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The cheap pre-filter TAPAS runs before strptime. */
const PREFILTER: Record<string, string> = { A: '[\\p{L}\\p{N}_]+', B: '[\\p{L}\\p{N}_]+', Y: '\\p{Nd}{4}', b: '[\\p{L}\\p{N}_]{3}', d: '\\p{Nd}{1,2}', m: '\\p{Nd}{1,2}' };
/** strptime's own field patterns (English names, case-insensitive, the whole text). */
const STRPTIME: Record<string, string> = {
  A: `(?<A>${WEEKDAYS.join('|')})`,
  B: `(?<B>${MONTHS.join('|')})`,
  b: `(?<b>${MONTHS.map((m) => m.slice(0, 3)).join('|')})`,
  Y: '(?<Y>\\d\\d\\d\\d)',
  d: '(?<d>3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])',
  m: '(?<m>1[0-2]|0[1-9]|[1-9])',
};
function compileFormat(format: string, fields: Record<string, string>): RegExp {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '%') out += fields[format[++i]!]!;
    else if (c === ' ') out += '\\s+';
    else out += escape(c);
  }
  return new RegExp(`^${out}$`, 'iu');
}
const DATE_MATCHERS = /* @__PURE__ */ DATE_PATTERNS.map(([format, mask]) => ({ mask, prefilter: compileFormat(format, PREFILTER), strptime: compileFormat(format, STRPTIME) }));

function validDay(year: number, month: number, day: number): boolean {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return year >= 1 && day >= 1 && day <= days;
}

/** `_parse_date`: the first pattern that parses the whole text to a date of 1700–2016. */
export function parseDate(text: string): NumericValue | null {
  const t = text.replace(/Sept\b/g, 'Sep');
  for (const { mask, prefilter, strptime } of DATE_MATCHERS) {
    if (!prefilter.test(t)) continue;
    const g = strptime.exec(t)?.groups;
    if (!g) continue;
    const year = g.Y !== undefined ? Number(g.Y) : 1900; // strptime's defaults
    const monthName = (g.B ?? g.b)?.toLowerCase();
    const month = g.m !== undefined ? Number(g.m) : monthName ? MONTHS.findIndex((m) => m.startsWith(monthName)) + 1 : 1;
    const day = g.d !== undefined ? Number(g.d.trim()) : 1;
    if (!validDay(year, month, day)) continue;
    if (year < MIN_YEAR || year > MAX_YEAR) continue;
    return { kind: 'date', ...(mask[0] ? { year } : {}), ...(mask[1] ? { month } : {}), ...(mask[2] ? { day } : {}) };
  }
  return null;
}

const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** `get_all_spans`: every run of 1 to `maxNgram` words (split at anything not a letter or digit). */
function* allSpans(text: string, maxNgram: number): Generator<[number, number]> {
  const starts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (!isAlnum(text[i])) continue;
    if (i === 0 || !isAlnum(text[i - 1])) starts.push(i);
    if (i + 1 === text.length || !isAlnum(text[i + 1])) for (const s of starts.slice(-maxNgram)) yield [s, i + 1];
  }
}

/** `normalize_for_match`. */
export const normalizeForMatch = (text: string) => splitWhitespace(text.toLowerCase()).join(' ');

/** `parse_text`: the longest number and date spans of a (normalised) text, in text order. */
export function parseText(text: string): NumericSpan[] {
  const spans = new Map<string, { begin: number; end: number; values: NumericValue[] }>();
  const add = (begin: number, end: number, value: NumericValue) => {
    const key = `${begin}:${end}`;
    if (!spans.has(key)) spans.set(key, { begin, end, values: [] });
    spans.get(key)!.values.push(value);
  };
  for (const match of text.matchAll(NUMBER_PATTERN)) {
    const n = parseNumber(match[0]);
    if (n !== null) add(match.index!, match.index! + match[0].length, { kind: 'number', value: n });
  }
  for (const [begin, end] of allSpans(text, 1)) {
    if (spans.has(`${begin}:${end}`)) continue;
    const word = text.slice(begin, end);
    const n = parseNumber(word);
    if (n !== null) add(begin, end, { kind: 'number', value: n });
    const cardinal = NUMBER_WORDS.indexOf(word);
    if (cardinal >= 0) add(begin, end, { kind: 'number', value: cardinal });
    const ordinal = ORDINAL_WORDS.indexOf(word);
    if (ordinal >= 0) add(begin, end, { kind: 'number', value: ordinal });
  }
  for (const [begin, end] of allSpans(text, MAX_DATE_NGRAM)) {
    const date = parseDate(text.slice(begin, end));
    if (date) add(begin, end, date);
  }
  const byLength = [...spans.values()].sort((a, b) => b.end - b.begin - (a.end - a.begin) || a.begin - b.begin);
  const selected: NumericSpan[] = [];
  for (const span of byLength) {
    if (!selected.some((s) => s.begin <= span.begin && span.end <= s.end)) selected.push(span);
  }
  return selected.sort((a, b) => a.begin - b.begin);
}

type SortKey = (v: NumericValue) => number[];

/** `get_numeric_sort_key_fn`: a comparable key over values of one type, or null when there is none. */
export function numericSortKey(values: readonly NumericValue[]): SortKey | null {
  const kinds = new Set(values.map((v) => v.kind));
  if (kinds.size !== 1) return null;
  if (kinds.has('number')) return (v) => [(v as { value: number }).value];
  const fields = (['year', 'month', 'day'] as const).filter((f) => values.every((v) => (v as Record<string, unknown>)[f] !== undefined));
  if (fields.length === 0) return null;
  return (v) => fields.map((f) => (v as unknown as Record<string, number>)[f]!);
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

/** `_consolidate_numeric_values`: each cell's first value of the column's majority type (≥ 70 % of cells). */
function consolidate(cells: NumericValue[][], minFraction = 0.7): Map<number, NumericValue> {
  const counts = new Map<string, number>();
  for (const values of cells) for (const kind of new Set(values.map((v) => v.kind))) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  if (counts.size === 0) return new Map();
  const max = Math.max(...counts.values());
  if (max < cells.length * minFraction) return new Map();
  const top = [...counts].filter(([, n]) => n === max).map(([k]) => k);
  const kind = top.length > 1 ? 'date' : top[0]!;
  const out = new Map<number, NumericValue>();
  cells.forEach((values, row) => {
    const v = values.find((x) => x.kind === kind);
    if (v) out.set(row, v);
  });
  return out;
}

/** Each column's numeric value per row (`add_numeric_table_values`). */
export function columnNumericValues(table: Table): Map<number, NumericValue>[] {
  return table.columns.map((_, c) => consolidate(table.rows.map((row) => parseText(normalizeForMatch(row[c]!)).flatMap((s) => s.values))));
}

/** Column rank and inverse rank of each (column, row) with a numeric value. */
export function columnRanks(values: Map<number, NumericValue>[]): Map<string, [rank: number, inverse: number]> {
  const out = new Map<string, [number, number]>();
  values.forEach((column, c) => {
    if (column.size === 0) return;
    const key = numericSortKey([...column.values()]);
    if (!key) return;
    const unique: number[][] = [];
    for (const v of column.values()) {
      const k = key(v);
      if (!unique.some((u) => compareKeys(u, k) === 0)) unique.push(k);
    }
    unique.sort(compareKeys);
    for (const [row, v] of column) {
      const rank = unique.findIndex((u) => compareKeys(u, key(v)) === 0);
      out.set(`${c}:${row}`, [rank + 1, unique.length - rank]);
    }
  });
  return out;
}

const EQ = 1;
const LT = 2;
const GT = 4;

/** The numeric-relation bits of each (column, row) against the question's numbers and dates. */
export function numericRelations(question: string, values: Map<number, NumericValue>[]): Map<string, number> {
  const relations = new Map<string, number>();
  for (const span of parseText(normalizeForMatch(question))) {
    for (const value of span.values) {
      values.forEach((column, c) => {
        if (column.size === 0) return;
        const key = numericSortKey([...column.values(), value]);
        if (!key) return;
        for (const [row, cell] of column) {
          const order = compareKeys(key(value), key(cell));
          const bit = order === 0 ? EQ : order < 0 ? LT : GT;
          relations.set(`${c}:${row}`, (relations.get(`${c}:${row}`) ?? 0) | bit);
        }
      });
    }
  }
  return relations;
}

