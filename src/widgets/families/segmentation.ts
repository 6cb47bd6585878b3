/**
 * Image segmentation: the image with every mask laid over it in its label's colour (one canvas per
 * mask, the mask's white pixels tinted at half opacity), and a legend (swatch, label, score, share
 * of the pixels). Hovering or focusing a legend entry, or pointing at a pixel of the image,
 * highlights that mask and dims the others.
 */
import { css, html, nothing, type TemplateResult } from 'lit';
import { ref } from 'lit/directives/ref.js';
import { mediaRequest } from '../parts/media-body.js';
import type { Family, WidgetHost } from '../types.js';
import { labelRgb } from './detection.js';

/** One segment of the answer: `mask` is a base64 PNG, white inside, black outside. */
export interface Segment {
  label: string;
  score: number | null;
  mask: string;
}

/** A decoded mask: which pixels are inside, and their share of the image. */
export interface DecodedMask {
  width: number;
  height: number;
  inside: Uint8Array;
  share: number;
  /** The mask tinted in its label's colour at half opacity (transparent outside). */
  tinted: ImageData;
}

/** The opacity of a mask's tint (0–255). */
export const TINT_ALPHA = 128;

/** The answer's segments (`[{label, score, mask}]`; anything else gives none). */
export function segments(answer: unknown): Segment[] {
  if (!Array.isArray(answer)) return [];
  return answer
    .filter((row) => row && typeof row === 'object' && typeof row.mask === 'string')
    .map((row: Segment) => ({ label: String(row.label ?? 'unlabelled'), score: typeof row.score === 'number' ? row.score : null, mask: row.mask }));
}

