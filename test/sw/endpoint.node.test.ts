/**
 * The Service Worker Endpoint in real Chromium: code that knows nothing of local-endpoint (plain
 * fetch, the Endpoint docs' snippet, the official client without a custom fetch, the openai SDK),
 * in a page of its own, answered through the one page that runs serveFromPage(); streams that
 * stream; abort; the answering page closing mid-stream; and no page left to answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright';
import type { ViteDevServer } from 'vite';
import { WORKER_DEPS } from '../../build/vite-plugins.js';
import { launchChromium, startVite } from './harness.js';
import { CLASSIFY_TEXT, LABELS } from '../helpers.js';

let server: ViteDevServer;
let origin: string;
let browser: Browser;
let context: BrowserContext;
/** Runs serveFromPage(): the only page that can answer. */
let bridgePage: Page;
/** Knows nothing of local-endpoint. */
let plainPage: Page;

beforeAll(async () => {
  ({ server, origin } = await startVite('test/sw/app', {
    optimizeDeps: { include: [...WORKER_DEPS, 'openai'], entries: ['index.html', 'plain.html'] },
  }));
  browser = await launchChromium();
  context = await browser.newContext();
  bridgePage = await context.newPage();
  await bridgePage.goto(`${origin}/`);
  // clients.claim(): the page that registered the worker is controlled without a reload.
  await bridgePage.evaluate(() => (globalThis as unknown as { controlled: Promise<void> }).controlled);
  plainPage = await context.newPage();
  await plainPage.goto(`${origin}/plain.html`);
  await plainPage.waitForFunction(() => 'OpenAI' in globalThis && navigator.serviceWorker.controller);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the Service Worker answers code that knows nothing of local-endpoint', () => {
  it('a plain fetch from the page that bridges, with the Endpoint server’s headers and shape', async () => {
    const out = await bridgePage.evaluate(async (inputs) => {
      const response = await fetch('https://xyz.endpoints.example', { method: 'POST', body: JSON.stringify({ inputs }) });
      return { status: response.status, type: response.headers.get('x-compute-type'), body: await response.json() };
    }, CLASSIFY_TEXT);
    expect(out.status).toBe(200);
    expect(out.type).toBe('wasm');
    expect(out.body).toEqual([{ label: expect.toBeOneOf(LABELS), score: expect.any(Number) }]);
  });

  it('the Endpoint docs’ fetch snippet, from another page that knows nothing of local-endpoint', async () => {
    const out = await plainPage.evaluate(async (inputs) => {
      // As the Endpoint's page shows it (converted from its curl example).
      async function query(data: unknown) {
        const response = await fetch('https://xyz.endpoints.example', {
          headers: { Accept: 'application/json', Authorization: 'Bearer hf_XXXXX', 'Content-Type': 'application/json' },
          method: 'POST',
          body: JSON.stringify(data),
        });
        return response.json();
      }
      const health = await (await fetch('https://xyz.endpoints.example/health')).text();
      return { health, answer: await query({ inputs, parameters: { top_k: 2 } }) };
    }, CLASSIFY_TEXT);
    expect(out.health).toBe('Ok');
    expect(out.answer).toHaveLength(2);
    expect(out.answer[0]).toEqual({ label: expect.toBeOneOf(LABELS), score: expect.any(Number) });
  });

  it('the official client with endpointUrl and no custom fetch: a call and a chat stream', async () => {
    const out = await plainPage.evaluate(async (inputs) => {
      const { InferenceClient } = globalThis as unknown as { InferenceClient: typeof import('@huggingface/inference').InferenceClient };
      const hf = new InferenceClient('hf_XXXXX', { endpointUrl: 'https://client.endpoints.example' });
      const labels = await hf.textClassification({ inputs });
      const chat = new InferenceClient(undefined, { endpointUrl: `${location.origin}/endpoints/llama` });
      let text = '';
      let chunks = 0;
      for await (const chunk of chat.chatCompletionStream({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 6 })) {
        text += chunk.choices[0]?.delta.content ?? '';
        chunks++;
      }
      return { labels, text, chunks };
    }, CLASSIFY_TEXT);
    expect(out.labels).toEqual([{ label: expect.toBeOneOf(LABELS), score: expect.any(Number) }]);
    expect(out.chunks).toBeGreaterThan(0);
    expect(typeof out.text).toBe('string');
  });

  it('the openai SDK with baseURL, streaming', async () => {
    const out = await plainPage.evaluate(async () => {
      const { OpenAI } = globalThis as unknown as { OpenAI: typeof import('openai').default };
      const openai = new OpenAI({ apiKey: 'none', baseURL: `${location.origin}/endpoints/llama/v1`, dangerouslyAllowBrowser: true, maxRetries: 0 });
      const stream = await openai.chat.completions.create({ model: 'tiny-llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 6, stream: true });
      const chunks: string[] = [];
      let finish: string | null = null;
      for await (const chunk of stream) {
        chunks.push(chunk.object);
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      return { chunks, finish };
    });
    expect(out.chunks.length).toBeGreaterThan(0);
    expect(new Set(out.chunks)).toEqual(new Set(['chat.completion.chunk']));
    expect(['length', 'stop']).toContain(out.finish);
  });

  it('the TGI, TEI and OpenAI routes: the openai SDK’s models.list and embeddings, TGI’s /generate_stream, /info and /metrics', async () => {
    const out = await plainPage.evaluate(async () => {
      const { OpenAI } = globalThis as unknown as { OpenAI: typeof import('openai').default };
      const sdk = (path: string) => new OpenAI({ apiKey: 'none', baseURL: `${location.origin}/endpoints/${path}/v1`, dangerouslyAllowBrowser: true, maxRetries: 0 });
      const models: string[] = [];
      for await (const m of sdk('llama').models.list()) models.push(m.id);
      const embeddings = await sdk('embedder').embeddings.create({ model: 'tiny-bert-encoder', input: ['a cat', 'a dog'] });
      const stream = await fetch('/endpoints/llama/generate_stream', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 4 } }),
      });
      const events = (await stream.text()).split('\n\n').filter((e) => e.startsWith('data:')).map((e) => JSON.parse(e.slice(5)));
      const info = await (await fetch('/endpoints/llama/info')).json();
      const metrics = await (await fetch('/endpoints/llama/metrics')).text();
      const missing = await fetch('/endpoints/embedder/generate', { method: 'POST', body: '{}' });
      return {
        models,
        vectors: embeddings.data.map((d) => d.embedding.length),
        events: events.map((e) => ({ index: e.index, last: e.generated_text !== null })),
        info: info.model_id,
        counted: /^tgi_request_count [1-9]/m.test(metrics),
        missing: { status: missing.status, body: await missing.json() },
      };
    });
    expect(out.models).toEqual(['local-endpoint/tiny-llama']);
    expect(out.vectors).toEqual([32, 32]);
    expect(out.events).toHaveLength(4);
    expect(out.events.map((e) => e.last)).toEqual([false, false, false, true]);
    expect(out.info).toBe('local-endpoint/tiny-llama');
    expect(out.counted).toBe(true);
    expect(out.missing.status).toBe(404);
    expect(out.missing.body).toEqual({ error: expect.stringContaining('POST /embed'), error_type: 'Validation' });
  });

  it('a server-sent-events stream streams: events arrive long before the end', async () => {
    const out = await plainPage.evaluate(async () => {
      const started = performance.now();
      const response = await fetch('/endpoints/gpt2', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 120 }, stream: true }),
      });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      const arrivals: number[] = [];
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        arrivals.push(performance.now() - started);
      }
      const events = text.split('\n\n').filter((e) => e.startsWith('data:'));
      return { type: response.headers.get('content-type'), arrivals, events: events.length, last: events.at(-1) };
    });
    expect(out.type).toMatch(/^text\/event-stream/);
    expect(out.events).toBe(120);
    expect(JSON.parse(out.last!.slice(5)).details?.finish_reason ?? 'length').toBe('length');
    // Many reads, spread over the generation: the first event came well before the last one.
    expect(out.arrivals.length).toBeGreaterThan(10);
    const span = out.arrivals.at(-1)! - out.arrivals[0]!;
    expect(span).toBeGreaterThan(0);
    expect(out.arrivals[0]!).toBeLessThan(out.arrivals.at(-1)! - span / 2);
  });

  it('aborting the fetch stops the generation in the answering page', async () => {
    const read = await plainPage.evaluate(async () => {
      const stop = new AbortController();
      const response = await fetch('/endpoints/gpt2', {
        method: 'POST',
        body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 5000 }, stream: true }),
        signal: stop.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      await reader.read();
      stop.abort();
      return reader.read().then(
        () => 'still reading',
        (err: Error) => err.name,
      );
    });
    expect(read).toBe('AbortError');
    await bridgePage.waitForFunction(() => (globalThis as unknown as { bridge: { active: number } }).bridge.active === 0, null, { timeout: 10_000 });
  });
});

