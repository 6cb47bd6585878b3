/**
 * The page side of the offline benchmark (bench/offline.ts drives it): fresh module workers
 * against an empty or a filled model cache, and the client's policies against a remote Endpoint.
 * Each function runs one round and returns its timings; the driver repeats and takes medians.
 */
import { LocalEndpointClient, WorkerEngine } from '../src/index.ts';
import type { EngineRequest } from '../src/protocol/engine.ts';

const CACHE = 'local-endpoint-models';
/** Where the models are served: `/models/`, or `/slow-models/` (paced to a link's rate: bench/offline.ts). */
const localModelPath = new URLSearchParams(location.search).get('models') ?? '/models/';

async function clearCache(): Promise<void> {
  await caches.delete(CACHE);
}

/** A new worker's first answer: the time from creating it, and what the cache then holds for the model. */
async function firstAnswer(request: EngineRequest): Promise<{ ms: number; cachedBytes: number; downloads: number }> {
  const started = performance.now();
  const engine = new WorkerEngine({ localModelPath });
  try {
    const result = await engine.infer(request);
    const ms = performance.now() - started;
    if (!result.ok) throw new Error(result.error);
    const listed = (await engine.listCached()).find((m) => m.model === request.model);
    const downloads = Object.values((await engine.status()).downloads ?? {}).reduce((n, c) => n + c, 0);
    return { ms, cachedBytes: listed?.bytes ?? 0, downloads };
  } finally {
    engine.terminate();
  }
}

export interface PolicyRound {
  /** From the first call to its answer. */
  firstAnswerMs: number;
  /** From the first call until an answer came from the local engine (every later one does). */
  allLocalMs: number;
  /** Calls answered remotely, and locally. */
  remote: number;
  local: number;
}

/**
 * One app session on a cold cache: it asks every `intervalMs` (each call waiting for the one
 * before) until a local answer arrives, in `mode` (`handoff`, or `local-first` after `preload`).
 */
async function policyRound(mode: string, endpointUrl: string, request: EngineRequest, intervalMs: number, maxMs: number): Promise<PolicyRound> {
  const engine = new WorkerEngine({ localModelPath });
  const client = new LocalEndpointClient({ mode: mode as never, endpointUrl, model: request.model, task: request.task, engine });
  const started = performance.now();
  let firstAnswerMs = -1;
  let remote = 0;
  let local = 0;
  try {
    // local-first on a cold cache sends everything remote until the model is cached, which nothing
    // in it starts: the baseline is the offline-first app that loads the model, then asks.
    if (mode === 'local-first') await client.preload(request.task);
    for (;;) {
      await client.request({ inputs: request.inputs, parameters: request.parameters });
      const now = performance.now() - started;
      if (firstAnswerMs < 0) firstAnswerMs = now;
      if (client.lastRoute?.path === 'local') {
        local++;
        return { firstAnswerMs, allLocalMs: now, remote, local };
      }
      remote++;
      if (now > maxMs) throw new Error(`${mode}: still remote after ${Math.round(now)} ms`);
      await new Promise((ok) => setTimeout(ok, intervalMs));
    }
  } finally {
    engine.terminate();
  }
}

(window as unknown as { offlineBench: unknown }).offlineBench = { clearCache, firstAnswer, policyRound };
