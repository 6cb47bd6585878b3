/**
 * Model files behind any static host. Under `vite preview`, or Netlify- and Vercel-style rewrites
 * for single-page apps, a file that does not exist is answered `200 text/html` with the app's
 * index.html. transformers.js asks for many optional files (preprocessor_config.json variants,
 * generation_config.json, quantized ONNX files) and would parse that page as JSON, or hand it to
 * ONNX Runtime as a model.
 *
 * Here, a model file answered with something that is not what the file should be is treated as
 * missing: transformers.js's `env.fetch` gets a 404 for it (so optional files are skipped and a
 * required one fails with transformers.js's own "not found" error, which the engine words with
 * the file and its URL), the engine's own reads (worker/model-files.ts) get null, and the
 * Cache API store neither keeps such an answer nor serves one an earlier version kept.
 *
 * The checks are cheap: the Content-Type first; for a `.json` file its first bytes, and the whole
 * text when it is small; for an `.onnx` file its first bytes only when the Content-Type says text.
 * A Response that passes is handed on as it is (its body still streams, so progress is reported);
 * only a clone of it is read.
 *
 * A fetch of a model file that fails (the host cannot be reached, or answers a status other than
 * 404 or 410) is never a missing file: it is remembered (`hostFailuresSince`) and answered with a
 * 502 whose body fails to read, so transformers.js never skips the file as absent nor reads an
 * error page as the file, and the engine fails the load with a 502 naming the file and its URL.
 */

/** Why a 2xx answer for a model file is not that file, or null when it may be. Pure. */
export function modelFileProblem(path: string, contentType: string | null, body?: ModelFileBody): string | null {
  const ext = extensionOf(path);
  const type = mediaTypeOf(contentType);
  if (HTML_TYPES.has(type) && ext !== 'html' && ext !== 'htm') {
    return `answered 200 with an HTML page (Content-Type ${type}), as a static host's fallback for a missing file does`;
  }
  if (!body) return null;
  const head = typeof body.bytes === 'string' ? body.bytes.slice(0, SNIFF_BYTES) : latin1(body.bytes.subarray(0, SNIFF_BYTES));
  const start = head.replace(/^(\uFEFF|\xEF\xBB\xBF)/, '').trimStart();
  if (ext === 'json') {
    if (start === '' && !body.complete) return null; // nothing to judge yet
    if (start.startsWith('<')) return `answered 200 with an HTML or XML page, not JSON (it starts with ${quote(start)})`;
    if (!start.startsWith('{') && !start.startsWith('[')) return `answered 200 with something that is not JSON (it starts with ${quote(start)})`;
    if (body.complete) {
      // As transformers.js decodes it: TextDecoder drops a byte-order mark.
      const text = typeof body.bytes === 'string' ? body.bytes.replace(/^\uFEFF/, '') : new TextDecoder().decode(body.bytes);
      try {
        JSON.parse(text);
      } catch (err) {
        return `answered 200 with a body that does not parse (${(err as Error).message})`;
      }
    }
    return null;
  }
  if (ONNX.has(ext) && looksLikeText(head)) {
    return `answered 200 with text, not an ONNX model (it starts with ${quote(start)})`;
  }
  return null;
}

/** Whether a `modelFileProblem` check needs the body: `all` of it, its `head`, or `none`. */
export function bodyNeeded(path: string, contentType: string | null, contentLength: number | null): 'all' | 'head' | 'none' {
  const ext = extensionOf(path);
  const type = mediaTypeOf(contentType);
  if (HTML_TYPES.has(type) && ext !== 'html' && ext !== 'htm') return 'none'; // already refused
  if (ext === 'json') return contentLength !== null && contentLength <= JSON_PARSE_LIMIT ? 'all' : 'head';
  // An ONNX file is sniffed only when its Content-Type does not already say binary.
  if (ONNX.has(ext) && (type === '' || type.startsWith('text/') || TEXTUAL_TYPES.has(type))) return 'head';
  return 'none';
}

export interface ModelFileBody {
  /** The body, or its first bytes. */
  bytes: Uint8Array | string;
  /** Whether `bytes` is the whole body. */
  complete: boolean;
}

