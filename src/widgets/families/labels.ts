/**
 * Label bars: every task whose answer is labels (or answers) with scores. Text, zero-shot text,
 * image, zero-shot image, audio, and visual question answering, each with its own inputs; one bar
 * per label, its width the score.
 */
import { css, html, type TemplateResult } from 'lit';
import { mediaBase64, mediaRequest } from '../parts/media-body.js';
import type { Family, WidgetHost } from '../types.js';
import { commaList, exampleOf, textBox } from './shared.js';

const TASKS = [
  'text-classification',
  'zero-shot-classification',
  'image-classification',
  'zero-shot-image-classification',
  'audio-classification',
  'visual-question-answering',
] as const;

const IMAGE = new Set(['image-classification', 'zero-shot-image-classification', 'visual-question-answering']);
const ZERO_SHOT = new Set(['zero-shot-classification', 'zero-shot-image-classification']);

export interface ScoredLabel {
  label: string;
  score: number;
}

/**
 * The answer as (label, score) rows, for one input: `[{label, score}]`, zero-shot's
 * `{sequence, labels, scores}`, VQA's `[{answer, score}]`, or a batch's first element.
 */
export function scoredLabels(answer: unknown): ScoredLabel[] {
  let value = answer;
  if (Array.isArray(value) && Array.isArray(value[0])) value = value[0];
  if (Array.isArray(value) && value.length && typeof value[0] === 'object' && value[0] && 'sequence' in value[0]) value = value[0];
  if (value && typeof value === 'object' && !Array.isArray(value) && 'labels' in value) {
    const { labels, scores } = value as { labels: string[]; scores: number[] };
    return labels.map((label, i) => ({ label, score: scores[i]! }));
  }
  if (!Array.isArray(value)) return [];
  return value.map((row: { label?: string; answer?: string; score: number }) => ({ label: String(row.label ?? row.answer ?? ''), score: row.score }));
}

/** Bars for scored labels, best first as the answer gives them; widths are the scores (0–1). */
export function labelBars(rows: readonly ScoredLabel[], caption: string): TemplateResult {
  return html`<ol class="bars" aria-label=${caption}>
    ${rows.map(
      (row) => html`<li data-label=${row.label} data-score=${row.score}>
        <span class="name">${row.label}</span>
        <span class="score">${(row.score * 100).toFixed(1)}%</span>
        <div
          class="track"
          role="meter"
          aria-label=${row.label}
          aria-valuemin="0"
          aria-valuemax="1"
          aria-valuenow=${row.score}
          aria-valuetext="${(row.score * 100).toFixed(1)}%"
        >
          <div class="fill" style="width: ${Math.max(0, Math.min(1, row.score)) * 100}%"></div>
        </div>
      </li>`,
    )}
  </ol>`;
}

export const labelsFamily: Family = {
  name: 'labels',
  tasks: TASKS,
  media: (task) => (IMAGE.has(task) ? 'image' : task === 'audio-classification' ? 'audio' : undefined),
  initialInputs(task) {
    const example = exampleOf(task);
    const inputs = example?.inputs as string | { question?: string } | undefined;
    const labels = (example?.parameters?.candidate_labels as string[] | string | undefined) ?? (task === 'zero-shot-classification' ? 'refund, legal, faq' : undefined);
    return {
      text: typeof inputs === 'string' ? inputs : '',
      question: typeof inputs === 'object' && inputs ? (inputs.question ?? '') : '',
      labels: Array.isArray(labels) ? labels.join(', ') : (labels ?? ''),
    };
  },
  renderInputs(host) {
    const task = host.task;
    return html`${task === 'text-classification' || task === 'zero-shot-classification' ? textBox(host, 'text', 'Text') : ''}
    ${task === 'visual-question-answering' ? textBox(host, 'question', 'Question', { single: true }) : ''}
    ${ZERO_SHOT.has(task)
      ? textBox(host, 'labels', 'Candidate labels', { single: true, hint: 'Comma-separated; each is scored against the input.' })
      : ''}`;
  },
  async request(host: WidgetHost, parameters) {
    const task = host.task;
    const text = String(host.inputs.text ?? '');
    const withParameters = (json: Record<string, unknown>) => (Object.keys(parameters).length ? { ...json, parameters } : json);
    if (ZERO_SHOT.has(task)) {
      const labels = commaList(host.inputs.labels);
      if (!labels.length) return 'Type at least one candidate label.';
      const all = { ...parameters, candidate_labels: labels };
      if (task === 'zero-shot-classification') {
        if (!text.trim()) return 'Type a text to classify.';
        return { path: '/', json: { inputs: text, parameters: all } };
      }
      return { path: '/', json: { inputs: await mediaBase64(host.media!), parameters: all }, mediaInJson: { name: host.media!.name, pointer: '/inputs' } };
    }
    if (task === 'text-classification') {
      if (!text.trim()) return 'Type a text to classify.';
      return { path: '/', json: withParameters({ inputs: text }) };
    }
    if (task === 'visual-question-answering') {
      const question = String(host.inputs.question ?? '').trim();
      if (!question) return 'Type a question about the image.';
      return {
        path: '/',
        json: withParameters({ inputs: { image: await mediaBase64(host.media!), question } }),
        mediaInJson: { name: host.media!.name, pointer: '/inputs/image' },
      };
    }
    return mediaRequest(host.media!, parameters);
  },
  renderAnswer(host, answer) {
    const rows = scoredLabels(answer);
    const what = host.task === 'visual-question-answering' ? 'Answers' : 'Labels';
    return html`<div class="labels-answer">
      ${host.media?.kind === 'image' ? html`<img class="thumb" src=${host.media.url} alt="The image that was classified" />` : ''}
      ${labelBars(rows, `${what}, by score`)}
    </div>`;
  },
  styles: css`
    .labels-answer {
      display: grid;
      grid-template-columns: auto minmax(0, 1fr);
      gap: 12px;
      align-items: start;
    }
    .labels-answer:not(:has(.thumb)) {
      grid-template-columns: minmax(0, 1fr);
    }
    .labels-answer .thumb {
      width: 96px;
      height: 96px;
      object-fit: cover;
      border-radius: 6px;
    }
    @media (max-width: 420px) {
      .labels-answer .thumb {
        width: 64px;
        height: 64px;
      }
    }
  `,
};
