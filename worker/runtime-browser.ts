/**
 * The engine's runtime inside a browser Web Worker: onnxruntime-web with WebGPU when an adapter
 * exists, WASM otherwise. The WASM files come from the app's own origin, never from a CDN.
 */
import { env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-web/webgpu';
import type { DeviceChoice, DeviceLostInfo, EngineOptions, EngineRuntime, HandlerModule } from './runtime.js';
import type { WasmPaths } from '../src/protocol/engine.js';
import { fetchModelFile, fetchModelText, localModelUrl, modelFileExists, remoteModelUrl } from './model-files.js';
import { checkBrowserHandlerUrl, noHandler, refused, untrustedRemoteHandler } from '../src/tasks/custom/handler-trust.js';
import { EndpointError } from '../src/protocol/errors.js';
import { installModelFetch } from './model-fetch.js';
import { MODEL_CACHE_NAME, ModelCacheStore } from './model-cache.js';

export interface BrowserRuntimeOptions {
  /** The default URLs; `configure` may name others (`wasmPaths`, from the page's WorkerEngineOptions). */
  wasmPaths: WasmPaths;
}

export function browserRuntime({ wasmPaths }: BrowserRuntimeOptions): EngineRuntime {
  let adapter: Promise<AdapterProbe> | undefined;
  let useFallbackAdapter = false;
  const failureListeners: ((error: unknown) => void)[] = [];
  const lostListeners: ((info: DeviceLostInfo) => void)[] = [];
  let isModelFile: (url: string) => boolean = () => false;
  const cache = new ModelCacheStore(async () => (typeof caches === 'undefined' ? undefined : caches.open(MODEL_CACHE_NAME)), (url) => isModelFile(url));
  watchSessions(
    (error) => failureListeners.forEach((l) => l(error)),
    (info) => lostListeners.forEach((l) => l(info)),
  );

  return {
    kind: 'browser',
    sharedOrtChain: true,
    devices: ['webgpu', 'wasm'],
    probe: async () => autoDevice(await (adapter ??= probeWebGPU()), useFallbackAdapter),
    fallbackFrom: (device) => (device === 'webgpu' ? 'wasm' : null),
    async configure(options: EngineOptions) {
      useFallbackAdapter = options.useFallbackAdapter ?? false;
      env.allowLocalModels = true;
      env.localModelPath = options.localModelPath ?? '/models/';
      env.allowRemoteModels = options.allowRemoteModels ?? false;
      if (options.remoteHost) env.remoteHost = options.remoteHost;
      if (options.remotePathTemplate) env.remotePathTemplate = options.remotePathTemplate;
      isModelFile = (url) => under(url, env.localModelPath) || under(url, env.remoteHost);
      // An HTML page for a model file is a missing file; every model file goes through one cache.
      installModelFetch(env, { cache });
      const wasm = env.backends.onnx.wasm!;
      wasm.wasmPaths = { ...(options.wasmPaths ?? wasmPaths) };
      const cores = self.crossOriginIsolated ? (navigator.hardwareConcurrency ?? 1) : 1;
      wasm.numThreads = options.numThreads ?? Math.min(4, cores);
    },
    readModelFile: fetchModelFile,
    hasModelFile: modelFileExists,
    registerModel: (model) => cache.register(model, [modelPrefix(localModelUrl(model, '')), modelPrefix(remoteModelUrl(model, ''))]),
    listCached: async () => {
      await cache.flush();
      return cache.list();
    },
    deleteCached: (model) => cache.deleteModel(model),
    storageEstimate: async () => {
      const storage = navigator.storage;
      const estimate = await storage?.estimate?.().catch(() => undefined);
      const persisted = await storage?.persisted?.().catch(() => undefined);
      return { usage: estimate?.usage ?? null, quota: estimate?.quota ?? null, persisted: persisted ?? null };
    },
    downloads: () => Object.fromEntries(cache.downloaded),
    threads: () => env.backends.onnx.wasm?.numThreads ?? 1,
    onSessionFailure: (listener) => void failureListeners.push(listener),
    onDeviceLost: (listener) => void lostListeners.push(listener),
    importHandler,
  };
}

/**
 * The custom task's handler in the worker (the rules: src/tasks/custom/handler-trust.ts). An
 * app-named module on the app's origin is imported by its URL, so it may import other modules. A
 * model folder's handler.js is fetched as a model file (checked, and kept in the model cache, so
 * it works offline like the model) and imported from a `blob:` URL this worker makes of its text,
 * whatever Content-Type its host sent (the Hub sends text/plain): such a handler is one
 * self-contained file (it gets transformers.js and the pipelines from its context).
 */
async function importHandler(model: string, options: EngineOptions): Promise<HandlerModule> {
  const named = options.handlers?.[model];
  if (named !== undefined) {
    const url = checkBrowserHandlerUrl(model, named, self.location.href);
    return { module: await importModule(model, url, url), path: url, from: 'app' };
  }
  const local = new URL(localModelUrl(model, 'handler.js'), self.location.href).href;
  const looked: string[] = [];
  if (env.allowLocalModels) {
    if (new URL(local).origin !== self.location.origin) {
      throw refused(model, `the local model folder (${env.localModelPath}) is on another origin than the app's (${self.location.origin}), and only the app's own handlers load`);
    }
    looked.push(`the local model folder (${local})`);
    const text = await fetchModelText(local, 'handler.js');
    if (text !== null) return { module: await importText(model, text, local), path: folderOf(local), from: 'local' };
  }
  if (env.allowRemoteModels) {
    const remote = new URL(remoteModelUrl(model, 'handler.js'), self.location.href).href;
    looked.push(`the Hub (${remote})`);
    if (!(options.trustRemoteCode ?? []).includes(model)) {
      // Asked first, so a model with no handler at all is told so (nothing is run either way).
      if (await remoteFileExists(model)) throw untrustedRemoteHandler(model, remote, 'trustRemoteCode');
    } else {
      const text = await fetchModelText(remote, 'handler.js');
      if (text !== null) return { module: await importText(model, text, remote), path: folderOf(remote), from: 'remote' };
    }
  }
  throw noHandler(model, looked.join(' or ') || 'any model folder (neither local nor remote models are allowed)');
}

async function remoteFileExists(model: string): Promise<boolean> {
  const allowLocal = env.allowLocalModels;
  env.allowLocalModels = false; // the local folder was looked at already
  try {
    return await modelFileExists(model, 'handler.js');
  } finally {
    env.allowLocalModels = allowLocal;
  }
}

/** Imports the handler's text as a module of this worker's own making (a blob: URL). */
async function importText(model: string, text: string, from: string): Promise<Record<string, unknown>> {
  const url = URL.createObjectURL(new Blob([`${text}\n//# sourceURL=${from}\n`], { type: 'text/javascript' }));
  try {
    return await importModule(model, url, from);
  } finally {
    URL.revokeObjectURL(url);
  }
}

async function importModule(model: string, url: string, shown: string): Promise<Record<string, unknown>> {
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ url)) as Record<string, unknown>;
  } catch (err) {
    throw new EndpointError(500, `The custom handler of ${JSON.stringify(model)} (${shown}) failed to load: ${(err as Error)?.message ?? err}`);
  }
}