/** JSON files up to this size are read whole and parsed; larger ones (tokenizer.json) only sniffed. */
export const JSON_PARSE_LIMIT = 1024 * 1024;
const SNIFF_BYTES = 64;
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const TEXTUAL_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);
const ONNX = new Set(['onnx', 'ort']);

// -- fetch and cache ----------------------------------------------------------------------------

/** Why model files were treated as missing, by absolute URL: the engine's load error says it. */
const rejected = new Map<string, string>();
const MAX_REMEMBERED = 200;

function remember(url: string, reason: string): void {
  rejected.delete(url);
  rejected.set(url, reason);
  if (rejected.size > MAX_REMEMBERED) rejected.delete(rejected.keys().next().value!);
}

/** Why the model file at `url` (absolute, or relative to this page or worker) was treated as missing, if it was. */
export function rejectionOf(url: string): string | undefined {
  return rejected.get(absolute(url));
}

/**
 * Checks a Response for a model file: the same Response when it passes (or is not a 2xx answer),
 * else a 404 in its place. Reads only a clone, and only as much as `bodyNeeded` says.
 */
export async function checkModelResponse(url: string, response: Response, options: { partial?: boolean; headersOnly?: boolean } = {}): Promise<Response> {
  if (response.status < 200 || response.status > 299) return response;
  const problem = options.headersOnly
    ? modelFileProblem(pathOf(url), response.headers.get('content-type'))
    : await responseProblem(url, response, options.partial ?? response.status === 206);
  if (!problem) return response;
  remember(absolute(url), problem);
  void response.body?.cancel().catch(() => undefined);
  return new Response(`Not found: ${url} ${problem}.`, { status: 404, statusText: 'Not Found', headers: { 'content-type': 'text/plain' } });
}

async function responseProblem(url: string, response: Response, partial: boolean): Promise<string | null> {
  const path = pathOf(url);
  const contentType = response.headers.get('content-type');
  // A compressed body's length says little about the text's: judged as of unknown size.
  const encoded = (response.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
  const length = encoded ? null : response.headers.get('content-length');
  // A Range answer holds a piece of the file: too little to parse.
  let needed = bodyNeeded(path, contentType, length === null ? null : Number(length));
  if (partial && needed === 'all') needed = 'head';
  if (needed === 'none' || !response.body) return modelFileProblem(path, contentType);
  if (response.bodyUsed) return modelFileProblem(path, contentType);
  const copy = response.clone();
  if (needed === 'all') {
    const bytes = new Uint8Array(await copy.arrayBuffer().catch(() => new ArrayBuffer(0)));
    return modelFileProblem(path, contentType, { bytes, complete: true });
  }
  const head = await readHead(copy.body!);
  return modelFileProblem(path, contentType, head);
}

/** Reads the first bytes of a stream (at least one that is not whitespace, when there is one) and lets go of it. */
async function readHead(stream: ReadableStream<Uint8Array>): Promise<ModelFileBody> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size < SNIFF_BYTES) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      const kept = value.subarray(0, SNIFF_BYTES - size); // a chunk may be megabytes: keep the start
      chunks.push(kept);
      size += kept.length;
      if (latin1(kept).trim() !== '') break;
    }
  } catch {
    // A failed read is the original body's problem too: transformers.js reports it.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) bytes.set(chunk, (at += chunk.length) - chunk.length);
  return { bytes, complete };
}

/**
 * The engine's own reads of model files (worker/model-files.ts): the text when it is that file, or
 * null (and the reason remembered) when it is not, whatever its size.
 */
export function checkModelText(url: string, contentType: string | null, text: string): string | null {
  const problem = modelFileProblem(pathOf(url), contentType, { bytes: text, complete: true });
  if (!problem) return text;
  remember(absolute(url), problem);
  return null;
}

// -- failed fetches -------------------------------------------------------------------------

/** Why a fetch of a model file failed: the host could not be reached, or it answered an error. */
export type HostFailure = { kind: 'unreachable'; cause: string } | { kind: 'status'; status: number; statusText: string };

