/**
 * `npm run bench`: runs bench/page.ts in headless Chromium (Debian's) against a Vite server with
 * the generated models, and prints medians and ratios as a markdown table.
 *
 *   npm run bench [-- --rounds 40] [-- --no-webgpu] [-- --only text-to-image]
 */
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { chromium } from 'playwright';
import { generateFixtures } from '../fixtures/generate.js';
import { ISOLATION_HEADERS, WORKER_DEPS, modelsPlugin } from '../build/vite-plugins.js';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SHARED_MEDIA } from '../fixtures/media-location.js';
import { LINK_MBIT, printOffline, runOffline, slowModelsPlugin } from './offline.js';
import type { BatchingResult, ConfigResult, GenerationResult, MediaResult } from './page.js';
import { printTextToImage, runTextToImage } from './text-to-image.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    'no-webgpu': { type: 'boolean', default: false },
    /** Run only the configurations whose name contains this (e.g. "1 thread", "webgpu"). */
    only: { type: 'string' },
    /** Load the direct pipeline before the engine's (to check that load order does not matter). */
    'direct-first': { type: 'boolean', default: false },
  },
});

await generateFixtures('.fixtures/models');
// The shared media (../shared/media), served next to the models for the media benchmark.
await mkdir('.fixtures/models/test-media', { recursive: true });
for (const file of ['tiger.jpeg', 'tiger.png', 'sample1.wav', 'sample1.flac', 'sample1.mp3']) {
  await copyFile(join(SHARED_MEDIA, file), join('.fixtures/models/test-media', file));
}
const server = await createServer({
  configFile: false,
  root: 'bench',
  logLevel: 'warn',
  plugins: [modelsPlugin('.fixtures/models'), slowModelsPlugin('.fixtures/models', (LINK_MBIT * 1e6) / 8, ISOLATION_HEADERS)],
  // No watcher and no HMR: an edit elsewhere in the tree must not reload the page mid-run.
  server: { headers: ISOLATION_HEADERS, host: '127.0.0.1', port: 0, fs: { allow: ['..'] }, watch: null, hmr: false },
  optimizeDeps: { include: WORKER_DEPS },
  worker: { format: 'es' },
});
await server.listen();
const address = server.httpServer!.address() as { port: number };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  const query =
    `?rounds=${values.rounds}${values['no-webgpu'] ? '&webgpu=0' : ''}` +
    `${values.only ? `&only=${encodeURIComponent(values.only)}` : ''}${values['direct-first'] ? '&direct-first=1' : ''}`;
  await page.goto(`http://127.0.0.1:${address.port}/${query}`);
  await page.waitForFunction(() => (window as unknown as { benchResults?: unknown }).benchResults, null, { timeout: 15 * 60_000, polling: 500 });
  const out = (await page.evaluate(() => (window as unknown as { benchResults: unknown }).benchResults)) as {
    error?: string;
    crossOriginIsolated: boolean;
    results: ConfigResult[];
    batching: BatchingResult[];
    generation: GenerationResult[];
    media: MediaResult[];
  };
  if (out.error) throw new Error(out.error);
  print(out.results, out.crossOriginIsolated);
  printBatching(out.batching);
  printGeneration(out.generation);
  printMedia(out.media);
  if (!values.only || values.only.includes('offline')) {
    printOffline(await runOffline(browser, `http://127.0.0.1:${address.port}`, Math.max(3, Math.round(Number(values.rounds) / 8)), '.fixtures/models'));
  }
  if (!values.only || values.only.includes('text-to-image')) {
    // At least 5 rounds a figure (each round is a whole image of 8 steps on each path).
    printTextToImage(await runTextToImage(browser, `http://127.0.0.1:${address.port}`, { rounds: Math.max(5, Math.round(Number(values.rounds) / 6)) }));
  }
} finally {
  await browser.close();
  await server.close();
}

function print(results: ConfigResult[], isolated: boolean) {
  const chromiumVersion = browser.version();
  console.log(`\nlocal-endpoint benchmark — headless Chromium ${chromiumVersion}, module worker, cross-origin isolated: ${isolated}`);
  if (!results.length) return;
  console.log(`model local-endpoint/bench-bert-encoder (BERT, 4 layers, hidden 256, 3.5 M parameters, fp32), feature-extraction, mean pooling + normalize, batch 1\n`);
  for (const { config, tokens, rows } of results) {
    console.log(`### ${config.name} — ${tokens} tokens, ${rows[0]!.n} rounds, median / p90 in ms\n`);
    console.log('| variant | median | p90 |');
    console.log('|---|---:|---:|');
    for (const r of rows) console.log(`| ${r.variant} | ${fmt(r.median)} | ${fmt(r.p90)} |`);
    const [inWorker, viaComlink, engine, client] = rows.map((r) => r.median) as number[];
    console.log(
      `\nengine request ÷ pipeline call in the worker: **${(engine! / inWorker!).toFixed(3)}×** (+${fmt(engine! - inWorker!)} ms); ` +
        `÷ pipeline call through comlink: ${(engine! / viaComlink!).toFixed(3)}×; ` +
        `official client + local fetch ÷ pipeline in the worker: ${(client! / inWorker!).toFixed(3)}×\n`,
    );
  }
}

