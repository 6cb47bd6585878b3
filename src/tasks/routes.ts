/**
 * Which routes an endpoint serves, by the kind of model behind it. Page-safe (plain data).
 *
 * Every endpoint serves the Inference Endpoint's own `POST /` and `/predict` and `GET /health`.
 * Beside them, on the same endpoint URL, as the servers Inference Endpoints deploy for these
 * models serve them:
 *
 * - **generative** endpoints (text-generation, conversational), TGI's routes: `/generate`,
 *   `/generate_stream`, `/tokenize`, `/info`, `/metrics`, and the OpenAI routes `/v1/completions`,
 *   `/v1/chat/completions` and `/v1/models`;
 * - **encoder** endpoints (feature-extraction, sentence-embeddings, sentence-similarity, ranking,
 *   text-classification), TEI's routes: `/embed`, `/embed_all`, `/similarity`, `/rerank`,
 *   `/predict` (TEI's, for a body without `parameters`), `/tokenize`, `/decode`, `/info`,
 *   `/metrics`, and OpenAI's `/v1/embeddings` and `/v1/models`. Which of them depends on the task:
 *   embeddings for embedding models, `/rerank` for rankers, `/predict` for classifiers.
 *
 * Any other route is a 404 that lists the endpoint's routes.
 */

/** How errors on a route are shaped: the Endpoint's `{error}`, TGI's and TEI's `{error, error_type}`, TEI's OpenAI `{message, code, error_type}`. */
export type ErrorShape = 'endpoint' | 'tgi' | 'tei' | 'tei-openai';

export type EndpointKind = 'generative' | 'encoder' | 'other';

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /**
   * What answers it: the endpoint's own task (`task`), a route spec the engine runs (its id), or
   * the local fetch itself (`health`, `models`, `metrics`).
   */
  answer: { kind: 'task' } | { kind: 'spec'; id: string } | { kind: 'health' | 'models' | 'metrics' };
  errors: ErrorShape;
}

const GENERATIVE = ['text-generation', 'conversational'];
const EMBEDDING = ['feature-extraction', 'sentence-embeddings', 'sentence-similarity'];
const ENCODER = [...EMBEDDING, 'ranking', 'text-classification'];

export function endpointKind(task: string): EndpointKind {
  if (GENERATIVE.includes(task)) return 'generative';
  if (ENCODER.includes(task)) return 'encoder';
  return 'other';
}

const get = (path: string, answer: Route['answer'], errors: ErrorShape): Route => ({ method: 'GET', path, answer, errors });
const post = (path: string, answer: Route['answer'], errors: ErrorShape): Route => ({ method: 'POST', path, answer, errors });
const spec = (id: string) => ({ kind: 'spec' as const, id });

/** The Endpoint's own routes, on every endpoint. */
const BASE: readonly Route[] = [
  get('', { kind: 'health' }, 'endpoint'),
  get('/health', { kind: 'health' }, 'endpoint'),
  post('', { kind: 'task' }, 'endpoint'),
  post('/predict', { kind: 'task' }, 'endpoint'),
];

const TGI: readonly Route[] = [
  post('/generate', spec('tgi-generate'), 'tgi'),
  post('/generate_stream', spec('tgi-generate-stream'), 'tgi'),
  post('/tokenize', spec('tgi-tokenize'), 'tgi'),
  get('/info', spec('tgi-info'), 'tgi'),
  get('/metrics', { kind: 'metrics' }, 'tgi'),
  post('/v1/completions', spec('completions'), 'tgi'),
  post('/v1/chat/completions', spec('chat-completions'), 'tgi'),
  get('/v1/models', { kind: 'models' }, 'tgi'),
];

function teiRoutes(task: string): Route[] {
  const routes: Route[] = [];
  if (EMBEDDING.includes(task)) {
    routes.push(
      post('/embed', spec('tei-embed'), 'tei'),
      post('/embed_all', spec('tei-embed-all'), 'tei'),
      post('/similarity', spec('tei-similarity'), 'tei'),
      post('/v1/embeddings', spec('openai-embeddings'), 'tei-openai'),
    );
  }
  if (task === 'ranking') routes.push(post('/rerank', spec('tei-rerank'), 'tei'));
  routes.push(
    post('/tokenize', spec('tei-tokenize'), 'tei'),
    post('/decode', spec('tei-decode'), 'tei'),
    get('/info', spec('tei-info'), 'tei'),
    get('/metrics', { kind: 'metrics' }, 'tei'),
    get('/v1/models', { kind: 'models' }, 'tei-openai'),
  );
  return routes;
}

/** The routes an endpoint of this task serves (the task's canonical id). */
export function routesOf(task: string): readonly Route[] {
  const kind = endpointKind(task);
  if (kind === 'generative') return [...BASE, ...TGI];
  if (kind === 'encoder') return [...BASE, ...teiRoutes(task)];
  return BASE;
}

/**
 * TEI's `/predict` (ranking and text-classification endpoints) shares its path with the Endpoint's:
 * a JSON body with `parameters` (or parameters in the query string) is the Endpoint's request, one
 * without is TEI's.
 */
export function teiPredictFor(task: string, body: unknown): boolean {
  if (task !== 'text-classification' && task !== 'ranking') return false;
  return body !== null && typeof body === 'object' && !Array.isArray(body) && !('parameters' in body);
}

/** `GET /info, POST /generate, …`: what a 404 lists. */
export function describeRoutes(routes: readonly Route[]): string {
  return routes.map((r) => `${r.method} ${r.path || '/'}`).join(', ');
}
