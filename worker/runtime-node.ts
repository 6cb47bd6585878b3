/**
 * The engine's runtime in Node: onnxruntime-node on the CPU. Used by `local-endpoint serve` and by
 * fast tests. transformers.js does not chain sessions here, so failures do not poison anything.
 */
import { mkdir, readFile, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus, homedir, tmpdir } from 'node:os';
import { env } from '@huggingface/transformers';
import type { EngineOptions, EngineRuntime, HandlerModule } from './runtime.js';
import type { CachedModel } from '../src/protocol/engine.js';
import { fetchModelText, modelFileExists, remoteModelUrl } from './model-files.js';
import { installModelFetch } from './model-fetch.js';
import { EndpointError } from '../src/protocol/errors.js';
import { noHandler, refused, untrustedRemoteHandler } from '../src/tasks/custom/handler-trust.js';

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
      if (options.remotePathTemplate) env.remotePathTemplate = options.remotePathTemplate;
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
        return env.allowRemoteModels ? readThroughDiskCache(model, path) : null;
      }
    },
    async hasModelFile(model, path) {
      const local = join(env.localModelPath, model, path);
      if (!relative(env.localModelPath, local).startsWith('..') && (await stat(local).catch(() => null))?.isFile()) return true;
      if (!env.allowRemoteModels) return false;
      const folder = diskCacheFolder(model);
      if (folder && (await stat(join(folder, path)).catch(() => null))?.isFile()) return true;
      const allowLocal = env.allowLocalModels;
      env.allowLocalModels = false; // the local folder was looked at above, on disk
      try {
        return await modelFileExists(model, path);
      } finally {
        env.allowLocalModels = allowLocal;
      }
    },
    listCached: () => listDiskCache(),
    deleteCached: async (model) => {
      const folder = diskCacheFolder(model);
      if (!folder || !(await isDir(folder))) return false;
      await rm(folder, { recursive: true, force: true });
      return true;
    },
    storageEstimate: async () => {
      // The disk cache's size, and the space left on its disk: there is no quota in Node.
      if (!env.useFSCache || !env.cacheDir || !(await isDir(env.cacheDir))) return { usage: null, quota: null, persisted: null };
      const usage = (await walk(env.cacheDir)).reduce((n, f) => n + f.bytes, 0);
      const disk = await statfs(env.cacheDir).catch(() => null);
      return { usage, quota: disk ? usage + disk.bavail * disk.bsize : null, persisted: true };
    },
    scrubPaths: (message) => {
      // Longest first: the model folder inside the working folder goes as a whole.
      const roots = [env.localModelPath, env.cacheDir, process.cwd(), homedir(), tmpdir()]
        .filter((r): r is string => typeof r === 'string' && r.length > 1 && isAbsolute(r))
        .map((r) => resolvePath(r))
        .sort((a, b) => b.length - a.length);
      let text = message;
      for (const root of roots) text = text.replaceAll(`${root}${sep}`, '').replaceAll(root, '.');
      return text;
    },
    threads: () => threads,
    importHandler,
  };
}

// -- the custom task's handler in Node ------------------------------------------------------------

/**
 * The handler of `model` (the rules: src/tasks/custom/handler-trust.ts): the file the operator
 * named (`handlers`, `serve --handler`), else the handler.js of the model's folder under the
 * local model folder (`--models-dir`), else, for a repository in `trustRemoteCode`
 * (`--trust-remote-code`), the Hub's, kept in the disk cache beside the model's other files.
 * Errors name files relative to their folder, never by absolute path.
 */
