/** Pieces every family uses: the task's example, a labelled text box, and the plain JSON answer. */
import { html, type TemplateResult } from 'lit';
import { getTask } from '../../tasks/registry.js';
import type { TaskExample } from '../../tasks/types.js';
import type { Family, WidgetHost } from '../types.js';

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

/** The answer as indented JSON: the fallback picture for a task that has no other. */
export function jsonAnswer(answer: unknown): TemplateResult {
  return html`<pre class="raw" tabindex="0" aria-label="The answer"><code>${JSON.stringify(answer, null, 2)}</code></pre>`;
}

/** A family still drawing its answer as JSON (the text box holds `inputs`, as the Endpoint takes them). */
export function jsonFamily(name: string, tasks: readonly string[], media?: 'image' | 'audio'): Family {
  return {
    name,
    tasks,
    ...(media ? { media: () => media } : {}),
    initialInputs: (task) => {
      const inputs = exampleOf(task)?.inputs;
      return { text: inputs === undefined ? '' : typeof inputs === 'string' ? inputs : JSON.stringify(inputs) };
    },
    renderInputs: (host) => textBox(host, 'text', 'Inputs'),
    request: (host, parameters) => {
      const text = String(host.inputs.text ?? '');
      let inputs: unknown = text;
      if (/^\s*[[{]/.test(text)) {
        try {
          inputs = JSON.parse(text);
        } catch {
          // plain text
        }
      }
      return { path: '/', json: { inputs, ...(Object.keys(parameters).length ? { parameters } : {}) } };
    },
    renderAnswer: (_host, answer) => jsonAnswer(answer),
  };
}
