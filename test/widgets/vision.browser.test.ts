/**
 * The detection and segmentation families in real Chromium: the tiger photo, run through the tiny
 * YOLOS, SegFormer and MaskFormer models, drawn as boxes and masks over the image. The DOM is
 * checked against the real answer: one overlay per box or mask, inside the image, where the answer
 * puts it; each mask's canvas coloured exactly where its PNG is white.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { userEvent } from 'vitest/browser';
import { boxFractions, detections } from '../../src/widgets/families/detection.ts';
import { pngPixels, segments } from '../../src/widgets/families/segmentation.ts';
import type { LeWidget } from '../../src/widgets/index.ts';
import { $, $$, TIGER, clickRun, expectAccessible, mount, screenshot, stopSharedEngine } from './harness.ts';

afterAll(stopSharedEngine);

const samples = { image: [TIGER] };

function expectInside(inner: DOMRect, outer: DOMRect) {
  expect(inner.left).toBeGreaterThanOrEqual(outer.left - 1);
  expect(inner.top).toBeGreaterThanOrEqual(outer.top - 1);
  expect(inner.right).toBeLessThanOrEqual(outer.right + 1);
  expect(inner.bottom).toBeLessThanOrEqual(outer.bottom + 1);
}

function expectNoOverflow(widget: LeWidget) {
  const card = $(widget, '.card');
  expect(card.scrollWidth).toBeLessThanOrEqual(card.clientWidth);
}

/** Runs until the image's natural size is known (the widget reads it when the sample is chosen). */
async function run(widget: LeWidget): Promise<unknown> {
  const answer = await clickRun(widget);
  await expect.poll(() => widget.media?.width).toBeTruthy();
  await widget.updateComplete;
  return answer;
}

async function checkBoxes(widget: LeWidget, answer: unknown) {
  const rows = detections(answer);
  expect(rows.length).toBeGreaterThan(0);
  const image = $(widget, '.det-image').getBoundingClientRect();
  const { width: W, height: H } = widget.media!;
  expect(image.width / image.height).toBeCloseTo(W! / H!, 1);
  const boxes = $$(widget, '.det-box');
  expect(boxes.length).toBe(rows.length);
  boxes.forEach((box, i) => {
    const row = rows[i]!;
    const rect = box.getBoundingClientRect();
    expectInside(rect, image);
    const f = boxFractions(row.box, W!, H!);
    expect(Math.abs(rect.left - (image.left + f.left * image.width))).toBeLessThanOrEqual(2);
    expect(Math.abs(rect.top - (image.top + f.top * image.height))).toBeLessThanOrEqual(2);
    expect(Math.abs(rect.right - (image.left + f.right * image.width))).toBeLessThanOrEqual(2);
    expect(Math.abs(rect.bottom - (image.top + f.bottom * image.height))).toBeLessThanOrEqual(2);
    expect(box.getAttribute('tabindex') ?? '0').toBe('0');
    expect(box.getAttribute('aria-label')).toBe(
      `${row.label} ${Math.round(row.score * 100)}%, at ${row.box.xmin},${row.box.ymin} to ${row.box.xmax},${row.box.ymax}`,
    );
  });
  const items = $$(widget, '.det-list li');
  expect(items.map((li) => li.querySelector('.name')!.textContent)).toEqual(rows.map((r) => r.label));
  // Shown tags do not overlap each other and stay inside the image.
  const shown = $$(widget, '.det-tag:not(.spare)').map((tag) => tag.getBoundingClientRect());
  expect(shown.length).toBeGreaterThan(0);
  for (const [a, tag] of shown.entries()) {
    expectInside(tag, image);
    for (const other of shown.slice(a + 1)) {
      const overlap = tag.left < other.right - 0.5 && other.left < tag.right - 0.5 && tag.top < other.bottom - 0.5 && other.top < tag.bottom - 0.5;
      expect(overlap).toBe(false);
    }
  }
}

