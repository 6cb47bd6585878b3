/**
 * The demo gallery as `npm start` serves it, in real Chromium through Playwright: one widget per
 * served task, each on a generated model; a run from a click, drawn from the real answer; the
 * whole page free of axe-core violations in light and dark; a layout without horizontal scrolling
 * at 390 px; text-to-image's step progress and Stop. Screenshots of the page go to
 * test-results/gallery/ for a reviewer.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright';
import type { ViteDevServer } from 'vite';
import { readFile } from 'node:fs/promises';
import { supportedTasks } from '../../src/index.ts';
import { launchChromium, startVite } from '../sw/harness.js';

let server: ViteDevServer | undefined;
let browser: Browser | undefined;
let page: Page;
let origin: string;
const errors: string[] = [];
const SHOTS = 'test-results/gallery';

beforeAll(async () => {
  ({ server, origin } = await startVite('demo'));
  browser = await launchChromium();
  // @axe-core/playwright needs a page of an explicit context.
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.querySelectorAll('le-widget').length > 0);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const widget = (task: string) => `.slot[data-task="${task}"] le-widget`;

/** Picks a model in the task's slot (the model box above its widget). */
async function useModel(task: string, model: string): Promise<void> {
  await page.fill(`.slot[data-task="${task}"] input.model`, model);
  await page.dispatchEvent(`.slot[data-task="${task}"] input.model`, 'change');
  await page.waitForFunction(([selector, m]) => (document.querySelector(selector!) as HTMLElement & { model: string }).model === m, [widget(task), model]);
}

/** Clicks the widget's Run (Playwright pierces its shadow root) and returns its answer once drawn. */
async function run(task: string): Promise<unknown> {
  await page.click(`${widget(task)} button.run`);
  await page.waitForFunction((selector) => {
    const w = document.querySelector(selector) as HTMLElement & { busy: boolean; answer: unknown; error?: string };
    return !w.busy && (w.answer !== undefined || w.error !== undefined);
  }, widget(task), { timeout: 90_000 });
  const error = await page.$eval(widget(task), (w) => (w as HTMLElement & { error?: string }).error);
  expect(error, `${task}: ${error}`).toBeUndefined();
  return page.$eval(widget(task), (w) => (w as HTMLElement & { answer: unknown }).answer);
}

it('has a widget for every served task, each on a generated model of its task', async () => {
  const index = JSON.parse(await readFile('.fixtures/models/index.json', 'utf8')) as { tasks: Record<string, string[]> };
  const shown = await page.$$eval('le-widget', (all) => all.map((w) => [w.getAttribute('task'), w.getAttribute('model')] as const));
  expect(shown.map(([task]) => task).sort()).toEqual([...supportedTasks].sort());
  for (const [task, model] of shown) expect(index.tasks[task!]).toContain(model);
  // Every widget found its family (a task without one says so instead of drawing its card).
  expect(await page.$$eval('le-widget', (all) => all.filter((w) => !w.shadowRoot?.querySelector('form.inputs')).length)).toBe(0);
  expect(await page.textContent('#status')).not.toMatch(/No widget yet/);
});

it('table-question-answering: the example table in the editor, TAPAS answers, its cells marked', async () => {
  const answer = (await run('table-question-answering')) as { coordinates: number[][]; cells: string[] };
  const marked = await page.$$eval(`${widget('table-question-answering')} .answer td.hit .cell-text`, (cells) => cells.map((c) => c.textContent));
  expect(marked.length).toBe(answer.coordinates.length);
  expect(marked).toEqual(answer.cells);
});

it('visual-question-answering on ViLT and image-to-text on SmolVLM, about the sample image', async () => {
  const answers = (await run('visual-question-answering')) as { answer: string; score: number }[];
  expect(answers[0]!.answer).toMatch(/\S/);
  expect(await page.locator(`${widget('visual-question-answering')} .bars li`).count()).toBe(answers.length);
  const caption = (await run('image-to-text')) as { generated_text: string }[];
  expect(caption[0]!.generated_text.length).toBeGreaterThan(0);
});

it("custom: the toolkit's seed payload, answered whole by the example handler", async () => {
  const answer = (await run('custom')) as { text: string; extra: Record<string, unknown> };
  expect(answer.text).toBe('This is a sample input');
  expect(answer.extra).toEqual({ moreData: 1, customTask: true });
});

it('text-to-image: a bar per denoising step, Stop within a step, and the next run answers', async () => {
  await useModel('text-to-image', 'local-endpoint/tiny-sd');
  const slot = `.slot[data-task="text-to-image"]`;
  await page.click(`${slot} le-widget details.parameters summary`);
  for (const [name, value] of Object.entries({ num_inference_steps: '1000', width: '64', height: '64', seed: '2' })) {
    await page.fill(`${slot} le-widget input[name="${name}"]`, value);
  }
  // PNDM (tiny-sd's own) trains on 1000 timesteps; Euler takes any number of steps.
  await page.fill(`${slot} le-widget details.parameters textarea`, '{"scheduler": "EulerDiscreteScheduler"}');
  await page.click(`${widget('text-to-image')} button.run`);
  await page.waitForFunction((selector) => /Step [3-9]\d* of 1000/.test(document.querySelector(selector)!.shadowRoot!.querySelector('.progress')?.textContent ?? ''), widget('text-to-image'), { timeout: 60_000 });
  await page.click(`${widget('text-to-image')} button.stop`);
  await page.waitForFunction((selector) => !(document.querySelector(selector) as HTMLElement & { busy: boolean }).busy, widget('text-to-image'));
  expect(await page.$eval(widget('text-to-image'), (w) => (w as HTMLElement & { error?: string }).error)).toBe('Stopped.');
  await page.fill(`${slot} le-widget input[name="num_inference_steps"]`, '2');
  const answer = (await run('text-to-image')) as { image: { blob: Blob } };
  expect(answer.image).toBeTruthy();
  const size = await page.$eval(`${widget('text-to-image')} .answer img`, async (img) => {
    await (img as HTMLImageElement).decode();
    return [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight];
  });
  expect(size).toEqual([64, 64]);
}, 240_000);

it('has no axe-core violations, light and dark, with answers drawn', async () => {
  await run('text-classification');
  await run('token-classification');
  for (const theme of ['light', 'dark']) {
    await page.selectOption('#theme', theme);
    const { violations } = await new AxeBuilder({ page }).analyze();
    expect(violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) })), theme).toEqual([]);
    await page.evaluate(() => scrollTo(0, 0));
    await page.screenshot({ path: `${SHOTS}/gallery-${theme}.png` });
    await page.screenshot({ path: `${SHOTS}/gallery-${theme}-full.png`, fullPage: true });
  }
  await page.selectOption('#theme', '');
}, 120_000);

it('lays out at 390 px wide without horizontal scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // No widget card is wider than the page.
  const wide = await page.$$eval('le-widget', (all) => all.filter((w) => w.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map((w) => w.getAttribute('task')));
  expect(wide).toEqual([]);
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: `${SHOTS}/gallery-390.png` });
  await page.screenshot({ path: `${SHOTS}/gallery-390-full.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  expect(errors).toEqual([]);
});
