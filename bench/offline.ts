/**
 * The offline benchmark (`npm run bench -- --only offline`, and part of every full run):
 *
 * - first-visit bytes: what the browser transferred under a model's folder, against the size on
 *   disk of the files it fetched (1.00× means every file came once), counted by Playwright from
 *   the browser's own network record, each visit in a fresh browser context (empty HTTP cache and
 *   Cache Storage);
 * - second visit: a reload in the same context (the model cache filled) against the first visit,
 *   time from a new worker to its first answer;
 * - handoff against local-first on a cold cache, with the remote Endpoint a real `local-endpoint
 *   serve` (warm) and the model files served at a fixed rate (a link of `LINK_MBIT` Mbit/s), so
 *   that the download takes the time it takes on a real link rather than a localhost copy.
 */
import { createReadStream, statSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import type { Browser } from 'playwright';
import type { Plugin } from 'vite';
import { serve } from '../src/node/serve.js';
import type { PolicyRound } from './offline-page.js';

/** The simulated link for the handoff rounds. */
export const LINK_MBIT = 100;

const MODELS: { name: string; request: Record<string, unknown> }[] = [
  { name: 'local-endpoint/bench-bert-encoder', request: { task: 'feature-extraction', inputs: 'The quick brown fox jumps over the lazy dog.', device: 'wasm' } },
  { name: 'local-endpoint/tiny-qwen3-chat', request: { task: 'text-generation', inputs: 'Hello', parameters: { max_new_tokens: 4 }, device: 'wasm' } },
];

/**
 * `/slow-models/…`: the generated models, each response paced to `bytesPerSecond` (chunks of
 * 64 KiB), with the headers the test server gives `/models/`.
 */
export function slowModelsPlugin(root: string, bytesPerSecond: number, headers: Record<string, string>): Plugin {
  const base = resolve(root);
  return {
    name: 'slow-models',
    configureServer(server) {
      server.middlewares.use('/slow-models', (req, res) => {
        const file = normalize(join(base, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
        let size = -1;
        try {
          if (file.startsWith(base) && statSync(file).isFile()) size = statSync(file).size;
        } catch {
          size = -1;
        }
        for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
        if (size < 0) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.setHeader('content-type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.setHeader('content-length', size);
        res.setHeader('cache-control', 'no-store');
        const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
        const started = Date.now();
        let sent = 0;
        stream.on('data', (chunk) => {
          stream.pause();
          sent += chunk.length;
          res.write(chunk);
          setTimeout(() => stream.resume(), Math.max(0, started + (sent / bytesPerSecond) * 1000 - Date.now()));
        });
        stream.on('end', () => res.end());
        stream.on('error', () => res.destroy());
        req.on('close', () => stream.destroy());
      });
    },
  };
}

export interface OfflineResults {
  visits: { model: string; rounds: number; transferred: number; onDisk: number; firstMs: number; secondMs: number; paired: number }[];
  policies: { model: string; rounds: number; rows: { mode: string; firstAnswerMs: number; allLocalMs: number; remote: number }[] } | undefined;
}

export async function runOffline(browser: Browser, origin: string, rounds: number, modelsRoot: string): Promise<OfflineResults> {
  const visits: OfflineResults['visits'] = [];
  for (const { name, request } of MODELS) {
    const transferred: number[] = [];
    const onDisk: number[] = [];
    const first: number[] = [];
    const second: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const context = await browser.newContext();
      try {
        const files = new Map<string, number>();
        let bytes = 0;
        const prefix = `${origin}/models/${name}/`;
        context.on('requestfinished', (req) => {
          if (!req.url().startsWith(prefix)) return;
          void req.sizes().then((s) => {
            bytes += s.responseBodySize;
          });
          const file = req.url().slice(prefix.length).split('?')[0]!;
          files.set(file, (files.get(file) ?? 0) + 1);
        });
        const page = await context.newPage();
        page.on('pageerror', (err) => console.error('offline page error:', err.message));
        console.error(`offline: ${name}, round ${round + 1}/${rounds}`);
        await page.goto(`${origin}/offline.html`);
        await page.waitForFunction(() => 'offlineBench' in window);
        const call = () =>
          page.evaluate(
            (r) => (window as unknown as { offlineBench: { firstAnswer(r: unknown): Promise<{ ms: number }> } }).offlineBench.firstAnswer(r),
            { ...request, model: name },
          );
        const cold = await call();
        await page.waitForTimeout(200); // the last sizes() answers
        let size = 0;
        for (const file of files.keys()) {
          try {
            size += statSync(join(modelsRoot, name, file)).size;
          } catch {
            // a file the host does not have (a 404): nothing on disk
          }
        }
        transferred.push(bytes);
        onDisk.push(size);
        await page.reload();
        await page.waitForFunction(() => 'offlineBench' in window);
        const warm = await call();
        first.push(cold.ms);
        second.push(warm.ms);
        ratios.push(warm.ms / cold.ms);
      } finally {
        await context.close();
      }
    }
    visits.push({ model: name, rounds, transferred: median(transferred), onDisk: median(onDisk), firstMs: median(first), secondMs: median(second), paired: median(ratios) });
  }

  return { visits, policies: await runPolicies(browser, origin, Math.max(3, Math.min(rounds, 5)), modelsRoot) };
}

async function runPolicies(browser: Browser, origin: string, rounds: number, modelsRoot: string): Promise<OfflineResults['policies']> {
  const { name, request } = MODELS[0]!;
  const remote = await serve({ task: request.task as string, model: name, modelsDir: modelsRoot, port: 0 });
  try {
    // A warm remote Endpoint: its model is loaded before the first round.
    await fetch(remote.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: request.inputs }) });
    const rows: { mode: string; firstAnswerMs: number; allLocalMs: number; remote: number }[] = [];
    for (const mode of ['local-first', 'handoff']) {
      const samples: PolicyRound[] = [];
      for (let round = 0; round < rounds; round++) {
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          page.on('pageerror', (err) => console.error('offline page error:', err.message));
          console.error(`offline: ${mode}, round ${round + 1}/${rounds}`);
          await page.goto(`${origin}/offline.html?models=/slow-models/`);
          await page.waitForFunction(() => 'offlineBench' in window);
          samples.push(
            await page.evaluate(
              ([m, url, r]) =>
                (window as unknown as { offlineBench: { policyRound(...a: unknown[]): Promise<PolicyRound> } }).offlineBench.policyRound(m, url, r, 50, 120_000),
              [mode, remote.url, { ...request, model: name }] as const,
            ),
          );
        } finally {
          await context.close();
        }
      }
      rows.push({
        mode,
        firstAnswerMs: median(samples.map((s) => s.firstAnswerMs)),
        allLocalMs: median(samples.map((s) => s.allLocalMs)),
        remote: median(samples.map((s) => s.remote)),
      });
    }
    return { model: name, rounds, rows };
  } finally {
    await remote.close();
  }
}

