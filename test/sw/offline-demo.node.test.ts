/**
 * The demo as `npm start` serves it, in real Chromium: it installs as a PWA (no installability
 * errors), and once visited it reloads and answers, in the form and through its Service Worker
 * Endpoint, with the network off and its server stopped.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright';
import type { ViteDevServer } from 'vite';
import { launchWithProfile, startVite } from './harness.js';
import { CLASSIFY_TEXT, LABELS } from '../helpers.js';

let server: ViteDevServer | undefined;
let origin: string;
let close: (() => Promise<void>) | undefined;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  ({ server, origin } = await startVite('demo'));
  ({ context, close } = await launchWithProfile());
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => navigator.serviceWorker.controller, null, { timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await close?.();
  await server?.close();
});

/** Runs text-classification in its gallery widget, on the first generated model, as a user does. */
async function classifyInForm(): Promise<unknown> {
  const widget = '.slot[data-task="text-classification"] le-widget';
  await page.waitForFunction((selector) => (document.querySelector(selector) as HTMLElement & { model?: string } | null)?.model, widget);
  // Playwright's CSS selectors pierce the widget's shadow root.
  await page.fill(`${widget} textarea`, CLASSIFY_TEXT);
  await page.click(`${widget} button.run`);
  await page.waitForFunction((selector) => {
    const w = document.querySelector(selector) as HTMLElement & { busy: boolean; answer: unknown; error?: string };
    return !w.busy && (w.answer !== undefined || w.error !== undefined);
  }, widget, { timeout: 60_000 });
  const error = await page.$eval(widget, (w) => (w as HTMLElement & { error?: string }).error);
  expect(error, error ?? '').toBeUndefined();
  return page.$eval(widget, (w) => (w as HTMLElement & { answer: unknown }).answer);
}

it('installs as a PWA: a manifest with icons and a Service Worker, no installability errors', async () => {
  const cdp = await context.newCDPSession(page);
  const manifest = (await cdp.send('Page.getAppManifest')) as { errors: unknown[]; url: string };
  expect(manifest.url).toBe(`${origin}/manifest.webmanifest`);
  expect(manifest.errors).toEqual([]);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  expect(installabilityErrors).toEqual([]);
  await cdp.detach();
});

it('reloads and answers with the network off and its server stopped', async () => {
  // A visit under the Service Worker stores every file the app loads (network first).
  await page.reload();
  const online = await classifyInForm();
  expect(online).toEqual([{ label: expect.toBeOneOf(LABELS), score: expect.any(Number) }]);

  await server!.close();
  server = undefined;
  await context.setOffline(true);
  expect(await page.evaluate(() => fetch('/').then((r) => r.status, (e: Error) => e.name))).toBe(200); // from the shell
  await page.reload();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true); // the stored page keeps its COOP/COEP headers
  expect(await classifyInForm()).toEqual(online);

  // Code that knows nothing of local-endpoint, answered by the demo's Service Worker Endpoint.
  const viaServiceWorker = await page.evaluate(async (inputs) => {
    const response = await fetch('/endpoints/text-classification', { method: 'POST', body: JSON.stringify({ inputs }) });
    return { status: response.status, body: await response.json() };
  }, CLASSIFY_TEXT);
  expect(viaServiceWorker).toEqual({ status: 200, body: online });
});