function folderOf(url: string): string {
  return url.slice(0, url.lastIndexOf('/') + 1);
}

/** What the browser's WebGPU offers: a hardware adapter, a software fallback, or none (and why). */
type AdapterProbe = { kind: 'hardware' } | { kind: 'fallback'; name: string } | { kind: 'none'; reason: string };

interface GPUAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string };
}

/** `'gpu' in navigator` is not enough: only an adapter proves WebGPU works. */
async function probeWebGPU(): Promise<AdapterProbe> {
  const gpu = (navigator as typeof navigator & { gpu?: { requestAdapter(): Promise<GPUAdapterLike | null> } }).gpu;
  if (!gpu) return { kind: 'none', reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { kind: 'none', reason: 'WebGPU returned no adapter' };
    // Chromium 156 reports it in `adapter.info`; the older spelling is on the adapter itself.
    if (adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter) {
      const { vendor, architecture, description } = adapter.info ?? {};
      return { kind: 'fallback', name: [vendor, architecture, description].filter(Boolean).join(' ') || 'a software adapter' };
    }
    return { kind: 'hardware' };
  } catch (err) {
    return { kind: 'none', reason: `WebGPU adapter request failed: ${(err as Error).message}` };
  }
}

/** The device `auto` uses on this adapter: a software fallback counts as no GPU unless allowed. */
function autoDevice(probe: AdapterProbe, useFallbackAdapter: boolean): DeviceChoice {
  if (probe.kind === 'hardware') return { device: 'webgpu' };
  if (probe.kind === 'none') return { device: 'wasm', reason: probe.reason };
  if (useFallbackAdapter) return { device: 'webgpu', fallbackAdapter: true };
  return {
    device: 'wasm',
    reason: `the only WebGPU adapter (${probe.name}) is a software fallback (isFallbackAdapter), slower than WASM`,
    fallbackAdapter: true,
  };
}

