/**
 * `serve` under bad input and hostile callers (issue 12): deep nesting, huge values, numbers JSON
 * cannot hold, bodies far over the limit, the Host check, the API key and what `/health` means.
 * Each runs against a real `serve()` over real HTTP.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { serve, type RunningServer } from '../../src/node/serve.js';
import { MAX_BODY_BYTES } from '../../src/wire/body.js';
import { getTask } from '../../src/tasks/registry.js';
import { CLASSIFIER, CLASSIFY_TEXT, CORRUPT, QWEN_CHAT } from '../helpers.js';

const MODELS = '.fixtures/models';
const KB64 = 64 * 1024;

let classify: RunningServer;
let chat: RunningServer;
beforeAll(async () => {
  [classify, chat] = await Promise.all([
    serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0 }),
    serve({ task: 'conversational', model: QWEN_CHAT, modelsDir: MODELS, port: 0 }),
  ]);
});
afterAll(async () => {
  await Promise.all([classify?.close(), chat?.close()]);
});

/** A raw POST over http.request (fetch cannot set Host), read to the end. */
function raw(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((ok, fail) => {
    const request = http.request(url, { method, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (c: string) => (text += c));
      response.on('end', () => ok({ status: response.statusCode!, headers: response.headers, text }));
    });
    request.on('error', fail);
    request.end(body);
  });
}

const post = (url: string, body: string, headers?: Record<string, string>) => raw(url, body, headers);
async function until(check: () => boolean, ms = 5000) {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((ok) => setTimeout(ok, 50));
}
const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

async function expectHealthy(server: RunningServer) {
  const good = await post(server.url, JSON.stringify({ inputs: CLASSIFY_TEXT }));
  expect(good.status).toBe(200);
}

describe('serve: deep nesting (defect 1)', () => {
  it('answers JSON nested 5,000 levels deep with a 400 naming the field, in parameters, chat content and the query string', async () => {
    const deep = nested(5000);
    const top = await post(classify.url, `{"inputs":"hi","parameters":{"top_k":${deep}}}`);
    expect(top.status).toBe(400);
    expect(JSON.parse(top.text).error).toMatch(/^parameters\.top_k is nested too deeply: over 128 levels/);

    const content = await post(`${chat.url}/v1/chat/completions`, `{"messages":[{"role":"user","content":${deep}}]}`);
    expect(content.status).toBe(400);
    expect(JSON.parse(content.text).error).toMatch(/^messages\[0\]\.content is nested too deeply/);

    const endpointChat = await post(chat.url, `{"inputs":[{"role":"user","content":[{"type":"text","text":${deep}}]}]}`);
    expect(endpointChat.status).toBe(400);
    expect(JSON.parse(endpointChat.text).error).toMatch(/^inputs\[0\]\.content\[0\]\.text is nested too deeply/);

    const query = await post(`${classify.url}/?top_k=${encodeURIComponent(nested(2000))}`, JSON.stringify({ inputs: 'hi' }));
    expect(query.status).toBe(400);
    expect(JSON.parse(query.text).error).toMatch(/^parameters\.top_k is nested too deeply/);

    // 128 levels in all is still accepted by the reader (the task then refuses the value).
    const limit = await post(classify.url, `{"inputs":"hi","parameters":{"top_k":${nested(126)}}}`);
    expect(limit.status).toBe(400);
    expect(JSON.parse(limit.text).error).toMatch(/^parameters\.top_k must be a positive integer, got \[\[\[\[\[…\]\]\]\]\]/);
    await expectHealthy(classify);
  });

  it('a task reading a deeply nested value in process names it, without a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(() => getTask('text-classification').parse({ inputs: 'hi', parameters: { top_k: deep } })).toThrow(/^parameters\.top_k must be a positive integer, got \[\[\[\[\[…\]\]\]\]\]\.$/);
    const messages = [{ role: 'user', content: [deep] }];
    expect(() => getTask('conversational').parse({ inputs: messages })).toThrow(/inputs\[0\]\.content\[0\] must be a text part/);
  });
});

