/**
 * Model files behind any static host (worker/model-fetch.ts): the pure check, the checked fetch
 * and Cache API store, and the Node engine loading from a Hub mirror whose missing files are
 * answered `200 text/html`, as a static host's SPA fallback does.
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { env } from '@huggingface/transformers';
import {
  JSON_PARSE_LIMIT,
  bodyNeeded,
  checkModelResponse,
  checkModelText,
  checkedFetch,
  installModelFetch,
  modelFileProblem,
  rejectionOf,
} from '../../worker/model-fetch.js';
import { Engine } from '../../worker/engine.js';
import { readMediaBody } from '../../src/wire/media.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER } from '../helpers.js';

const PAGE = '<!doctype html>\n<html><head><title>App</title></head><body><div id="app"></div></body></html>\n';
const text = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);
const whole = (s: string | Uint8Array) => ({ bytes: s, complete: true });
const head = (s: string | Uint8Array) => ({ bytes: s, complete: false });

describe('modelFileProblem', () => {
  it.each([
    ['config.json', 'text/html'],
    ['preprocessor_config.json', 'text/html; charset=utf-8'],
    ['onnx/model_quantized.onnx', 'text/html'],
    ['onnx/model.onnx_data', 'TEXT/HTML'],
    ['tokenizer.model', 'application/xhtml+xml'],
    ['1_Pooling/config.json', 'text/html'],
  ])('refuses %s answered as %s, from the header alone', (path, type) => {
    expect(modelFileProblem(path, type)).toBe(`answered 200 with an HTML page (Content-Type ${type.split(';')[0]!.toLowerCase()}), as a static host's fallback for a missing file does`);
  });

  it('takes an HTML file answered as HTML, and the usual types of model files', () => {
    expect(modelFileProblem('docs/index.html', 'text/html')).toBeNull();
    expect(modelFileProblem('config.json', 'application/json', whole('{"a": 1}'))).toBeNull();
    expect(modelFileProblem('config.json', 'text/plain; charset=utf-8', whole('{"a": 1}'))).toBeNull(); // raw.githubusercontent.com
    expect(modelFileProblem('onnx/model.onnx', 'application/octet-stream')).toBeNull();
    expect(modelFileProblem('onnx/model.onnx', 'binary/octet-stream', head(new Uint8Array([0x08, 0x07, 0x12, 0x07])))).toBeNull();
    expect(modelFileProblem('onnx/model.onnx', null)).toBeNull();
  });

  it.each([
    ['an HTML page with no Content-Type', PAGE, /^answered 200 with an HTML or XML page, not JSON \(it starts with "<!doctype html>\\n<htm…"\)$/],
    ['an XML error page', '<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>', /HTML or XML page, not JSON/],
    ['a plain-text 200', 'Not found', /^answered 200 with something that is not JSON \(it starts with "Not found"\)$/],
    ['an empty body', '', /not JSON \(it starts with ""\)/],
    ['truncated JSON', '{"model_type": "vit", "id2', /^answered 200 with a body that does not parse \(/],
  ])('refuses a .json file that is %s', (_, body, message) => {
    expect(modelFileProblem('config.json', 'application/json', whole(body))).toMatch(message);
    expect(modelFileProblem('config.json', 'application/json', whole(text(body)))).toMatch(message); // bytes too
  });

  it('takes JSON after whitespace or a byte-order mark, objects and arrays, and judges only the start of a partial body', () => {
    expect(modelFileProblem('modules.json', null, whole('\n  [{"idx": 0}]'))).toBeNull();
    expect(modelFileProblem('config.json', null, whole('\uFEFF{"a": 1}'))).toBeNull();
    expect(modelFileProblem('config.json', null, whole(new Uint8Array([0xef, 0xbb, 0xbf, ...text('{"a": 1}')])))).toBeNull();
    expect(modelFileProblem('tokenizer.json', null, head('{"version": "1.0", "trunc'))).toBeNull();
    expect(modelFileProblem('tokenizer.json', null, head('   '))).toBeNull(); // nothing to judge yet
    expect(modelFileProblem('tokenizer.json', null, head('<!doctype html>'))).toMatch(/HTML or XML page/);
  });

  it('refuses an .onnx file that is text, and takes one that is not', () => {
    expect(modelFileProblem('onnx/model.onnx', 'text/plain', head(PAGE))).toMatch(/^answered 200 with text, not an ONNX model \(it starts with "<!doctype html>/);
    expect(modelFileProblem('onnx/model.onnx', 'text/plain', head('Not found\n'))).toMatch(/not an ONNX model/);
    // A server that types unknown files text/plain still serves a real model.
    expect(modelFileProblem('onnx/model.onnx', 'text/plain', head(new Uint8Array([0x08, 0x08, 0x12, 0x0b, 0x70, 0x79])))).toBeNull();
  });
});

describe('bodyNeeded', () => {
  it('reads a small JSON file whole, sniffs a large one or one of unknown size, and an ONNX file only when typed as text', () => {
    expect(bodyNeeded('config.json', 'application/json', 700)).toBe('all');
    expect(bodyNeeded('config.json', 'application/json', JSON_PARSE_LIMIT)).toBe('all');
    expect(bodyNeeded('tokenizer.json', 'application/json', JSON_PARSE_LIMIT + 1)).toBe('head');
    expect(bodyNeeded('tokenizer.json', 'application/json', null)).toBe('head');
    expect(bodyNeeded('config.json', 'text/html', 700)).toBe('none'); // refused by its header
    expect(bodyNeeded('onnx/model.onnx', 'application/octet-stream', 10_000_000)).toBe('none');
    expect(bodyNeeded('onnx/model.onnx', 'text/plain', 10_000_000)).toBe('head');
    expect(bodyNeeded('onnx/model.onnx', null, null)).toBe('head');
    expect(bodyNeeded('onnx/model.onnx_data', 'application/octet-stream', 10_000_000)).toBe('none');
    expect(bodyNeeded('merges.txt', 'text/plain', 100)).toBe('none');
  });
});

describe('checkModelResponse and checkedFetch', () => {
  const url = 'https://mirror.example/m/resolve/main/preprocessor_config.json';
  const html = () => new Response(PAGE, { headers: { 'content-type': 'text/html', 'content-length': String(PAGE.length) } });

  it('answers an HTML page as a 404 and remembers why; hands a good answer on as it is, its body unread', async () => {
    const refused = await checkModelResponse(url, html());
    expect(refused.status).toBe(404);
    expect(await refused.text()).toMatch(/^Not found: https:\/\/mirror\.example\/m\/resolve\/main\/preprocessor_config\.json answered 200 with an HTML page/);
    expect(rejectionOf(url)).toMatch(/^answered 200 with an HTML page \(Content-Type text\/html\)/);
    const body = JSON.stringify({ do_resize: true });
    const good = new Response(body, { headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
    const passed = await checkModelResponse(url.replace('preprocessor', 'other'), good);
    expect(passed).toBe(good);
    expect(passed.bodyUsed).toBe(false);
    expect(await passed.text()).toBe(body);
    // Not a 2xx answer: not judged.
    const missing = new Response('nope', { status: 404 });
    expect(await checkModelResponse(url, missing)).toBe(missing);
  });

  it('streams a large file on: only its first chunk is read from a clone, the rest arrives as it comes', async () => {
    let pulled = 0;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      pull: () => void pulled++,
    });
    controller.enqueue(text('{"version": "1.0", '));
    const response = new Response(stream, { headers: { 'content-type': 'application/json' } }); // no length: sniffed
    const passed = await checkModelResponse('https://mirror.example/m/resolve/main/tokenizer.json', response);
    expect(passed).toBe(response);
    // The rest of the body was not there yet when the check answered: it was not waited for.
    controller.enqueue(text('"model": {}}'));
    controller.close();
    expect(JSON.parse(await passed.text())).toEqual({ version: '1.0', model: {} });
    expect(pulled).toBeGreaterThan(0);
  });

  it('sniffs a first chunk of megabytes by its start: an ONNX model typed text/plain passes, an HTML page so typed does not', async () => {
    const model = new Uint8Array(4 * 1024 * 1024);
    model.set([0x08, 0x08, 0x12, 0x0b]);
    const typed = (body: Uint8Array<ArrayBuffer>) => new Response(body, { headers: { 'content-type': 'text/plain' } });
    const real = typed(model);
    const passed = await checkModelResponse('https://mirror.example/m/resolve/main/onnx/model.onnx', real);
    expect(passed).toBe(real);
    expect((await passed.arrayBuffer()).byteLength).toBe(model.length);
    const page = text(PAGE.repeat(40_000)); // 3.8 MB of HTML
    expect((await checkModelResponse('https://mirror.example/m/resolve/main/onnx/model.onnx', typed(page))).status).toBe(404);
  });

  it('judges a Range answer (206) by its start only', async () => {
    const piece = new Response('{', { status: 206, headers: { 'content-type': 'application/json', 'content-range': 'bytes 0-0/700', 'content-length': '1' } });
    expect(await checkModelResponse(url, piece)).toBe(piece);
  });

  it('checks only model files: a WASM file or another URL goes through untouched', async () => {
    const seen: string[] = [];
    const base = (async (input: RequestInfo | URL) => {
      seen.push(String(input));
      return html();
    }) as typeof fetch;
    const checked = checkedFetch(base, (u) => u.startsWith('https://mirror.example/'));
    expect((await checked('https://mirror.example/m/resolve/main/config.json')).status).toBe(404);
    expect((await checked(new URL('https://mirror.example/m/resolve/main/onnx/model_quantized.onnx'))).status).toBe(404);
    expect((await checked(new Request('https://mirror.example/m/resolve/main/config.json'), { method: 'HEAD' })).status).toBe(404);
    const other = await checked('https://app.example/ort-wasm-simd-threaded.jsep.mjs');
    expect(other.status).toBe(200);
    expect(seen).toHaveLength(4);
  });

  it('checkModelText (the engine’s own reads) gives the text or null, whatever the size', () => {
    const big = JSON.stringify({ vocab: 'x'.repeat(JSON_PARSE_LIMIT) });
    expect(checkModelText('https://mirror.example/m/resolve/main/modules.json', 'application/json', big)).toBe(big);
    expect(checkModelText('https://mirror.example/m/resolve/main/modules.json', 'text/html', PAGE)).toBeNull();
    expect(checkModelText('https://mirror.example/m/resolve/main/1_Pooling/config.json', 'application/octet-stream', `${big.slice(0, -1)}`)).toBeNull();
    expect(rejectionOf('https://mirror.example/m/resolve/main/1_Pooling/config.json')).toMatch(/does not parse/);
  });

  it('installs once, however often configure runs, and wraps the original fetch', async () => {
    const original = (async () => html()) as typeof fetch;
    const fake = { fetch: original, localModelPath: '/models/', remoteHost: 'https://mirror.example/' } as Parameters<typeof installModelFetch>[0];
    installModelFetch(fake);
    installModelFetch(fake);
    // One layer over the original, not two.
    expect((fake.fetch as unknown as Record<symbol, unknown>)[Symbol.for('local-endpoint.model-fetch')]).toBe(original);
    expect((await fake.fetch('https://mirror.example/m/resolve/main/config.json')).status).toBe(404);
    expect((await fake.fetch('https://elsewhere.example/x.json')).status).toBe(200);
    expect(fake.useCustomCache).toBeUndefined(); // no Cache API store outside the browser
  });
});

describe('the Node engine and a Hub mirror behind an SPA fallback', () => {
  const root = resolve('.fixtures/models');
  let mirror: string;
  let server: http.Server;
  const requested: string[] = [];
  beforeAll(async () => {
    // `<model>/resolve/main/<file>` from the fixture folder; a missing file is the app's page.
    server = http.createServer((req, res) => {
      requested.push(decodeURIComponent((req.url ?? '').split('?')[0]!));
      const match = /^\/(.+?)\/resolve\/[^/]+\/(.+)$/.exec(decodeURIComponent((req.url ?? '').split('?')[0]!));
      const file = match ? normalize(join(root, match[1]!, match[2]!)) : '';
      let size = -1;
      try {
        if (file.startsWith(root) && statSync(file).isFile()) size = statSync(file).size;
      } catch {
        size = -1;
      }
      if (size < 0) {
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(PAGE) }).end(PAGE);
        return;
      }
      res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': size });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    mirror = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    // transformers.js keeps what it downloads in Node in a file cache: here, a fresh folder.
    env.cacheDir = mkdtempSync(join(tmpdir(), 'local-endpoint-mirror-cache-'));
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
    rmSync(env.cacheDir!, { recursive: true, force: true });
  });

  const engine = () => new Engine(nodeRuntime(), { localModelPath: '.fixtures/no-local-models', allowRemoteModels: true, remoteHost: mirror });
  const local = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });

  it.each([
    ['image-classification', 'local-endpoint/tiny-vit-classifier', 'tiger.png'],
    ['text-classification', CLASSIFIER, CLASSIFY_TEXT],
    ['feature-extraction', CLASSIFIER, EMBED_TEXT], // no modules.json: the engine's own read must see it missing
    ['sentence-embeddings', ENCODER, EMBED_TEXT], // modules.json and 1_Pooling/config.json read by the engine
  ])('%s of %s loads from the mirror and answers as from the folder', async (task, model, input) => {
    const inputs = input.endsWith('.png') ? readMediaBody(new Uint8Array(readFileSync(`.fixtures/models/test-media/${input}`)), 'image/png', 'image') : input;
    const fromMirror = await engine().infer({ task, model, inputs });
    const fromFolder = await local.infer({ task, model, inputs });
    expect(fromMirror).toMatchObject({ ok: true });
    expect((fromMirror as { output: unknown }).output).toEqual((fromFolder as { output: unknown }).output);
  });

  it('keeps what it downloaded, the engine’s own reads included: listed, read again without a request, deleted on demand', async () => {
    const first = await engine().infer({ task: 'sentence-embeddings', model: ENCODER, inputs: EMBED_TEXT });
    expect(first).toMatchObject({ ok: true });
    const listed = (await engine().listCached()).find((m) => m.model === ENCODER);
    expect(listed?.files.map((f) => f.path)).toEqual(expect.arrayContaining(['config.json', 'modules.json', '1_Pooling/config.json', 'onnx/model.onnx']));
    expect(listed!.files.find((f) => f.path === 'onnx/model.onnx')!.bytes).toBe(statSync(join(root, ENCODER, 'onnx/model.onnx')).size);
    expect(listed!.lastUsed).toBeGreaterThan(0);
    requested.length = 0;
    const again = await engine().infer({ task: 'sentence-embeddings', model: ENCODER, inputs: EMBED_TEXT });
    expect((again as { output: unknown }).output).toEqual((first as { output: unknown }).output);
    // Only the optional files the mirror does not have are asked for again (transformers.js's file cache keeps no absence).
    expect(requested.filter((u) => /modules\.json|1_Pooling|model\.onnx|tokenizer\.json/.test(u))).toEqual([]);
    const estimate = await engine().storageEstimate();
    expect(estimate.usage).toBeGreaterThanOrEqual(listed!.bytes);
    expect(estimate.quota).toBeGreaterThan(0);
    expect(await engine().deleteCached(ENCODER)).toBe(true);
    expect((await engine().listCached()).map((m) => m.model)).not.toContain(ENCODER);
    expect(await engine().deleteCached(ENCODER)).toBe(false);
  });

  it('a model the mirror does not have is a 400 naming config.json, its URL and the HTML answer, never a JSON parse error', async () => {
    const result = await engine().infer({ task: 'text-classification', model: 'nobody/nothing', inputs: 'x' });
    expect(result).toMatchObject({ ok: false, status: 400 });
    const error = (result as { error: string }).error;
    expect(error).toContain(`Model "nobody/nothing" could not be found: config.json is missing at ${mirror}nobody/nothing/resolve/main/config.json: the server answered 200 with an HTML page (Content-Type text/html)`);
    expect(error).not.toContain('JSON');
    expect(error).not.toMatch(/Unexpected token|SyntaxError|<!doctype/i);
  });
});
