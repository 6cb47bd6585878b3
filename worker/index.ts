/** The Web Worker's entry: build the engine, expose it through comlink. */
import * as Comlink from 'comlink';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { WorkerApi } from '../src/protocol/engine.js';
import { Engine } from './engine.js';
import { browserRuntime } from './runtime-browser.js';

const api: WorkerApi = new Engine(browserRuntime({ wasmPaths: { mjs, wasm } }));
Comlink.expose(api);