/** A base64 PNG's pixels (RGBA), through an ImageBitmap. */
export async function pngPixels(base64: string): Promise<ImageData> {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/**
 * Each segment's colour: its label's, lighter or darker for a second or third segment of the same
 * label (panoptic answers have one per instance).
 */
export function segmentColours(rows: readonly Segment[]): [number, number, number][] {
  const seen = new Map<string, number>();
  return rows.map((row) => {
    const n = seen.get(row.label) ?? 0;
    seen.set(row.label, n + 1);
    return labelRgb(row.label, [0.5, 0.32, 0.68, 0.42, 0.6][n % 5]);
  });
}

/** A mask as pixels inside (white: red channel ≥ 128), tinted in `colour`. */
export async function decodeMask(base64: string, colour: [number, number, number]): Promise<DecodedMask> {
  const pixels = await pngPixels(base64);
  const { width, height, data } = pixels;
  const inside = new Uint8Array(width * height);
  const tinted = new ImageData(width, height);
  const [r, g, b] = colour;
  let count = 0;
  for (let p = 0; p < inside.length; p++) {
    if (data[p * 4]! < 128) continue;
    inside[p] = 1;
    count++;
    tinted.data.set([r, g, b, TINT_ALPHA], p * 4);
  }
  return { width, height, inside, share: count / inside.length, tinted };
}

interface State {
  masks: (DecodedMask | undefined)[];
  active?: number;
  error?: string;
}
const states = new WeakMap<object, State>();

function stateOf(host: WidgetHost, answer: object, rows: Segment[]): State {
  let state = states.get(answer);
  if (!state) {
    const created: State = { masks: [] };
    states.set(answer, created);
    const colours = segmentColours(rows);
    void Promise.all(rows.map((row, i) => decodeMask(row.mask, colours[i]!))).then(
      (masks) => ((created.masks = masks), host.requestUpdate()),
      (err) => ((created.error = `A mask did not decode: ${(err as Error).message}`), host.requestUpdate()),
    );
    state = created;
  }
  return state;
}

function setActive(host: WidgetHost, state: State, index: number | undefined): void {
  if (state.active === index) return;
  state.active = index;
  host.requestUpdate();
}

/** The mask under a point of the image: the smallest one holding that pixel. */
function maskAt(state: State, fx: number, fy: number): number | undefined {
  let best: number | undefined;
  state.masks.forEach((mask, i) => {
    if (!mask) return;
    const x = Math.min(mask.width - 1, Math.floor(fx * mask.width));
    const y = Math.min(mask.height - 1, Math.floor(fy * mask.height));
    if (mask.inside[y * mask.width + x] && (best === undefined || mask.share < state.masks[best]!.share)) best = i;
  });
  return best;
}

const drawn = new WeakMap<HTMLCanvasElement, DecodedMask>();
function paint(mask: DecodedMask | undefined) {
  return (canvas: Element | undefined) => {
    if (!(canvas instanceof HTMLCanvasElement) || !mask || drawn.get(canvas) === mask) return;
    canvas.width = mask.width;
    canvas.height = mask.height;
    canvas.getContext('2d')!.putImageData(mask.tinted, 0, 0);
    drawn.set(canvas, mask);
  };
}

const percent = (value: number, digits = 0) => `${(value * 100).toFixed(digits)}%`;

function picture(host: WidgetHost, state: State, rows: Segment[]): TemplateResult {
  const media = host.media!;
  const W = media.width!;
  const H = media.height!;
  const onMove = (event: PointerEvent) => {
    const rect = (event.currentTarget as HTMLElement).getBoundingClientRect();
    setActive(host, state, maskAt(state, (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height));
  };
  return html`<div
    class="seg-stage ${state.active !== undefined ? 'has-active' : ''}"
    style="aspect-ratio: ${W} / ${H}; width: min(100%, ${W}px, ${(480 * W) / H}px)"
    @pointermove=${onMove}
    @pointerleave=${() => setActive(host, state, undefined)}
  >
    <img class="seg-image" src=${media.url} alt="The image, with ${rows.length} segment${rows.length === 1 ? '' : 's'} coloured" />
    ${rows.map((row, i) => {
      const mask = state.masks[i];
      return html`<canvas
        class="seg-mask ${state.active === i ? 'active' : ''}"
        data-index=${i}
        role="img"
        aria-label="Mask of ${row.label}${mask ? `, ${percent(mask.share, 1)} of the image` : ''}"
        ${ref(paint(mask))}
      ></canvas>`;
    })}
  </div>`;
}

function legend(host: WidgetHost, state: State, rows: Segment[]): TemplateResult {
  const colours = segmentColours(rows);
  return html`<ul class="seg-legend" aria-label="Segments">
    ${rows.map((row, i) => {
      const mask = state.masks[i];
      return html`<li>
        <button
          type="button"
          class="seg-entry ${state.active === i ? 'active' : ''}"
          data-index=${i}
          aria-pressed=${state.active === i ? 'true' : 'false'}
          @mouseenter=${() => setActive(host, state, i)}
          @mouseleave=${() => setActive(host, state, undefined)}
          @focus=${() => setActive(host, state, i)}
          @blur=${() => setActive(host, state, undefined)}
        >
          <span class="swatch" style="background: rgb(${colours[i]!.join(' ')})"></span>
          <span class="name">${row.label}</span>
          <span class="meta">${row.score === null ? '' : `score ${percent(row.score)} · `}${mask ? `${percent(mask.share, 1)} of pixels` : '…'}</span>
        </button>
      </li>`;
    })}
  </ul>`;
}

export const segmentationFamily: Family = {
  name: 'segmentation',
  tasks: ['image-segmentation'],
  media: () => 'image',
  initialInputs: () => ({}),
  renderInputs: () => html``,
  request: (host, parameters) => (host.media ? mediaRequest(host.media, parameters) : 'Choose an image.'),
  renderAnswer(host, answer) {
    const rows = segments(answer);
    if (!rows.length || !answer || typeof answer !== 'object') return html`<p class="hint">No segment found at this threshold.</p>`;
    const state = stateOf(host, answer, rows);
    const ready = host.media?.kind === 'image' && host.media.width && host.media.height;
    return html`<div class="seg-answer">
      ${ready ? picture(host, state, rows) : nothing} ${state.error ? html`<p class="error" role="alert">${state.error}</p>` : nothing}
      ${legend(host, state, rows)}
    </div>`;
  },
  styles: css`
    .seg-answer {
      display: grid;
      gap: 12px;
      min-width: 0;
    }
    .seg-stage {
      position: relative;
      max-width: 100%;
      line-height: 0;
    }
    .seg-image,
    .seg-mask {
      display: block;
      width: 100%;
      height: 100%;
    }
    .seg-mask {
      position: absolute;
      inset: 0;
      pointer-events: none;
      transition: opacity 0.12s;
    }
    .seg-stage.has-active .seg-mask:not(.active) {
      opacity: 0.12;
    }
    .seg-mask.active {
      filter: saturate(1.4) brightness(1.1);
    }
    .seg-legend {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
    }
    .seg-legend li {
      min-width: 0;
      max-width: 100%;
    }
    .seg-entry {
      display: flex;
      align-items: center;
      gap: 6px;
      max-width: 100%;
      padding: 4px 9px;
      font-size: 0.85rem;
      text-align: start;
    }
    .seg-entry.active {
      border-color: var(--le-accent);
      box-shadow: inset 0 0 0 1px var(--le-accent);
    }
    .seg-entry .name {
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    .seg-entry .meta {
      color: var(--le-muted);
      font-variant-numeric: tabular-nums;
      white-space: nowrap;
    }
    .seg-answer .swatch {
      flex: none;
      width: 12px;
      height: 12px;
      border-radius: 3px;
      box-shadow: inset 0 0 0 1px rgb(0 0 0 / 0.3);
    }
  `,
};
