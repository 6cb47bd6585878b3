/**
 * Object detection: the image once, one outlined box per detection on top of it (placed in % of
 * the image's natural size, so they scale with it), each with a label tag placed where it stays
 * legible, and a list of the detections with score bars. Hovering or focusing a box or its list
 * entry highlights both.
 */
import { css, html, nothing, type TemplateResult } from 'lit';
import { ref } from 'lit/directives/ref.js';
import { mediaRequest } from '../parts/media-body.js';
import { labelColour } from '../styles.js';
import type { Family, WidgetHost } from '../types.js';

/** One detection of the answer, in the image's pixels. */
export interface Detection {
  label: string;
  score: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
}

/** Most tags shown at once without hovering (the rest show on hover or focus). */
export const MAX_TAGS = 8;

/** The answer's detections (`[{label, score, box}]`; anything else gives none). */
export function detections(answer: unknown): Detection[] {
  if (!Array.isArray(answer)) return [];
  return answer
    .filter((row) => row && typeof row === 'object' && row.box)
    .map((row: Detection) => ({ label: String(row.label ?? ''), score: Number(row.score ?? 0), box: row.box }));
}

/** A box clamped to the image and as fractions (0–1) of its size. */
export function boxFractions(box: Detection['box'], width: number, height: number): { left: number; top: number; right: number; bottom: number } {
  const fx = (v: number) => Math.min(Math.max(v / width, 0), 1);
  const fy = (v: number) => Math.min(Math.max(v / height, 0), 1);
  const left = fx(Math.min(box.xmin, box.xmax));
  const top = fy(Math.min(box.ymin, box.ymax));
  return { left, top, right: Math.max(left, fx(Math.max(box.xmin, box.xmax))), bottom: Math.max(top, fy(Math.max(box.ymin, box.ymax))) };
}

