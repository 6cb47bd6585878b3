/**
 * Reads a file of a model repo the way transformers.js resolves it: the local model folder first,
 * then the Hub (or its mirror) when remote models are allowed.
 */
import { env } from '@huggingface/transformers';
import { checkModelText } from './model-fetch.js';

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
 * Fetches a model file over HTTP (browser, or the Hub from Node); null when it is missing, or
 * answered with something that is not that file, such as the HTML page a static host's fallback
 * gives for a missing file (worker/model-fetch.ts): then the next place is tried, as
 * transformers.js does.
 */
export async function fetchModelFile(model: string, path: string): Promise<string | null> {
  const urls: string[] = [];
  if (env.allowLocalModels) urls.push(localModelUrl(model, path));
  if (env.allowRemoteModels) urls.push(remoteModelUrl(model, path));
  for (const url of urls) {
    const text = await fetchModelText(url);
    if (text !== null) return text;
  }
  return null;
}

/** The text of the model file at `url`, or null when it is missing or not that file. */
export async function fetchModelText(url: string): Promise<string | null> {
  const response = await fetch(url).catch(() => null);
  if (!response?.ok) return null;
  const text = await response.text().catch(() => null);
  return text === null ? null : checkModelText(url, response.headers.get('content-type'), text);
}
