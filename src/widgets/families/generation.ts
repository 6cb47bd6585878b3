/**
 * Generated text: text-generation streams its tokens in place after the prompt (TGI's events on
 * `POST /` with `"stream": true`); text2text-generation, summarization and translation show the
 * output text in a card (translation: source and target side by side); image-to-text shows the
 * image with its caption.
 */
import { css, html, type TemplateResult } from 'lit';
import { mediaRequest } from '../parts/media-body.js';
import type { Family, WidgetHost } from '../types.js';
import { exampleOf, textBox } from './shared.js';

const TASKS = ['text-generation', 'text2text-generation', 'summarization', 'translation', 'image-to-text'] as const;

/** One of TGI's stream events (`POST /` with `"stream": true`). */
interface TgiEvent {
  token?: { text?: string; special?: boolean };
  generated_text?: string | null;
  details?: { finish_reason?: string; generated_tokens?: number } | null;
}

/** text-generation's folded stream: the text so far, the tokens seen, and how it ended. */
export interface StreamedText {
  /** The generated text so far (the non-special tokens' texts, in order). */
  text: string;
  /** How many token events came (special ones included, as TGI's `generated_tokens` counts). */
  tokens: number;
  finish_reason?: string;
  /** The last event's `generated_text` (the prompt in front unless `return_full_text` is false). */
  generated_text?: string;
}

/** Folds one TGI event into the streamed text (a new object each time, so the element redraws). */
export function foldTgiEvent(answer: StreamedText | undefined, event: TgiEvent): StreamedText {
  const so = answer ?? { text: '', tokens: 0 };
  const token = event.token;
  const next: StreamedText = {
    ...so,
    text: so.text + (token && !token.special ? (token.text ?? '') : ''),
    tokens: so.tokens + (token ? 1 : 0),
  };
  if (typeof event.generated_text === 'string') next.generated_text = event.generated_text;
  if (event.details?.finish_reason) next.finish_reason = event.details.finish_reason;
  if (typeof event.details?.generated_tokens === 'number') next.tokens = event.details.generated_tokens;
  return next;
}

/** The answer's output text: `[{generated_text | summary_text | translation_text}]` (or one object). */
export function outputText(answer: unknown): string {
  const first = (Array.isArray(answer) ? answer[0] : answer) as Record<string, unknown> | undefined;
  if (!first || typeof first !== 'object') return '';
  const value = first.generated_text ?? first.summary_text ?? first.translation_text;
  return typeof value === 'string' ? value : '';
}

const OUTPUT_NAME: Record<string, string> = {
  'text2text-generation': 'Generated text',
  summarization: 'Summary',
  translation: 'Translation',
  'image-to-text': 'Caption',
};

/** A `lang` attribute for a language code, when it is a BCP 47 one (`en`, `de`; not `eng_Latn`). */
function langOf(code: unknown): string | undefined {
  return typeof code === 'string' && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(code) ? code : undefined;
}

function sentInputs(host: WidgetHost): string {
  const json = host.answered?.json as { inputs?: unknown } | undefined;
  return typeof json?.inputs === 'string' ? json.inputs : '';
}

function streamedAnswer(host: WidgetHost, answer: StreamedText): TemplateResult {
  const meta = [`${answer.tokens} token${answer.tokens === 1 ? '' : 's'}`, answer.finish_reason ? `finish: ${answer.finish_reason}` : host.busy ? 'streaming…' : 'stopped'];
  return html`<div class="gen-card gen-stream" aria-busy=${host.busy ? 'true' : 'false'}>
    <p class="gen-text"><span class="gen-prompt">${sentInputs(host)}</span><span class="gen-output">${answer.text}</span>${host.busy
        ? html`<span class="caret" aria-hidden="true"></span>`
        : ''}</p>
    <p class="gen-meta">${meta.join(' · ')}</p>
  </div>`;
}

function translationAnswer(host: WidgetHost, text: string): TemplateResult {
  const parameters = ((host.answered?.json as { parameters?: Record<string, unknown> } | undefined)?.parameters ?? {}) as Record<string, unknown>;
  const side = (title: string, code: unknown, body: string, cls: string) =>
    html`<div class="gen-side ${cls}">
      <h3 class="label">${title}${typeof code === 'string' && code ? html` <span class="gen-lang">${code}</span>` : ''}</h3>
      <p class="gen-text" lang=${langOf(code) ?? ''}>${body}</p>
    </div>`;
  return html`<div class="gen-card gen-pair">
    ${side('Source', parameters.src_lang, sentInputs(host), 'gen-source')} ${side('Translation', parameters.tgt_lang, text, 'gen-target')}
  </div>`;
}

