/**
 * `local-endpoint/node`: the engine in Node (onnxruntime-node on the CPU), in process or behind
 * the Inference Endpoint HTTP server that `local-endpoint serve` runs.
 */
import { resolve } from 'node:path';
import { Engine } from '../../worker/engine.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import type { EngineOptions } from '../protocol/engine.js';

export { serve, SERVE_LIMITS, type ServeOptions, type RunningServer, type ServeHealth } from './serve.js';
export { Engine } from '../../worker/engine.js';
export { createLocalFetch, errorResponse, type LocalEndpoint, type LocalFetchOptions, type FetchFn } from '../local-fetch/index.js';
export { supportedTasks, getTask } from '../tasks/registry.js';
export { DIALECT_HEADER, detectDialect } from '../wire/dialect.js';
export type { GenerationOptions, ChatMessage } from '../tasks/generation/generation-parameters.js';
export * from '../protocol/index.js';

export interface NodeEngineOptions extends EngineOptions {
  /**
   * Folder that holds model folders by id (`<modelsDir>/<org>/<name>/config.json`, the Hub's file
   * layout). Same as `localModelPath`, resolved against the working directory.
   */
  modelsDir?: string;
}

/**
 * The engine in this process, on onnxruntime-node: `infer`, `load`, `status`, `dispose`, as the
 * page's WorkerEngine has them. Give it to `createLocalFetch` to answer Endpoint URLs in process.
 * Models come from `modelsDir` only, unless `allowRemoteModels` is set.
 */
export function createNodeEngine(options: NodeEngineOptions = {}): Engine {
  const { modelsDir, ...engineOptions } = options;
  const localModelPath = modelsDir ? resolve(modelsDir) : engineOptions.localModelPath;
  return new Engine(nodeRuntime(), { ...engineOptions, ...(localModelPath ? { localModelPath } : {}) });
}
