/**
 * The text-to-image benchmark (`npm run bench -- --only text-to-image`, and part of every full
 * run), on `local-endpoint/bench-sd` (Stable Diffusion 1.x layout, 9.98 M parameters, random
 * weights) at 256×256 (32×32 latents), WASM, in headless Chromium:
 *
 * 1. the engine's time per denoising step (a WorkerEngine request, timed from its step progress
 *    events) against a hand-written onnxruntime-web loop of UNet calls at batch 2 in the same
 *    worker (same onnxruntime-web instance, same threads);
 * 2. classifier-free guidance as one UNet call at batch 2 against two at batch 1;
 * 3. the request's parts: before the steps (tokenizer, text encoder), the steps, after them
 *    (VAE decoder, PNG), with the raw sessions' text encoder, VAE and PNG encoding on their own.
 *
 * The page is bench/text-to-image-page.ts, its worker bench/text-to-image-worker.ts.
 */
import type { Browser } from 'playwright';
import type { TextToImageConfigResult } from './text-to-image-page.js';

export interface TextToImageResults {
  crossOriginIsolated: boolean;
  results: TextToImageConfigResult[];
}

export async function runTextToImage(
  browser: Browser,
  origin: string,
  options: { rounds: number; steps?: number; threads?: number[] },
): Promise<TextToImageResults> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('text-to-image page error:', err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'log' || msg.type() === 'error') console.error(`text-to-image: ${msg.text()}`);
    });
    const query = new URLSearchParams({ rounds: String(options.rounds) });
    if (options.steps) query.set('steps', String(options.steps));
    if (options.threads) query.set('threads', options.threads.join(','));
    await page.goto(`${origin}/text-to-image.html?${query}`);
    await page.waitForFunction(() => (window as unknown as { textToImageResults?: unknown }).textToImageResults, null, { timeout: 30 * 60_000, polling: 500 });
    const out = (await page.evaluate(() => (window as unknown as { textToImageResults: unknown }).textToImageResults)) as TextToImageResults & { error?: string };
    if (out.error) throw new Error(out.error);
    return out;
  } finally {
    await context.close();
  }
}

export function printTextToImage(out: TextToImageResults): void {
  const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
  const first = out.results[0];
  if (!first) return;
  console.log(
    `\n### Text-to-image — local-endpoint/bench-sd (SD 1.x layout, 9.98 M parameters, fp32), ${first.size}×${first.size} ` +
      `(${first.size / 8}×${first.size / 8} latents), guidance 7.5 (UNet at batch 2), PNDM, ${first.steps} steps = ${first.calls} UNet calls, ` +
      `WASM, cross-origin isolated: ${out.crossOriginIsolated}, medians in ms\n`,
  );
  console.log('| threads | rounds | engine ms/step (p90) | raw ORT loop ms/step (p90) | engine ÷ raw, paired | ratio of medians |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of out.results) {
    console.log(
      `| ${r.threads} | ${r.rounds} | ${ms(r.engineStep)} (${ms(r.engineStepP90)}) | ${ms(r.rawStep)} (${ms(r.rawStepP90)}) | ` +
        `**${r.pairedRatio.toFixed(3)}×** | ${(r.engineStep / r.rawStep).toFixed(3)}× |`,
    );
  }
  console.log('\nGuidance: one UNet call at batch 2 against two at batch 1 (raw sessions, alternating)\n');
  console.log('| threads | rounds | batch 2, one call | batch 1, two calls | two ÷ one, paired |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of out.results) {
    console.log(`| ${r.threads} | ${r.cfg.rounds} | ${ms(r.cfg.batch2)} | ${ms(r.cfg.twoBatch1)} | **${r.cfg.paired.toFixed(3)}×** |`);
  }
  console.log('\nThe whole engine request, and its parts (the request from its progress events; the parts also on the raw sessions)\n');
  console.log(
    '| threads | engine request | before the steps (tokenizer + text encoder + noise) | steps | after the steps (VAE + RGB + PNG + answer) | ' +
      'raw: text encoder, batch 2 | raw: VAE decoder | raw: RGB | raw: PNG encode | PNG bytes |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of out.results) {
    console.log(
      `| ${r.threads} | ${ms(r.engineTotal)} | ${ms(r.beforeSteps)} | ${ms(r.denoise)} | ${ms(r.afterSteps)} | ` +
        `${ms(r.parts.textEncoder)} | ${ms(r.parts.vae)} | ${ms(r.parts.rgb)} | ${ms(r.parts.png)} | ${r.pngBytes} |`,
    );
  }
  console.log('');
}