/** A failed fetch of a model file, as `checkedFetch` remembers it. */
export interface HostFailureRecord {
  /** Its place in the order of failures: `hostFailureMark` before a load, `hostFailuresSince` after. */
  seq: number;
  /** The absolute URL. */
  url: string;
  failure: HostFailure;
}

const failures: HostFailureRecord[] = [];
let failureCount = 0;

function rememberFailure(url: string, failure: HostFailure): void {
  failures.push({ seq: ++failureCount, url, failure });
  if (failures.length > MAX_REMEMBERED) failures.shift();
}

/** The mark to give `hostFailuresSince`: take it before a load. */
export function hostFailureMark(): number {
  return failureCount;
}

/** The failed fetches of model files since `mark` whose URLs start with one of `prefixes` (absolute URLs). */
export function hostFailuresSince(mark: number, prefixes: string[]): HostFailureRecord[] {
  return failures.filter((f) => f.seq > mark && prefixes.some((p) => f.url.startsWith(p)));
}

/** Why a fetch (rejected: `fetch` threw) failed, with Node's underlying cause (`fetch failed (connect ECONNREFUSED …)`). */
export function fetchCause(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const cause = (err as { cause?: { message?: unknown; code?: unknown } })?.cause;
  const detail = typeof cause?.message === 'string' && cause.message ? cause.message : typeof cause?.code === 'string' ? cause.code : '';
  return detail && !message.includes(detail) ? `${message} (${detail})` : message;
}

/**
 * "The model host could not be reached for config.json at http://…/config.json: Failed to fetch."
 * or "The model host answered 500 Internal Server Error for config.json at http://…/config.json."
 */
export function describeHostFailure(file: string, url: string, failure: HostFailure): string {
  if (failure.kind === 'unreachable') return `The model host could not be reached for ${file} at ${url}: ${failure.cause.replace(/\.$/, '')}.`;
  return `The model host answered ${failure.status}${failure.statusText ? ` ${failure.statusText}` : ''} for ${file} at ${url}.`;
}

/** A status that means the file is not there: the only failures taken as "missing". */
export function isMissingStatus(status: number): boolean {
  return status === 404 || status === 410;
}

/** What `checkedFetch` answers for a failed fetch: a 502 whose body fails to read, with the reason. */
function failedResponse(url: string, failure: HostFailure): Response {
  rememberFailure(url, failure);
  const error = new Error(describeHostFailure(pathOf(url).split('/').pop() ?? url, url, failure));
  const body = new ReadableStream<Uint8Array>({ pull: (controller) => controller.error(error) });
  return new Response(body, {
    status: 502,
    statusText: 'Bad Gateway',
    headers: { 'content-type': 'text/plain', [FAILURE_HEADER]: encodeURIComponent(JSON.stringify(failure)) },
  });
}

/** Marks checkedFetch's own 502 for a failed fetch, carrying the failure (URI-encoded JSON). */
export const FAILURE_HEADER = 'x-local-endpoint-host-failure';

/** The failure a checkedFetch 502 stands for, or undefined for any other answer. */
export function hostFailureOf(response: Response): HostFailure | undefined {
  const value = response.headers.get(FAILURE_HEADER);
  if (!value) return undefined;
  try {
    return JSON.parse(decodeURIComponent(value)) as HostFailure;
  } catch {
    return undefined;
  }
}

/** Remembers a failed fetch of a model file found elsewhere (a download that stopped mid-body). */
export function recordHostFailure(url: string, failure: HostFailure): void {
  rememberFailure(url, failure);
}

type Fetch = typeof fetch;
const CHECKED = Symbol.for('local-endpoint.model-fetch');

/**
 * A fetch whose answers for model files (URLs `isModelFile` accepts) pass `checkModelResponse`.
 * Other requests (onnxruntime-web's WASM files) go through untouched. A model file whose fetch
 * rejects, or is answered with an error other than 404 or 410, is remembered and answered with a
 * 502 whose body fails to read (see the top of this file); a 410 is answered as a 404.
 */
