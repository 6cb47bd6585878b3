/** Pieces every family uses: the task's example, a labelled text box, a comma-separated list. */
import { html, type TemplateResult } from 'lit';
import { getTask } from '../../tasks/registry.js';
import type { TaskExample } from '../../tasks/types.js';
import type { WidgetHost } from '../types.js';

/** The task's example request (the Endpoint server's own test payload), if it has one. */
export function exampleOf(task: string): TaskExample | undefined {
  try {
    return getTask(task).example;
  } catch {
    return undefined;
  }
}

/** A labelled text box bound to `host.inputs[key]`. */
export function textBox(
  host: WidgetHost,
  key: string,
  label: string,
  options: { rows?: number; placeholder?: string; hint?: string; single?: boolean } = {},
): TemplateResult {
  const id = `${host.uid}-in-${key}`;
  const value = String(host.inputs[key] ?? '');
  const onInput = (event: Event) => host.setInputs({ [key]: (event.target as HTMLInputElement | HTMLTextAreaElement).value });
  return html`<div class="field">
    <label class="label" for=${id}>${label}</label>
    ${options.single
      ? html`<input id=${id} type="text" spellcheck="false" placeholder=${options.placeholder ?? ''} .value=${value} @input=${onInput} />`
      : html`<textarea id=${id} rows=${options.rows ?? 3} placeholder=${options.placeholder ?? ''} .value=${value} @input=${onInput}></textarea>`}
    ${options.hint ? html`<span class="hint">${options.hint}</span>` : ''}
  </div>`;
}

/** A comma-separated list as the list it means (`"refund, legal, faq"` → three labels). */
export function commaList(text: unknown): string[] {
  return String(text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
