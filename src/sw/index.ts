/**
 * `local-endpoint/sw`: what an app's own Service Worker imports. It holds no model code (a Service
 * Worker cannot run transformers.js): the page answers through `serveFromPage()` from
 * `local-endpoint`.
 */
export { localEndpointServiceWorker, type ServiceWorkerOptions } from './service-worker.js';
export { createEndpointProxy, NO_PAGE_STATUS, PAGE_GONE_STATUS, type EndpointProxy, type EndpointProxyOptions } from './endpoint-proxy.js';
export { createAppShell, DEFAULT_SHELL_CACHE, type AppShell, type AppShellOptions } from './app-shell.js';
export type { ServiceWorkerEndpoint } from './bridge-messages.js';
export type { FetchEventLike, ExtendableEventLike, ExtendableMessageEventLike } from './scope.js';