describe('serve: huge bad values (defect 2)', () => {
  it('quotes a 10 MB bad value only up to a short prefix; error bodies stay under 64 KB', async () => {
    const huge = 'a'.repeat(10 * 1024 * 1024);
    const cases = [
      [classify.url, { inputs: 'hi', parameters: { top_k: huge } }, /^parameters\.top_k must be a positive integer, got "a{99}…\.$/],
      [classify.url, { inputs: 'hi', parameters: { function_to_apply: [huge, huge] } }, /^parameters\.function_to_apply must be one of .*, got \["a{98}…\.$/],
      [classify.url, { inputs: 'hi', parameters: { [huge]: 1, [`b${huge}`]: 2 } }, /^Unknown parameters for text-classification: a{40}…, ba{39}…\. Supported:/],
      [`${chat.url}/v1/chat/completions`, { messages: [{ role: huge, content: 'hi' }] }, /^messages\[0\]\.role must be one of .*, got "a{99}…\.$/],
      [`${chat.url}/v1/chat/completions`, { messages: [{ role: 'user', content: [{ type: 'image', url: huge }] }] }, /^messages\[0\]\.content\[0\] must be a text part .*, got \{"type":"image","url":"a+…\.$/],
    ] as const;
    for (const [url, body, message] of cases) {
      const r = await post(url, JSON.stringify(body));
      expect(r.status).toBe(400);
      expect(Buffer.byteLength(r.text)).toBeLessThan(KB64);
      expect(JSON.parse(r.text).error).toMatch(message);
    }
    const many = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`unknown_parameter_${i}`, i]));
    const r = await post(classify.url, JSON.stringify({ inputs: 'hi', parameters: many }));
    expect(r.status).toBe(400);
    expect(Buffer.byteLength(r.text)).toBeLessThan(KB64);
    expect(JSON.parse(r.text).error).toMatch(/unknown_parameter_9 and 49990 more\. Supported/);
    await expectHealthy(classify);
  });
});

describe('serve: numbers JSON cannot hold (defect 13)', () => {
  it('says 1e400 is not a finite number, never "got null"', async () => {
    const top = await post(classify.url, '{"inputs":"hi","parameters":{"top_k":1e400}}');
    expect(top.status).toBe(400);
    const { error } = JSON.parse(top.text);
    expect(error).not.toMatch(/null/);
    expect(error).toMatch(/^parameters\.top_k must be a positive integer, got Infinity, not a finite number \(a JSON number such as 1e400 overflows to Infinity\)\.$/);
    const temperature = await post(`${chat.url}/v1/chat/completions`, '{"messages":[{"role":"user","content":"hi"}],"temperature":-1e999}');
    expect(temperature.status).toBe(400);
    expect(JSON.parse(temperature.text).error).toMatch(/temperature must be a number at least 0, got -Infinity, not a finite number/);
  });
});

describe('serve: a body far over the limit (defect 14)', () => {
  /** Sends `total` bytes (declared or chunked) until the answer comes, and reads how the connection ends. */
  function sendHuge(url: string, total: number, declare: boolean) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; sent: number; socketError?: string }>((ok, fail) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      let answered = false;
      let socketError: string | undefined;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (declare) headers['content-length'] = String(total);
      const request = http.request(url, { method: 'POST', headers }, (response) => {
        answered = true;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (c: string) => (text += c));
        response.on('end', () => {
          // The server closes the connection after the answer.
          request.socket?.once('close', () => ok({ status: response.statusCode!, headers: response.headers, text, sent, socketError }));
          if (request.socket?.destroyed) ok({ status: response.statusCode!, headers: response.headers, text, sent, socketError });
        });
      });
      request.on('error', (err) => {
        socketError = (err as NodeJS.ErrnoException).code ?? err.message;
        if (!answered) fail(err);
      });
      const pump = () => {
        while (!answered && sent < total) {
          const piece = sent + chunk.length <= total ? chunk : chunk.subarray(0, total - sent);
          sent += piece.length;
          if (!request.write(piece)) {
            request.once('drain', pump);
            return;
          }
        }
        if (!answered) request.end();
      };
      pump();
    });
  }

  it('answers 413 with the JSON error and closes the connection, declared or chunked, and keeps serving', async () => {
    for (const declare of [true, false]) {
      const r = await sendHuge(classify.url, 4 * MAX_BODY_BYTES + 10 * 1024 * 1024, declare);
      expect(r.status).toBe(413);
      expect(r.headers.connection).toBe('close');
      expect(JSON.parse(r.text)).toEqual({ error: expect.stringMatching(/over the limit of 52428800 bytes/) });
      expect(r.socketError).toBeUndefined();
      // The answer came without the whole body (a declared one at once).
      expect(r.sent).toBeLessThan(4 * MAX_BODY_BYTES + 10 * 1024 * 1024);
    }
    await expectHealthy(classify);
  });

  it('fetch gets the 413 too', async () => {
    const body = new ReadableStream<Uint8Array>({
      start() {},
      pull(controller) {
        controller.enqueue(new Uint8Array(1024 * 1024));
      },
    });
    const response = await fetch(classify.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect((await response.json()).error).toMatch(/over the limit/);
  });
});