async function checkMasks(widget: LeWidget, answer: unknown) {
  const rows = segments(answer);
  expect(rows.length).toBeGreaterThan(0);
  // The legend's shares appear once every mask has decoded and been drawn.
  await expect.poll(() => $$(widget, '.seg-entry .meta').every((m) => m.textContent!.includes('of pixels'))).toBe(true);
  const image = $(widget, '.seg-image').getBoundingClientRect();
  const canvases = $$(widget, '.seg-mask') as HTMLCanvasElement[];
  expect(canvases.length).toBe(rows.length);
  for (const [i, canvas] of canvases.entries()) {
    const rect = canvas.getBoundingClientRect();
    expectInside(rect, image);
    expect(Math.abs(rect.width - image.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(rect.height - image.height)).toBeLessThanOrEqual(1);
    expect(canvas.width / canvas.height).toBeCloseTo(widget.media!.width! / widget.media!.height!, 2);
    const mask = await pngPixels(rows[i]!.mask);
    expect([canvas.width, canvas.height]).toEqual([mask.width, mask.height]);
    const drawn = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let mismatches = 0;
    let white = 0;
    for (let p = 0; p < mask.width * mask.height; p++) {
      const inside = mask.data[p * 4]! >= 128;
      if (inside) white++;
      if (inside !== drawn[p * 4 + 3]! > 0) mismatches++;
    }
    expect(mismatches, `mask ${i} (${rows[i]!.label}) drawn where its PNG is white`).toBe(0);
    const meta = $$(widget, '.seg-entry .meta')[i]!.textContent!;
    expect(meta).toContain(`${((white / (mask.width * mask.height)) * 100).toFixed(1)}% of pixels`);
  }
  const names = $$(widget, '.seg-entry .name').map((n) => n.textContent);
  expect(names).toEqual(rows.map((r) => r.label));
  // Hovering a legend entry marks that mask and dims the others.
  const last = rows.length - 1;
  await userEvent.hover($$(widget, '.seg-entry')[last]!);
  await widget.updateComplete;
  expect(canvases.map((c) => c.classList.contains('active'))).toEqual(rows.map((_, i) => i === last));
  expect($(widget, '.seg-stage').classList.contains('has-active')).toBe(true);
  expect($$(widget, '.seg-entry')[last]!.getAttribute('aria-pressed')).toBe('true');
  await userEvent.hover($(widget, 'h2')); // away from the legend and the image
  await widget.updateComplete;
  expect($(widget, '.seg-stage').classList.contains('has-active')).toBe(false);
}

describe('detection', () => {
  test('object-detection: one box per detection, where the answer puts it', async () => {
    const widget = await mount('object-detection', 'local-endpoint/tiny-yolos', { samples });
    widget.parameterValues = { threshold: '0' };
    const answer = await run(widget);
    await checkBoxes(widget, answer);
    // Hovering a list entry highlights it and its box; hovering the smallest box (on top) too.
    const isActive = () => [$$(widget, '.det-box'), $$(widget, '.det-list li')].map((all) => all.map((e) => e.classList.contains('active')));
    const only = (index: number) => [0, 1].map(() => detections(answer).map((_, i) => i === index));
    await userEvent.hover($$(widget, '.det-list li')[0]!);
    await widget.updateComplete;
    expect(isActive()).toEqual(only(0));
    const rows = detections(answer);
    const area = (i: number) => (rows[i]!.box.xmax - rows[i]!.box.xmin) * (rows[i]!.box.ymax - rows[i]!.box.ymin);
    const sized = rows.map((_, i) => i).filter((i) => Math.min($$(widget, '.det-box')[i]!.getBoundingClientRect().width, $$(widget, '.det-box')[i]!.getBoundingClientRect().height) >= 8);
    const smallest = sized.sort((a, b) => area(a) - area(b))[0]!;
    await userEvent.unhover($$(widget, '.det-list li')[0]!);
    // Focusing a box (as Tab does) highlights it and its entry.
    $$(widget, '.det-box')[smallest]!.focus();
    await widget.updateComplete;
    expect(isActive()).toEqual(only(smallest));
    await screenshot(widget, 'object-detection-focus');
    $$(widget, '.det-box')[smallest]!.blur();
    await widget.updateComplete;
    await expectAccessible(widget);
    await screenshot(widget, 'object-detection');
  }, 240_000);

  test('object-detection: dark, 390 px wide', async () => {
    const widget = await mount('object-detection', 'local-endpoint/tiny-yolos', { samples, theme: 'dark', width: 390 });
    widget.parameterValues = { threshold: '0' };
    const answer = await run(widget);
    await checkBoxes(widget, answer);
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'object-detection-dark-390');
  });
});

describe('segmentation', () => {
  test('image-segmentation: semantic masks, one canvas each, coloured where white', async () => {
    const widget = await mount('image-segmentation', 'local-endpoint/tiny-segformer', { samples });
    const answer = await run(widget);
    await checkMasks(widget, answer);
    await expectAccessible(widget);
    await screenshot(widget, 'image-segmentation');
    await userEvent.hover($$(widget, '.seg-entry')[0]!);
    await widget.updateComplete;
    await screenshot(widget, 'image-segmentation-hover');
  });

  test('image-segmentation: panoptic masks (MaskFormer)', async () => {
    const widget = await mount('image-segmentation', 'local-endpoint/tiny-maskformer', { samples });
    widget.parameterValues = { threshold: '0' };
    const answer = await run(widget);
    await checkMasks(widget, answer);
    await screenshot(widget, 'image-segmentation-panoptic');
  });

  test('image-segmentation: dark, 390 px wide', async () => {
    const widget = await mount('image-segmentation', 'local-endpoint/tiny-segformer', { samples, theme: 'dark', width: 390 });
    const answer = await run(widget);
    await checkMasks(widget, answer);
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'image-segmentation-dark');
    await screenshot(widget, 'image-segmentation-390');
  });
});
