/**
 * The demo's Service Worker (registered by sw-register.ts, as a module worker). It makes the demo
 * an Endpoint for code that knows nothing of local-endpoint, answered by the demo page's own
 * engine (try in the console: `await (await fetch('/endpoints/text-classification', { method:
 * 'POST', body: JSON.stringify({ inputs: 'I love you' }) })).json()`), and keeps the app shell,
 * so the demo reloads and answers with the network off or `npm start` stopped.
 */
import { localEndpointServiceWorker } from '../src/sw/index.ts';

localEndpointServiceWorker({
  endpoints: {
    // Plain fetch and curl-converted snippets: the Endpoint server's own answer shapes.
    '/endpoints/text-classification': { task: 'text-classification', model: 'local-endpoint/tiny-bert-classifier' },
    // Streams with `"stream": true`; also the OpenAI routes /v1/completions and /v1/chat/completions.
    '/endpoints/text-generation': { task: 'text-generation', model: 'local-endpoint/tiny-llama' },
    // For `new InferenceClient(undefined, { endpointUrl })` with no custom fetch: the client's shapes.
    'https://text-classification.endpoints.example': {
      task: 'text-classification',
      model: 'local-endpoint/tiny-bert-classifier',
      dialect: 'client',
    },
  },
  appShell: {
    cacheName: 'local-endpoint-demo-shell',
    precache: ['./', './manifest.webmanifest', './icon-192.png', './icon-512.png', './icon-maskable-512.png'],
    // Model files go through the engine's own model cache; the demo's model list is part of the
    // app. Vite's dev-server ping must reach the server (a stored answer would reload forever).
    bypass: (url, request) =>
      (url.pathname.startsWith('/models/') && url.pathname !== '/models/index.json') || request.headers.get('accept') === 'text/x-vite-ping',
    navigationFallback: './',
  },
});