export function checkedFetch(base: Fetch, isModelFile: (url: string) => boolean): Fetch {
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = urlOf(input);
    if (!isModelFile(url)) return base(input, init);
    let response: Response;
    try {
      response = await base(input, init);
    } catch (err) {
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
      if (signal?.aborted) throw err; // stopped on purpose: not the host's fault
      return failedResponse(url, { kind: 'unreachable', cause: fetchCause(err) });
    }
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const range = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).has('range');
    if (!response.ok) {
      // A Range request for an empty file is answered 416: the file is there.
      if (response.status === 404 || (range && response.status === 416)) return response;
      void response.body?.cancel().catch(() => undefined);
      if (response.status === 410) return new Response(`Not found: ${url} answered 410 Gone.`, { status: 404, statusText: 'Not Found', headers: { 'content-type': 'text/plain' } });
      return failedResponse(url, { kind: 'status', status: response.status, statusText: response.statusText });
    }
    if (method === 'HEAD') return checkModelResponse(url, response, { headersOnly: true });
    return checkModelResponse(url, response, { partial: range || response.status === 206 });
  }) as Fetch & { [CHECKED]?: Fetch };
  wrapped[CHECKED] = base;
  return wrapped;
}

/** What of transformers.js's `env` this module uses. */
export interface ModelFetchEnv {
  // transformers.js types it `(input: string | URL, init?: any) => Promise<any>`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fetch: (input: string | URL, init?: any) => Promise<any>;
  localModelPath: string;
  remoteHost: string;
  useBrowserCache?: boolean;
  useCustomCache?: boolean;
  customCache?: unknown;
  cacheKey?: string;
}

/**
 * Installs the checks into transformers.js (idempotent: call it from every `configure`): its
 * `env.fetch` for model files under `localModelPath` or `remoteHost`, and, where a model cache is
 * given (the browser: model-cache.ts), that cache, both as `env.customCache` and in front of the
 * checked fetch, so that every model file is stored once and only when it passed the checks.
 */
export function installModelFetch(env: ModelFetchEnv, { cache }: { cache?: ModelCacheLike } = {}): void {
  const isModelFile = (url: string) => isUnder(url, env.localModelPath) || isUnder(url, env.remoteHost);
  const current = env.fetch as unknown as Fetch & { [CHECKED]?: Fetch };
  const checked = checkedFetch(current[CHECKED] ?? current, isModelFile);
  const fetch = (cache ? cache.fetch(checked) : checked) as Fetch & { [CHECKED]?: Fetch };
  fetch[CHECKED] = current[CHECKED] ?? current;
  env.fetch = fetch;
  if (cache) {
    env.customCache = cache;
    env.useCustomCache = true;
    env.useBrowserCache = false;
  }
  modelFetch = fetch;
}

/** What `installModelFetch` needs of a model cache. */
export interface ModelCacheLike {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
  delete(key: string): Promise<boolean>;
  fetch(inner: Fetch): Fetch;
}

let modelFetch: Fetch | undefined;

/** The fetch for model files that transformers.js uses (checked, and through the model cache): the engine's own reads use it too. */
export function installedModelFetch(): Fetch {
  return modelFetch ?? fetch;
}

// -- helpers ------------------------------------------------------------------------------------

function urlOf(input: RequestInfo | URL): string {
  return absolute(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
}

/** Resolved against this page or worker; left as it is where there is no location (Node: a file path). */
export function absolute(url: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

function isUnder(url: string, prefix: string | undefined): boolean {
  if (!prefix) return false;
  const base = absolute(prefix.endsWith('/') ? prefix : `${prefix}/`);
  return /^[a-z][a-z0-9+.-]*:/i.test(base) && url.startsWith(base);
}

function pathOf(url: string): string {
  try {
    return new URL(url, 'http://x/').pathname;
  } catch {
    return url.split(/[?#]/)[0]!;
  }
}

function extensionOf(path: string): string {
  const name = decodeURIComponentSafe(path.split(/[?#]/)[0]!.split('/').pop() ?? '');
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** Printable ASCII and whitespace only: text, which an ONNX protobuf (it starts 0x08) never is. */
function looksLikeText(head: string): boolean {
  return head.length > 0 && /^[\t\n\r\x20-\x7e]+$/.test(head);
}

function quote(text: string): string {
  const cut = text.slice(0, 20);
  return JSON.stringify(cut + (text.length > 20 ? '…' : ''));
}