function printBatching(results: BatchingResult[]) {
  if (!results.length) return;
  console.log(`### Dynamic batching — ${results[0]!.requests} concurrent requests, wall time for all, median ms\n`);
  console.log('| device | tokens per request | one by one | batched | mean batch size | speed-up |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.name} (${r.rounds} rounds) | ${r.tokens} | ${fmt(r.oneByOne)} | ${fmt(r.batched)} | ${r.meanBatchSize.toFixed(1)} | **${(r.oneByOne / r.batched).toFixed(2)}×** |`,
    );
  }
  console.log('');
}

function printGeneration(results: GenerationResult[]) {
  if (!results.length) return;
  console.log(
    `### Streaming generation — local-endpoint/bench-llama (Llama, 6 layers, hidden 512, 21.4 M parameters, fp32), ` +
      `${results[0]!.promptTokens}-token prompt, ${results[0]!.newTokens} new tokens, greedy, medians\n`,
  );
  for (const r of results) {
    console.log(`#### ${r.name} — ${r.rounds} rounds\n`);
    console.log('| variant | time to first token (ms) | tokens/s after the first |');
    console.log('|---|---:|---:|');
    for (const row of r.rows) console.log(`| ${row.variant} | ${fmt(row.ttft)} | ${row.tokensPerSecond.toFixed(1)} |`);
    const [engine, client] = r.paired;
    console.log(
      `\nPaired per round against the direct generate (medians): engine **${(engine!.speedRatio * 100).toFixed(1)}%** of tokens/s, ` +
        `**${signed(engine!.ttftAdded)} ms** to the first token; official client stream ${(client!.speedRatio * 100).toFixed(1)}%, ` +
        `${signed(client!.ttftAdded)} ms\n`,
    );
    const c = r.constrained;
    console.log(
      `Constrained decoding (/v1/completions streamed through the engine, ${c.schemaTokens} tokens, greedy, the same rounds): ` +
        `free ${c.free.toFixed(1)} tokens/s, json_schema ${c.json.toFixed(1)} tokens/s; paired per round, json ÷ free **${c.ratio.toFixed(3)}×**\n`,
    );
  }
}

function printMedia(results: MediaResult[]) {
  if (!results.length) return;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(
    `### Images and audio — decoding and preprocessing against inference, medians in ms, timed inside the worker\n\n` +
      `Images: local-endpoint/bench-vit-classifier (ViT at DeiT-small size, 224×224, 22 M parameters), the shared 612×408 tiger photo. ` +
      `Audio: local-endpoint/bench-wav2vec2-classifier (wav2vec2-base's conv front end + 4 layers of hidden 384, 11.6 M parameters), the shared 16 kHz recording.\n`,
  );
  for (const r of results) {
    console.log(`#### ${r.name} — ${r.rounds} image rounds, ${Math.max(3, Math.round(r.rounds / 3))} audio rounds\n`);
    console.log('| input | bytes | decode | preprocess | inference | (decode + preprocess) ÷ inference |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const row of r.image.rows) {
      console.log(`| ${row.input} | ${row.bytes} | ${fmt(row.decode)} | ${fmt(row.preprocess)} | ${fmt(r.image.inference)} | **${pct(row.share)}** |`);
    }
    for (const row of r.audio.rows) {
      const perSecond = (ms: number) => `${fmt(ms)} (${fmt(ms / row.seconds!)}/s)`;
      console.log(
        `| ${row.input}, ${row.seconds!.toFixed(1)} s | ${row.bytes} | ${perSecond(row.decode)} | ${perSecond(row.preprocess)} | ` +
          `${perSecond(r.audio.inference)} | **${pct(row.share)}** |`,
      );
    }
    console.log(
      `\nA whole request through WorkerEngine + createLocalFetch (raw body, page → worker → page): image ${fmt(r.image.engine)} ms ` +
        `against ${fmt(r.image.stages)} ms for the stages in the worker (jpeg); audio ${fmt(r.audio.engine)} ms against ${fmt(r.audio.stages)} ms (wav).\n`,
    );
    const t = r.transfer;
    console.log(
      `A ${5} MB body to the worker and an answer back (${t.rounds} rounds): empty call ${fmt(t.empty)} ms, copy ${fmt(t.copy)} ms, ` +
        `**transfer ${fmt(t.transfer)} ms**; copy − transfer, paired per round: **${fmt(t.copyMinusTransfer)} ms**\n`,
    );
  }
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : '−'}${fmt(Math.abs(ms))}`;
}

function fmt(ms: number): string {
  return ms < 1 ? ms.toFixed(3) : ms.toFixed(1);
}
