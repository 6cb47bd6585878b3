export { LocalEndpointClient, defaultEngine, type LocalEndpointClientOptions, type CallOptions } from './client.js';
export { createLocalFetch, type LocalEndpoint, type LocalFetchOptions, type FetchFn } from './local-fetch.js';
export { WorkerEngine, type WorkerEngineOptions } from './transport/local.js';
export { policyFetch, type Mode, type RouteInfo } from './transport/policy.js';
export { remoteFetch } from './transport/remote.js';
export type { EngineLike } from './transport/engine-like.js';
export { EndpointError } from './errors.js';
export { supportedTasks, getTask } from './tasks/registry.js';
export type { Dialect, EndpointPayload, TaskModule, RunContext, StreamShape } from './tasks/types.js';
export type { StreamEvent, StreamStart, StreamToken, FinishReason } from './tasks/generate-core.js';
export type { GenerationOptions, ChatMessage } from './tasks/generation.js';
export { DIALECT_HEADER, detectDialect } from './wire/dialect.js';
export type {
  EngineRequest,
  EngineResult,
  EngineAnswer,
  EngineFailure,
  EngineStatus,
  ProgressEvent,
  Device,
  DevicePreference,
  EngineOptions,
  StreamListener,
} from '../worker/engine.js';
