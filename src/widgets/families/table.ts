/**
 * Table question answering: a question and a table editor (a grid of labelled text boxes, rows
 * and columns added and removed by buttons); the answer is the table redrawn with the answer's
 * cells highlighted (TAPAS's `coordinates`, `[row, column]`), under the answer text and the
 * aggregator. A TAPEX answer (`{answer}` only) highlights the cells equal to it, or to its
 * comma-separated parts, as the official client's answer locates them.
 */
import { css, html, type TemplateResult } from 'lit';
import type { Family, WidgetHost } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** The table as the editor keeps it: column names, and rows of cells. */
export interface EditedTable {
  columns: string[];
  rows: string[][];
}

export interface TableAnswer {
  answer: string;
  coordinates?: [number, number][];
  cells?: string[];
  aggregator?: string;
}

/** `{column: [cells]}` as columns and rows (columns in the object's key order, as the Endpoint reads them). */
export function tableOf(columns: Record<string, string[]>): EditedTable {
  const names = Object.keys(columns);
  const height = Math.max(0, ...names.map((name) => columns[name]!.length));
  return { columns: names, rows: Array.from({ length: height }, (_, r) => names.map((name) => String(columns[name]![r] ?? ''))) };
}

/** The cells an answer points at: its `coordinates`, or (TAPEX) the cells equal to it or its parts. */
export function answerCells(answer: TableAnswer, table: EditedTable): [number, number][] {
  if (Array.isArray(answer.coordinates)) return answer.coordinates;
  const find = (texts: string[]) => {
    const wanted = new Set(texts.map((t) => t.trim().toLowerCase()).filter(Boolean));
    const found: [number, number][] = [];
    table.rows.forEach((row, r) => row.forEach((cell, c) => wanted.has(cell.trim().toLowerCase()) && found.push([r, c])));
    return found;
  };
  const text = String(answer.answer ?? '');
  const whole = find([text]);
  return whole.length ? whole : find(text.split(','));
}

const edited = (host: WidgetHost): EditedTable => (host.inputs.table as EditedTable | undefined) ?? { columns: [], rows: [] };