async function importHandler(model: string, options: EngineOptions): Promise<HandlerModule> {
  const named = options.handlers?.[model];
  if (named !== undefined) {
    let file: string;
    if (/^file:/i.test(named)) file = fileURLToPath(named);
    else if (/^[a-z][a-z0-9+.-]+:/i.test(named) && !/^[a-z]:[\\/]/i.test(named)) {
      throw refused(model, `in Node a handler is a file the operator names (a path or a file: URL), not a ${named.split(':')[0]}: URL`);
    } else file = resolvePath(named);
    if (!(await stat(file).catch(() => null))?.isFile()) throw new EndpointError(400, `The custom handler named for ${JSON.stringify(model)} does not exist: ${basename(file)} is not a file.`);
    return { module: await importModule(model, pathToFileURL(file).href, basename(file)), path: dirname(file), from: 'app' };
  }
  const folder = join(env.localModelPath, model);
  const local = join(folder, 'handler.js');
  if (!relative(env.localModelPath, local).startsWith('..') && (await stat(local).catch(() => null))?.isFile()) {
    return { module: await importModule(model, pathToFileURL(local).href, `${model}/handler.js`), path: folder, from: 'local' };
  }
  const looked = [`the local model folder (${model}/handler.js)`];
  if (env.allowRemoteModels) {
    const remote = remoteModelUrl(model, 'handler.js');
    looked.push(`the Hub (${remote})`);
    if (!(options.trustRemoteCode ?? []).includes(model)) {
      const allowLocal = env.allowLocalModels;
      env.allowLocalModels = false; // the local folder was looked at above, on disk
      const exists = await modelFileExists(model, 'handler.js').finally(() => (env.allowLocalModels = allowLocal));
      if (exists) throw untrustedRemoteHandler(model, remote, '--trust-remote-code');
    } else {
      const text = await readThroughDiskCache(model, 'handler.js');
      if (text !== null) {
        const cached = diskCacheFolder(model);
        const data = `data:text/javascript;base64,${Buffer.from(text).toString('base64')}`;
        return { module: await importModule(model, data, remote), path: cached ?? remote, from: 'remote' };
      }
    }
  }
  throw noHandler(model, looked.join(' or '));
}

async function importModule(model: string, url: string, shown: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new EndpointError(500, `The custom handler of ${JSON.stringify(model)} (${shown}) failed to load: ${(err as Error)?.message ?? err}`);
  }
}

// -- the model cache in Node: transformers.js's file cache (env.cacheDir) ------------------------

/**
 * In Node, models downloaded from the Hub (or a mirror) are kept by transformers.js under
 * `env.cacheDir/<model>/<file>`. The engine's own reads of a downloaded model (modules.json, the
 * pooling config) are kept there too, so they are fetched once; models in the local model folder
 * are the user's own files and are not "cached".
 */
function diskCacheFolder(model: string): string | null {
  if (!env.useFSCache || !env.cacheDir) return null;
  const folder = join(env.cacheDir, model);
  return relative(env.cacheDir, folder).startsWith('..') ? null : folder;
}

async function readThroughDiskCache(model: string, path: string): Promise<string | null> {
  const folder = diskCacheFolder(model);
  const file = folder ? join(folder, path) : null;
  if (file && !relative(folder!, file).startsWith('..')) {
    const kept = await readFile(file, 'utf8').catch(() => null);
    if (kept !== null) return kept;
  }
  const text = await fetchModelText(remoteModelUrl(model, path), path);
  if (text !== null && file) {
    await mkdir(dirname(file), { recursive: true }).catch(() => undefined);
    await writeFile(file, text).catch(() => undefined);
  }
  return text;
}

async function listDiskCache(): Promise<CachedModel[]> {
  if (!env.useFSCache || !env.cacheDir || !(await isDir(env.cacheDir))) return [];
  const files = await walk(env.cacheDir);
  const models = new Map<string, CachedModel>();
  // A model is a folder holding a config.json: `<org>/<name>/config.json` or `<name>/config.json`.
  const roots = files.filter((f) => f.path.endsWith(`${sep}config.json`) && f.path.split(sep).length <= 3).map((f) => dirname(f.path));
  for (const file of files) {
    const root = roots.filter((r) => file.path.startsWith(`${r}${sep}`)).sort((a, b) => b.length - a.length)[0];
    if (!root) continue;
    const model = root.split(sep).join('/');
    const entry = models.get(model) ?? { model, files: [], bytes: 0, lastUsed: null };
    entry.files.push({ path: file.path.slice(root.length + 1).split(sep).join('/'), bytes: file.bytes });
    entry.bytes += file.bytes;
    entry.lastUsed = Math.max(entry.lastUsed ?? 0, file.used);
    models.set(model, entry);
  }
  return [...models.values()].sort((a, b) => a.model.localeCompare(b.model));
}

async function walk(root: string, under = ''): Promise<{ path: string; bytes: number; used: number }[]> {
  const found: { path: string; bytes: number; used: number }[] = [];
  for (const entry of await readdir(join(root, under), { withFileTypes: true }).catch(() => [])) {
    const path = under ? join(under, entry.name) : entry.name;
    if (entry.isDirectory()) found.push(...(await walk(root, path)));
    else if (entry.isFile()) {
      const info = await stat(join(root, path));
      found.push({ path, bytes: info.size, used: Math.max(info.mtimeMs, info.atimeMs) });
    }
  }
  return found;
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