it('a Service Worker the browser stopped finds the answering page again when it restarts', async () => {
  const cdp = await context.newCDPSession(plainPage);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
  const status = await plainPage.evaluate(async () => (await fetch('https://xyz.endpoints.example', { method: 'POST', body: '{"inputs": "hi"}' })).status);
  expect(status).toBe(200);
});

it('with several pages that can answer, a request goes to the page that sent it', async () => {
  const second = await context.newPage();
  await second.goto(`${origin}/`);
  await second.evaluate(() => (globalThis as unknown as { controlled: Promise<void> }).controlled);
  const active = () =>
    Promise.all([bridgePage, second].map((p) => p.evaluate(() => (globalThis as unknown as { bridge: { active: number } }).bridge.active)));
  await second.evaluate(async () => {
    const stop = new AbortController();
    const response = await fetch('/endpoints/gpt2', { method: 'POST', body: JSON.stringify({ inputs: 'Hi', parameters: { max_new_tokens: 5000 }, stream: true }), signal: stop.signal });
    await response.body!.getReader().read();
    Object.assign(globalThis, { stopStream: () => stop.abort() });
  });
  expect(await active()).toEqual([0, 1]);
  await second.evaluate(() => (globalThis as unknown as { stopStream: () => void }).stopStream());
  await second.close();
});

