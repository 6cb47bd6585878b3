/**
 * A failed fetch of a model file is never a missing file (worker/model-fetch.ts,
 * worker/model-files.ts, worker/runtime-node.ts). A real HTTP server on 127.0.0.1 answers 404
 * for one file, 500 for another, closes the connection without an answer for a third, and a
 * port where nothing listens stands for a host that is gone: only the 404 (or 410) is null, the
 * rest are 502 errors naming the file and its URL; a local file that cannot be read is a 500 that
 * names it relative to the model folder, never by its absolute path.
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { env } from '@huggingface/transformers';
import { EndpointError } from '../../src/protocol/errors.js';
import { checkedFetch, hostFailureMark, hostFailuresSince } from '../../worker/model-fetch.js';
import { fetchModelFile, fetchModelText } from '../../worker/model-files.js';
import { Engine } from '../../worker/engine.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { CLASSIFIER, CLASSIFY_TEXT, EMBED_TEXT, ENCODER, norm } from '../helpers.js';

const root = resolve('.fixtures/models');
let host: string;
let server: http.Server;
const down = inject('remote').down;

/**
 * `/m/ok.json` a JSON file, `/m/gone.json` 404, `/m/old.json` 410, `/m/broken.json` 500,
 * `/m/dropped.json` no answer; and `<model>/resolve/main/<file>` (or `<model>/<file>`) from the
 * fixture folder, where a first path segment `drop=<file>` or `500=<file>` makes that file fail so.
 */
function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
  const fixed: Record<string, () => void> = {
    '/m/ok.json': () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok": true}'),
    '/m/gone.json': () => res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found'),
    '/m/old.json': () => res.writeHead(410, { 'content-type': 'text/plain' }).end('Gone'),
    '/m/broken.json': () => res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal error'),
    '/m/dropped.json': () => req.socket.destroy(),
  };
  if (fixed[path]) return fixed[path]!();
  const raw = (req.url ?? '/').split('?')[0]!;
  const rule = /^\/(drop|\d{3})=([^/]+)(\/.*)$/.exec(raw);
  const rest = decodeURIComponent(rule ? rule[3]! : raw);
  if (rule && rest.endsWith(`/${decodeURIComponent(rule[2]!)}`)) {
    if (rule[1] === 'drop') return req.socket.destroy();
    return res.writeHead(Number(rule[1]), { 'content-type': 'text/plain' }).end('failing on purpose');
  }
  // The Hub's layout, `<model>/resolve/<revision>/<file>`, or a folder's, `<model>/<file>`.
  const match = /^\/(.+?)\/resolve\/[^/]+\/(.+)$/.exec(rest);
  const file = normalize(join(root, match ? join(match[1]!, match[2]!) : rest));
  let size = -1;
  try {
    if (file.startsWith(root) && statSync(file).isFile()) size = statSync(file).size;
  } catch {
    size = -1;
  }
  if (size < 0) return res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': size });
  createReadStream(file).pipe(res);
}

