/**
 * `npm run soak`: `local-endpoint serve` under sustained, hostile load, outside CI's time budget.
 *
 * Two servers run as child processes (the CLI, as users start it), on generated models:
 * text-classification and text-generation. Against them, at once:
 * - 10,000 mixed requests, 50 in flight: good requests over 20 distinct texts (each answer must
 *   equal that text's reference answer: a different one is "mixed"), with one in ten a bad
 *   request that must be a 4xx;
 * - a slowloris: 200 connections that send a request's headers one byte a second (for 20 s; the
 *   server should close them first, after its 10 s header timeout);
 * - 100 streams (`/v1/chat/completions`, `"stream": true`) aborted after their first event.
 * It reports lost and mixed answers, p50/p99 latency, the servers' RSS before and after, and
 * whether both still answer.
 *
 *   npm run soak [-- --requests 10000 --concurrency 50 --slowloris 200 --streams 100]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { generateFixtures } from '../fixtures/generate.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '50' },
    slowloris: { type: 'string', default: '200' },
    streams: { type: 'string', default: '100' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const SLOW = Number(values.slowloris);
const STREAMS = Number(values.streams);
const TEXTS = Array.from({ length: 20 }, (_, i) => `${['I love this movie', 'I hate you', 'The good and the bad', 'my name is berlin', 'a great day'][i % 5]}${' again'.repeat(Math.floor(i / 5))}`);

interface Child {
  process: ChildProcess;
  url: string;
}

async function start(task: string, model: string): Promise<Child> {
  const child = spawn(process.execPath, ['bin/local-endpoint.js', 'serve', '--task', task, '--model', model, '--models-dir', '.fixtures/models', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (\S+)/.exec(out);
      if (found) ok(found[1]!);
    });
    child.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/health`).catch(() => undefined))?.status === 200) return { process: child, url };
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`${task}: /health never answered 200`);
}

function rssMiB(child: Child): number {
  const status = readFileSync(`/proc/${child.process.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

const post = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), signal });

async function mixed(classifier: Child): Promise<{ lost: number; mixed: number; refusedRight: number; refusedWrong: number; latencies: number[] }> {
  const reference = new Map<string, string>();
  for (const text of TEXTS) reference.set(text, await (await post(classifier.url, { inputs: text })).text());
  let next = 0;
  const result = { lost: 0, mixed: 0, refusedRight: 0, refusedWrong: 0, latencies: [] as number[] };
  const worker = async () => {
    for (let i = next++; i < REQUESTS; i = next++) {
      const bad = i % 10 === 9;
      const text = TEXTS[i % TEXTS.length]!;
      const started = performance.now();
      try {
        const response = await post(classifier.url, bad ? `{"inputs": ${i % 3 === 0 ? '[[' : '42'}}` : { inputs: text });
        const body = await response.text();
        result.latencies.push(performance.now() - started);
        if (bad) {
          if (response.status >= 400 && response.status < 500 && typeof JSON.parse(body).error === 'string') result.refusedRight++;
          else result.refusedWrong++;
        } else if (response.status !== 200) result.lost++;
        else if (body !== reference.get(text)) result.mixed++;
      } catch {
        result.lost++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return result;
}

/** Connections that send headers one byte a second; resolves with how many the server closed itself. */
function slowloris(url: string, seconds: number): Promise<number> {
  const { hostname, port } = new URL(url);
  const request = `POST / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nX-Padding: ${'x'.repeat(seconds + 10)}`;
  return new Promise((done) => {
    let closedByServer = 0;
    let finished = 0;
    for (let c = 0; c < SLOW; c++) {
      const socket = net.connect(Number(port), hostname);
      let sent = 0;
      let ended = false;
      const timer = setInterval(() => {
        if (sent < seconds) socket.write(request[sent++]!);
        else {
          ended = true;
          clearInterval(timer);
          socket.destroy();
        }
      }, 1000);
      socket.on('error', () => undefined);
      socket.resume(); // read what the server sends (its 408), so that its close is seen
      socket.on('close', () => {
        clearInterval(timer);
        if (!ended) closedByServer++;
        if (++finished === SLOW) done(closedByServer);
      });
    }
  });
}

async function abortedStreams(generator: Child): Promise<{ aborted: number; failed: number }> {
  let aborted = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      const controller = new AbortController();
      try {
        const response = await post(`${generator.url}/v1/chat/completions`, { messages: [{ role: 'user', content: `Tell me a story ${i}` }], stream: true, max_tokens: 200 }, controller.signal);
        const reader = response.body!.getReader();
        await reader.read(); // the first event
        controller.abort();
        aborted++;
      } catch (err) {
        if ((err as Error).name === 'AbortError') aborted++;
        else failed++;
      }
    }),
  );
  return { aborted, failed };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

await generateFixtures('.fixtures/models');
const classifier = await start('text-classification', 'local-endpoint/tiny-bert-classifier');
const generator = await start('text-generation', 'local-endpoint/tiny-llama');
try {
  const before = { classifier: rssMiB(classifier), generator: rssMiB(generator) };
  const started = performance.now();
  const [load, closed, streams] = await Promise.all([mixed(classifier), slowloris(classifier.url, 20), abortedStreams(generator)]);
  const seconds = (performance.now() - started) / 1000;
  await new Promise((ok) => setTimeout(ok, 2000));
  const after = { classifier: rssMiB(classifier), generator: rssMiB(generator) };
  const healthy = (await fetch(`${classifier.url}/health`)).status === 200 && (await fetch(`${generator.url}/health`)).status === 200;
  const stillAnswers = (await post(generator.url, { inputs: 'Hello', parameters: { max_new_tokens: 3 } })).status === 200;
  console.log(`\n### Soak — ${REQUESTS} mixed requests at ${CONCURRENCY} in flight, a ${SLOW}-connection slowloris, ${STREAMS} aborted streams (${seconds.toFixed(1)} s)\n`);
  console.log('| figure | value |');
  console.log('|---|---:|');
  console.log(`| good requests lost (error or non-200) | **${load.lost}** |`);
  console.log(`| good requests answered with another text's answer (mixed) | **${load.mixed}** |`);
  console.log(`| bad requests refused with a 4xx JSON error / otherwise | ${load.refusedRight} / **${load.refusedWrong}** |`);
  console.log(`| latency p50 / p99 (ms) | ${quantile(load.latencies, 0.5).toFixed(1)} / ${quantile(load.latencies, 0.99).toFixed(1)} |`);
  console.log(`| slowloris connections the server closed before they finished | ${closed} of ${SLOW} |`);
  console.log(`| streams aborted after their first event / failed | ${streams.aborted} / **${streams.failed}** |`);
  console.log(`| classifier RSS before → after (MiB) | ${before.classifier.toFixed(0)} → ${after.classifier.toFixed(0)} |`);
  console.log(`| generator RSS before → after (MiB) | ${before.generator.toFixed(0)} → ${after.generator.toFixed(0)} |`);
  console.log(`| both healthy afterwards, generation still answers | ${healthy && stillAnswers ? 'yes' : '**no**'} |`);
  if (load.lost || load.mixed || load.refusedWrong || streams.failed || !healthy || !stillAnswers) process.exitCode = 1;
} finally {
  classifier.process.kill();
  generator.process.kill();
}
