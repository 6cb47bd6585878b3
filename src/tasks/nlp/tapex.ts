/**
 * TAPEX's table linearisation, as transformers' `TapexTokenizer` (`tokenization_tapex.py`)
 * builds the source text of a BART model: pure, with the model's tokenizer given as functions.
 *
 *   `<query> col : <h1> | <h2> | … row 1 : <c11> | <c12> | … row 2 : …`, lowercased
 *
 * - Each cell of 15 or more BPE tokens (`max_cell_length`) is cut to its first 15.
 * - With truncation, rows are dropped until the encoding fits `maxLength` tokens: TapexTokenizer
 *   first drops a share of the rows that share no word with the question (chosen at random there;
 *   here the last ones, so that an answer is reproducible), then keeps the rows, from the top,
 *   whose tokens fit what the question and the header leave.
 */
import type { Table } from './tapas-tokenizer.js';

export interface TapexTokenizer {
  /** The BPE tokens of a text (no special tokens). */
  tokenize(text: string): string[];
  /** The text of a text's first `n` BPE tokens. */
  prefix(text: string, n: number): string;
}

export interface LinearizeOptions {
  /** Drop rows to fit `maxLength` (TapexTokenizer's drop_rows_to_fit). */
  truncation: boolean;
  /** The model's longest input in tokens (model_max_length). */
  maxLength: number;
  /** Tokens at which a cell is cut (max_cell_length, 15). */
  maxCellLength?: number;
  /** Lowercase the whole input (do_lower_case, true for TAPEX). */
  lowercase?: boolean;
}

export const linearizeHeader = (columns: readonly string[]) => `col : ${columns.join(' | ')}`;
export const linearizeRow = (row: readonly string[], index: number) => `row ${index} : ${row.join(' | ')}`;

/** `IndexedRowTableLinearize.process_table`: the header, then each row numbered from 1. */
export function linearizeTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  return [linearizeHeader(columns), ...rows.map((row, i) => linearizeRow(row, i + 1))].join(' ').trim();
}

/** The model's source text for one question about a table (`prepare_table_query`, then lowercasing). */
export function tapexSource(table: Table, query: string, tokenizer: TapexTokenizer, options: LinearizeOptions): string {
  let linear = '';
  if (table.columns.length > 0 && table.rows.length > 0) {
    const maxCell = options.maxCellLength ?? 15;
    let rows = table.rows.map((row) =>
      row.map((cell) => (cell.trim() !== '' && tokenizer.tokenize(cell).length >= maxCell ? tokenizer.prefix(cell, maxCell) : cell)),
    );
    if (options.truncation) rows = dropRowsToFit(table.columns, rows, query, tokenizer, options.maxLength);
    linear = linearizeTable(table.columns, rows);
  }
  const joined = query ? (linear ? `${query} ${linear}` : query) : linear;
  return options.lowercase === false ? joined : joined.toLowerCase();
}

/** `truncate_table_rows`: drops unrelated rows by the estimated ratio, then keeps the rows that fit. */
function dropRowsToFit(columns: readonly string[], rows: string[][], query: string, tokenizer: TapexTokenizer, maxLength: number): string[][] {
  const used = tokenizer.tokenize(query).length + tokenizer.tokenize(linearizeHeader(columns)).length;
  let remaining = maxLength - used;
  const all = tokenizer.tokenize(rows.map((row) => `${linearizeRow(row, 100)} `).join('')).length;
  const ratio = all < remaining ? 0 : 1 - remaining / all;
  if (ratio > 0) {
    // Rows sharing no word with the question, and not within two rows of one that does.
    const words = new Set(query.split(/\s+/).filter(Boolean));
    const questionWords = new Set(query.replace(/^[?!.,]+|[?!.,]+$/g, '').split(' '));
    const related = new Set<number>();
    const unrelated: number[] = [];
    rows.forEach((row, i) => {
      const cells = row.map((c) => c.toLowerCase());
      if (cells.some((c) => words.has(c) || questionWords.has(c))) for (let d = -2; d <= 2; d++) related.add(i + d);
      else unrelated.push(i);
    });
    const candidates = unrelated.filter((i) => !related.has(i));
    const drop = new Set(candidates.slice(candidates.length - Math.min(candidates.length, Math.floor(rows.length * ratio))));
    rows = rows.filter((_, i) => !drop.has(i));
  }
  let keep = 0;
  for (const [i, row] of rows.entries()) {
    const length = tokenizer.tokenize(linearizeRow(row, i + 1)).length;
    if (length > remaining) break;
    remaining -= length;
    keep++;
  }
  return rows.slice(0, keep);
}
