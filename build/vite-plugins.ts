/**
 * Vite plugins shared by the demo server, the test server and the benchmark: the generated models
 * at `/models/` (and at `/spa-models/` behind an SPA fallback), and the headers that make the page cross-origin isolated (so WASM can use
 * threads).
 */
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';

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

/**
 * The same folder as a static host with an SPA fallback serves it (`vite preview`, Netlify's
 * `/* /index.html 200`, Vercel rewrites): a missing file is answered `200 text/html` with the
 * app's index.html. The tests load models from here to check that such answers count as missing.
 */
export const SPA_MODELS_PATH = '/spa-models';

/** The index.html an SPA fallback answers for any missing file. */
export const SPA_INDEX_HTML = '<!doctype html>\n<html lang="en">\n  <head><meta charset="UTF-8" /><title>App</title><script type="module" src="/assets/index.js"></script></head>\n  <body><div id="app"></div></body>\n</html>\n';

/**
 * The same folder as a host that fails for some files, for tests of what a failed fetch gives:
 * `/flaky-models/<action>=<file>/<model>/<path>` serves `<model>/<path>` as `/models/` does,
 * except when the path is `<file>` or ends with `/<file>` (`<file>` URL-encoded when it holds a
 * `/`, as `1_Pooling%2Fconfig.json`). Then `drop` closes the connection without an answer (the
 * browser's fetch rejects, as when the server is gone), and a status such as `500` answers it.
 */
export const FLAKY_MODELS_PATH = '/flaky-models';

/**
 * Serves the model folders under `dir` at `/models/`, read-only, with no directory listing, at
 * `/spa-models/` with the fallback of a single-page app's static host (SPA_MODELS_PATH), and at
 * `/flaky-models/` with chosen files failing (FLAKY_MODELS_PATH).
 */
export function modelsPlugin(dir: string): Plugin {
  const root = resolve(dir);
  return {
    name: 'local-endpoint:models',
    configureServer(server) {
      server.middlewares.use('/models', serveFiles(root, false));
      server.middlewares.use(SPA_MODELS_PATH, serveFiles(root, true));
      server.middlewares.use(FLAKY_MODELS_PATH, serveFlaky(serveFiles(root, false)));
    },
  };
}

function serveFlaky(serve: Connect.NextHandleFunction): Connect.NextHandleFunction {
  return (req, res, next) => {
    const [path = '/', query] = (req.url ?? '/').split(/\?(.*)/s);
    const match = /^\/(drop|\d{3})=([^/]+)(\/.*)$/.exec(path);
    if (!match) {
      res.statusCode = 400;
      res.setHeader('content-type', 'text/plain');
      res.end(`Expected ${FLAKY_MODELS_PATH}/<drop|status>=<file>/<model>/<path>`);
      return;
    }
    const [, action, encoded, rest] = match as unknown as [string, string, string, string];
    const file = decodeURIComponent(encoded);
    const requested = decodeURIComponent(rest);
    if (requested === `/${file}` || requested.endsWith(`/${file}`)) {
      if (action === 'drop') {
        req.socket.destroy();
        return;
      }
      res.statusCode = Number(action);
      res.setHeader('content-type', 'text/plain');
      res.setHeader('cross-origin-resource-policy', 'same-origin');
      res.end(`Failing on purpose: ${action} for ${requested}`);
      return;
    }
    req.url = query === undefined ? rest : `${rest}?${query}`;
    serve(req, res, next);
  };
}

function serveFiles(root: string, spaFallback: boolean): Connect.NextHandleFunction {
  return (req, res, next) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) return next();
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      if (spaFallback) {
        res.statusCode = 200;
        res.setHeader('content-type', 'text/html');
        res.setHeader('content-length', String(Buffer.byteLength(SPA_INDEX_HTML)));
        res.setHeader('cross-origin-resource-policy', 'same-origin');
        res.end(SPA_INDEX_HTML);
        return;
      }
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
  };
}

/** Dependencies the worker imports, bundled up front so the dev server never reloads mid-run. */
export const WORKER_DEPS = ['@huggingface/transformers', 'onnxruntime-web/webgpu', 'comlink', '@huggingface/inference', 'image-size', 'fast-png'];
