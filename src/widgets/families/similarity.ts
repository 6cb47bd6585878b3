/**
 * Similarity and ranking: a source sentence (or a query) against a list of texts, edited one text
 * box per item. sentence-similarity draws one bar per sentence on a centred axis (cosine
 * similarity runs from -1 to 1: a positive score grows right of the centre, a negative one left,
 * in another colour, its length |score|); ranking draws the texts best first, each with its rank
 * and a score bar.
 */
import { css, html, type TemplateResult } from 'lit';
import type { Family, WidgetHost } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** An editable list of texts bound to `host.inputs[key]`: one labelled box per item, Add and Remove. */
export function listEditor(host: WidgetHost, key: string, legend: string, item: string): TemplateResult {
  const items = (host.inputs[key] as string[] | undefined) ?? [];
  const set = (next: string[]) => host.setInputs({ [key]: next });
  return html`<fieldset class="list-editor">
    <legend class="label">${legend}</legend>
    <ol class="list-items">
      ${items.map((value, i) => {
        const id = `${host.uid}-in-${key}-${i}`;
        return html`<li>
          <label class="sr-only" for=${id}>${item} ${i + 1}</label>
          <span class="list-number" aria-hidden="true">${i + 1}</span>
          <input
            id=${id}
            type="text"
            spellcheck="false"
            .value=${value}
            @input=${(event: Event) => set(items.map((old, j) => (j === i ? (event.target as HTMLInputElement).value : old)))}
          />
          <button type="button" class="list-remove" aria-label="Remove ${item.toLowerCase()} ${i + 1}" @click=${() => set(items.filter((_, j) => j !== i))}>
            Remove
          </button>
        </li>`;
      })}
    </ol>
    <button type="button" class="list-add" @click=${() => set([...items, ''])}>Add ${item.toLowerCase()}</button>
  </fieldset>`;
}

/**
 * A score bar on a centred axis: from the middle of the track, |score| / scale of its half, right
 * for a positive score and left (class `negative`, another colour) for a negative one.
 */
export function signedBar(label: string, score: number, scale: number): TemplateResult {
  const fraction = Math.min(1, Math.abs(score) / (scale || 1));
  const negative = score < 0;
  return html`<div
    class="track signed"
    role="meter"
    aria-label=${label}
    aria-valuemin=${-scale}
    aria-valuemax=${scale}
    aria-valuenow=${score}
    aria-valuetext=${score.toFixed(3)}
  >
    <div class="axis"></div>
    <div class="fill ${negative ? 'negative' : ''}" style="${negative ? 'right' : 'left'}: 50%; width: ${fraction * 50}%"></div>
  </div>`;
}

/** The similarities of an answer: `{similarities: […]}` or the plain list. */
export function similaritiesOf(answer: unknown): number[] {
  if (Array.isArray(answer)) return answer.map(Number);
  const list = (answer as { similarities?: unknown } | undefined)?.similarities;
  return Array.isArray(list) ? list.map(Number) : [];
}

export interface RankedText {
  index: number;
  score: number;
  text: string;
}

/** A ranking answer as rows, best first: `[{index, score, text?}]` (or the pairs form's `{scores}`). */
export function rankedTexts(answer: unknown, texts: readonly string[]): RankedText[] {
  const rows: { index: number; score: number; text?: string }[] = Array.isArray(answer)
    ? (answer as { index: number; score: number; text?: string }[])
    : ((answer as { scores?: number[] } | undefined)?.scores ?? []).map((score, index) => ({ index, score }));
  return rows
    .map((row) => ({ index: row.index, score: row.score, text: row.text ?? texts[row.index] ?? '' }))
    .sort((a, b) => b.score - a.score);
}

type Inputs = { source_sentence?: string; sentences?: string[]; query?: string; texts?: string[] };
const sentInputs = (host: WidgetHost): Inputs => ((host.answered?.json as { inputs?: Inputs } | undefined)?.inputs ?? {});

