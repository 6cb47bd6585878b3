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
import type { WorkerApi } from '../src/protocol/engine.js';
import { Engine } from './engine.js';
import { browserRuntime } from './runtime-browser.js';

const wasmPaths = {
  mjs: new URL('onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs', import.meta.url).href,
  wasm: new URL('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm', import.meta.url).href,
};

const api: WorkerApi = new Engine(browserRuntime({ wasmPaths }));
Comlink.expose(api);
