/**
 * What differs between the engine's two homes: a browser Web Worker (onnxruntime-web, WebGPU or
 * WASM) and Node (onnxruntime-node, CPU). The engine itself is the same code in both.
 */
export type Device = 'webgpu' | 'wasm' | 'cpu';
export type DevicePreference = 'auto' | Device;

/** The device `auto` picked, and why. */
export interface DeviceChoice {
  device: Device;
  /** Why this device and not a faster one, e.g. "no WebGPU adapter". */
  reason?: string;
}

/** How the engine finds models, set by whoever creates it. */
export interface EngineOptions {
  /** Where local model folders are served or stored (a path like `/models/`, never a full URL). */
  localModelPath?: string;
  /** Whether models may be downloaded from the Hugging Face Hub. Off unless the caller allows it. */
  allowRemoteModels?: boolean;
  /** Hub mirror to download from, when remote models are allowed. */
  remoteHost?: string;
  /** WASM threads; defaults to the cores available when cross-origin isolated, else 1. */
  numThreads?: number;
  /** Models whose WebGPU session failed in an earlier worker: `auto` runs them on WASM. */
  webgpuFailures?: Record<string, string>;
  /**
   * Dynamic batching of waiting requests. `auto` (the default) batches everything on WebGPU; on
   * WASM and the CPU it batches short requests (up to `shortRequestTokens`), where the cost of
   * each call dominates, and runs long ones alone, where compute dominates and batching measured
   * no gain (see the README's benchmark).
   */
  batching?: 'auto' | 'on' | 'off';
  /** `auto` on WASM and the CPU: the largest request (in padded tokens, estimated) still batched. Default 64. */
  shortRequestTokens?: number;
  /** The most tokens (padded) one batched call may hold. Default 8192. */
  maxBatchTokens?: number;
}

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
  /** WASM threads in use. */
  threads(): number;
  /** Calls back on every failed ONNX session load or run (browser only). */
  onSessionFailure?(listener: (error: unknown) => void): void;
}
