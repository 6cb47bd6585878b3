/** A chosen image or sound as a request body: the raw bytes, or base64 inside JSON. */
import { toBase64 } from '../../tasks/shared/base64.js';
import type { ChosenMedia, WidgetRequest } from '../types.js';

const TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
  wav: 'audio/wav',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  webm: 'audio/webm',
  m4a: 'audio/m4a',
};

/** The Content-Type the raw body goes with: the file's own type, or its extension's. */
export function mediaType(media: ChosenMedia): string {
  const type = media.blob.type.split(';')[0]!.trim();
  if (type && type !== 'application/octet-stream') return type;
  return TYPES[media.name.split('.').pop()?.toLowerCase() ?? ''] ?? (media.kind === 'image' ? 'image/png' : 'audio/wav');
}

/** The raw-body request (`curl --data-binary @tiger.jpeg`), the Endpoint's first form for media. */
export function rawMediaRequest(media: ChosenMedia): WidgetRequest {
  return { path: '/', media: { blob: media.blob, name: media.name, type: mediaType(media) } };
}

/** The media as base64, for the JSON form (`{"inputs": "<base64>", "parameters": {…}}`). */
export async function mediaBase64(media: ChosenMedia): Promise<string> {
  return toBase64(new Uint8Array(await media.blob.arrayBuffer()));
}

/**
 * A media task's request: the raw body when there are no parameters (it cannot carry them), the
 * JSON form with base64 when there are.
 */
export async function mediaRequest(media: ChosenMedia, parameters: Record<string, unknown>): Promise<WidgetRequest> {
  if (!Object.keys(parameters).length) return rawMediaRequest(media);
  return { path: '/', json: { inputs: await mediaBase64(media), parameters }, mediaInJson: { name: media.name, pointer: '/inputs' } };
}