function tableEditor(host: WidgetHost): TemplateResult {
  const table = edited(host);
  const set = (next: EditedTable) => host.setInputs({ table: next });
  const name = (c: number) => table.columns[c] || `Column ${c + 1}`;
  const cell = (r: number, c: number, value: string) =>
    set({ ...table, rows: table.rows.map((row, i) => (i === r ? row.map((old, j) => (j === c ? value : old)) : row)) });
  const column = (c: number, value: string) => set({ ...table, columns: table.columns.map((old, j) => (j === c ? value : old)) });
  const value = (event: Event) => (event.target as HTMLInputElement).value;
  return html`<div class="field">
    <span class="label" id="${host.uid}-table-label">Table</span>
    <div class="table-scroll" role="region" aria-labelledby="${host.uid}-table-label" tabindex="0">
      <table class="table-editor">
        <thead>
          <tr>
            ${table.columns.map(
              (col, c) => html`<th scope="col">
                <div class="column-head">
                  <input type="text" spellcheck="false" aria-label="Column ${c + 1} name" .value=${col} @input=${(e: Event) => column(c, value(e))} />
                  <button
                    type="button"
                    class="table-remove"
                    aria-label="Remove column ${name(c)}"
                    @click=${() => set({ columns: table.columns.filter((_, j) => j !== c), rows: table.rows.map((row) => row.filter((_, j) => j !== c)) })}
                  >
                    ✕
                  </button>
                </div>
              </th>`,
            )}
            <td></td>
          </tr>
        </thead>
        <tbody>
          ${table.rows.map(
            (row, r) => html`<tr>
              ${row.map(
                (text, c) => html`<td>
                  <input type="text" spellcheck="false" aria-label="${name(c)}, row ${r + 1}" .value=${text} @input=${(e: Event) => cell(r, c, value(e))} />
                </td>`,
              )}
              <td>
                <button type="button" class="table-remove" aria-label="Remove row ${r + 1}" @click=${() => set({ ...table, rows: table.rows.filter((_, i) => i !== r) })}>
                  ✕
                </button>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <div class="actions">
      <button type="button" class="add-row" @click=${() => set({ ...table, rows: [...table.rows, table.columns.map(() => '')] })}>Add row</button>
      <button
        type="button"
        class="add-column"
        @click=${() => set({ columns: [...table.columns, `Column ${table.columns.length + 1}`], rows: table.rows.map((row) => [...row, '']) })}
      >
        Add column
      </button>
    </div>
  </div>`;
}

export const tableFamily: Family = {
  name: 'table',
  tasks: ['table-question-answering'],
  initialInputs(task) {
    const inputs = exampleOf(task)?.inputs as { query?: string; table?: Record<string, string[]> } | undefined;
    return { query: inputs?.query ?? '', table: tableOf(inputs?.table ?? { Column: [''] }) };
  },
  renderInputs(host) {
    return html`${textBox(host, 'query', 'Question', { single: true })} ${tableEditor(host)}`;
  },
  request(host, parameters) {
    const query = String(host.inputs.query ?? '').trim();
    if (!query) return 'Type a question about the table.';
    const table = edited(host);
    if (!table.columns.length || !table.rows.length) return 'The table needs at least one column and one row.';
    const names = table.columns.map((c) => c.trim());
    if (names.some((n) => !n)) return 'Every column needs a name.';
    if (new Set(names).size !== names.length) return 'Column names must differ from each other.';
    const columns = Object.fromEntries(names.map((n, c) => [n, table.rows.map((row) => row[c] ?? '')]));
    const json = { inputs: { query, table: columns } };
    return { path: '/', json: Object.keys(parameters).length ? { ...json, parameters } : json };
  },
  renderAnswer(host, answer) {
    const one = (Array.isArray(answer) ? answer[0] : answer) as TableAnswer | undefined;
    const sent = (host.answered?.json as { inputs?: { table?: Record<string, string[]> } } | undefined)?.inputs?.table ?? {};
    const table = tableOf(sent);
    if (!one) return html`<p class="hint">No answer.</p>`;
    const hits = answerCells(one, table);
    const hit = new Set(hits.map(([r, c]) => `${r},${c}`));
    return html`<div class="table-answer">
      <p class="table-answer-text">
        <span class="label">Answer</span> <span class="answer-text">${one.answer || '(empty)'}</span>
        ${one.aggregator ? html`<span class="pill">Aggregator: <span class="aggregator">${one.aggregator}</span></span>` : ''}
      </p>
      <p class="hint">${hits.length} ${hits.length === 1 ? 'cell' : 'cells'} highlighted${one.coordinates ? '' : ' (cells equal to the answer)'}.</p>
      <div class="table-scroll" role="region" aria-label="The table, answer cells highlighted" tabindex="0">
        <table class="table-view">
          <thead>
            <tr>
              ${table.columns.map((col) => html`<th scope="col">${col}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${table.rows.map(
              (row, r) => html`<tr>
                ${row.map((text, c) =>
                  hit.has(`${r},${c}`)
                    ? html`<td class="hit" data-row=${r} data-column=${c}><span class="cell-text">${text}</span><span class="sr-only"> (in the answer)</span></td>`
                    : html`<td>${text}</td>`,
                )}
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </div>`;
  },
  styles: css`
    .table-scroll {
      overflow-x: auto;
      max-width: 100%;
      border: 1px solid var(--le-border);
      border-radius: 6px;
    }
    .table-editor,
    .table-view {
      border-collapse: collapse;
      font-size: 0.85rem;
    }
    .table-editor th,
    .table-editor td {
      padding: 3px;
      vertical-align: middle;
    }
    .table-editor th {
      display: table-cell;
      white-space: nowrap;
    }
    /* As specific as the theme's input rule (and later), so the cells keep their width and the table scrolls. */
    .table-scroll .table-editor input[type='text'] {
      width: 10em;
      min-width: 10em;
      padding: 4px 6px;
    }
    .table-editor .column-head {
      display: flex;
      align-items: center;
      gap: 2px;
    }
    .table-scroll .table-editor th input[type='text'] {
      font-weight: 600;
      flex: 1 1 0;
      width: 0;
      min-width: 0;
    }
    .table-remove {
      padding: 2px 7px;
      font-size: 0.8rem;
      margin-left: 2px;
    }
    .table-view {
      width: 100%;
    }
    .table-view th,
    .table-view td {
      border-bottom: 1px solid var(--le-border);
      padding: 5px 8px;
      text-align: left;
      vertical-align: top;
    }
    .table-view th {
      background: var(--le-surface);
    }
    .table-view td.hit {
      background: var(--le-mark);
      font-weight: 600;
      outline: 2px solid var(--le-accent);
      outline-offset: -2px;
    }
    .table-answer {
      display: grid;
      gap: 6px;
      min-width: 0;
    }
    .table-answer-text {
      margin: 0;
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 6px;
    }
    .table-answer .answer-text {
      overflow-wrap: anywhere;
    }
  `,
};
