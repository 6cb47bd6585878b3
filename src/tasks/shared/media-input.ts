/**
 * The image or sound of a media task's payload: the raw body (read by src/wire/body.ts), or
 * base64 in JSON, as a string or under `image`. Pure.
 */
import { badRequest, describeType } from '../../protocol/errors.js';
import { decodeBase64Media, type MediaBody, type MediaKind } from '../../wire/media.js';

export function isMediaBody(value: unknown): value is MediaBody {
  return value !== null && typeof value === 'object' && (value as { bytes?: unknown }).bytes instanceof Uint8Array;
}

/** The media of `inputs`: raw bytes, a base64 string, or `{image: base64}` / `{audio: base64}`. */
export function readMediaInput(inputs: unknown, kind: MediaKind): MediaBody {
  if (isMediaBody(inputs)) return inputs;
  if (typeof inputs === 'string') return decodeBase64Media(inputs, kind);
  if (inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs) && kind in inputs) {
    return decodeBase64Media((inputs as Record<string, unknown>)[kind], kind, `inputs.${kind}`);
  }
  throw badRequest(
    `inputs must be ${kind === 'image' ? 'an image' : 'audio'}: the raw body with its Content-Type, or base64 in JSON ` +
      `("inputs": "<base64>" or {"${kind}": "<base64>"}), got ${describeType(inputs)}.`,
  );
}
