/**
 * Test only, never shipped: the package's real worker entry in a worker that has no Web Locks, as
 * in a page that is not a secure context (or an app's own worker without `holdLiveness`). The host
 * then watches it by heartbeat (test/host/worker-death.browser.test.ts).
 */
import '../../worker/index.js';

Object.defineProperty(Object.getPrototypeOf(navigator), 'locks', { get: () => undefined, configurable: true });
