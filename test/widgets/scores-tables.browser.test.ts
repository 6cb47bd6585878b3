/**
 * The similarity, embeddings, table and custom families in real Chromium: each widget, driven by
 * clicks, draws the real answer: similarity bars on a centred axis as long as |score|, texts
 * ranked by score, one heat strip per vector with its length and norm, the table's answer cells
 * highlighted, a custom handler's answer as a JSON tree.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { userEvent } from 'vitest/browser';
import { embeddingRows, l2norm, MAX_STRIPS } from '../../src/widgets/families/embeddings.ts';
import { leafText } from '../../src/widgets/families/custom.ts';
import { $, $$, barFraction, clickRun, expectAccessible, mount, screenshot, stopSharedEngine } from './harness.ts';
import type { LeWidget } from '../../src/widgets/index.ts';

afterAll(stopSharedEngine);

const ENCODER = 'local-endpoint/tiny-bert-encoder';

function noOverflow(widget: LeWidget) {
  const card = $(widget, '.card');
  expect(card.scrollWidth, 'the card scrolls sideways').toBeLessThanOrEqual(card.clientWidth);
}

/** A centred-axis bar: its length is |score| of the half track, on the score's side of the centre. */
function expectSignedBar(li: HTMLElement, score: number, scale = 1) {
  const fill = li.querySelector<HTMLElement>('.track.signed .fill')!;
  expect(barFraction(fill)).toBeCloseTo(Math.min(1, Math.abs(score) / scale) / 2, 2);
  const track = fill.parentElement!.getBoundingClientRect();
  const box = fill.getBoundingClientRect();
  const centre = track.left + track.width / 2;
  if (score < 0) {
    expect(fill.classList.contains('negative')).toBe(true);
    expect(box.right).toBeCloseTo(centre, 0);
  } else {
    expect(box.left).toBeCloseTo(centre, 0);
  }
}

/** Every leaf of a JSON value, by the tree's path names. */
function leaves(value: unknown, path = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object') return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

describe('similarity', () => {
  test('sentence-similarity: one bar per sentence, |score| from the centre, edited with Add and Remove', async () => {
    const widget = await mount('sentence-similarity', ENCODER);
    // The list editor: add a third sentence, type it, remove it again, add another.
    await userEvent.click($(widget, '.list-add'));
    expect($$(widget, '.list-items input').length).toBe(3);
    await userEvent.fill($$(widget, '.list-items input')[2]!, 'A sentence to remove');
    await userEvent.click($$(widget, '.list-remove')[2]!);
    await userEvent.click($(widget, '.list-add'));
    await userEvent.fill($$(widget, '.list-items input')[2]!, 'The weather is cold today');
    await widget.updateComplete;
    const answer = await clickRun(widget);
    const sent = (widget.answered!.json as { inputs: { sentences: string[] } }).inputs.sentences;
    expect(sent).toEqual(['Lets create an embedding', 'I live in Berlin', 'The weather is cold today']);
    const scores = Array.isArray(answer) ? (answer as number[]) : (answer as { similarities: number[] }).similarities;
    expect(scores.length).toBe(3);
    const items = $$(widget, '.similarity .bars li');
    expect(items.length).toBe(3);
    items.forEach((li, i) => {
      expect(li.querySelector('.name')!.textContent).toBe(sent[i]);
      expect(li.querySelector('.score')!.textContent).toBe(scores[i]!.toFixed(3));
      expectSignedBar(li, scores[i]!);
    });
    await expectAccessible(widget);
    await screenshot(widget, 'sentence-similarity');
  });

  test('ranking: texts best first, rank numbers, score bars', async () => {
    const widget = await mount('ranking', 'local-endpoint/tiny-bert-cross-encoder');
    await userEvent.click($(widget, '.list-add'));
    await userEvent.fill($$(widget, '.list-items input')[2]!, 'the weather in berlin is mild');
    await widget.updateComplete;
    const answer = (await clickRun(widget)) as { index: number; score: number; text?: string }[];
    const texts = (widget.answered!.json as { inputs: { texts: string[] } }).inputs.texts;
    expect(answer.length).toBe(3);
    const byScore = [...answer].sort((a, b) => b.score - a.score);
    const items = $$(widget, '.ranking li');
    expect(items.map((li) => Number(li.dataset.index))).toEqual(byScore.map((row) => row.index));
    items.forEach((li, i) => {
      expect(li.querySelector('.rank')!.textContent).toBe(`#${i + 1}`);
      expect(li.querySelector('.name')!.textContent).toContain(texts[byScore[i]!.index]!);
      expect(barFraction(li.querySelector<HTMLElement>('.fill')!)).toBeCloseTo(byScore[i]!.score, 2);
    });
    await expectAccessible(widget);
    await screenshot(widget, 'ranking');
  });
});

describe('embeddings', () => {
  async function expectStrips(widget: LeWidget, answer: unknown, texts: string[]) {
    const rows = embeddingRows(answer, texts);
    expect(rows.length).toBeGreaterThan(0);
    const strips = $$(widget, '.strip');
    expect(strips.length).toBe(Math.min(rows.length, MAX_STRIPS));
    strips.forEach((li, i) => {
      const vector = rows[i]!.vector;
      expect(Number(li.dataset.dims)).toBe(vector.length);
      expect(li.querySelector('.dims')!.textContent).toBe(String(vector.length));
      expect(li.querySelector('.norm')!.textContent).toBe(l2norm(vector).toFixed(3));
      const canvas = li.querySelector('canvas')!;
      expect(canvas.width).toBe(vector.length);
      expect(canvas.getAttribute('aria-label')).toContain(`${vector.length} dimensions, L2 norm ${l2norm(vector).toFixed(3)}`);
      // The reddest cell is the largest value, the bluest the smallest.
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, 1).data;
      const redness = (d: number) => pixels[d * 4]! - pixels[d * 4 + 2]!;
      const dims = vector.map((_, d) => d);
      const argmax = (f: (d: number) => number) => dims.reduce((best, d) => (f(d) > f(best) ? d : best), 0);
      expect(vector[argmax(redness)]).toBeCloseTo(Math.max(...vector), 5);
      expect(vector[argmax((d) => -redness(d))]).toBeCloseTo(Math.min(...vector), 5);
    });
    if (rows.length > MAX_STRIPS) expect($(widget, '.more').textContent).toContain(String(rows.length - MAX_STRIPS));
  }

  test('feature-extraction: one strip per token vector', async () => {
    const widget = await mount('feature-extraction', ENCODER);
    widget.parameterValues = { pooling: 'none' };
    const answer = await clickRun(widget);
    expect(Array.isArray((answer as number[][][])[0]![0])).toBe(true);
    await expectStrips(widget, answer, ['Lets create an embedding']);
    expect($(widget, '.strip .name').textContent).toBe('Token 1');
    await expectAccessible(widget);
    await screenshot(widget, 'feature-extraction');
  });

  test('sentence-embeddings: a batch of two lines, one strip each, in dark theme', async () => {
    const widget = await mount('sentence-embeddings', ENCODER, { theme: 'dark', inputs: { text: 'Lets create an embedding\nI live in Berlin' } });
    const answer = (await clickRun(widget)) as { embeddings: number[][] };
    expect(answer.embeddings.length).toBe(2);
    await expectStrips(widget, answer, ['Lets create an embedding', 'I live in Berlin']);
    expect($$(widget, '.strip .name').map((n) => n.textContent)).toEqual(['Lets create an embedding', 'I live in Berlin']);
    await expectAccessible(widget);
    await screenshot(widget, 'sentence-embeddings');
  });
});

