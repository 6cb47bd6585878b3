/**
 * The text-span families in real Chromium: entities marked in the text (token classification),
 * the answer's span in the context (question answering), and each fill-mask candidate in the
 * mask's place, all checked against the real answer's offsets and scores.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { entitiesOf, spanLayout } from '../../src/widgets/families/entities.ts';
import { candidateGroups, maskPlaces } from '../../src/widgets/families/fill-mask.ts';
import { spanAnswers } from '../../src/widgets/families/question-answering.ts';
import type { LeWidget } from '../../src/widgets/index.ts';
import { $, $$, barFraction, clickRun, expectAccessible, mount, screenshot, stopSharedEngine } from './harness.ts';

afterAll(stopSharedEngine);

function expectNoOverflow(widget: LeWidget) {
  const card = $(widget, '.card');
  expect(card.scrollWidth, 'the card overflows sideways').toBeLessThanOrEqual(card.clientWidth);
}

/** The token-classification widget's answer, checked mark by mark against the text sent. */
async function runEntities(widget: LeWidget) {
  const answer = await clickRun(widget);
  const text = (widget.answered!.json as { inputs: string }).inputs;
  expect(text).toBe(String(widget.inputs.text));
  const entities = entitiesOf(answer);
  expect(entities.length, 'the answer has entities with offsets').toBeGreaterThan(0);
  // The shown text is the input, every character, marks included.
  expect($(widget, '.ent-text').textContent).toBe(text);
  const marks = $$(widget, 'mark.ent');
  const sorted = [...entities].sort((a, b) => a.start - b.start);
  expect(marks.length).toBe(sorted.length);
  marks.forEach((mark, i) => {
    const entity = sorted[i]!;
    expect(mark.textContent).toBe(text.slice(entity.start, entity.end));
    expect(Number(mark.dataset.start)).toBe(entity.start);
    expect(mark.dataset.label).toBe(entity.label);
    expect(mark.getAttribute('aria-label')).toContain(`${entity.label}: ${text.slice(entity.start, entity.end)}`);
    expect(mark.title).toContain(entity.score.toFixed(2));
  });
  // Between the marks: plain text nodes only.
  const between = [...$(widget, '.ent-text').childNodes].filter((node) => node.nodeType === Node.ELEMENT_NODE && (node as Element).tagName !== 'MARK');
  expect(between).toEqual([]);
  const legend = $$(widget, '.ent-legend li').map((li) => li.dataset.type);
  expect(legend.sort()).toEqual([...new Set(entities.map((e) => e.type))].sort());
  return { answer, text, entities };
}

describe('entities', () => {
  test('spanLayout: unsorted and overlapping spans, the text kept whole', () => {
    const text = 'abcdefghij';
    const pieces = spanLayout(text, [
      { start: 6, end: 8 },
      { start: 0, end: 3 },
      { start: 2, end: 5 },
      { start: 9, end: 20 },
      { start: 4, end: 4 },
    ]);
    expect(pieces.map((p) => p.text).join('')).toBe(text);
    expect(pieces.filter((p) => p.span).map((p) => p.text)).toEqual(['abc', 'gh']);
  });

  test('token-classification (BERT): one mark per entity, from its offsets', async () => {
    const widget = await mount('token-classification', 'local-endpoint/tiny-bert-ner');
    widget.parameterValues = { aggregation_strategy: 'simple' };
    const { answer } = await runEntities(widget);
    expect((answer as { entity_group?: string }[])[0]!.entity_group).toBeDefined();
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'token-classification');
  });

  test('token-classification (RoBERTa), per token, at 390 px', async () => {
    const widget = await mount('token-classification', 'local-endpoint/tiny-roberta-ner', { width: 390 });
    widget.parameterValues = { aggregation_strategy: 'none' };
    const { answer } = await runEntities(widget);
    expect((answer as { entity?: string }[])[0]!.entity).toBeDefined();
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'token-classification-390');
  });
});