let cacheDir: string;
beforeAll(async () => {
  server = http.createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  host = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  cacheDir = mkdtempSync(join(tmpdir(), 'local-endpoint-flaky-cache-'));
  env.cacheDir = cacheDir;
});
// Each test starts from a cold cache: what one mirror delivered would otherwise answer for the next
// (transformers.js's file cache and the engine's own reads are keyed by model and file, not host).
beforeEach(() => {
  env.cacheDir = mkdtempSync(join(cacheDir, 'test-'));
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

async function rejection(run: () => Promise<unknown>): Promise<EndpointError> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(EndpointError);
  return caught as EndpointError;
}

describe('fetchModelText (the engine’s own reads: modules.json, 1_Pooling/config.json)', () => {
  it('gives the text of a file, and null only for a 404 or a 410', async () => {
    expect(await fetchModelText(`${host}/m/ok.json`, 'ok.json')).toBe('{"ok": true}');
    expect(await fetchModelText(`${host}/m/gone.json`, 'gone.json')).toBeNull();
    expect(await fetchModelText(`${host}/m/old.json`, 'old.json')).toBeNull();
  });

  it('a 500 is a 502 naming the file, its URL and the status', async () => {
    const err = await rejection(() => fetchModelText(`${host}/m/broken.json`, 'broken.json'));
    expect(err.status).toBe(502);
    expect(err.message).toBe(`The model host answered 500 Internal Server Error for broken.json at ${host}/m/broken.json.`);
  });

  it('a connection closed without an answer is a 502 naming the file, its URL and the cause', async () => {
    const err = await rejection(() => fetchModelText(`${host}/m/dropped.json`, 'dropped.json'));
    expect(err.status).toBe(502);
    expect(err.message).toMatch(new RegExp(`^The model host could not be reached for dropped\\.json at ${host}/m/dropped\\.json: fetch failed \\(.+\\)\\.$`));
  });

  it('a host where nothing listens is a 502 naming the file, its URL and ECONNREFUSED', async () => {
    const err = await rejection(() => fetchModelText(`${down}/m/modules.json`, 'modules.json'));
    expect(err.status).toBe(502);
    expect(err.message).toMatch(new RegExp(`^The model host could not be reached for modules\\.json at ${down}/m/modules\\.json: fetch failed \\(.*ECONNREFUSED.*\\)\\.$`));
  });
});

describe('fetchModelFile: local first, then the Hub', () => {
  const saved = { ...env };
  afterAll(() => Object.assign(env, { allowLocalModels: saved.allowLocalModels, allowRemoteModels: saved.allowRemoteModels, localModelPath: saved.localModelPath, remoteHost: saved.remoteHost }));

  it('a 404 moves on to the next place, a failure stops with its error, whatever comes after', async () => {
    Object.assign(env, { allowLocalModels: true, allowRemoteModels: true });
    // The local host has no such file (404): the Hub's copy is read.
    env.localModelPath = `${host}/no-local/`;
    env.remoteHost = `${host}/`;
    expect(JSON.parse((await fetchModelFile(ENCODER, 'modules.json'))!)).toBeInstanceOf(Array);
    // The local host fails: that is the answer, though the Hub has the file.
    env.localModelPath = `${host}/drop=modules.json/`;
    const err = await rejection(() => fetchModelFile(ENCODER, 'modules.json'));
    expect(err.status).toBe(502);
    expect(err.message).toContain(`for modules.json at ${host}/drop=modules.json/${ENCODER}/modules.json: fetch failed`);
    // Both say 404: missing.
    env.localModelPath = `${host}/no-local/`;
    expect(await fetchModelFile(CLASSIFIER, 'modules.json')).toBeNull();
    // The Hub fails after a local 404: its error, named with the Hub's URL.
    env.remoteHost = `${host}/500=1_Pooling%2Fconfig.json/`;
    const hub = await rejection(() => fetchModelFile(ENCODER, '1_Pooling/config.json'));
    expect(hub.message).toBe(`The model host answered 500 Internal Server Error for 1_Pooling/config.json at ${host}/500=1_Pooling%2Fconfig.json/${ENCODER}/resolve/main/1_Pooling/config.json.`);
  });
});

describe('checkedFetch (transformers.js’s env.fetch)', () => {
  const fetchModel = checkedFetch(fetch, (u) => u.startsWith(host));

  it('passes a 404 on, answers a 410 as a 404, and a 500 or a dropped connection as a 502 it remembers', async () => {
    const mark = hostFailureMark();
    expect((await fetchModel(`${host}/m/gone.json`)).status).toBe(404);
    expect((await fetchModel(`${host}/m/old.json`)).status).toBe(404);
    const broken = await fetchModel(`${host}/m/broken.json`);
    expect(broken.status).toBe(502);
    // Its body fails to read: transformers.js never takes the error page for the file.
    await expect(broken.text()).rejects.toThrow(`The model host answered 500 Internal Server Error for broken.json at ${host}/m/broken.json.`);
    const dropped = await fetchModel(`${host}/m/dropped.json`);
    expect(dropped.status).toBe(502);
    await expect(dropped.arrayBuffer()).rejects.toThrow(/could not be reached for dropped\.json/);
    expect(hostFailuresSince(mark, [`${host}/m/`])).toEqual([
      { seq: expect.any(Number), url: `${host}/m/broken.json`, failure: { kind: 'status', status: 500, statusText: 'Internal Server Error' } },
      { seq: expect.any(Number), url: `${host}/m/dropped.json`, failure: { kind: 'unreachable', cause: expect.stringMatching(/^fetch failed \(.+\)$/) } },
    ]);
    expect(hostFailuresSince(mark, [`${host}/other/`])).toEqual([]);
  });

  it('leaves other URLs alone: their rejections are rejections', async () => {
    const mark = hostFailureMark();
    await expect(checkedFetch(fetch, (u) => u.startsWith(host))(`${down}/ort.wasm`)).rejects.toThrow(/fetch failed/);
    expect(hostFailuresSince(mark, [down])).toEqual([]);
  });
});

describe('the Node engine and a Hub mirror that fails', () => {
  const engineAt = (remoteHost: string) =>
    new Engine(nodeRuntime(), { localModelPath: '.fixtures/no-local-models', allowRemoteModels: true, remoteHost });

  it('from the working mirror, feature-extraction of the encoder answers a pooled, normalised vector', async () => {
    const result = await engineAt(`${host}/`).infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT });
    expect(result).toMatchObject({ ok: true });
    const output = (result as { output: number[] }).output;
    expect(typeof output[0]).toBe('number');
    expect(norm(output)).toBeCloseTo(1, 5);
  });

  it.each([
    ['drop', 'modules.json', /could not be reached for modules\.json at (\S+): fetch failed \(.+\)\.$/],
    ['500', 'modules.json', /answered 500 Internal Server Error for modules\.json at (\S+)\.$/],
    ['drop', '1_Pooling%2Fconfig.json', /could not be reached for 1_Pooling\/config\.json at (\S+): fetch failed/],
  ])('%s %s: a 502 naming the file and its URL, never unpooled token embeddings', async (action, file, message) => {
    const mirror = `${host}/${action}=${file}/`;
    const result = await engineAt(mirror).infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT });
    expect(result).toMatchObject({ ok: false, status: 502 });
    const error = (result as { error: string }).error;
    expect(error).toMatch(message);
    expect(message.exec(error)![1]).toBe(`${mirror}${ENCODER}/resolve/main/${decodeURIComponent(file)}`);
  });

  it('a model downloaded once answers the same when its files (the engine’s own reads too) can no longer be fetched', async () => {
    const first = await engineAt(`${host}/`).infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT });
    expect(first).toMatchObject({ ok: true });
    const later = await engineAt(`${host}/drop=modules.json/`).infer({ task: 'feature-extraction', model: ENCODER, inputs: EMBED_TEXT });
    expect((later as { output: unknown }).output).toEqual((first as { output: unknown }).output);
  });

  it.each([
    ['drop', /^Model "local-endpoint\/tiny-bert-classifier" could not be loaded: the model host could not be reached for config\.json at (\S+): fetch failed/],
    ['500', /^Model "local-endpoint\/tiny-bert-classifier" could not be loaded: the model host answered 500 Internal Server Error for config\.json at (\S+?)\.?(?: |$)/],
  ])('config.json %s: a 502 naming config.json and its URL, not the 400 of a model that does not exist', async (action, message) => {
    const mirror = `${host}/${action}=config.json/`;
    const result = await engineAt(mirror).infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT });
    expect(result).toMatchObject({ ok: false, status: 502 });
    const error = (result as { error: string }).error;
    expect(error).toMatch(message);
    expect(message.exec(error)![1]).toBe(`${mirror}${CLASSIFIER}/resolve/main/config.json`);
    expect(error).not.toMatch(/could not be found/);
  });

  it('a mirror where nothing listens is a 502 naming config.json and ECONNREFUSED; a model the mirror lacks is still a 400', async () => {
    const result = await engineAt(`${down}/`).infer({ task: 'text-classification', model: CLASSIFIER, inputs: CLASSIFY_TEXT });
    expect(result).toMatchObject({ ok: false, status: 502, error: expect.stringMatching(new RegExp(`could not be reached for config\\.json at ${down}/${CLASSIFIER}/resolve/main/config\\.json: fetch failed \\(.*ECONNREFUSED`)) });
    const missing = await engineAt(`${host}/`).infer({ task: 'text-classification', model: 'nobody/nothing', inputs: 'x' });
    expect(missing).toMatchObject({ ok: false, status: 400, error: expect.stringContaining(`Model "nobody/nothing" could not be found: config.json is missing at ${host}/nobody/nothing/resolve/main/config.json`) });
  });
});

