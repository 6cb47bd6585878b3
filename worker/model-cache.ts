/**
 * The one model cache (browser): every file of every model, transformers.js's reads and the
 * engine's own (modules.json, the pooling config, chat templates), in one Cache API store that the
 * user can list, measure and clear (`listCached`, `deleteCached`).
 *
 * It sits under transformers.js twice, and both ways lead to the same entries:
 * - as `env.customCache`: transformers.js looks a file up there before it fetches it;
 * - in `env.fetch`: a model file is answered from the store when it is there, and otherwise
 *   downloaded once and stored.
 *
 * Each file downloads once. transformers.js's `pipeline()` first asks for every file's size
 * (`get_file_metadata`): for a model under a relative local path (`/models/…`) that is a full GET
 * whose body it never reads, then a second full GET to load the file, so each file used to travel
 * twice. Here a GET of a model file that is not stored starts one download, shared by every GET of
 * that URL until it is stored: each caller gets its own stream of the same bytes (replayed from
 * the start, then live), so the size request returns as soon as the headers arrive and the load
 * reads the one download with its progress. The bytes are stored before the last caller's stream
 * ends, so transformers.js then finds the file stored and does not store it again.
 *
 * A file that is not there (a 404 or 410, or a static host's HTML page for it: model-fetch.ts) is
 * stored as absent, so a cached model loads with the network off without asking again for the
 * optional files it does not have. A failed fetch (the host unreachable, a 5xx) is never stored.
 *
 * Entries carry the model they belong to (`x-local-endpoint-model`, from the models the engine
 * registered before loading them) and their size; a small index entry keeps when each model was
 * last used.
 */
import type { CachedModel } from '../src/protocol/engine.js';
import { absolute, fetchCause, modelFileProblem, recordHostFailure } from './model-fetch.js';

type Fetch = typeof fetch;

/** The Cache API store's name. */
export const MODEL_CACHE_NAME = 'local-endpoint-models';
/** An http(s) key that is never fetched (`.invalid`): the index of models and when each was last used. */
const INDEX_KEY = 'https://local-endpoint.invalid/model-index.json';
const MODEL_HEADER = 'x-local-endpoint-model';
const ABSENT_HEADER = 'x-local-endpoint-absent';
const STORED_HEADER = 'x-local-endpoint-stored';

interface IndexEntry {
  /** The URL prefixes of the model's files (its local folder and its Hub path). */
  prefixes: string[];
  lastUsed: number;
}

interface Download {
  /** Resolves with the network's headers once they arrive; the body follows in `chunks`. */
  head: Promise<Response>;
  chunks: Uint8Array[];
  /** Set when the body has been read and stored (or failed). */
  finished: boolean;
  error?: unknown;
  /** Wakes readers waiting for the next chunk. */
  waiters: Set<() => void>;
}

export class ModelCacheStore {
  private readonly downloads = new Map<string, Download>();
  private index: Promise<Map<string, IndexEntry>> | undefined;
  private indexWrite: Promise<void> = Promise.resolve();
  private indexDirty = false;
  /** Network downloads started since this worker began, by URL (for tests and the benchmark). */
  readonly downloaded = new Map<string, number>();

  constructor(
    private readonly open: () => Promise<Cache | undefined>,
    private readonly isModelFile: (url: string) => boolean,
  ) {}

  // -- models ---------------------------------------------------------------------------------

  /** Names the model whose files live under `prefixes` (absolute URLs ending in `/`), and marks it used. */
  async register(model: string, prefixes: string[]): Promise<void> {
    const index = await this.loadIndex();
    index.set(model, { prefixes, lastUsed: Date.now() });
    this.saveIndex();
  }

  /** The model a file URL belongs to: the registered model with the longest matching prefix. */
  private async modelOf(url: string): Promise<string | undefined> {
    let best: string | undefined;
    let length = 0;
    for (const [model, { prefixes }] of await this.loadIndex()) {
      for (const prefix of prefixes) {
        if (url.startsWith(prefix) && prefix.length > length) {
          best = model;
          length = prefix.length;
        }
      }
    }
    return best;
  }