describe('serve: the Host check (defect 8)', () => {
  it('refuses a Host that is not this machine or an allowed name with a 403 {"error"}, and serves the others', async () => {
    const port = new URL(classify.url).port;
    const body = JSON.stringify({ inputs: CLASSIFY_TEXT });
    for (const host of ['evil.example', `evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await post(classify.url, body, { host });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.text).error).toMatch(/^Host ".*" is not allowed/);
      const health = await raw(`${classify.url}/health`, '', { host }, 'GET');
      expect(health.status).toBe(403);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost', `app.localhost:${port}`]) {
      expect((await post(classify.url, body, { host })).status, host).toBe(200);
    }
  });

  it('serves the names given in allowedHosts', async () => {
    const server = await serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0, allowedHosts: ['my.box', '.example.org', 'proxy.test:8443'] });
    try {
      const body = JSON.stringify({ inputs: CLASSIFY_TEXT });
      for (const host of ['my.box', 'my.box:9000', 'example.org', 'api.example.org:80', 'proxy.test:8443']) {
        expect((await post(server.url, body, { host })).status, host).toBe(200);
      }
      for (const host of ['evil.example', 'proxy.test:9000', 'my.box.evil.example', 'notexample.org']) {
        expect((await post(server.url, body, { host })).status, host).toBe(403);
      }
    } finally {
      await server.close();
    }
  });
});

describe('serve: the API key (defect 9)', () => {
  let keyed: RunningServer;
  beforeAll(async () => {
    keyed = await serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0, apiKey: 'sekret-key' });
  });
  afterAll(() => keyed?.close());

  it('needs Authorization: Bearer <key> (401 {"error"} otherwise); /health stays open', async () => {
    const body = JSON.stringify({ inputs: CLASSIFY_TEXT });
    const none = await post(keyed.url, body);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(none.text).error).toMatch(/API key is needed/);
    for (const authorization of ['Bearer wrong', 'Bearer sekret-ke', 'Bearer sekret-key2', 'Basic c2VrcmV0LWtleQ==', 'sekret-key', 'Bearer ']) {
      const r = await post(keyed.url, body, { authorization });
      expect(r.status, authorization).toBe(401);
      expect(JSON.parse(r.text).error).toMatch(/API key is wrong/);
    }
    expect((await post(keyed.url, body, { authorization: 'Bearer sekret-key' })).status).toBe(200);
    expect((await post(keyed.url, body, { authorization: 'bearer  sekret-key' })).status).toBe(200);
    await keyed.ready;
    const health = await fetch(`${keyed.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('Ok');
    // A browser's preflight carries no credentials.
    const preflight = await fetch(keyed.url, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
  });

  it('serves the official client given the key as its access token', async () => {
    const hf = new InferenceClient('sekret-key', { endpointUrl: keyed.url });
    expect(await hf.textClassification({ inputs: CLASSIFY_TEXT })).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    const wrong = new InferenceClient('hf_wrong', { endpointUrl: keyed.url });
    await expect(wrong.textClassification({ inputs: CLASSIFY_TEXT })).rejects.toThrow(/API key is wrong/);
  });

  it('warns when it binds beyond loopback without a key, and not with one', async () => {
    const warnings: string[] = [];
    const open = await serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0, host: '0.0.0.0', onWarning: (m) => warnings.push(m) });
    await open.close();
    expect(warnings).toEqual([expect.stringMatching(/^listening on 0\.0\.0\.0, beyond this machine, without an API key: .*--api-key or LOCAL_ENDPOINT_API_KEY/)]);
    const quiet: string[] = [];
    const local = await serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0, onWarning: (m) => quiet.push(m) });
    const safe = await serve({ task: 'text-classification', model: CLASSIFIER, modelsDir: MODELS, port: 0, host: '0.0.0.0', apiKey: 'k', onWarning: (m) => quiet.push(m) });
    await Promise.all([local.close(), safe.close()]);
    expect(quiet).toEqual([]);
  });

  it('the CLI takes the key from LOCAL_ENDPOINT_API_KEY or --api-key, names from --allowed-host, and warns on stderr', async () => {
    const cli = (args: string[], env: Record<string, string> = {}) => {
      const child = spawn(process.execPath, ['bin/local-endpoint.js', 'serve', '--task', 'text-classification', '--model', CLASSIFIER, '--models-dir', MODELS, '--port', '0', ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const url = new Promise<string>((ok, fail) => {
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const match = out.match(/listening on (http:\/\/\S+)/);
          if (match) ok(match[1]!);
        });
        child.once('exit', (code) => fail(new Error(`exited with ${code}: ${out}${err}`)));
      });
      return { child, url, stderr: () => err };
    };
    const withEnv = cli(['--allowed-host', 'my.box'], { LOCAL_ENDPOINT_API_KEY: 'from-env' });
    const wide = cli(['--host', '0.0.0.0']);
    const flagged = cli(['--api-key', 'from-flag', '--host', '0.0.0.0']);
    try {
      const base = await withEnv.url;
      const body = JSON.stringify({ inputs: CLASSIFY_TEXT });
      expect((await post(base, body)).status).toBe(401);
      expect((await post(base, body, { authorization: 'Bearer from-env' })).status).toBe(200);
      expect((await post(base, body, { authorization: 'Bearer from-env', host: 'my.box' })).status).toBe(200);
      expect((await post(base, body, { authorization: 'Bearer from-env', host: 'evil.example' })).status).toBe(403);
      const flaggedUrl = (await flagged.url).replace('0.0.0.0', '127.0.0.1');
      expect((await post(flaggedUrl, body, { authorization: 'Bearer from-flag' })).status).toBe(200);
      await wide.url;
      await until(() => /warning/.test(wide.stderr()));
      expect(wide.stderr()).toMatch(/warning: listening on 0\.0\.0\.0, beyond this machine, without an API key/);
      expect(flagged.stderr()).not.toMatch(/warning/);
      expect(withEnv.stderr()).not.toMatch(/warning/);
    } finally {
      for (const { child } of [withEnv, wide, flagged]) child.kill('SIGTERM');
    }
  });
});

