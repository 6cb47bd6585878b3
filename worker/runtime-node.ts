/**
 * The engine's runtime in Node: onnxruntime-node on the CPU. Used by `local-endpoint serve` and by
 * fast tests. transformers.js does not chain sessions here, so failures do not poison anything.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { env } from '@huggingface/transformers';
import type { EngineOptions, EngineRuntime } from './runtime.js';
import { fetchModelText, remoteModelUrl } from './model-files.js';
import { installModelFetch } from './model-fetch.js';
import { EndpointError } from '../src/protocol/errors.js';

export function nodeRuntime(): EngineRuntime {
  let threads = 1;
  return {
    kind: 'node',
    sharedOrtChain: false,
    devices: ['cpu'],
    probe: async () => ({ device: 'cpu' }),
    fallbackFrom: () => null,
    async configure(options: EngineOptions) {
      env.allowLocalModels = true;
      if (options.localModelPath) env.localModelPath = options.localModelPath;
      env.allowRemoteModels = options.allowRemoteModels ?? false;
      if (options.remoteHost) env.remoteHost = options.remoteHost;
      installModelFetch(env); // a Hub mirror on a static host: an HTML page for a model file is a missing file
      threads = options.numThreads ?? cpus().length;
    },
    async readModelFile(model, path) {
      try {
        return await readFile(join(env.localModelPath, model, path), 'utf8');
      } catch (err) {
        // Only a file that is not there moves on to the Hub; another failure is an error, named
        // relative to the model folder (never with the absolute path, which is the server's).
        const code = (err as NodeJS.ErrnoException)?.code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') {
          const why = ((err as Error)?.message ?? String(err)).split(',')[0]!; // "EACCES: permission denied"
          throw new EndpointError(500, `${model}/${path} could not be read from the local model folder: ${why}.`);
        }
        return env.allowRemoteModels ? fetchModelText(remoteModelUrl(model, path), path) : null;
      }
    },
    listCached: async () => [],
    deleteCached: async () => false,
    storageEstimate: async () => ({ usage: null, quota: null, persisted: null }),
    threads: () => threads,
  };
}
