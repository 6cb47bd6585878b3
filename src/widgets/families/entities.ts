/**
 * Entities: token classification drawn as the original text with each entity highlighted from its
 * `start`/`end`, coloured by its type, a small tag naming the type and the score on hover; and a
 * legend of the types present. Also `spanLayout`, which the answer-span family shares: text cut
 * into plain pieces and non-overlapping spans.
 */
import { css, html, type TemplateResult } from 'lit';
import { labelColour } from '../styles.js';
import type { Family, WidgetHost } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** One entity of the answer, whichever aggregation gave it. */
export interface Entity {
  /** `entity_group` (aggregated) or `entity` (per token, e.g. `B-PER`). */
  label: string;
  /** The label without its `B-`/`I-` prefix: what the colour and the legend go by. */
  type: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

/** A span of the text, `[start, end)` in UTF-16 code units, as the Endpoint counts them. */
export interface Span {
  start: number;
  end: number;
}

/** A piece of laid-out text: plain text, or a span with its text. */
export type Piece<T extends Span> = { text: string; span?: T };

/** A label without its BIO prefix (`B-PER` → `PER`). */
export function entityType(label: string): string {
  return /^[BIES]-/.test(label) ? label.slice(2) : label;
}

/** The answer as entities (a batch's first element); entries without offsets are left out. */
export function entitiesOf(answer: unknown): Entity[] {
  let rows = answer;
  if (Array.isArray(rows) && Array.isArray(rows[0])) rows = rows[0];
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((row: Record<string, unknown>) => {
    if (!row || typeof row.start !== 'number' || typeof row.end !== 'number') return [];
    const label = String(row.entity_group ?? row.entity ?? '');
    return [{ label, type: entityType(label), score: Number(row.score ?? 0), word: String(row.word ?? ''), start: row.start, end: row.end }];
  });
}

/**
 * The text cut into plain pieces and spans. Spans are taken in order of `priority` (default: as
 * given); one that overlaps a span already taken, is empty, or falls outside the text is skipped.
 * The pieces' texts, joined, are the whole text.
 */
export function spanLayout<T extends Span>(text: string, spans: readonly T[]): Piece<T>[] {
  const taken: T[] = [];
  for (const span of spans) {
    if (!(span.start >= 0 && span.end > span.start && span.end <= text.length)) continue;
    if (taken.some((other) => span.start < other.end && other.start < span.end)) continue;
    taken.push(span);
  }
  taken.sort((a, b) => a.start - b.start);
  const pieces: Piece<T>[] = [];
  let at = 0;
  for (const span of taken) {
    if (span.start > at) pieces.push({ text: text.slice(at, span.start) });
    pieces.push({ text: text.slice(span.start, span.end), span });
    at = span.end;
  }
  if (at < text.length) pieces.push({ text: text.slice(at) });
  return pieces;
}

/** The text the answer is about: the one that was sent (the box may have changed since). */
function sentText(host: WidgetHost): string {
  const inputs = (host.answered?.json as { inputs?: unknown } | undefined)?.inputs;
  return typeof inputs === 'string' ? inputs : String(host.inputs.text ?? '');
}

/** The answer's text with its entities marked, and a legend. */
function entitiesView(text: string, entities: readonly Entity[]): TemplateResult {
  const pieces = spanLayout(
    text,
    [...entities].sort((a, b) => a.start - b.start),
  );
  const shown = pieces.flatMap((piece) => (piece.span ? [piece.span] : []));
  const types = [...new Set(shown.map((entity) => entity.type))];
  const describe = (entity: Entity) => `${entity.label}: ${text.slice(entity.start, entity.end)} (score ${entity.score.toFixed(2)})`;
  return html`<div class="ent-answer">
    <p class="ent-text" aria-label="The text, with its entities marked">${pieces.map((piece) =>
      piece.span
        ? html`<mark
            class="ent"
            data-label=${piece.span.label}
            data-start=${piece.span.start}
            data-end=${piece.span.end}
            data-score=${piece.span.score}
            title=${describe(piece.span)}
            aria-label=${describe(piece.span)}
            style="--ent-tint: ${labelColour(piece.span.type, 0.22)}; --ent-edge: ${labelColour(piece.span.type)}"
            >${piece.text}</mark
          >`
        : piece.text,
    )}</p>
    ${shown.length
      ? html`<ul class="ent-legend" aria-label="Entity types">
          ${types.map(
            (type) => html`<li data-type=${type}>
              <span class="ent-swatch" style="background: ${labelColour(type, 0.22)}; border-color: ${labelColour(type)}"></span>${type}
              <span class="ent-count">× ${shown.filter((entity) => entity.type === type).length}</span>
            </li>`,
          )}
        </ul>`
      : html`<p class="hint">No entities found in this text.</p>`}
  </div>`;
}

export const entitiesFamily: Family = {
  name: 'entities',
  tasks: ['token-classification'],
  initialInputs(task) {
    const inputs = exampleOf(task)?.inputs;
    return { text: typeof inputs === 'string' ? inputs : '' };
  },
  renderInputs: (host) => textBox(host, 'text', 'Text'),
  request(host, parameters) {
    const text = String(host.inputs.text ?? '');
    if (!text.trim()) return 'Type a text to find entities in.';
    // Grouped entities by default (the panel's default): whole words and names, not word pieces.
    return { path: '/', json: { inputs: text, parameters: { aggregation_strategy: 'simple', ...parameters } } };
  },
  renderAnswer: (host, answer) => entitiesView(sentText(host), entitiesOf(answer)),
  styles: css`
    .ent-answer {
      display: grid;
      gap: 10px;
      min-width: 0;
    }
    .ent-text {
      margin: 0;
      line-height: 2.1;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .ent {
      color: inherit;
      background: var(--ent-tint);
      border-bottom: 2px solid var(--ent-edge);
      border-radius: 4px;
      padding: 1px 3px;
      box-decoration-break: clone;
      -webkit-box-decoration-break: clone;
    }
    .ent::after {
      content: attr(data-label);
      font-size: 0.68em;
      font-weight: 700;
      letter-spacing: 0.02em;
      margin-left: 4px;
      padding: 0 4px;
      border-radius: 3px;
      border: 1px solid var(--ent-edge);
      background: var(--le-bg);
      color: var(--le-fg);
      vertical-align: 0.15em;
      white-space: nowrap;
    }
    .ent-legend {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-wrap: wrap;
      gap: 4px 14px;
      font-size: 0.82rem;
    }
    .ent-legend li {
      display: inline-flex;
      align-items: center;
      gap: 5px;
    }
    .ent-swatch {
      width: 14px;
      height: 14px;
      border-radius: 3px;
      border: 2px solid;
    }
    .ent-count {
      color: var(--le-muted);
    }
  `,
};