export function printOffline(out: OfflineResults): void {
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  const ms = (n: number) => (n < 1 ? n.toFixed(3) : n.toFixed(0));
  console.log(`### Offline: the model cache — each visit in a fresh browser context, medians\n`);
  console.log('| model | rounds | first visit: transferred | files on disk | transferred ÷ on disk | first visit, ms to first answer | second visit (cached) | second ÷ first (paired) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const v of out.visits) {
    console.log(
      `| ${v.model} | ${v.rounds} | ${mb(v.transferred)} | ${mb(v.onDisk)} | **${(v.transferred / v.onDisk).toFixed(2)}×** | ${ms(v.firstMs)} | ${ms(v.secondMs)} | **${v.paired.toFixed(2)}×** |`,
    );
  }
  const p = out.policies;
  if (!p) return;
  console.log(
    `\n### Handoff against local-first — cold cache, model files at ${LINK_MBIT} Mbit/s, a warm remote \`local-endpoint serve\` on this machine, ` +
      `${p.model}, one call every 50 ms after the last answer, ${p.rounds} rounds, medians\n`,
  );
  console.log('| mode | time to first answer (ms) | time until answers are local (ms) | answers from the remote |');
  console.log('|---|---:|---:|---:|');
  for (const r of p.rows) console.log(`| ${r.mode === 'local-first' ? 'local-first (preload, then ask)' : r.mode} | ${ms(r.firstAnswerMs)} | ${ms(r.allLocalMs)} | ${r.remote} |`);
  const [localFirst, handoff] = p.rows;
  if (localFirst && handoff) {
    console.log(
      `\nhandoff ÷ local-first: first answer **${(handoff.firstAnswerMs / localFirst.firstAnswerMs).toFixed(3)}×**, ` +
        `all answers local **${(handoff.allLocalMs / localFirst.allLocalMs).toFixed(2)}×**\n`,
    );
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
