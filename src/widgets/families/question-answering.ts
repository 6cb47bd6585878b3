/**
 * Answer span: extractive question answering drawn as the context with the answer's span
 * highlighted (with `top_k` > 1, every answer that does not overlap a better one, numbered by
 * rank, the best emphasised), and the answers as score bars.
 */
import { css, html } from 'lit';
import type { Family, WidgetHost } from '../types.js';
import { spanLayout } from './entities.js';
import { labelBars } from './labels.js';
import { exampleOf, textBox } from './shared.js';

/** One answer, with its rank (1 = best). */
export interface SpanAnswer {
  answer: string;
  score: number;
  start: number;
  end: number;
  rank: number;
}

/** The answer as a list, best first (an object when `top_k` is 1; a batch's first element). */
export function spanAnswers(answer: unknown): SpanAnswer[] {
  let rows = answer;
  if (Array.isArray(rows) && Array.isArray(rows[0])) rows = rows[0];
  const list = (Array.isArray(rows) ? rows : rows && typeof rows === 'object' ? [rows] : []) as Record<string, unknown>[];
  return list.map((row, i) => ({
    answer: String(row.answer ?? ''),
    score: Number(row.score ?? 0),
    start: Number(row.start ?? 0),
    end: Number(row.end ?? 0),
    rank: i + 1,
  }));
}

/** The context that was sent (the box may have changed since). */
function sentContext(host: WidgetHost): string {
  const inputs = (host.answered?.json as { inputs?: { context?: unknown } } | undefined)?.inputs;
  return typeof inputs?.context === 'string' ? inputs.context : String(host.inputs.context ?? '');
}

const percent = (score: number) => `${(score * 100).toFixed(1)}%`;

export const answerSpanFamily: Family = {
  name: 'answer-span',
  tasks: ['question-answering'],
  initialInputs(task) {
    const inputs = exampleOf(task)?.inputs as { question?: string; context?: string } | undefined;
    return { question: inputs?.question ?? '', context: inputs?.context ?? '' };
  },
  renderInputs: (host) =>
    html`${textBox(host, 'question', 'Question', { single: true })}
    ${textBox(host, 'context', 'Context', { rows: 4, hint: 'The answer is a span of this text.' })}`,
  request(host, parameters) {
    const question = String(host.inputs.question ?? '');
    const context = String(host.inputs.context ?? '');
    if (!question.trim()) return 'Type a question.';
    if (!context.trim()) return 'Type a context for the answer to come from.';
    return { path: '/', json: { inputs: { question, context }, ...(Object.keys(parameters).length ? { parameters } : {}) } };
  },
  renderAnswer(host, answer) {
    const answers = spanAnswers(answer);
    const context = sentContext(host);
    const pieces = spanLayout(context, answers);
    const best = answers[0];
    const marked = new Set(pieces.flatMap((piece) => (piece.span ? [piece.span.rank] : [])));
    const unmarked = answers.filter((a) => a.end > a.start && !marked.has(a.rank)).map((a) => a.rank);
    const describe = (a: SpanAnswer) => `Answer ${a.rank}: ${context.slice(a.start, a.end)} (score ${percent(a.score)})`;
    return html`<div class="qa-answer ${answers.length > 1 ? '' : 'single'}">
      ${best
        ? html`<p class="qa-best">
            <span class="label">Answer</span>
            <strong class="qa-best-text">${best.answer || '(no answer)'}</strong>
            <span class="qa-score">${percent(best.score)}</span>
          </p>`
        : html`<p class="hint">No answer.</p>`}
      <p class="qa-context" aria-label="The context, with the answers marked">${pieces.map((piece) =>
        piece.span
          ? html`<mark
              class="qa-span ${piece.span.rank === 1 ? 'best' : ''}"
              data-rank=${piece.span.rank}
              data-start=${piece.span.start}
              data-end=${piece.span.end}
              data-score=${piece.span.score}
              title=${describe(piece.span)}
              aria-label=${describe(piece.span)}
              >${piece.text}</mark
            >`
          : piece.text,
      )}</p>
      ${unmarked.length
        ? html`<p class="hint qa-overlap">
            ${unmarked.length === 1 ? 'Answer' : 'Answers'} ${unmarked.join(', ')} overlap a better answer's span: they are in the list
            only.
          </p>`
        : ''}
      ${answers.length > 1
        ? labelBars(
            answers.map((a) => ({ label: `${a.rank}. ${a.answer || '(no answer)'}`, score: a.score })),
            'Answers, by score',
          )
        : ''}
    </div>`;
  },
  styles: css`
    .qa-answer {
      display: grid;
      gap: 10px;
      min-width: 0;
    }
    .qa-best {
      margin: 0;
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 4px 10px;
    }
    .qa-best-text {
      font-size: 1.05rem;
      overflow-wrap: anywhere;
    }
    .qa-score {
      font-variant-numeric: tabular-nums;
      color: var(--le-muted);
      font-size: 0.85rem;
    }
    .qa-context {
      margin: 0;
      padding: 8px 10px;
      background: var(--le-surface);
      border: 1px solid var(--le-border);
      border-radius: 6px;
      line-height: 2;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .qa-span {
      color: inherit;
      background: transparent;
      border-bottom: 2px dashed var(--le-bar);
      padding: 1px 2px;
      border-radius: 3px;
      box-decoration-break: clone;
      -webkit-box-decoration-break: clone;
    }
    .qa-span.best {
      background: var(--le-mark);
      border-bottom: 2px solid var(--le-accent);
      font-weight: 600;
    }
    .qa-span::after {
      content: attr(data-rank);
      font-size: 0.68em;
      font-weight: 700;
      margin-left: 3px;
      padding: 0 4px;
      border-radius: 999px;
      background: var(--le-accent);
      color: var(--le-accent-fg);
      vertical-align: 0.2em;
    }
    .qa-answer.single .qa-span::after {
      content: none;
    }
  `,
};