/** The label's colour as RGB 0–255 (labelColour's `hsl(h 70% 50%)`, or another lightness). */
export function labelRgb(label: string, l = 0.5): [number, number, number] {
  const hue = Number(/hsl\((\d+(?:\.\d+)?)/.exec(labelColour(label))?.[1] ?? 0);
  const s = 0.7;
  const f = (n: number) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Black or white, whichever reads better on the label's colour (always ≥ 4.5:1). */
export function inkOn(label: string): string {
  const lin = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const [r, g, b] = labelRgb(label).map(lin) as [number, number, number];
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? '#000' : '#fff';
}

const percent = (score: number) => `${Math.round(score * 100)}%`;

/** Which detection is highlighted, per answer. */
const active = new WeakMap<object, number | undefined>();

function setActive(host: WidgetHost, answer: object, index: number | undefined): void {
  if (active.get(answer) === index) return;
  active.set(answer, index);
  host.requestUpdate();
}

/**
 * Places the tags so they stay legible: best score first, each above its box, else inside its
 * top, else below it, shifted down past tags already placed; a tag that finds no free place (or
 * beyond MAX_TAGS) is hidden until its box is hovered or focused.
 */
export function placeTags(stage: HTMLElement): void {
  const width = stage.clientWidth;
  const height = stage.clientHeight;
  if (!width || !height) return;
  const tags = [...stage.querySelectorAll<HTMLElement>('.det-tag')];
  const placed: { x: number; y: number; w: number; h: number }[] = [];
  const collides = (r: { x: number; y: number; w: number; h: number }) =>
    placed.some((p) => r.x < p.x + p.w && p.x < r.x + r.w && r.y < p.y + p.h && p.y < r.y + r.h);
  // Measured while shown (a spare tag is not displayed, so it has no size).
  for (const tag of tags) tag.classList.remove('spare');
  for (const tag of tags) {
    const box = stage.querySelector<HTMLElement>(`.det-box[data-index="${tag.dataset.index}"]`)!;
    const bx = box.offsetLeft;
    const by = box.offsetTop;
    const bh = box.offsetHeight;
    const w = Math.min(tag.offsetWidth, width);
    const h = Math.max(tag.offsetHeight, 1);
    const x = Math.min(Math.max(bx, 0), width - w);
    let spot: { x: number; y: number; w: number; h: number } | undefined;
    if (Number(tag.dataset.rank) < MAX_TAGS) {
      const tries = [by - h, by, by + bh];
      for (let y = by + h; y + h <= by + bh; y += h) tries.push(y);
      spot = tries.map((y) => ({ x, y, w, h })).find((r) => r.y >= 0 && r.y + h <= height && !collides(r));
    }
    const y = spot?.y ?? (by - h >= 0 ? by - h : Math.min(by, height - h));
    tag.style.left = `${x}px`;
    tag.style.top = `${y}px`;
    tag.classList.toggle('spare', !spot);
    if (spot) placed.push(spot);
  }
}

const observed = new WeakSet<Element>();
function watch(stage: Element | undefined): void {
  if (!(stage instanceof HTMLElement)) return;
  queueMicrotask(() => placeTags(stage));
  if (observed.has(stage)) return;
  observed.add(stage);
  new ResizeObserver(() => placeTags(stage)).observe(stage);
}

function picture(host: WidgetHost, answer: object, rows: Detection[]): TemplateResult {
  const media = host.media!;
  const W = media.width!;
  const H = media.height!;
  const on = active.get(answer);
  const ranked = rows.map((_, i) => i).sort((a, b) => rows[b]!.score - rows[a]!.score);
  const rank = new Map(ranked.map((index, r) => [index, r]));
  const hover = (index: number | undefined) => () => setActive(host, answer, index);
  // Smaller boxes lie above larger ones, so each can be pointed at.
  const area = (d: Detection) => Math.abs((d.box.xmax - d.box.xmin) * (d.box.ymax - d.box.ymin));
  const layer = new Map(rows.map((_, i) => i).sort((a, b) => area(rows[b]!) - area(rows[a]!)).map((index, z) => [index, z + 1]));
  return html`<div
    class="det-stage ${on !== undefined ? 'has-active' : ''} ${rows.length > MAX_TAGS ? 'crowded' : ''}"
    style="aspect-ratio: ${W} / ${H}; width: min(100%, ${W}px, ${(480 * W) / H}px)"
    ${ref(watch)}
  >
    <img class="det-image" src=${media.url} alt="The image, with ${rows.length} detected object${rows.length === 1 ? '' : 's'} outlined" />
    <div class="det-boxes">
    ${rows.map((row, i) => {
      const f = boxFractions(row.box, W, H);
      return html`<button
        type="button"
        class="det-box ${on === i ? 'active' : ''}"
        data-index=${i}
        style="left: ${f.left * 100}%; top: ${f.top * 100}%; width: ${(f.right - f.left) * 100}%; height: ${(f.bottom - f.top) * 100}%; z-index: ${layer.get(i)}; --c: ${labelColour(row.label)}"
        aria-label="${row.label} ${percent(row.score)}, at ${row.box.xmin},${row.box.ymin} to ${row.box.xmax},${row.box.ymax}"
        @mouseenter=${hover(i)}
        @mouseleave=${hover(undefined)}
        @focus=${hover(i)}
        @blur=${hover(undefined)}
      ></button>`;
    })}
    </div>
    <div class="det-tags">
    ${ranked.map(
      (i) => html`<span
        class="det-tag ${on === i ? 'active' : ''}"
        aria-hidden="true"
        data-index=${i}
        data-rank=${rank.get(i)!}
        style="background: ${labelColour(rows[i]!.label)}; color: ${inkOn(rows[i]!.label)}"
        >${rows[i]!.label} ${percent(rows[i]!.score)}</span
      >`,
    )}
    </div>
  </div>`;
}

function list(host: WidgetHost, answer: object, rows: Detection[]): TemplateResult {
  const on = active.get(answer);
  const hover = (index: number | undefined) => () => setActive(host, answer, index);
  return html`<ol class="det-list" aria-label="Detections, by score">
    ${rows.map(
      (row, i) => html`<li class=${on === i ? 'active' : ''} data-index=${i} @mouseenter=${hover(i)} @mouseleave=${hover(undefined)}>
        <button type="button" class="det-item" @focus=${hover(i)} @blur=${hover(undefined)}>
          <span class="swatch" style="background: ${labelColour(row.label)}"></span>
          <span class="name">${row.label}</span>
          <span class="score">${percent(row.score)}</span>
        </button>
        <div class="track" role="meter" aria-label=${row.label} aria-valuemin="0" aria-valuemax="1" aria-valuenow=${row.score} aria-valuetext=${percent(row.score)}>
          <div class="fill" style="width: ${Math.max(0, Math.min(1, row.score)) * 100}%; background: ${labelColour(row.label)}"></div>
        </div>
      </li>`,
    )}
  </ol>`;
}

export const detectionFamily: Family = {
  name: 'detection',
  tasks: ['object-detection'],
  media: () => 'image',
  initialInputs: () => ({}),
  renderInputs: () => html``,
  request: (host, parameters) => (host.media ? mediaRequest(host.media, parameters) : 'Choose an image.'),
  renderAnswer(host, answer) {
    const rows = detections(answer);
    const ready = host.media?.kind === 'image' && host.media.width && host.media.height && answer && typeof answer === 'object';
    return html`<div class="det-answer">
      ${ready ? picture(host, answer as object, rows) : nothing}
      ${rows.length ? list(host, answer as object, rows) : html`<p class="hint">No object found at this threshold.</p>`}
    </div>`;
  },
  styles: css`
    .det-answer {
      display: grid;
      gap: 12px;
      min-width: 0;
    }
    .det-stage {
      position: relative;
      isolation: isolate;
      max-width: 100%;
      line-height: 1;
    }
    .det-image {
      display: block;
      width: 100%;
      height: 100%;
      border-radius: 4px;
    }
    .det-boxes,
    .det-tags {
      position: absolute;
      inset: 0;
    }
    .det-boxes {
      z-index: 0;
    }
    .det-tags {
      z-index: 1;
      pointer-events: none;
    }
    .det-box {
      position: absolute;
      margin: 0;
      padding: 0;
      min-width: 2px;
      min-height: 2px;
      border: 2px solid var(--c);
      border-radius: 2px;
      background: transparent;
      box-shadow: 0 0 0 1px rgb(0 0 0 / 0.55), inset 0 0 0 1px rgb(0 0 0 / 0.35);
      cursor: default;
    }
    .det-stage.crowded .det-box {
      border-width: 1px;
    }
    .det-stage.has-active .det-box:not(.active) {
      opacity: 0.3;
    }
    .det-box.active {
      border-width: 3px;
      background: color-mix(in srgb, var(--c) 18%, transparent);
      z-index: 10000 !important;
    }
    .det-tag {
      position: absolute;
      left: 0;
      top: 0;
      max-width: 100%;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      font-size: 0.72rem;
      font-weight: 600;
      line-height: 1.25;
      padding: 1px 5px;
      border-radius: 3px;
      pointer-events: none;
      box-shadow: 0 1px 2px rgb(0 0 0 / 0.4);
      z-index: 1;
    }
    .det-tag.spare:not(.active) {
      display: none;
    }
    .det-stage.has-active .det-tag:not(.active) {
      opacity: 0.25;
    }
    .det-tag.active {
      z-index: 2;
    }
    .det-list {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, 200px), 1fr));
      gap: 4px 14px;
      max-height: 18em;
      overflow-y: auto;
    }
    .det-list li {
      display: grid;
      gap: 2px;
      padding: 3px 4px;
      border-radius: 4px;
      font-size: 0.85rem;
      min-width: 0;
    }
    .det-list li.active {
      background: var(--le-surface);
      outline: 1px solid var(--le-border);
    }
    .det-item {
      display: grid;
      grid-template-columns: auto minmax(0, 1fr) auto;
      align-items: center;
      gap: 6px;
      border: 0;
      background: transparent;
      padding: 0;
      text-align: start;
    }
    .det-item .name {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .det-item .score {
      font-variant-numeric: tabular-nums;
      color: var(--le-muted);
    }
    .det-answer .swatch {
      width: 12px;
      height: 12px;
      border-radius: 3px;
      box-shadow: inset 0 0 0 1px rgb(0 0 0 / 0.3);
    }
    .det-list .track {
      height: 6px;
    }
  `,
};
