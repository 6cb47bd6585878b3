/**
 * What every widget has around its answer, in real Chromium: the route badge (local with its
 * device; remote with the Endpoint's x-compute-time), a download bar per file while a model
 * loads, the Endpoint's error shown and the widget answering on, keyboard use (Tab to Run, Enter;
 * arrow keys between snippet tabs), the parameters panel's typed values in the request, and the
 * dark theme's accessibility.
 */
import { afterAll, describe, expect, inject, test } from 'vitest';
import { userEvent } from 'vitest/browser';
import { WorkerEngine } from '../../src/index.ts';
import { $, $$, clickRun, expectAccessible, mount, screenshot, sharedEngine, stopSharedEngine } from './harness.ts';

afterAll(stopSharedEngine);
const CLASSIFIER = 'local-endpoint/tiny-bert-classifier';

describe('<le-widget>', () => {
  test('a local answer: the badge says local, with its device and compute time', async () => {
    const widget = await mount('text-classification', CLASSIFIER);
    await clickRun(widget);
    const badge = $(widget, '.badge');
    expect(badge.dataset.path).toBe('local');
    expect($(widget, '.pill.local').textContent).toBe('local');
    expect(badge.textContent).toContain('wasm');
    expect(badge.querySelector('.compute-time')?.textContent).toMatch(/^\d+(\.\d)? ms compute$/);
    expect(widget.route).toMatchObject({ path: 'local', device: 'wasm' });
  });

  test('a remote answer from serve: the badge says remote, with its x-compute-time', async () => {
    const widget = await mount('text-classification', CLASSIFIER, { mode: 'remote', endpointUrl: inject('remote').textClassification });
    const answer = await clickRun(widget);
    expect(widget.route).toMatchObject({ path: 'remote', computeTime: expect.any(Number) });
    expect($(widget, '.pill.remote').textContent).toBe('remote');
    expect($(widget, '.compute-time').textContent).toBe(`${(widget.route!.computeTime! * 1000).toFixed(widget.route!.computeTime! < 0.01 ? 1 : 0)} ms compute`);
    // The same answer as the local engine's, drawn the same way.
    const local = await mount('text-classification', CLASSIFIER);
    expect(await clickRun(local)).toEqual([{ label: (answer as { label: string }[])[0]!.label, score: expect.closeTo((answer as { score: number }[])[0]!.score, 4) }]);
    await screenshot(widget, 'badge-remote');
  });

  test('a first load shows a bar per model file, named, with its size', async () => {
    // A fresh engine, so the model is not in memory: each file reports its progress.
    const engine = new WorkerEngine();
    try {
      const widget = await mount('fill-mask', 'local-endpoint/tiny-bert-mlm');
      widget.engine = engine;
      const seen = new Set<string>();
      const observer = new MutationObserver(() => $$(widget, '.progress .file[data-file]').forEach((row) => seen.add(row.dataset.file!)));
      observer.observe(widget.shadowRoot!, { subtree: true, childList: true, attributes: true });
      await clickRun(widget);
      observer.disconnect();
      expect([...seen]).toEqual(expect.arrayContaining(['config.json', 'onnx/model.onnx']));
      // Done: the bars are gone.
      expect($$(widget, '.progress .file[data-file]')).toEqual([]);
    } finally {
      engine.terminate();
    }
  });

  test("a bad request: the Endpoint's 400 message is shown, and the widget answers the next one", async () => {
    const widget = await mount('text-classification', CLASSIFIER);
    widget.extraParameters = '{"top_k": "three"}';
    await userEvent.click($(widget, 'button.run'));
    await expect.poll(() => widget.error, { timeout: 30_000 }).toMatch(/^400: .*top_k/);
    expect($(widget, '[role="alert"]').textContent).toBe(widget.error);
    expect(widget.answer).toBeUndefined();
    widget.extraParameters = '';
    expect(await clickRun(widget)).toHaveLength(1);
    expect($$(widget, '[role="alert"]')).toEqual([]);
  });

  test('a missing input is the widget’s own message, and nothing is sent', async () => {
    const widget = await mount('text-classification', CLASSIFIER, { inputs: { text: '   ' } });
    await userEvent.click($(widget, 'button.run'));
    await expect.poll(() => widget.error).toBe('Type a text to classify.');
    expect(widget.answered).toBeUndefined();
  });

  test('the parameters panel: typed values are sent as numbers, unset ones are not sent', async () => {
    const widget = await mount('text-classification', 'local-endpoint/tiny-bert-multilabel');
    await userEvent.click($(widget, 'details.parameters summary'));
    await userEvent.fill($(widget, 'input[name="top_k"]'), '2');
    await userEvent.selectOptions($(widget, 'select[name="function_to_apply"]'), 'sigmoid');
    const answer = (await clickRun(widget)) as unknown[];
    expect(widget.answered?.json).toEqual({ inputs: 'I love you. I like you', parameters: { top_k: 2, function_to_apply: 'sigmoid' } });
    expect(answer).toHaveLength(2);
    expect($$(widget, '.bars li')).toHaveLength(2);
    await expectAccessible(widget);
  });

  test('inputs and parameters an app sets before the first render are kept; a new task starts afresh', async () => {
    const widget = document.createElement('le-widget');
    widget.engine = sharedEngine();
    widget.device = 'wasm';
    widget.task = 'text-classification';
    widget.model = 'local-endpoint/tiny-bert-multilabel';
    widget.inputs = { text: 'Set by the app' };
    widget.parameterValues = { top_k: '3' };
    document.body.append(widget);
    await widget.updateComplete;
    expect(await clickRun(widget)).toHaveLength(3);
    expect(widget.answered?.json).toEqual({ inputs: 'Set by the app', parameters: { top_k: 3 } });
    widget.task = 'zero-shot-classification';
    await widget.updateComplete;
    expect(widget.parameterValues).toEqual({});
    expect(widget.answer).toBeUndefined();
    expect(widget.inputs.labels).toBe('refund, legal, faq');
  });

  test('keyboard: Tab reaches Run and Enter runs; arrow keys move between snippet tabs', async () => {
    const widget = await mount('text-classification', CLASSIFIER);
    $(widget, 'textarea').focus();
    await userEvent.keyboard('{Tab}'); // the parameters panel's summary
    await userEvent.keyboard('{Tab}'); // Run
    expect(widget.shadowRoot!.activeElement).toBe($(widget, 'button.run'));
    const answered = new Promise((ok) => widget.addEventListener('le-answer', ok, { once: true }));
    await userEvent.keyboard('{Enter}');
    await answered;
    await widget.updateComplete;
    await userEvent.click($(widget, 'details.snippets summary'));
    const tabs = $$(widget, '[role="tab"]');
    expect(tabs.length).toBeGreaterThanOrEqual(4);
    tabs[0]!.focus();
    await userEvent.keyboard('{ArrowRight}');
    await widget.updateComplete;
    expect(widget.shadowRoot!.activeElement).toBe($$(widget, '[role="tab"]')[1]);
    expect($$(widget, '[role="tab"]')[1]!.getAttribute('aria-selected')).toBe('true');
    expect($(widget, '[role="tabpanel"] pre').dataset.snippet).toBe(tabs[1]!.dataset.snippet);
    await expectAccessible(widget);
  });

  test('dark theme: no axe violations with the answer, the JSON and the snippets open', async () => {
    const widget = await mount('text-classification', CLASSIFIER, { theme: 'dark' });
    await clickRun(widget);
    for (const panel of $$(widget, 'details')) (panel as HTMLDetailsElement).open = true;
    await widget.updateComplete;
    expect(getComputedStyle($(widget, '.card')).backgroundColor).toBe('rgb(23, 26, 33)');
    await expectAccessible(widget);
    await screenshot(widget, 'text-classification-dark');
  });
});