  async list(): Promise<CachedModel[]> {
    const store = await this.store();
    if (!store) return [];
    const index = await this.loadIndex();
    const models = new Map<string, CachedModel>();
    for (const request of await store.keys()) {
      if (request.url === INDEX_KEY) continue;
      const response = await store.match(request);
      if (!response || response.headers.has(ABSENT_HEADER)) continue;
      const model = response.headers.get(MODEL_HEADER) ?? (await this.modelOf(request.url)) ?? '(unknown)';
      const entry = models.get(model) ?? { model, files: [], bytes: 0, lastUsed: index.get(model)?.lastUsed ?? null };
      const prefix = index.get(model)?.prefixes.find((p) => request.url.startsWith(p));
      const bytes = Number(response.headers.get('content-length') ?? 0) || (await response.clone().blob()).size;
      entry.files.push({ path: prefix ? request.url.slice(prefix.length) : request.url, bytes });
      entry.bytes += bytes;
      models.set(model, entry);
      void response.body?.cancel().catch(() => undefined);
    }
    return [...models.values()]
      .map((m) => ({ ...m, files: m.files.sort((a, b) => a.path.localeCompare(b.path)) }))
      .sort((a, b) => a.model.localeCompare(b.model));
  }

  /** Deletes every stored file (and absence) of `model`; false when there was none. */
  async deleteModel(model: string): Promise<boolean> {
    const store = await this.store();
    if (!store) return false;
    const prefixes = (await this.loadIndex()).get(model)?.prefixes ?? [];
    let deleted = false;
    for (const request of await store.keys()) {
      if (request.url === INDEX_KEY) continue;
      const response = await store.match(request);
      const owner = response?.headers.get(MODEL_HEADER);
      void response?.body?.cancel().catch(() => undefined);
      if (owner === model || (!owner && prefixes.some((p) => request.url.startsWith(p)))) {
        const gone = await store.delete(request);
        deleted ||= gone && !response?.headers.has(ABSENT_HEADER);
      }
    }
    const index = await this.loadIndex();
    if (index.delete(model)) this.saveIndex();
    return deleted;
  }

  // -- transformers.js's custom cache ---------------------------------------------------------

  /** A stored file (never an absence: transformers.js would read it as the file). */
  async match(key: string): Promise<Response | undefined> {
    const url = absolute(key);
    const found = await this.stored(url);
    if (!found || found.headers.has(ABSENT_HEADER)) return undefined;
    void this.touch(url);
    return found;
  }

  /** Stores what transformers.js fetched itself (a file this store already has is left alone). */
  async put(key: string, response: Response): Promise<void> {
    const url = absolute(key);
    const store = await this.store();
    if (!store || !/^https?:/.test(url)) return;
    if (this.downloads.has(url) || (await store.match(url))) {
      void response.body?.cancel().catch(() => undefined);
      return;
    }
    await this.write(store, url, await response.blob(), response.headers);
  }

  async delete(key: string): Promise<boolean> {
    return (await (await this.store())?.delete(absolute(key))) ?? false;
  }

  // -- fetch ----------------------------------------------------------------------------------

  /**
   * `inner` (the checked fetch: model-fetch.ts) behind the store, for model files: a plain GET is
   * answered from the store, or joins the download of that URL under way, or starts one.
   */
  fetch(inner: Fetch): Fetch {
    return (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = absolute(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      if (method !== 'GET' || headers.has('range') || !this.isModelFile(url) || !/^https?:/.test(url)) return inner(input, init);
      const store = await this.store();
      if (!store) return inner(input, init);
      const stored = await this.stored(url);
      if (stored) {
        void this.touch(url);
        if (stored.headers.has(ABSENT_HEADER)) {
          void stored.body?.cancel().catch(() => undefined);
          return notFound(url);
        }
        return stored;
      }
      let download = this.downloads.get(url);
      if (!download) {
        download = this.start(inner, store, url, input, init);
        this.downloads.set(url, download);
      }
      const head = await download.head;
      if (!head.ok) return head.clone();
      return new Response(this.replay(download), { status: head.status, statusText: head.statusText, headers: head.headers });
    }) as Fetch;
  }

  private start(inner: Fetch, store: Cache, url: string, input: RequestInfo | URL, init?: RequestInit): Download {
    const download: Download = { head: undefined as never, chunks: [], finished: false, waiters: new Set() };
    // The download runs to its end for the store, whoever reads it; a caller's signal does not stop it.
    const { signal: _signal, ...rest } = init ?? {};
    const network = inner(input instanceof Request ? input.url : input, rest);
    download.head = network.then(async (response) => {
      if (!response.ok) {
        this.downloads.delete(url);
        // A real absence (model-fetch.ts turns a static host's HTML page into one too) is stored,
        // so the file is not asked for again, online or off. A failed fetch is not.
        if (response.status === 404) await this.writeAbsent(store, url);
        return response;
      }
      this.downloaded.set(url, (this.downloaded.get(url) ?? 0) + 1);
      void this.read(store, url, response, download).finally(() => wake(download));
      return response;
    }, (err) => {
      this.downloads.delete(url);
      throw err;
    });
    return download;
  }

