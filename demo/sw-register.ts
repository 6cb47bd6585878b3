/**
 * Registers the demo's Service Worker (sw.ts: the dev server serves it as is; `vite build`
 * writes it to sw.js beside index.html, see vite.config.ts) and answers its Endpoint requests
 * from this page, with the demo's own engine.
 */
import { serveFromPage, type EngineInterface } from '../src/index.ts';

export function startServiceWorker(engine: () => EngineInterface): void {
  if (!('serviceWorker' in navigator)) return; // not a secure context: the demo works without
  serveFromPage({ engine });
  const script = new URL(import.meta.env.DEV ? './sw.ts' : './sw.js', document.baseURI);
  navigator.serviceWorker.register(script, { type: 'module' }).catch((err: Error) => console.warn(`Service Worker: ${err.message}`));
}
