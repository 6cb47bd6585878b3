/**
 * Fill-mask: the sentence drawn once per candidate, the candidate in the mask's place and
 * highlighted, with a score bar per row. A sentence with several masks gives one group of rows
 * per mask (the Endpoint answers a list per mask).
 */
import { css, html } from 'lit';
import type { Family, WidgetHost } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** One candidate for a mask. */
export interface Candidate {
  sequence: string;
  score: number;
  token: number;
  token_str: string;
}

/** The mask tokens the widget looks for in the sentence (BERT's, RoBERTa's and their kin). */
export const MASK_TOKENS = /\[MASK\]|<mask>/gi;

/** The answer as one list of candidates per mask (a single mask's answer is a flat list). */
export function candidateGroups(answer: unknown): Candidate[][] {
  if (!Array.isArray(answer)) return [];
  const groups = (Array.isArray(answer[0]) ? answer : [answer]) as Record<string, unknown>[][];
  return groups.map((group) =>
    group.map((row) => ({ sequence: String(row.sequence ?? ''), score: Number(row.score ?? 0), token: Number(row.token ?? 0), token_str: String(row.token_str ?? '') })),
  );
}

/** Where the masks are in the sentence: `[start, end)` of each. */
export function maskPlaces(text: string): [number, number][] {
  return [...text.matchAll(MASK_TOKENS)].map((match) => [match.index, match.index + match[0].length]);
}

/** The sentence that was sent (the box may have changed since). */
function sentText(host: WidgetHost): string {
  const inputs = (host.answered?.json as { inputs?: unknown } | undefined)?.inputs;
  return typeof inputs === 'string' ? inputs : String(host.inputs.text ?? '');
}

const percent = (score: number) => `${(score * 100).toFixed(1)}%`;

export const fillMaskFamily: Family = {
  name: 'fill-mask',
  tasks: ['fill-mask'],
  initialInputs(task) {
    const inputs = exampleOf(task)?.inputs;
    return { text: typeof inputs === 'string' ? inputs : '' };
  },
  renderInputs: (host) =>
    textBox(host, 'text', 'Sentence with a mask', {
      rows: 2,
      hint: "Put the model's mask token once, where the missing word goes, e.g. [MASK] (BERT) or <mask> (RoBERTa).",
    }),
  request(host, parameters) {
    const text = String(host.inputs.text ?? '');
    if (!text.trim()) return 'Type a sentence with a mask token in it.';
    return { path: '/', json: { inputs: text, ...(Object.keys(parameters).length ? { parameters } : {}) } };
  },
  renderAnswer(host, answer) {
    const text = sentText(host);
    const places = maskPlaces(text);
    const groups = candidateGroups(answer);
    return html`<div class="fm-answer">
      ${groups.map((group, g) => {
        const place = places[g];
        const caption = groups.length > 1 ? `Candidates for mask ${g + 1}, by score` : 'Candidates, by score';
        return html`${groups.length > 1 ? html`<p class="label fm-group">Mask ${g + 1}</p>` : ''}
          <ol class="fm-rows" aria-label=${caption}>
            ${group.map(
              (row) => html`<li class="fm-row" data-token=${row.token} data-score=${row.score}>
                <p class="fm-sentence">${place ? text.slice(0, place[0]) : ''}<mark class="fm-candidate">${row.token_str}</mark>${place
                  ? text.slice(place[1])
                  : html` <span class="fm-sequence">${row.sequence}</span>`}</p>
                <span class="fm-score">${percent(row.score)}</span>
                <div
                  class="track"
                  role="meter"
                  aria-label=${row.token_str.trim() || row.token_str}
                  aria-valuemin="0"
                  aria-valuemax="1"
                  aria-valuenow=${row.score}
                  aria-valuetext=${percent(row.score)}
                >
                  <div class="fill" style="width: ${Math.max(0, Math.min(1, row.score)) * 100}%"></div>
                </div>
              </li>`,
            )}
          </ol>`;
      })}
      ${groups.length ? '' : html`<p class="hint">No candidates.</p>`}
    </div>`;
  },
  styles: css`
    .fm-answer {
      display: grid;
      gap: 8px;
      min-width: 0;
    }
    .fm-group {
      margin: 4px 0 0;
    }
    .fm-rows {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 8px;
    }
    .fm-row {
      display: grid;
      grid-template-columns: minmax(0, 1fr) auto;
      gap: 3px 10px;
      align-items: baseline;
      font-size: 0.9rem;
    }
    .fm-sentence {
      margin: 0;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .fm-sequence {
      color: var(--le-muted);
    }
    .fm-candidate {
      color: var(--le-fg);
      background: var(--le-mark);
      font-weight: 700;
      border-radius: 3px;
      padding: 0 3px;
    }
    .fm-score {
      font-variant-numeric: tabular-nums;
      color: var(--le-muted);
    }
    .fm-row:first-child .fill {
      background: var(--le-accent);
    }
  `,
};
