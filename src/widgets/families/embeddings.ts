/**
 * Embeddings as heat strips: feature-extraction and sentence-embeddings. Each vector of the answer
 * (a pooled sentence vector, or one per token) is a strip with one cell per dimension, its colour
 * the value on a diverging scale (blue below zero, red above, pale at zero; the same scale for
 * every strip, up to the largest |value| shown), with its dimension count and L2 norm.
 */
import { css, html, type TemplateResult } from 'lit';
import { ref } from 'lit/directives/ref.js';
import type { Family, WidgetHost } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** The most strips drawn; the rest are counted ("N more"). */
export const MAX_STRIPS = 32;

export interface EmbeddingRow {
  label: string;
  vector: number[];
}

/** The L2 norm of a vector. */
export function l2norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
}

/**
 * Every vector of an answer, labelled: `number[]` (one), `number[][]` (one per input),
 * `[1][tokens][hidden]` (one per token) or `[inputs][1][tokens][hidden]`; `{embeddings}` unwrapped.
 */
export function embeddingRows(answer: unknown, texts: readonly string[]): EmbeddingRow[] {
  let value = answer;
  if (value && typeof value === 'object' && !Array.isArray(value) && 'embeddings' in value) value = (value as { embeddings: unknown }).embeddings;
  let depth = 0;
  for (let v: unknown = value; Array.isArray(v); v = v[0]) depth++;
  const rows: EmbeddingRow[] = [];
  const walk = (v: unknown, path: number[]) => {
    if (!Array.isArray(v)) return;
    if (!Array.isArray(v[0])) {
      rows.push({ label: labelOf(path, depth, texts), vector: v.map(Number) });
      return;
    }
    v.forEach((child, i) => walk(child, [...path, i]));
  };
  walk(value, []);
  return rows;
}

function labelOf(path: number[], depth: number, texts: readonly string[]): string {
  const text = (i: number) => texts[i] ?? `Input ${i + 1}`;
  if (depth <= 1) return texts.length === 1 ? texts[0]! : 'Vector';
  if (depth === 2) return text(path[0]!);
  const token = `token ${path[path.length - 1]! + 1}`;
  if (depth === 3) return texts.length > 1 ? `${text(path[0]!)}, ${token}` : `Token ${path[path.length - 1]! + 1}`;
  return `${text(path[0]!)}, ${token}`;
}

/** A value in -max..max as a colour: blue (negative), pale grey (zero), red (positive). */
export function divergingColour(value: number, max: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, value / (max || 1)));
  const mid: [number, number, number] = [240, 240, 240];
  const end: [number, number, number] = t < 0 ? [33, 102, 172] : [178, 24, 43];
  const a = Math.abs(t);
  return mid.map((m, i) => Math.round(m + (end[i]! - m) * a)) as [number, number, number];
}

/** Draws a vector into its canvas: one pixel per dimension, stretched by CSS. */
function paint(canvas: Element | undefined, vector: readonly number[], max: number): void {
  if (!(canvas instanceof HTMLCanvasElement)) return;
  canvas.width = Math.max(1, vector.length);
  canvas.height = 1;
  const context = canvas.getContext('2d');
  if (!context) return;
  const image = context.createImageData(canvas.width, 1);
  vector.forEach((value, i) => {
    const [r, g, b] = divergingColour(value, max);
    image.data.set([r, g, b, 255], i * 4);
  });
  context.putImageData(image, 0, 0);
}

function linesOf(text: unknown): string[] {
  return String(text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function strip(row: EmbeddingRow, max: number, i: number): TemplateResult {
  const norm = l2norm(row.vector);
  const summary = `${row.vector.length} dimensions, L2 norm ${norm.toFixed(3)}`;
  return html`<li class="strip" data-dims=${row.vector.length} data-norm=${norm}>
    <span class="name">${row.label}</span>
    <span class="stats"><span class="dims">${row.vector.length}</span> dims · norm <span class="norm">${norm.toFixed(3)}</span></span>
    <canvas role="img" aria-label="Vector ${i + 1} (${row.label}): ${summary}" ${ref((el) => paint(el, row.vector, max))}></canvas>
  </li>`;
}

export const embeddingsFamily: Family = {
  name: 'embeddings',
  tasks: ['feature-extraction', 'sentence-embeddings'],
  initialInputs(task) {
    const inputs = exampleOf(task)?.inputs;
    return { text: Array.isArray(inputs) ? inputs.join('\n') : String(inputs ?? '') };
  },
  renderInputs(host) {
    return textBox(host, 'text', 'Text', { rows: 3, hint: 'One input per line; several lines are a batch.' });
  },
  request(host, parameters) {
    const lines = linesOf(host.inputs.text);
    if (!lines.length) return 'Type a text to embed.';
    const json = { inputs: lines.length === 1 ? lines[0] : lines };
    return { path: '/', json: Object.keys(parameters).length ? { ...json, parameters } : json };
  },
  renderAnswer(host: WidgetHost, answer) {
    const sent = (host.answered?.json as { inputs?: string | string[] } | undefined)?.inputs;
    const texts = Array.isArray(sent) ? sent : sent === undefined ? [] : [sent];
    const rows = embeddingRows(answer, texts);
    const shown = rows.slice(0, MAX_STRIPS);
    const max = Math.max(...shown.flatMap((row) => row.vector.map(Math.abs)), 1e-9);
    return html`<div class="embeddings">
      <div class="embedding-legend">
        <span class="count">${rows.length} ${rows.length === 1 ? 'vector' : 'vectors'} of ${rows[0]?.vector.length ?? 0} dimensions</span>
        <span class="scale" aria-label="Colour scale from ${(-max).toFixed(3)} (blue) through 0 to ${max.toFixed(3)} (red)" role="img">
          <span>−${max.toFixed(2)}</span><span class="gradient"></span><span>${max.toFixed(2)}</span>
        </span>
      </div>
      <ol class="strips" aria-label="Embedding vectors">
        ${shown.map((row, i) => strip(row, max, i))}
      </ol>
      ${rows.length > shown.length ? html`<p class="hint more">${rows.length - shown.length} more not shown.</p>` : ''}
    </div>`;
  },
  styles: css`
    .embeddings {
      display: grid;
      gap: 8px;
      min-width: 0;
    }
    .embedding-legend {
      display: flex;
      flex-wrap: wrap;
      justify-content: space-between;
      gap: 4px 12px;
      font-size: 0.85rem;
    }
    .embedding-legend .scale {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      color: var(--le-muted);
      font-variant-numeric: tabular-nums;
      font-size: 0.78rem;
    }
    .embedding-legend .gradient {
      width: 90px;
      height: 10px;
      border-radius: 3px;
      background: linear-gradient(to right, rgb(33 102 172), rgb(240 240 240), rgb(178 24 43));
    }
    .strips {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 6px;
    }
    .strip {
      display: grid;
      grid-template-columns: minmax(0, 1fr) auto;
      gap: 2px 10px;
      font-size: 0.85rem;
    }
    .strip .name {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .strip .stats {
      color: var(--le-muted);
      font-variant-numeric: tabular-nums;
      white-space: nowrap;
    }
    .strip canvas {
      grid-column: 1 / -1;
      width: 100%;
      height: 16px;
      image-rendering: pixelated;
      border-radius: 3px;
      border: 1px solid var(--le-border);
      display: block;
    }
  `,
};