describe('serve: /health means the model can run (defect 11)', () => {
  it('answers 503 while the model loads, then 200 Ok', async () => {
    // The larger fixture takes long enough to load for the first /health to find it loading.
    const server = await serve({ task: 'text-generation', model: 'local-endpoint/bench-llama', modelsDir: MODELS, port: 0 });
    try {
      const loading = await fetch(`${server.url}/health`);
      expect(loading.status).toBe(503);
      expect(await loading.json()).toEqual({ error: 'The model local-endpoint/bench-llama is loading.' });
      expect(server.health()).toEqual({ state: 'loading' });
      expect(await server.ready).toBe(true);
      for (const path of ['/health', '/']) {
        const ready = await fetch(server.url + path);
        expect(ready.status).toBe(200);
        expect(await ready.text()).toBe('Ok');
      }
    } finally {
      await server.close();
    }
  });

  it('answers 500 with the load error when the model cannot load (a corrupt ONNX file)', async () => {
    const server = await serve({ task: 'text-classification', model: CORRUPT, modelsDir: MODELS, port: 0 });
    try {
      let health = await fetch(`${server.url}/health`);
      for (const end = Date.now() + 30_000; health.status === 503 && Date.now() < end; ) {
        await new Promise((ok) => setTimeout(ok, 50));
        health = await fetch(`${server.url}/health`);
      }
      expect(health.status).toBe(500);
      expect(await server.ready).toBe(false);
      expect((await health.json()).error).toMatch(/^The model test-broken\/corrupt-classifier failed to load: /);
      expect(server.health()).toMatchObject({ state: 'failed' });
      const request = await post(server.url, JSON.stringify({ inputs: CLASSIFY_TEXT }));
      expect(request.status).toBeGreaterThanOrEqual(500);
      expect((await fetch(`${server.url}/`)).status).toBe(500);
    } finally {
      await server.close();
    }
  });
});
