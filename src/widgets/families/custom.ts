/**
 * A custom handler: its request is the whole body, typed as JSON (starting from the task's seed
 * payload, `{inputs, ...extra}`), sent as it is; its answer has no fixed shape, so it is drawn as a
 * JSON tree: objects and lists as nested, collapsible `<details>`, keys beside their values,
 * strings quoted. A body with `"stream": true` streams: the answer is the list of events so far.
 */
import { css, html, type TemplateResult } from 'lit';
import type { Family } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** Levels of the tree open at first; deeper ones start folded. */
const OPEN_DEPTH = 3;

/** A JSON value as a leaf's text: strings quoted, the rest as JSON writes them. */
export function leafText(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

function leaf(value: unknown, path: string): TemplateResult {
  const kind = value === null ? 'null' : typeof value;
  return html`<span class="json-value json-${kind}" data-path=${path}>${leafText(value)}</span>`;
}

function sizeOf(value: object): string {
  const n = Object.keys(value).length;
  return Array.isArray(value) ? `[${n} ${n === 1 ? 'item' : 'items'}]` : `{${n} ${n === 1 ? 'key' : 'keys'}}`;
}

/** A JSON value as a tree; `path` names each node (`labels.0.score`) for the tests and the reader. */
export function jsonTree(value: unknown, key: string | undefined, path: string, depth = 0): TemplateResult {
  const name = key === undefined ? '' : html`<span class="json-key">${key}</span><span class="json-colon">: </span>`;
  if (value === null || typeof value !== 'object') return html`<li>${name}${leaf(value, path)}</li>`;
  const entries = Object.entries(value);
  const child = (k: string) => (path ? `${path}.${k}` : k);
  return html`<li>
    <details class="json-node" ?open=${depth < OPEN_DEPTH} data-path=${path}>
      <summary>${name}<span class="json-size">${sizeOf(value)}</span></summary>
      ${entries.length
        ? html`<ul class="json-children" role="list">
            ${entries.map(([k, v]) => jsonTree(v, Array.isArray(value) ? `[${k}]` : k, child(k), depth + 1))}
          </ul>`
        : ''}
    </details>
  </li>`;
}

export const customFamily: Family = {
  name: 'custom',
  tasks: ['custom'],
  initialInputs(task) {
    const example = exampleOf(task);
    const body = { inputs: example?.inputs ?? '', ...(example?.extra ?? {}) };
    return { body: JSON.stringify(body, null, 2) };
  },
  renderInputs(host) {
    return html`<div class="custom-body">
      ${textBox(host, 'body', 'Request body (JSON)', { rows: 7, hint: 'Sent as it is to the handler: an object with "inputs" and any other keys.' })}
    </div>`;
  },
  request(host, parameters) {
    let body: unknown;
    try {
      body = JSON.parse(String(host.inputs.body ?? ''));
    } catch (err) {
      return `The request body is not valid JSON: ${(err as Error).message}`;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The request body must be a JSON object, like {"inputs": "…"}.';
    if (!('inputs' in body)) return 'The request body needs an "inputs" key.';
    const json = Object.keys(parameters).length ? { ...body, parameters: { ...((body as { parameters?: object }).parameters ?? {}), ...parameters } } : body;
    return { path: '/', json, ...((body as { stream?: unknown }).stream === true ? { stream: 'tgi' as const } : {}) };
  },
  onEvent(_host, answer, event) {
    return [...((answer as unknown[] | undefined) ?? []), event];
  },
  renderAnswer(_host, answer) {
    return html`<ul class="json-tree" role="list" aria-label="The handler's answer">
      ${jsonTree(answer, undefined, '')}
    </ul>`;
  },
  styles: css`
    .custom-body textarea {
      font-family: var(--le-mono);
      font-size: 0.82rem;
    }
    .json-tree,
    .json-children {
      list-style: none;
      margin: 0;
      font-family: var(--le-mono);
      font-size: 0.82rem;
      line-height: 1.5;
    }
    .json-tree {
      padding: 8px 10px;
      background: var(--le-surface);
      border: 1px solid var(--le-border);
      border-radius: 6px;
      overflow-wrap: anywhere;
    }
    .json-children {
      padding-left: 1.1em;
      border-left: 1px solid var(--le-border);
      margin-left: 0.3em;
    }
    .json-node > summary {
      font-weight: 400;
      font-size: inherit;
    }
    .json-key {
      font-weight: 600;
    }
    .json-size,
    .json-colon {
      color: var(--le-muted);
    }
    .json-string {
      color: var(--le-ok);
    }
    .json-number,
    .json-boolean,
    .json-null {
      color: var(--le-accent);
    }
  `,
};
