/**
 * The demo's issue-14 tasks, as `npm start` serves them, in real Chromium: each starts from its
 * example (table QA's table, VQA's question beside the image panel, custom's seed payload), runs on
 * the generated models in the worker, and shows its answer (table QA's cells marked in the table).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import type { ViteDevServer } from 'vite';
import { launchChromium, startVite } from './harness.js';

let server: ViteDevServer | undefined;
let browser: Browser | undefined;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  const started = await startVite('demo');
  server = started.server;
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${started.origin}/`);
  await page.waitForFunction(() => document.querySelectorAll('#task option').length > 0);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const idle = () => page.waitForFunction(() => !(document.querySelector('#run') as HTMLButtonElement).disabled, null, { timeout: 90_000 });

async function choose(task: string, model: string): Promise<void> {
  await page.selectOption('#task', task);
  await page.waitForFunction((m) => (document.querySelector('#model') as HTMLInputElement).value === m, model);
}

async function run(): Promise<unknown> {
  await page.click('#run');
  await idle();
  expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
  return JSON.parse((await page.textContent('#answer'))!);
}

it('table-question-answering: the Endpoint example, answered by TAPAS, its cells marked in the drawn table', async () => {
  await choose('table-question-answering', 'local-endpoint/tiny-tapas');
  const example = JSON.parse(await page.inputValue('#inputs')) as { query: string; table: Record<string, string[]> };
  expect(example.query).toBe('How many stars does the transformers repository have?');
  const answer = (await run()) as { answer: string; coordinates: number[][]; cells: string[]; aggregator: string };
  expect(answer).toMatchObject({ answer: expect.any(String), aggregator: expect.any(String) });
  const marked = await page.$$eval('#drawn td.selected', (cells) => cells.map((c) => c.textContent));
  expect(marked).toEqual(answer.cells);
  expect(answer.coordinates.length).toBe(answer.cells.length);
  expect(await page.$$eval('#drawn th', (th) => th.map((h) => h.textContent))).toEqual(Object.keys(example.table));
});

it('visual-question-answering: the question in the box, the image panel shown, ViLT answers about the sample image', async () => {
  await choose('visual-question-answering', 'local-endpoint/tiny-vilt');
  expect(await page.inputValue('#inputs')).toBe('What animal is in the picture?');
  expect(await page.isVisible('#media')).toBe(true);
  expect(await page.isVisible('#inputs')).toBe(true);
  // The official client's visualQuestionAnswering gives the best answer: one of the model's, a sigmoid score.
  const best = (await run()) as { answer: string; score: number };
  expect(best.answer).toMatch(/\S/);
  expect(best.score).toBeGreaterThan(0);
  expect(best.score).toBeLessThan(1);
});

it('image-to-text: the generative vision-language model describes the sample image', async () => {
  await choose('image-to-text', 'local-endpoint/tiny-smolvlm');
  expect(await page.isHidden('#inputs-field')).toBe(true);
  const answer = (await run()) as { generated_text: string };
  expect(typeof answer.generated_text).toBe('string');
  expect(answer.generated_text.length).toBeGreaterThan(0);
});

it("custom: the box holds the toolkit's seed payload, and the example handler answers it whole", async () => {
  await choose('custom', 'local-endpoint/tiny-handler-text');
  expect(JSON.parse(await page.inputValue('#inputs'))).toEqual({ inputs: 'This is a sample input', moreData: 1, customTask: true });
  const answer = (await run()) as { text: string; labels: { label: string; score: number }[]; extra: Record<string, unknown> };
  expect(answer.text).toBe('This is a sample input');
  expect(answer.labels[0]).toMatchObject({ label: expect.any(String), score: expect.any(Number) });
  expect(answer.extra).toEqual({ moreData: 1, customTask: true }); // the body's other keys reached call(data)
  expect(errors).toEqual([]);
});