export const generationFamily: Family = {
  name: 'generation',
  tasks: TASKS,
  media: (task) => (task === 'image-to-text' ? 'image' : undefined),
  initialInputs(task) {
    const example = exampleOf(task);
    const inputs = example?.inputs;
    const parameters = (example?.parameters ?? {}) as Record<string, unknown>;
    return {
      text: typeof inputs === 'string' ? inputs : '',
      ...(task === 'translation' ? { src_lang: String(parameters.src_lang ?? ''), tgt_lang: String(parameters.tgt_lang ?? '') } : {}),
    };
  },
  renderInputs(host) {
    const task = host.task;
    if (task === 'image-to-text') return html``;
    const label = task === 'text-generation' ? 'Prompt' : task === 'summarization' ? 'Text to summarise' : task === 'translation' ? 'Text to translate' : 'Input text';
    return html`${textBox(host, 'text', label, { rows: task === 'summarization' ? 5 : 3 })}
    ${task === 'translation'
      ? html`<div class="gen-langs">
            ${textBox(host, 'src_lang', 'Source language', { single: true, placeholder: 'en' })}
            ${textBox(host, 'tgt_lang', 'Target language', { single: true, placeholder: 'de' })}
          </div>
          <p class="hint">Language codes, for multilingual models (M2M100: <code>en</code>, NLLB: <code>eng_Latn</code>); leave empty for the others.</p>`
      : ''}`;
  },
  async request(host, parameters) {
    const task = host.task;
    if (task === 'image-to-text') return mediaRequest(host.media!, parameters);
    const text = String(host.inputs.text ?? '');
    if (!text.trim()) return task === 'text-generation' ? 'Type a prompt.' : 'Type a text.';
    let all = parameters;
    if (task === 'translation') {
      const src = String(host.inputs.src_lang ?? '').trim();
      const tgt = String(host.inputs.tgt_lang ?? '').trim();
      all = { ...(src ? { src_lang: src } : {}), ...(tgt ? { tgt_lang: tgt } : {}), ...parameters };
    }
    const json: Record<string, unknown> = { inputs: text, ...(Object.keys(all).length ? { parameters: all } : {}) };
    if (task === 'text-generation') return { path: '/', json: { ...json, stream: true }, stream: 'tgi' };
    return { path: '/', json };
  },
  onEvent: (_host, answer, event) => foldTgiEvent(answer as StreamedText | undefined, event as TgiEvent),
  renderAnswer(host, answer) {
    const task = host.task;
    if (task === 'text-generation') return streamedAnswer(host, answer as StreamedText);
    const text = outputText(answer);
    if (task === 'translation') return translationAnswer(host, text);
    if (task === 'image-to-text') {
      return html`<figure class="gen-card gen-figure">
        ${host.media ? html`<img class="gen-image" src=${host.media.url} alt="The captioned image (${host.media.name})" />` : ''}
        <figcaption class="gen-text gen-output">${text}</figcaption>
      </figure>`;
    }
    return html`<div class="gen-card">
      <h3 class="label">${OUTPUT_NAME[task] ?? 'Output'}</h3>
      <p class="gen-text gen-output">${text}</p>
    </div>`;
  },
  styles: css`
    .gen-card {
      background: var(--le-surface);
      border: 1px solid var(--le-border);
      border-radius: 6px;
      padding: 10px 12px;
      margin: 0;
      display: grid;
      gap: 6px;
      min-width: 0;
    }
    .gen-card h3 {
      margin: 0;
    }
    .gen-text {
      margin: 0;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
      line-height: 1.5;
    }
    .gen-prompt {
      color: var(--le-muted);
    }
    .gen-meta {
      margin: 0;
      font-size: 0.8rem;
      color: var(--le-muted);
      font-variant-numeric: tabular-nums;
    }
    .gen-langs {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(min(100%, 160px), 1fr));
      gap: 8px 12px;
    }
    .gen-pair {
      grid-template-columns: repeat(auto-fit, minmax(min(100%, 220px), 1fr));
      gap: 12px;
    }
    .gen-side {
      display: grid;
      gap: 4px;
      align-content: start;
      min-width: 0;
    }
    .gen-source .gen-text {
      color: var(--le-muted);
    }
    .gen-lang {
      font-family: var(--le-mono);
      font-weight: 400;
      color: var(--le-muted);
    }
    .gen-figure {
      justify-items: start;
    }
    .gen-figure figcaption {
      font-size: 1.02rem;
      font-weight: 500;
    }
    .gen-image {
      max-width: 100%;
      max-height: 260px;
      border-radius: 6px;
      display: block;
    }
  `,
};