describe('when nothing can serve', () => {
  it('the answering page closing mid-stream ends the stream with an error event', async () => {
    const reading = plainPage.evaluate(async () => {
      const response = await fetch('/endpoints/gpt2', { method: 'POST', body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 5000 }, stream: true }) });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      (globalThis as unknown as { streaming: boolean }).streaming = true;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      return text.split('\n\n').filter(Boolean).at(-1);
    });
    await plainPage.waitForFunction(() => (globalThis as unknown as { streaming?: boolean }).streaming);
    await bridgePage.close();
    const last = await reading;
    expect(JSON.parse(last!.slice(5))).toEqual({ error: expect.stringMatching(/page that was answering .* closed before its answer ended/) });
  });

  it('with no page to answer: a 504 with an error body, quickly, never a 503', async () => {
    const out = await plainPage.evaluate(async () => {
      const started = performance.now();
      const response = await fetch('https://xyz.endpoints.example', { method: 'POST', body: JSON.stringify({ inputs: 'hi' }) });
      return { status: response.status, type: response.headers.get('content-type'), body: await response.json(), ms: performance.now() - started };
    });
    expect(out.status).toBe(504);
    expect(out.type).toBe('application/json');
    expect(out.body.error).toMatch(/No page can answer POST https:\/\/xyz\.endpoints\.example\/ locally: .*serveFromPage\(\)/);
    expect(out.ms).toBeLessThan(3000); // discoverMs is 300 here
    // The official client gives up at once too (it retries only a 503).
    const official = await plainPage.evaluate(async () => {
      const { InferenceClient } = globalThis as unknown as { InferenceClient: typeof import('@huggingface/inference').InferenceClient };
      return new InferenceClient(undefined, { endpointUrl: 'https://client.endpoints.example' }).textClassification({ inputs: 'hi' }).then(
        () => 'answered',
        (err: Error & { httpResponse?: { status: number } }) => `${err.httpResponse?.status}: ${err.message}`,
      );
    });
    expect(official).toMatch(/^504: .*No page can answer/);
  });
});
