/** The test app's Service Worker: Endpoints of each kind, short waits so the error cases are quick. */
import { localEndpointServiceWorker } from '../../../src/sw/index.ts';

const CLASSIFIER = 'local-endpoint/tiny-bert-classifier';
localEndpointServiceWorker({
  endpoints: {
    // The Endpoint docs' fetch snippet (converted from curl), cross-origin: the server's shapes.
    'https://xyz.endpoints.example': { task: 'text-classification', model: CLASSIFIER },
    // The official client, with endpointUrl and no custom fetch: its shapes.
    'https://client.endpoints.example': { task: 'text-classification', model: CLASSIFIER, dialect: 'client' },
    // Same-origin ones: a generator that never stops on its own, and one with a chat template.
    '/endpoints/gpt2': { task: 'text-generation', model: 'local-endpoint/tiny-gpt2' },
    '/endpoints/llama': { task: 'text-generation', model: 'local-endpoint/tiny-llama' },
    // An encoder: TEI's routes and OpenAI's embeddings.
    '/endpoints/embedder': { task: 'sentence-embeddings', model: 'local-endpoint/tiny-bert-encoder' },
  },
  discoverMs: 300,
  watchMs: 200,
  appShell: { precache: ['./'] },
});