describe('table', () => {
  function expectHighlights(widget: LeWidget, answer: { coordinates?: [number, number][]; cells?: string[] }) {
    const hits = $$(widget, '.table-view td.hit');
    expect(hits.length).toBe(answer.coordinates!.length);
    expect(hits.map((td) => td.querySelector('.cell-text')!.textContent)).toEqual(answer.cells);
    hits.forEach((td, i) => expect([Number(td.dataset.row), Number(td.dataset.column)]).toEqual(answer.coordinates![i]));
  }

  test('table-question-answering (TAPAS): the editor, the answer cells highlighted', async () => {
    const widget = await mount('table-question-answering', 'local-endpoint/tiny-tapas');
    expect($(widget, 'input[aria-label="Stars, row 2"]')).toBeTruthy();
    // Add a row and a column, fill them, remove the column again.
    await userEvent.click($(widget, '.add-row'));
    await userEvent.fill($(widget, 'input[aria-label="Repository, row 4"]'), 'Accelerate');
    await userEvent.fill($(widget, 'input[aria-label="Stars, row 4"]'), '5000');
    await userEvent.fill($(widget, 'input[aria-label="Contributors, row 4"]'), '90');
    await userEvent.fill($(widget, 'input[aria-label="Programming language, row 4"]'), 'Python');
    await userEvent.click($(widget, '.add-column'));
    expect($$(widget, '.table-editor thead input').length).toBe(5);
    await userEvent.click($(widget, 'button[aria-label="Remove column Column 5"]'));
    await widget.updateComplete;
    const answer = (await clickRun(widget)) as { answer: string; coordinates: [number, number][]; cells: string[]; aggregator?: string };
    const table = (widget.answered!.json as { inputs: { table: Record<string, string[]> } }).inputs.table;
    expect(table.Repository).toEqual(['Transformers', 'Datasets', 'Tokenizers', 'Accelerate']);
    expect(Object.keys(table).length).toBe(4);
    expectHighlights(widget, answer);
    expect($(widget, '.answer-text').textContent).toBe(answer.answer || '(empty)');
    if (answer.aggregator) expect($(widget, '.aggregator').textContent).toBe(answer.aggregator);
    await expectAccessible(widget);
    $(widget, '.table-scroll').scrollLeft = 0;
    await screenshot(widget, 'table-question-answering');
  });

  test('table-question-answering (TAPEX) at 390 px: no sideways overflow, the table scrolls in its region', async () => {
    const widget = await mount('table-question-answering', 'local-endpoint/tiny-tapex', { width: 390 });
    const answer = (await clickRun(widget, 180_000)) as { answer: string };
    expect(typeof answer.answer).toBe('string');
    expect($(widget, '.answer-text').textContent).toBe(answer.answer || '(empty)');
    // The cells shown as the answer are those equal to it (or to its parts).
    const parts = new Set([answer.answer, ...answer.answer.split(',')].map((t) => t.trim().toLowerCase()));
    for (const td of $$(widget, '.table-view td.hit')) expect(parts.has(td.querySelector('.cell-text')!.textContent!.trim().toLowerCase())).toBe(true);
    noOverflow(widget);
    const region = $(widget, '.table-scroll');
    expect(region.getAttribute('role')).toBe('region');
    expect(region.scrollWidth).toBeGreaterThan(region.clientWidth);
    await expectAccessible(widget);
    await screenshot(widget, 'table-question-answering-390');
  });
});

