/**
 * The labels family in real Chromium: each classification task's widget, driven by a click, draws
 * one bar per label of the real answer, each as wide as its score.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { scoredLabels } from '../../src/widgets/families/labels.ts';
import { $$, SPEECH, TIGER, barFraction, clickRun, expectAccessible, mount, screenshot, stopSharedEngine } from './harness.ts';

afterAll(stopSharedEngine);

function expectBarsFollowScores(widget: HTMLElement & { shadowRoot: ShadowRoot | null }, answer: unknown) {
  const rows = scoredLabels(answer);
  expect(rows.length).toBeGreaterThan(0);
  const items = [...widget.shadowRoot!.querySelectorAll<HTMLElement>('.bars li')];
  expect(items.map((li) => li.dataset.label)).toEqual(rows.map((r) => r.label));
  items.forEach((li, i) => {
    expect(barFraction(li.querySelector<HTMLElement>('.fill')!)).toBeCloseTo(rows[i]!.score, 2);
    expect(li.querySelector('.score')!.textContent).toBe(`${(rows[i]!.score * 100).toFixed(1)}%`);
  });
}

describe('label bars', () => {
  test('text-classification: one bar per label, widths the scores', async () => {
    const widget = await mount('text-classification', 'local-endpoint/tiny-bert-multilabel');
    widget.parameterValues = { top_k: '3' };
    const answer = await clickRun(widget);
    expect(Array.isArray(answer)).toBe(true);
    expectBarsFollowScores(widget, answer);
    expect($$(widget, '.badge .pill.local').length).toBe(1);
    await expectAccessible(widget);
    await screenshot(widget, 'text-classification');
  });

  test('zero-shot-classification: the candidate labels, scored', async () => {
    const widget = await mount('zero-shot-classification', 'local-endpoint/tiny-bert-nli');
    const answer = (await clickRun(widget)) as { labels: string[] };
    expect([...answer.labels].sort()).toEqual(['faq', 'legal', 'refund']);
    expectBarsFollowScores(widget, answer);
    await screenshot(widget, 'zero-shot-classification');
  });

  test('image-classification: the tiger photo, as the raw body', async () => {
    const widget = await mount('image-classification', 'local-endpoint/tiny-vit-classifier', { samples: { image: [TIGER] } });
    const answer = await clickRun(widget);
    expect(widget.answered?.media?.type).toBe('image/jpeg');
    expectBarsFollowScores(widget, answer);
    await expectAccessible(widget);
    await screenshot(widget, 'image-classification');
  });

  test('audio-classification: the speech sample', async () => {
    const widget = await mount('audio-classification', 'local-endpoint/tiny-wav2vec2-classifier', { samples: { audio: [SPEECH] } });
    const answer = await clickRun(widget);
    expectBarsFollowScores(widget, answer);
    await screenshot(widget, 'audio-classification');
  });
});