/**
 * transformers.js chains every session load and run on module-level promises with no error
 * handler, so one failure poisons every later call in this worker. It uses the same
 * onnxruntime-web module instance as this file, so wrapping the two entry points here lets the
 * engine see the first failure and ask for a fresh worker.
 *
 * Once a WebGPU session exists, `ort.env.webgpu.device` is the GPUDevice every WebGPU session of
 * this worker runs on (onnxruntime-web creates one and keeps it): its `lost` promise tells of a
 * lost device, which no session call reports by itself until it fails.
 */
function watchSessions(onFailure: (error: unknown) => void, onLost: (info: DeviceLostInfo) => void): void {
  const Session = ort.InferenceSession as unknown as {
    create: (...args: unknown[]) => Promise<unknown>;
    prototype?: { run?: (...args: unknown[]) => Promise<unknown> };
  };
  const create = Session.create;
  Session.create = function (this: unknown, ...args: unknown[]) {
    return create.apply(this, args).then(
      (session) => {
        if (usesWebGPU(args)) watchDevice(onLost);
        return session;
      },
      (err: unknown) => {
        onFailure(err);
        throw err;
      },
    );
  };
  const proto = Session.prototype;
  const run = proto?.run;
  if (proto && run) {
    proto.run = function (this: unknown, ...args: unknown[]) {
      return run.apply(this, args).catch((err: unknown) => {
        onFailure(err);
        throw err;
      });
    };
  }
}

/** The session options (the last argument of `InferenceSession.create`) name the WebGPU EP. */
function usesWebGPU(args: unknown[]): boolean {
  const providers = (args.at(-1) as { executionProviders?: unknown[] } | undefined)?.executionProviders ?? [];
  return providers.some((p) => (typeof p === 'string' ? p : (p as { name?: string } | null)?.name) === 'webgpu');
}

interface GPUDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
}

const watchedDevices = new WeakSet<object>();

/**
 * Listens to the `lost` promise of the device onnxruntime-web uses, once per device. Read only
 * after a WebGPU session was created: read before, the property may create a device of its own.
 */
function watchDevice(onLost: (info: DeviceLostInfo) => void): void {
  const flags = ort.env.webgpu as unknown as { device?: GPUDeviceLike | Promise<GPUDeviceLike> };
  void Promise.resolve(flags.device).then(
    (device) => {
      if (!device || typeof device !== 'object' || !(device.lost instanceof Promise) || watchedDevices.has(device)) return;
      watchedDevices.add(device);
      void device.lost.then((info) => onLost({ reason: info?.reason ?? 'unknown', message: info?.message ?? '' }));
    },
    () => undefined,
  );
}

function modelPrefix(url: string): string {
  return new URL(url, self.location.href).href;
}

function under(url: string, prefix: string | undefined): boolean {
  if (!prefix) return false;
  return url.startsWith(new URL(prefix.endsWith('/') ? prefix : `${prefix}/`, self.location.href).href);
}
