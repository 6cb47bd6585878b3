/** The page that answers for the Service Worker: the bridge over its own worker engine. */
import { WorkerEngine, serveFromPage } from '../../../src/index.ts';

const bridge = serveFromPage({ engine: new WorkerEngine() });
const registered = navigator.serviceWorker.register('./sw.ts', { type: 'module' });
Object.assign(globalThis, {
  bridge,
  controlled: registered.then(
    () => new Promise<void>((ok) => (navigator.serviceWorker.controller ? ok() : navigator.serviceWorker.addEventListener('controllerchange', () => ok(), { once: true }))),
  ),
});