  private async read(store: Cache, url: string, response: Response, download: Download): Promise<void> {
    try {
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        download.chunks.push(value);
        wake(download);
      }
      await this.write(store, url, new Blob(download.chunks as BlobPart[]), response.headers);
    } catch (err) {
      download.error = err;
      recordHostFailure(url, { kind: 'unreachable', cause: `the download stopped: ${fetchCause(err)}` });
    } finally {
      download.finished = true;
      this.downloads.delete(url);
    }
  }

  /** One caller's stream of a download: what has arrived, then the rest as it arrives. */
  private replay(download: Download): ReadableStream<Uint8Array> {
    let next = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (next >= download.chunks.length && !download.finished) {
          await new Promise<void>((ok) => download.waiters.add(ok));
        }
        if (next < download.chunks.length) {
          controller.enqueue(download.chunks[next++]!);
          return;
        }
        if (download.error) controller.error(download.error);
        else controller.close();
      },
    });
  }

  /**
   * The stored entry for `url`. An entry for a model file that is not that file (the HTML page a
   * static host answers, kept by something before this store checked) is deleted: not there.
   */
  private async stored(url: string): Promise<Response | undefined> {
    const store = await this.store();
    const found = await store?.match(url);
    if (!found || found.headers.has(ABSENT_HEADER) || !this.isModelFile(url)) return found;
    if (!modelFileProblem(new URL(url).pathname, found.headers.get('content-type'))) return found;
    void found.body?.cancel().catch(() => undefined);
    await store!.delete(url);
    return undefined;
  }

  // -- storage --------------------------------------------------------------------------------

  private async write(store: Cache, url: string, body: Blob, headers: Headers): Promise<void> {
    const kept = new Headers();
    for (const name of ['content-type', 'etag', 'last-modified']) {
      const value = headers.get(name);
      if (value) kept.set(name, value);
    }
    kept.set('content-length', String(body.size));
    kept.set(STORED_HEADER, String(Date.now()));
    const model = await this.modelOf(url);
    if (model) kept.set(MODEL_HEADER, model);
    try {
      await store.put(url, new Response(body, { status: 200, headers: kept }));
    } catch {
      // Over quota, or a private window: the answer still goes to the caller, only not stored.
    }
    void this.touch(url);
  }

  private async writeAbsent(store: Cache, url: string): Promise<void> {
    const headers = new Headers({ [ABSENT_HEADER]: '1', 'content-type': 'text/plain', [STORED_HEADER]: String(Date.now()) });
    const model = await this.modelOf(url);
    if (model) headers.set(MODEL_HEADER, model);
    await store.put(url, new Response('', { status: 200, headers })).catch(() => undefined);
  }

  /** Marks the model of a file used now (written to the index at most once a second). */
  private async touch(url: string): Promise<void> {
    const model = await this.modelOf(url);
    if (!model) return;
    const entry = (await this.loadIndex()).get(model);
    if (!entry) return;
    entry.lastUsed = Date.now();
    this.saveIndex();
  }

  private loadIndex(): Promise<Map<string, IndexEntry>> {
    return (this.index ??= (async () => {
      try {
        const found = await (await this.store())?.match(INDEX_KEY);
        const data = found ? ((await found.json()) as Record<string, IndexEntry>) : {};
        return new Map(Object.entries(data));
      } catch {
        return new Map<string, IndexEntry>();
      }
    })());
  }

  private saveIndex(): void {
    if (this.indexDirty) return;
    this.indexDirty = true;
    this.indexWrite = this.indexWrite.then(async () => {
      await new Promise((ok) => setTimeout(ok, 50)); // one write for a burst of changes
      this.indexDirty = false;
      const index = await this.loadIndex();
      const store = await this.store();
      await store
        ?.put(INDEX_KEY, new Response(JSON.stringify(Object.fromEntries(index)), { headers: { 'content-type': 'application/json' } }))
        .catch(() => undefined);
    });
  }

  /** Waits for pending index writes (tests, and before listing). */
  async flush(): Promise<void> {
    await this.indexWrite;
  }

  private async store(): Promise<Cache | undefined> {
    try {
      return await this.open();
    } catch {
      return undefined; // a private window that refuses the store: no cache, as transformers.js does
    }
  }
}

/** Wakes the readers of a download waiting for its next chunk (or its end). */
function wake(download: Download): void {
  for (const waiter of download.waiters) waiter();
  download.waiters.clear();
}

function notFound(url: string): Response {
  return new Response(`Not found: ${url} (the model cache holds it as absent).`, {
    status: 404,
    statusText: 'Not Found',
    headers: { 'content-type': 'text/plain' },
  });
}

