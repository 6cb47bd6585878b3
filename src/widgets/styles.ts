/**
 * The widgets' look: one set of custom properties, light and dark. `theme="dark"`/`"light"` on the
 * element picks one; without it the page's `prefers-color-scheme` does. Apps restyle through the
 * `--le-*` properties from outside (they pierce the shadow root), or `::part(card)`.
 */
import { css } from 'lit';

export const theme = css`
  :host {
    /* Each colour is light-dark(light, dark): the element's color-scheme picks one. */
    --le-bg: light-dark(#ffffff, #171a21);
    --le-fg: light-dark(#1b1f29, #e6e9ef);
    --le-muted: light-dark(#4f5666, #a9b0bf);
    --le-border: light-dark(#d3d7e0, #3a404d);
    --le-surface: light-dark(#f4f6fa, #1f232c);
    --le-accent: light-dark(#2c5fd4, #7aa2ff);
    --le-accent-fg: light-dark(#ffffff, #0d1020);
    --le-bar: light-dark(#3b6fe0, #7aa2ff);
    --le-bar-track: light-dark(#e3e7ef, #2c323e);
    --le-error: light-dark(#b3261e, #ff8a80);
    --le-ok: light-dark(#1b7a3c, #6fdc8c);
    --le-mark: light-dark(#fff1a8, #5c4d00);
    --le-radius: 8px;
    --le-font: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    --le-mono: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
    display: block;
    /* Unset: the page's prefers-color-scheme. */
    color-scheme: light dark;
    font-family: var(--le-font);
    color: var(--le-fg);
    min-width: 0;
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  .card {
    background: var(--le-bg);
    border: 1px solid var(--le-border);
    border-radius: var(--le-radius);
    padding: 14px;
    display: grid;
    gap: 12px;
    min-width: 0;
  }
  form.inputs {
    display: grid;
    gap: 10px;
    min-width: 0;
  }
  header {
    display: flex;
    flex-wrap: wrap;
    align-items: baseline;
    gap: 4px 10px;
  }
  h2 {
    font-size: 1.05rem;
    margin: 0;
  }
  .model {
    font-family: var(--le-mono);
    font-size: 0.8rem;
    color: var(--le-muted);
    overflow-wrap: anywhere;
  }
  label,
  .field {
    display: grid;
    gap: 4px;
    font-size: 0.9rem;
    min-width: 0;
  }
  .label {
    font-weight: 600;
    font-size: 0.85rem;
  }
  .hint {
    color: var(--le-muted);
    font-size: 0.8rem;
    margin: 0;
  }
  input,
  textarea,
  select,
  button {
    font: inherit;
    color: inherit;
  }
  input:not([type='checkbox']):not([type='radio']):not([type='file']),
  textarea,
  select {
    width: 100%;
    background: var(--le-surface);
    border: 1px solid var(--le-border);
    border-radius: 6px;
    padding: 7px 9px;
    min-width: 0;
  }
  textarea {
    resize: vertical;
    min-height: 4.5em;
  }
  :focus-visible {
    outline: 3px solid var(--le-accent);
    outline-offset: 2px;
  }
  button {
    border: 1px solid var(--le-border);
    background: var(--le-surface);
    border-radius: 6px;
    padding: 7px 14px;
    cursor: pointer;
  }
  button.primary {
    background: var(--le-accent);
    border-color: var(--le-accent);
    color: var(--le-accent-fg);
    font-weight: 600;
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px;
  }
  .status {
    font-size: 0.85rem;
    color: var(--le-muted);
  }
  .error {
    color: var(--le-error);
    font-size: 0.9rem;
    overflow-wrap: anywhere;
  }
  details > summary {
    cursor: pointer;
    font-weight: 600;
    font-size: 0.85rem;
  }
  details.panel {
    border: 1px solid var(--le-border);
    border-radius: 6px;
    padding: 6px 10px;
  }
  details.panel[open] > summary {
    margin-bottom: 8px;
  }
  .params {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
    gap: 8px 12px;
  }
  .check {
    display: flex;
    align-items: center;
    gap: 6px;
  }
  pre,
  code {
    font-family: var(--le-mono);
    font-size: 0.8rem;
  }
  pre {
    background: var(--le-surface);
    border: 1px solid var(--le-border);
    border-radius: 6px;
    padding: 8px 10px;
    margin: 0;
    overflow: auto;
    max-height: 22em;
    white-space: pre;
  }
  .badge {
    display: inline-flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px;
    font-size: 0.78rem;
  }
  .pill {
    border-radius: 999px;
    padding: 1px 8px;
    border: 1px solid var(--le-border);
    background: var(--le-surface);
    white-space: nowrap;
  }
  .pill.local {
    border-color: var(--le-ok);
    color: var(--le-ok);
  }
  .pill.remote {
    border-color: var(--le-accent);
    color: var(--le-accent);
  }
  .why {
    color: var(--le-muted);
  }
  .progress {
    display: grid;
    gap: 4px;
    font-size: 0.78rem;
  }
  .progress .file {
    display: grid;
    grid-template-columns: minmax(0, 1fr) 7em;
    gap: 8px;
    align-items: center;
  }
  .progress .file span {
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  progress {
    width: 100%;
    accent-color: var(--le-accent);
  }
  .tabs {
    display: flex;
    flex-wrap: wrap;
    gap: 4px;
    margin-bottom: 6px;
  }
  .tabs button[aria-selected='true'] {
    background: var(--le-accent);
    color: var(--le-accent-fg);
    border-color: var(--le-accent);
  }
  .media {
    display: grid;
    gap: 8px;
  }
  .media-row {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
    align-items: center;
  }
  .file-button {
    display: inline-flex;
    align-items: center;
    border: 1px dashed var(--le-border);
    background: var(--le-surface);
    border-radius: 6px;
    padding: 7px 12px;
    cursor: pointer;
    font-size: 0.9rem;
  }
  .file-button:focus-within {
    outline: 3px solid var(--le-accent);
    outline-offset: 2px;
  }
  .chosen {
    display: flex;
    align-items: center;
    gap: 8px;
  }
  .chosen-thumb {
    width: 48px;
    height: 48px;
    object-fit: cover;
    border-radius: 4px;
  }
  .preview {
    max-width: 100%;
    max-height: 260px;
    border-radius: 6px;
    display: block;
  }
  audio {
    width: 100%;
  }
  .answer:empty {
    display: none;
  }
  /* The caret at the end of text that is still streaming. */
  .caret {
    display: inline-block;
    width: 0.55em;
    height: 1.1em;
    margin-left: 1px;
    vertical-align: text-bottom;
    background: var(--le-accent);
    animation: le-blink 1s steps(1) infinite;
  }
  @keyframes le-blink {
    50% {
      opacity: 0;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .caret {
      animation: none;
    }
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;

/** Label bars, shared by every family that scores labels or answers. */
export const bars = css`
  .bars {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 6px;
  }
  .bars li {
    display: grid;
    grid-template-columns: minmax(0, 1fr) auto;
    gap: 2px 10px;
    font-size: 0.88rem;
  }
  .bars .name {
    overflow-wrap: anywhere;
  }
  .bars .score {
    font-variant-numeric: tabular-nums;
    color: var(--le-muted);
  }
  .track {
    grid-column: 1 / -1;
    height: 10px;
    border-radius: 5px;
    background: var(--le-bar-track);
    overflow: hidden;
  }
  .fill {
    height: 100%;
    background: var(--le-bar);
    border-radius: 5px;
  }
  .bars li:first-child .fill {
    background: var(--le-accent);
  }
`;

/** Labels in the order the page first drew them: each one's place on the colour wheel. */
const labelOrder = new Map<string, number>();

/**
 * A colour per label, the same for the same label everywhere on the page (entities, boxes, masks,
 * legends). Labels take hues in the order they are first drawn, a golden angle (137.5°) apart, so
 * the labels of one answer are always far apart on the wheel (a hash of the name put "sky" and
 * "grass" side by side).
 */
export function labelColour(label: string, alpha = 1): string {
  let index = labelOrder.get(label);
  if (index === undefined) labelOrder.set(label, (index = labelOrder.size));
  const hue = Math.round((215 + index * 137.508) % 360);
  return `hsl(${hue} 70% 50% / ${alpha})`;
}
