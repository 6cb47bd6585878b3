/**
 * The demo's text-to-image (issue 13), as `npm start` serves it, in real Chromium: the prompt box
 * starts with the Endpoint's example, each denoising step moves a progress bar, the image is shown,
 * and Stop aborts a long run within a step.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import type { ViteDevServer } from 'vite';
import { launchChromium, startVite } from './harness.js';

let server: ViteDevServer | undefined;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  const started = await startVite('demo');
  server = started.server;
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${started.origin}/`);
  await page.waitForFunction(() => document.querySelectorAll('#task option').length > 0);
  await page.selectOption('#task', 'text-to-image');
  await page.waitForFunction(() => (document.querySelector('#model') as HTMLInputElement).value === 'local-endpoint/tiny-sd');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const idle = () => page.waitForFunction(() => !(document.querySelector('#run') as HTMLButtonElement).disabled, null, { timeout: 60_000 });

it('generates from the example prompt: step progress, then the image', async () => {
  expect(await page.inputValue('#inputs')).toBe('a man on a horse jumps over a broken down airplane.');
  await page.fill('#parameters', JSON.stringify({ num_inference_steps: 40, seed: 1, width: 64, height: 64, scheduler: 'EulerDiscreteScheduler' }));
  await page.click('#run');
  await page.waitForFunction(() => /step \d+ of 40/.test(document.querySelector('#progress-files')!.textContent ?? ''), null, { timeout: 60_000 });
  await idle();
  const size = await page.evaluate(async () => {
    const img = document.querySelector('#drawn img') as HTMLImageElement;
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  expect(size).toEqual([64, 64]);
  expect(await page.textContent('#answer')).toMatch(/image\/png/);
});

it('Stop aborts a long run within a step, and the next run answers', async () => {
  await page.fill('#parameters', JSON.stringify({ num_inference_steps: 1000, seed: 2, width: 64, height: 64, scheduler: 'EulerDiscreteScheduler' }));
  await page.click('#run');
  await page.waitForFunction(() => /step [3-9]\d* of 1000/.test(document.querySelector('#progress-files')!.textContent ?? ''), null, { timeout: 60_000 });
  await page.click('#stop');
  await idle();
  expect(await page.textContent('#answer')).toMatch(/stopped/);
  await page.fill('#parameters', JSON.stringify({ num_inference_steps: 2, width: 64, height: 64 }));
  await page.click('#run');
  await idle();
  expect(await page.textContent('#answer')).toMatch(/image\/png/);
});