export const similarityFamily: Family = {
  name: 'similarity',
  tasks: ['sentence-similarity', 'ranking'],
  initialInputs(task) {
    const inputs = (exampleOf(task)?.inputs ?? {}) as Inputs;
    return task === 'ranking'
      ? { source: inputs.query ?? '', items: [...(inputs.texts ?? [''])] }
      : { source: inputs.source_sentence ?? '', items: [...(inputs.sentences ?? [''])] };
  },
  renderInputs(host) {
    const ranking = host.task === 'ranking';
    return html`${textBox(host, 'source', ranking ? 'Query' : 'Source sentence', { single: true })}
    ${listEditor(host, 'items', ranking ? 'Texts to rank' : 'Sentences to compare', ranking ? 'Text' : 'Sentence')}`;
  },
  request(host, parameters) {
    const source = String(host.inputs.source ?? '');
    const items = ((host.inputs.items as string[] | undefined) ?? []).filter((item) => item.trim() !== '');
    if (host.task === 'ranking') {
      if (!source.trim()) return 'Type a query.';
      if (!items.length) return 'Add at least one text to rank.';
      return { path: '/', json: { inputs: { query: source, texts: items }, parameters: { return_documents: true, ...parameters } } };
    }
    if (!items.length) return 'Add at least one sentence to compare.';
    const json = { inputs: { source_sentence: source, sentences: items } };
    return { path: '/', json: Object.keys(parameters).length ? { ...json, parameters } : json };
  },
  renderAnswer(host, answer) {
    const sent = sentInputs(host);
    if (host.task === 'ranking') {
      const rows = rankedTexts(answer, sent.texts ?? []);
      // Sigmoid scores fill a plain 0–1 bar; raw logits (raw_scores) go on a centred axis, scaled to the largest.
      const plain = rows.every((row) => row.score >= 0 && row.score <= 1);
      const scale = Math.max(...rows.map((row) => Math.abs(row.score)), 1e-9);
      return html`<ol class="bars ranking" aria-label="Texts, best first">
        ${rows.map(
          (row, rank) => html`<li data-index=${row.index} data-score=${row.score}>
            <span class="name"><span class="rank">#${rank + 1}</span> ${row.text}</span>
            <span class="score">${row.score.toFixed(3)}</span>
            ${plain
              ? html`<div class="track" role="meter" aria-label="Rank ${rank + 1}" aria-valuemin="0" aria-valuemax="1" aria-valuenow=${row.score}>
                  <div class="fill" style="width: ${row.score * 100}%"></div>
                </div>`
              : signedBar(`Rank ${rank + 1}`, row.score, scale)}
          </li>`,
        )}
      </ol>`;
    }
    const scores = similaritiesOf(answer);
    const sentences = sent.sentences ?? [];
    return html`<div class="similarity">
      <p class="hint">Cosine similarity to “${sent.source_sentence ?? ''}”, from −1 (left of the centre) to 1 (right).</p>
      <ol class="bars" aria-label="Similarity of each sentence">
        ${scores.map(
          (score, i) => html`<li data-score=${score}>
            <span class="name">${sentences[i] ?? `Sentence ${i + 1}`}</span>
            <span class="score">${score.toFixed(3)}</span>
            ${signedBar(`Sentence ${i + 1}`, score, 1)}
          </li>`,
        )}
      </ol>
    </div>`;
  },
  styles: css`
    .list-editor {
      border: 1px solid var(--le-border);
      border-radius: 6px;
      padding: 6px 10px 10px;
      margin: 0;
      min-width: 0;
      display: grid;
      gap: 6px;
    }
    .list-items {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 6px;
    }
    .list-items li {
      display: grid;
      grid-template-columns: auto minmax(0, 1fr) auto;
      gap: 6px;
      align-items: center;
    }
    .list-number {
      color: var(--le-muted);
      font-size: 0.8rem;
      font-variant-numeric: tabular-nums;
      min-width: 1.2em;
      text-align: right;
    }
    .list-remove {
      padding: 5px 9px;
      font-size: 0.82rem;
    }
    .list-add {
      justify-self: start;
    }
    .track.signed {
      position: relative;
      border-radius: 5px;
    }
    .track.signed .axis {
      position: absolute;
      left: 50%;
      top: 0;
      bottom: 0;
      width: 2px;
      margin-left: -1px;
      background: var(--le-muted);
    }
    .track.signed .fill {
      position: absolute;
      top: 0;
      bottom: 0;
      height: auto;
      border-radius: 0;
      background: var(--le-bar);
    }
    .track.signed .fill.negative,
    .bars li:first-child .track.signed .fill.negative {
      background: var(--le-error);
    }
    .similarity {
      display: grid;
      gap: 8px;
    }
    .similarity > .hint {
      margin: 0;
    }
    .ranking .rank {
      font-weight: 700;
      color: var(--le-muted);
      margin-right: 4px;
    }
  `,
};
