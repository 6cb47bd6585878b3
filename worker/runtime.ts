/**
 * What differs between the engine's two homes: a browser Web Worker (onnxruntime-web, WebGPU or
 * WASM) and Node (onnxruntime-node, CPU). The engine itself is the same code in both.
 */
import type { CachedModel, Device, DeviceChoice, EngineOptions, StorageInfo } from '../src/protocol/engine.js';

export type { Device, DeviceChoice, DevicePreference, EngineOptions } from '../src/protocol/engine.js';

export interface EngineRuntime {
  readonly kind: 'browser' | 'node';
  /**
   * True where transformers.js chains every ONNX session load and run on module-level promises,
   * so that one failure poisons all later ones (the browser; transformers.js #1767).
   */
  readonly sharedOrtChain: boolean;
  /** Devices a caller may ask for by name. */
  readonly devices: readonly Device[];
  /** The device `auto` uses. */
  probe(): Promise<DeviceChoice>;
  /** Where to go when a device fails to create a session; null when there is nowhere. */
  fallbackFrom(device: Device): Device | null;
  /** Applies the options to transformers.js's `env`. */
  configure(options: EngineOptions): Promise<void>;
  /** Reads a text file of a model repo; null when it does not exist. */
  readModelFile(model: string, path: string): Promise<string | null>;
  /** Whether a file of a model repo exists (its download, if any, goes on into the model cache). */
  hasModelFile(model: string, path: string): Promise<boolean>;
  /** Names a model before it loads, so the cache knows whose files it stores. */
  registerModel?(model: string): Promise<void>;
  /** Network downloads of model files since this runtime started, by URL (the model cache's count). */
  downloads?(): Record<string, number>;
  /** The models in the model cache. */
  listCached(): Promise<CachedModel[]>;
  /** Deletes a model's files from the model cache; false when none were there. */
  deleteCached(model: string): Promise<boolean>;
  /** The storage used and the quota, where known. */
  storageEstimate(): Promise<StorageInfo>;
  /**
   * Takes this machine's folders out of an error message (Node: the model folder, the cache, the
   * working, home and temporary folders), so that an answer never names a path on the server.
   */
  scrubPaths?(message: string): string;
  /** WASM threads in use. */
  threads(): number;
  /** Calls back on every failed ONNX session load or run (browser only). */
  onSessionFailure?(listener: (error: unknown) => void): void;
  /**
   * Calls back once when the GPUDevice that ONNX sessions run on is lost (`GPUDevice.lost`: a GPU
   * reset, a driver update, a crashed GPU process, `destroy()`), with its `GPUDeviceLostInfo`
   * (browser only).
   */
  onDeviceLost?(listener: (info: DeviceLostInfo) => void): void;
  /**
   * The custom task: imports the handler module of `model`, from where the trust rules allow
   * (src/tasks/custom/handler-trust.ts): the app-named module (`handlers`), the handler.js of the
   * local model folder, or one from the Hub for a repository in `trustRemoteCode`. Anything else
   * is refused with a 403; a model with no handler is a 400.
   */
  importHandler?(model: string, options: EngineOptions): Promise<HandlerModule>;
}

/** A custom handler's module, imported, and what its constructor's `path` is. */
export interface HandlerModule {
  module: Record<string, unknown>;
  /** The model folder (a URL in the browser, a folder in Node), given to `new EndpointHandler(path, …)`. */
  path: string;
  /** Where it came from: named by the app, the local model folder, or the Hub. */
  from: 'app' | 'local' | 'remote';
}

/** What `GPUDevice.lost` tells: `reason` is `"destroyed"` or `"unknown"`. */
export interface DeviceLostInfo {
  reason: string;
  message: string;
}