describe('answer span', () => {
  test('question-answering: the answer marked in the context', async () => {
    const widget = await mount('question-answering', 'local-endpoint/tiny-bert-qa');
    const answer = await clickRun(widget);
    const context = String(widget.inputs.context);
    const [best] = spanAnswers(answer);
    expect(best).toBeDefined();
    expect($(widget, '.qa-context').textContent).toBe(context);
    const marks = $$(widget, 'mark.qa-span');
    expect(marks.length).toBe(best!.end > best!.start ? 1 : 0);
    if (marks.length) {
      expect(marks[0]!.textContent).toBe(context.slice(best!.start, best!.end));
      expect(marks[0]!.textContent).toBe(best!.answer);
      expect(marks[0]!.classList.contains('best')).toBe(true);
    }
    expect($(widget, '.qa-best-text').textContent).toBe(best!.answer || '(no answer)');
    expect($(widget, '.qa-score').textContent).toBe(`${(best!.score * 100).toFixed(1)}%`);
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'question-answering');
  });

  test('question-answering, top_k 3, dark: each answer marked unless it overlaps a better one; bars', async () => {
    const widget = await mount('question-answering', 'local-endpoint/tiny-bert-qa', { theme: 'dark' });
    widget.parameterValues = { top_k: '3' };
    const answer = await clickRun(widget);
    const context = String(widget.inputs.context);
    const answers = spanAnswers(answer);
    expect(answers.length).toBe(3);
    expect($(widget, '.qa-context').textContent).toBe(context);
    const kept = spanLayout(context, answers).flatMap((p) => (p.span ? [p.span] : []));
    const marks = $$(widget, 'mark.qa-span');
    expect(marks.length).toBe(kept.length);
    expect(marks.length).toBeGreaterThan(0);
    marks.forEach((mark, i) => {
      const span = kept[i]!;
      expect(Number(mark.dataset.rank)).toBe(span.rank);
      expect(mark.textContent).toBe(context.slice(span.start, span.end));
      expect(mark.classList.contains('best')).toBe(span.rank === 1);
    });
    const unmarked = answers.filter((a) => a.end > a.start && !kept.some((k) => k.rank === a.rank)).map((a) => a.rank);
    if (unmarked.length) expect($(widget, '.qa-overlap').textContent).toContain(unmarked.join(', '));
    else expect($$(widget, '.qa-overlap')).toEqual([]);
    const rows = $$(widget, '.bars li');
    expect(rows.length).toBe(3);
    rows.forEach((row, i) => expect(barFraction(row.querySelector<HTMLElement>('.fill')!)).toBeCloseTo(answers[i]!.score, 2));
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'question-answering-dark');
  });

  test('question-answering (RoBERTa) at 390 px: no sideways overflow', async () => {
    const widget = await mount('question-answering', 'local-endpoint/tiny-roberta-qa', { width: 390 });
    widget.parameterValues = { top_k: '2' };
    const answer = await clickRun(widget);
    const context = String(widget.inputs.context);
    expect($(widget, '.qa-context').textContent).toBe(context);
    for (const mark of $$(widget, 'mark.qa-span')) {
      const span = spanAnswers(answer)[Number(mark.dataset.rank) - 1]!;
      expect(mark.textContent).toBe(context.slice(span.start, span.end));
    }
    expectNoOverflow(widget);
    await screenshot(widget, 'question-answering-390');
  });
});

describe('fill-mask', () => {
  test('fill-mask: one row per candidate, in the mask’s place, bars the scores', async () => {
    const widget = await mount('fill-mask', 'local-endpoint/tiny-bert-mlm');
    const answer = await clickRun(widget);
    const text = String(widget.inputs.text);
    const [place] = maskPlaces(text);
    expect(place).toBeDefined();
    const [candidates] = candidateGroups(answer);
    expect(candidates!.length).toBeGreaterThan(0);
    const rows = $$(widget, '.fm-row');
    expect(rows.length).toBe(candidates!.length);
    rows.forEach((row, i) => {
      const candidate = candidates![i]!;
      expect(row.querySelector('.fm-candidate')!.textContent).toBe(candidate.token_str);
      expect(row.querySelector('.fm-sentence')!.textContent).toBe(text.slice(0, place![0]) + candidate.token_str + text.slice(place![1]));
      expect(barFraction(row.querySelector<HTMLElement>('.fill')!)).toBeCloseTo(candidate.score, 2);
      expect(row.querySelector('.fm-score')!.textContent).toBe(`${(candidate.score * 100).toFixed(1)}%`);
    });
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'fill-mask');
  });

  test('fill-mask, a typed sentence, top_k 3, at 390 px', async () => {
    const text = 'Paris is the [MASK] of France, and a very long sentence follows it so that the rows wrap at 390 px.';
    const widget = await mount('fill-mask', 'local-endpoint/tiny-bert-mlm', { width: 390, inputs: { text } });
    widget.parameterValues = { top_k: '3' };
    const answer = await clickRun(widget);
    const [place] = maskPlaces(text);
    const [candidates] = candidateGroups(answer);
    expect(candidates!.length).toBe(3);
    const rows = $$(widget, '.fm-row');
    expect(rows.length).toBe(3);
    rows.forEach((row, i) => {
      const candidate = candidates![i]!;
      expect(row.querySelector('.fm-candidate')!.textContent).toBe(candidate.token_str);
      expect(row.querySelector('.fm-sentence')!.textContent).toBe(text.slice(0, place![0]) + candidate.token_str + text.slice(place![1]));
      expect(barFraction(row.querySelector<HTMLElement>('.fill')!)).toBeCloseTo(candidate.score, 2);
    });
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'fill-mask-390');
  });
});
