/**
 * Reads a file of a model repo the way transformers.js resolves it: the local model folder first,
 * then the Hub (or its mirror) when remote models are allowed.
 */
import { env } from '@huggingface/transformers';

export function localModelUrl(model: string, path: string): string {
  const base = env.localModelPath.endsWith('/') ? env.localModelPath : `${env.localModelPath}/`;
  return `${base}${model}/${path}`;
}

export function remoteModelUrl(model: string, path: string): string {
  const host = env.remoteHost.endsWith('/') ? env.remoteHost : `${env.remoteHost}/`;
  const template = env.remotePathTemplate.replaceAll('{model}', model).replaceAll('{revision}', 'main');
  return `${host}${template}${template.endsWith('/') ? '' : '/'}${path}`;
}

/** Fetches a model file over HTTP (browser, or the Hub from Node); null on 404. */
export async function fetchModelFile(model: string, path: string): Promise<string | null> {
  const urls: string[] = [];
  if (env.allowLocalModels) urls.push(localModelUrl(model, path));
  if (env.allowRemoteModels) urls.push(remoteModelUrl(model, path));
  for (const url of urls) {
    const response = await fetch(url).catch(() => null);
    if (response?.ok) return response.text();
  }
  return null;
}
