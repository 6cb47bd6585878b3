/**
 * `localEndpointServiceWorker()`: the whole Service Worker in one call, for an app's own sw.js
 * (registered with `{ type: 'module' }`). It answers the configured Endpoint URLs through an open
 * page (endpoint-proxy.ts), and keeps the app shell (app-shell.ts).
 */
import { createAppShell, type AppShell, type AppShellOptions } from './app-shell.js';
import { createEndpointProxy, type EndpointProxy, type EndpointProxyOptions } from './endpoint-proxy.js';
import { serviceWorkerScope } from './scope.js';

export interface ServiceWorkerOptions extends EndpointProxyOptions {
  /** The app shell to precache and keep up to date; `false` (the default) leaves the app's files alone. */
  appShell?: AppShellOptions | false;
  /**
   * Take over at once: `skipWaiting()` when installed and `clients.claim()` when activated, so
   * the page that registered the worker is answered without a reload (default true).
   */
  claim?: boolean;
}

/** Installs the Service Worker's event listeners. Call it once, when the script starts. */
export function localEndpointServiceWorker(options: ServiceWorkerOptions): { proxy: EndpointProxy; shell?: AppShell } {
  const scope = serviceWorkerScope();
  const claim = options.claim ?? true;
  const proxy = createEndpointProxy(options, scope);
  const shell = options.appShell ? createAppShell(options.appShell, scope) : undefined;
  scope.addEventListener('install', (event) => {
    event.waitUntil(Promise.all([shell?.install(), claim ? scope.skipWaiting() : undefined]));
  });
  scope.addEventListener('activate', (event) => {
    if (claim) event.waitUntil(scope.clients.claim());
  });
  scope.addEventListener('fetch', (event) => {
    if (!proxy.handleFetch(event)) shell?.handleFetch(event);
  });
  scope.addEventListener('message', (event) => {
    proxy.handleMessage(event);
  });
  return { proxy, ...(shell ? { shell } : {}) };
}
