/** The code snippets for the request on screen, in tabs, each with a Copy button. */
import { html, type TemplateResult } from 'lit';
import { snippetsFor } from '../snippets.js';
import type { WidgetRequest } from '../types.js';

export interface SnippetsHost {
  readonly uid: string;
  readonly task: string;
  readonly model: string;
  readonly answered: WidgetRequest | undefined;
  readonly snippetUrl: string;
  snippetTab: string;
  requestUpdate(): void;
}

export function snippetsView(host: SnippetsHost): TemplateResult {
  const snippets = host.answered ? snippetsFor(host.answered, { task: host.task, model: host.model, endpointUrl: host.snippetUrl }) : [];
  const current = snippets.find((s) => s.id === host.snippetTab) ?? snippets[0];
  const select = (id: string) => {
    host.snippetTab = id;
    host.requestUpdate();
  };
  const onKey = (event: KeyboardEvent, index: number) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = snippets[(index + step + snippets.length) % snippets.length]!;
    select(next.id);
    const tabs = (event.currentTarget as HTMLElement).parentElement!;
    void Promise.resolve().then(() => tabs.querySelector<HTMLElement>(`[data-snippet="${next.id}"]`)?.focus());
  };
  return html`<details class="panel snippets">
    <summary>Code for this request</summary>
    <div class="tabs" role="tablist" aria-label="Snippet language">
      ${snippets.map(
        (s, i) =>
          html`<button
            type="button"
            role="tab"
            id="${host.uid}-tab-${s.id}"
            data-snippet=${s.id}
            aria-selected=${s === current ? 'true' : 'false'}
            aria-controls="${host.uid}-snippet"
            tabindex=${s === current ? '0' : '-1'}
            @click=${() => select(s.id)}
            @keydown=${(e: KeyboardEvent) => onKey(e, i)}
          >
            ${s.label}
          </button>`,
      )}
    </div>
    ${current
      ? html`<div role="tabpanel" id="${host.uid}-snippet" aria-labelledby="${host.uid}-tab-${current.id}">
          <pre tabindex="0" class="snippet" data-snippet=${current.id} data-language=${current.language}><code>${current.code}</code></pre>
          <button type="button" class="copy" @click=${() => void navigator.clipboard?.writeText(current.code)}>Copy</button>
        </div>`
      : html``}
  </details>`;
}
