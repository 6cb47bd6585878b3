/**
 * The parts of the Service Worker global scope this layer uses, declared structurally. TypeScript's
 * `WebWorker` library has them, but it cannot be loaded beside the `DOM` one that the page build
 * (tsconfig.page.json) and the repository's type check use; with these, the Service Worker code
 * compiles under either, and an app's own sw.ts (with `lib: ["WebWorker"]`) passes its real
 * events in. Types only.
 */

export interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}

export interface FetchEventLike extends ExtendableEventLike {
  readonly request: Request;
  /** The client that made the request ('' for a navigation). */
  readonly clientId: string;
  /** For a navigation: the client it creates. */
  readonly resultingClientId?: string;
  respondWith(response: Response | Promise<Response>): void;
}

export interface ClientLike {
  readonly id: string;
  readonly type: string;
  readonly url: string;
  /** Window clients only. */
  readonly focused?: boolean;
  readonly visibilityState?: string;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

export interface ClientsLike {
  get(id: string): Promise<ClientLike | undefined>;
  matchAll(options?: { type?: 'window' | 'worker' | 'sharedworker' | 'all'; includeUncontrolled?: boolean }): Promise<readonly ClientLike[]>;
  claim(): Promise<void>;
}

export interface ExtendableMessageEventLike extends ExtendableEventLike {
  readonly data: unknown;
  readonly source: ClientLike | { postMessage(message: unknown): void } | null;
}

export interface ServiceWorkerScopeLike {
  readonly clients: ClientsLike;
  readonly location: { readonly href: string; readonly origin: string };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEventLike) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void;
  addEventListener(type: 'message', listener: (event: ExtendableMessageEventLike) => void): void;
}

/** The running Service Worker's global scope. */
export function serviceWorkerScope(): ServiceWorkerScopeLike {
  const scope = globalThis as unknown as Partial<ServiceWorkerScopeLike>;
  if (!scope.clients || typeof scope.skipWaiting !== 'function') {
    throw new Error('local-endpoint/sw runs in a Service Worker: register the script that imports it with navigator.serviceWorker.register(url, { type: "module" }).');
  }
  return scope as ServiceWorkerScopeLike;
}
