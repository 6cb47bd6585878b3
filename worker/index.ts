/**
 * The Web Worker's entry: build the engine, expose it through comlink.
 *
 * onnxruntime-web's WASM factory and binary are named with `new URL(…, import.meta.url)`, which
 * Vite and webpack 5 resolve at build time (through onnxruntime-web's own `exports`) and emit as
 * assets of the app: they come from the app's origin, never from a CDN, and always match the
 * onnxruntime-web the worker runs. They are the variant transformers.js's WebGPU build uses (the
 * `asyncify` one, which onnxruntime-web's own bundle also names, so a bundler emits it once).
 * A page can name other URLs with `WorkerEngineOptions.wasmPaths`; those reach the runtime
 * through `configure`.
 */
import * as Comlink from 'comlink';
import type { WorkerApi, WorkerLiveness } from '../src/protocol/engine.js';
import { Engine } from './engine.js';
import { browserRuntime } from './runtime-browser.js';

const wasmPaths = {
  mjs: new URL('onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs', import.meta.url).href,
  wasm: new URL('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm', import.meta.url).href,
};

/** How the page tells that this worker died (see `WorkerLiveness`). */
const liveness: WorkerLiveness = {
  holdLiveness: (name) =>
    new Promise<void>((held, fail) => {
      // Never released: the lock goes only with this worker.
      navigator.locks.request(name, () => (held(), new Promise<never>(() => {}))).catch(fail);
    }),
  ping: () => Date.now(),
};

const api: WorkerApi & WorkerLiveness = Object.assign(new Engine(browserRuntime({ wasmPaths })), liveness);
Comlink.expose(api);
