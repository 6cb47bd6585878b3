/**
 * The app shell: the files an app names are stored when the Service Worker installs, and every
 * same-origin GET of the app goes to the network first, is stored when it succeeds, and is
 * answered from the store when the network fails. So an app that was opened once reloads, and
 * answers, with the network off or its server gone; and a deploy is seen on the next load, never
 * a stale shell while the network works.
 *
 * Model files are not the shell's: by default everything under `/models/` goes to the network
 * untouched, where the engine's own model cache (in the worker) stores each file once. Storing
 * them here too would keep every model twice.
 */
import { serviceWorkerScope, type FetchEventLike, type ServiceWorkerScopeLike } from './scope.js';

export interface AppShellOptions {
  /**
   * URLs stored when the Service Worker installs (relative to its URL): the app's HTML, scripts,
   * styles, manifest and icons. Install fails when one of them cannot be fetched.
   */
  precache?: string[];
  /** The Cache Storage name (default `local-endpoint-app-shell`). */
  cacheName?: string;
  /**
   * Requests left to the network, neither answered nor stored here: path prefixes (`'/models/'`),
   * regular expressions tested on the full URL, or a function. Default: `['/models/']`, the
   * engine's default model path.
   */
  bypass?: (string | RegExp)[] | ((url: URL, request: Request) => boolean);
  /** For a navigation that neither the network nor the store can answer: this stored URL (an SPA's `/` or `index.html`). */
  navigationFallback?: string;
}

export interface AppShell {
  /** Stores the precache list (call it in `install`, inside `event.waitUntil`). */
  install(): Promise<void>;
  /** Answers a same-origin GET of the app, network first; true when it did. */
  handleFetch(event: FetchEventLike): boolean;
}

export const DEFAULT_SHELL_CACHE = 'local-endpoint-app-shell';

export function createAppShell(options: AppShellOptions = {}, scope: ServiceWorkerScopeLike = serviceWorkerScope()): AppShell {
  const cacheName = options.cacheName ?? DEFAULT_SHELL_CACHE;
  const bypass = options.bypass ?? ['/models/'];
  const bypassed =
    typeof bypass === 'function'
      ? bypass
      : (url: URL) => bypass.some((rule) => (typeof rule === 'string' ? url.pathname.startsWith(rule) : rule.test(url.href)));
  const origin = scope.location.origin;
  const resolve = (url: string) => new URL(url, scope.location.href).href;

  async function networkFirst(event: FetchEventLike, stored: () => void): Promise<Response> {
    const request = event.request;
    try {
      const response = await fetch(request);
      // Only whole, plain answers are kept: no errors, no partial content, no redirects.
      if (response.status === 200 && response.type === 'basic' && !response.redirected) {
        const copy = response.clone();
        void caches
          .open(cacheName)
          .then((cache) => cache.put(request, copy))
          .catch(() => undefined)
          .finally(stored);
      } else stored();
      return response;
    } catch (err) {
      stored();
      const cache = await caches.open(cacheName);
      const hit =
        (await cache.match(request)) ??
        (request.mode === 'navigate' && options.navigationFallback ? await cache.match(resolve(options.navigationFallback)) : undefined);
      if (hit) return hit;
      throw err;
    }
  }

  return {
    async install() {
      if (!options.precache?.length) return;
      const cache = await caches.open(cacheName);
      // `reload`: the files themselves, not what the HTTP cache holds of an older deploy.
      await cache.addAll(options.precache.map((url) => new Request(resolve(url), { cache: 'reload' })));
    },

    handleFetch(event) {
      const request = event.request;
      if (request.method !== 'GET' || request.headers.has('range')) return false;
      const url = new URL(request.url);
      if (url.origin !== origin || bypassed(url, request)) return false;
      let stored!: () => void;
      event.waitUntil(new Promise<void>((ok) => (stored = ok)));
      event.respondWith(networkFirst(event, stored));
      return true;
    },
  };
}