describe('custom', () => {
  test('custom: the body as typed; the answer as a JSON tree', async () => {
    const widget = await mount('custom', 'local-endpoint/tiny-handler-text');
    const body = JSON.parse(($(widget, 'textarea') as HTMLTextAreaElement).value);
    expect(body).toEqual({ inputs: 'This is a sample input', moreData: 1, customTask: true });
    const answer = await clickRun(widget);
    expect(widget.answered!.json).toEqual(body);
    const found = leaves(answer);
    expect(found.length).toBeGreaterThan(2);
    for (const [path, value] of found) {
      const node = widget.shadowRoot!.querySelector(`.json-value[data-path="${path}"]`)!;
      expect(node, path).toBeTruthy();
      expect(node.textContent).toBe(leafText(value));
    }
    // Strings are quoted; keys beside their values.
    expect(widget.shadowRoot!.querySelector('.json-value[data-path="text"]')!.textContent).toBe('"This is a sample input"');
    await expectAccessible(widget);
    await screenshot(widget, 'custom');
  });

  test('custom at 390 px, dark: a bad body is a clear message, a good one answers', async () => {
    const widget = await mount('custom', 'local-endpoint/tiny-handler-text', { width: 390, theme: 'dark' });
    const field = $(widget, 'textarea');
    await userEvent.clear(field);
    await userEvent.fill(field, '["not", "an object"]');
    await userEvent.click($(widget, 'button.run'));
    await widget.updateComplete;
    expect($(widget, '.error').textContent).toContain('JSON object');
    await userEvent.clear(field);
    await userEvent.fill(field, '{"inputs": "Hello   world", "tags": ["a", "b"], "nested": {"deep": {"value": null}}}');
    const answer = (await clickRun(widget)) as { extra: unknown };
    expect(answer.extra).toEqual({ tags: ['a', 'b'], nested: { deep: { value: null } } });
    expect(widget.shadowRoot!.querySelector('.json-value[data-path="extra.nested.deep.value"]')!.textContent).toBe('null');
    noOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'custom-dark');
  });
});

describe('narrow', () => {
  test('sentence-similarity at 390 px: no sideways overflow', async () => {
    const widget = await mount('sentence-similarity', ENCODER, { width: 390 });
    await clickRun(widget);
    noOverflow(widget);
    await screenshot(widget, 'sentence-similarity-390');
  });

  test('ranking with raw_scores at 390 px: logits on a centred axis, scaled to the largest', async () => {
    const widget = await mount('ranking', 'local-endpoint/tiny-bert-cross-encoder', { width: 390 });
    widget.parameterValues = { raw_scores: true };
    const answer = (await clickRun(widget)) as { index: number; score: number }[];
    expect((widget.answered!.json as { parameters: Record<string, unknown> }).parameters).toEqual({ return_documents: true, raw_scores: true });
    const byScore = [...answer].sort((a, b) => b.score - a.score);
    const scale = Math.max(...answer.map((row) => Math.abs(row.score)));
    const items = $$(widget, '.ranking li');
    expect(items.map((li) => Number(li.dataset.index))).toEqual(byScore.map((row) => row.index));
    if (answer.some((row) => row.score < 0 || row.score > 1)) items.forEach((li, i) => expectSignedBar(li, byScore[i]!.score, scale));
    noOverflow(widget);
    await screenshot(widget, 'ranking-raw-390');
  });
});
