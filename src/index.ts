/** `local-endpoint`: the page API. */
export { LocalEndpointClient, defaultEngine, type LocalEndpointClientOptions, type CallOptions } from './client/client.js';
export { createLocalFetch, type LocalEndpoint, type LocalFetchOptions, type FetchFn } from './local-fetch/index.js';
export { WorkerEngine, type WorkerEngineOptions } from './host/worker-engine.js';
export {
  policyFetch,
  CircuitBreaker,
  LocalWarmer,
  RemoteUnavailableError,
  type Mode,
  type RouteInfo,
  type PolicyOptions,
  type BreakerOptions,
  type BreakerState,
  type BreakerStateName,
  type DownloadContext,
  type DownloadOptions,
  type LocalState,
  type LocalTarget,
} from './client/policy.js';
export { remoteFetch } from './client/remote.js';
export { serveFromPage, type PageBridge, type PageBridgeOptions } from './sw/page-bridge.js';
export type { ServiceWorkerEndpoint } from './sw/bridge-messages.js';
export { supportedTasks, getTask } from './tasks/registry.js';
export type { TaskSpec, TaskRunner, TaskExample, ClientMethod, RunContext, StreamShape } from './tasks/types.js';
export type { GenerationOptions, ChatMessage } from './tasks/generation/generation-parameters.js';
export { DIALECT_HEADER, detectDialect } from './wire/dialect.js';
export * from './protocol/index.js';
