/**
 * Vite plugins shared by the demo server, the test server and the benchmark: the generated models
 * at `/models/`, and the headers that make the page cross-origin isolated (so WASM can use
 * threads).
 */
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { Plugin } from 'vite';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
  '.md': 'text/markdown',
  '.txt': 'text/plain',
};

/** Serves the model folders under `dir` at `/models/`, read-only, with no directory listing. */
export function modelsPlugin(dir: string): Plugin {
  const root = resolve(dir);
  return {
    name: 'local-endpoint:models',
    configureServer(server) {
      server.middlewares.use('/models', (req, res, next) => {
        const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
        const file = normalize(join(root, path));
        if (!file.startsWith(root)) return next();
        let size: number;
        try {
          const stat = statSync(file);
          if (!stat.isFile()) throw new Error('not a file');
          size = stat.size;
        } catch {
          res.statusCode = 404;
          res.setHeader('content-type', 'text/plain');
          res.end('Not found');
          return;
        }
        res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
        res.setHeader('content-length', String(size));
        res.setHeader('cache-control', 'no-cache');
        res.setHeader('cross-origin-resource-policy', 'same-origin');
        createReadStream(file).pipe(res);
      });
    },
  };
}

/** Dependencies the worker imports, bundled up front so the dev server never reloads mid-run. */
export const WORKER_DEPS = ['@huggingface/transformers', 'onnxruntime-web/webgpu', 'comlink', '@huggingface/inference', 'image-size', 'fast-png'];
