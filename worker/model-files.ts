/**
 * Reads a file of a model repo (through the same checked fetch and model cache as transformers.js)
 * the way transformers.js resolves it: the local model folder first,
 * then the Hub (or its mirror) when remote models are allowed.
 *
 * A file is missing (null) only when the server says so: a 404 or 410, or a 200 that is not that
 * file, such as the HTML page a static host's fallback gives (worker/model-fetch.ts). A fetch
 * that fails otherwise (the host cannot be reached, the connection drops, a 5xx or any other
 * error status) is never taken as "missing": it throws a 502 naming the file and its URL, since
 * a task reading it (modules.json: pooling and normalisation) would otherwise answer differently.
 */
import { env } from '@huggingface/transformers';
import { EndpointError } from '../src/protocol/errors.js';
import { absolute, checkModelText, describeHostFailure, fetchCause, hostFailureOf, installedModelFetch, isMissingStatus } from './model-fetch.js';

export function localModelUrl(model: string, path: string): string {
  const base = env.localModelPath.endsWith('/') ? env.localModelPath : `${env.localModelPath}/`;
  return `${base}${model}/${path}`;
}

export function remoteModelUrl(model: string, path: string): string {
  const host = env.remoteHost.endsWith('/') ? env.remoteHost : `${env.remoteHost}/`;
  const template = env.remotePathTemplate.replaceAll('{model}', model).replaceAll('{revision}', 'main');
  return `${host}${template}${template.endsWith('/') ? '' : '/'}${path}`;
}

/**
 * Fetches a model file over HTTP (browser, or the Hub from Node); null when it is missing (then
 * the next place is tried, as transformers.js does). A failed fetch stops with its error.
 */
export async function fetchModelFile(model: string, path: string): Promise<string | null> {
  const urls: string[] = [];
  if (env.allowLocalModels) urls.push(localModelUrl(model, path));
  if (env.allowRemoteModels) urls.push(remoteModelUrl(model, path));
  for (const url of urls) {
    const text = await fetchModelText(url, path);
    if (text !== null) return text;
  }
  return null;
}

/**
 * The text of the model file at `url`, or null when it is missing or not that file. Throws a 502
 * EndpointError naming `file` (its path in the model repo) and the URL when the fetch fails.
 */
export async function fetchModelText(url: string, file = url.split(/[?#]/)[0]!.split('/').pop() ?? url): Promise<string | null> {
  const where = absolute(url);
  let response: Response;
  try {
    // The same fetch as transformers.js's: checked, and through the model cache (model-cache.ts).
    response = await installedModelFetch()(url);
  } catch (err) {
    throw new EndpointError(502, describeHostFailure(file, where, { kind: 'unreachable', cause: fetchCause(err) }));
  }
  if (isMissingStatus(response.status)) {
    void response.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!response.ok) {
    void response.body?.cancel().catch(() => undefined);
    const failure = hostFailureOf(response) ?? { kind: 'status' as const, status: response.status, statusText: response.statusText };
    throw new EndpointError(502, describeHostFailure(file, where, failure));
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    // The connection dropped in the middle of the body.
    throw new EndpointError(502, describeHostFailure(file, where, { kind: 'unreachable', cause: fetchCause(err) }));
  }
  return checkModelText(url, response.headers.get('content-type'), text);
}

/**
 * Whether a model file exists (where transformers.js would look: the local model folder, then the
 * Hub when allowed), without reading it here: a found file's download goes on into the model
 * cache, where transformers.js then finds it. A fetch that fails is a 502, as for fetchModelText.
 */
export async function modelFileExists(model: string, path: string): Promise<boolean> {
  const urls: string[] = [];
  if (env.allowLocalModels) urls.push(localModelUrl(model, path));
  if (env.allowRemoteModels) urls.push(remoteModelUrl(model, path));
  for (const url of urls) {
    let response: Response;
    try {
      response = await installedModelFetch()(url);
    } catch (err) {
      throw new EndpointError(502, describeHostFailure(path, absolute(url), { kind: 'unreachable', cause: fetchCause(err) }));
    }
    void response.body?.cancel().catch(() => undefined);
    if (response.ok) return true;
    if (!isMissingStatus(response.status)) {
      const failure = hostFailureOf(response) ?? { kind: 'status' as const, status: response.status, statusText: response.statusText };
      throw new EndpointError(502, describeHostFailure(path, absolute(url), failure));
    }
  }
  return false;
}