describe('runtime-node readModelFile: the local folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-endpoint-models-'));
    mkdirSync(join(dir, 'local-endpoint/x/modules.json'), { recursive: true }); // a folder where a file should be
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file is null (or the Hub’s copy); a file that cannot be read is a 500 naming it without the absolute path', async () => {
    const runtime = nodeRuntime();
    await runtime.configure({ localModelPath: dir });
    expect(await runtime.readModelFile('local-endpoint/x', 'config.json')).toBeNull();
    const err = await rejection(() => runtime.readModelFile('local-endpoint/x', 'modules.json'));
    expect(err.status).toBe(500);
    expect(err.message).toBe('local-endpoint/x/modules.json could not be read from the local model folder: EISDIR: illegal operation on a directory.');
    expect(err.message).not.toContain(dir);
    // Missing locally, the Hub is asked, and its failure is the answer.
    await runtime.configure({ localModelPath: dir, allowRemoteModels: true, remoteHost: `${host}/500=config.json/` });
    const hub = await rejection(() => runtime.readModelFile('local-endpoint/x', 'config.json'));
    expect(hub).toMatchObject({ status: 502, message: `The model host answered 500 Internal Server Error for config.json at ${host}/500=config.json/local-endpoint/x/resolve/main/config.json.` });
  });

  it('a model missing from the local folder is a 400 naming its file relative to the folder, never by its absolute path', async () => {
    const folder = resolve('.fixtures/models');
    const result = await new Engine(nodeRuntime(), { localModelPath: folder }).infer({ task: 'text-classification', model: 'nobody/nothing', inputs: 'x' });
    expect(result).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('Model "nobody/nothing" could not be found: config.json is missing at nobody/nothing/config.json in the local model folder.') });
    expect((result as { error: string }).error).not.toContain(folder);
  });
});
