/**
 * Decoding an Endpoint request: Content-Type, JSON body, query-string parameters.
 * Pure except for reading the body. Every failure is a 400 naming the problem.
 */
import { EndpointError, badRequest, describeType, quoteName } from '../protocol/errors.js';
import type { EndpointPayload } from '../protocol/wire.js';
import { AUDIO_CONTENT_TYPES, IMAGE_CONTENT_TYPES, VIDEO_CONTENT_TYPES, mediaKindOf, readMediaBody, type MediaKind } from './media.js';

/** Content-Types a text task accepts. Binary tasks add image and audio types. */
export const JSON_CONTENT_TYPES = ['application/json', 'text/plain'] as const;

/** The largest body accepted, in bytes. */
export const MAX_BODY_BYTES = 50 * 1024 * 1024;

/**
 * The deepest nesting of arrays and objects a JSON body may have (the body itself is level 1), as
 * serde_json's default recursion limit in TGI and TEI. Deeper values would overflow the stack of
 * every recursive reader after the parse.
 */
export const MAX_JSON_DEPTH = 128;

export function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Reads an Endpoint payload from a request. `keepExtra`: the body's other top-level keys too (the custom task). */
export async function readPayload(request: Request, url: URL, keepExtra = false): Promise<EndpointPayload> {
  const type = mediaType(request.headers.get('content-type'));
  // Browsers label a string body text/plain; it is accepted when it holds the JSON payload.
  if (type !== '' && !JSON_CONTENT_TYPES.includes(type as never)) {
    throw badRequest(
      `Unsupported Content-Type ${JSON.stringify(type)}. Supported: ${JSON_CONTENT_TYPES.join(', ')}.`,
    );
  }
  return withQueryParameters(parseJsonPayload(await readText(request), keepExtra), url);
}

/**
 * The custom task's body, as the Endpoint toolkit gives it to a handler: JSON with every top-level
 * key (the others in `extra`), or a raw image or sound (its kind read from the Content-Type, or
 * from the bytes when there is none or it is application/octet-stream), which the engine decodes.
 */
export async function readWholeBody(request: Request, url: URL): Promise<EndpointPayload> {
  const declared = request.headers.get('content-type');
  const type = mediaType(declared);
  if (JSON_CONTENT_TYPES.includes(type as never)) return readPayload(request, url, true);
  const media = [...IMAGE_CONTENT_TYPES, ...AUDIO_CONTENT_TYPES, ...VIDEO_CONTENT_TYPES] as readonly string[];
  if (type !== '' && type !== 'application/octet-stream' && !media.includes(type === 'image/jpg' ? 'image/jpeg' : type)) {
    throw badRequest(`Unsupported Content-Type ${JSON.stringify(type)}. Supported: ${JSON_CONTENT_TYPES.join(', ')}, image and audio types (${[...IMAGE_CONTENT_TYPES, ...AUDIO_CONTENT_TYPES].join(', ')}).`);
  }
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) throw tooLarge(length);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge(bytes.byteLength);
  if (type === '') {
    // No Content-Type: JSON when it looks like a JSON object, else the bytes are media.
    const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (first === 0x7b /* { */) return withQueryParameters(parseJsonPayload(new TextDecoder().decode(bytes), true), url);
  }
  const kind: MediaKind = type.startsWith('image/') ? 'image' : type.startsWith('audio/') || type.startsWith('video/') ? 'audio' : (mediaKindOf(bytes) ?? 'image');
  return withQueryParameters({ inputs: readMediaBody(bytes, declared, kind) }, url);
}

/**
 * Reads the payload of a task that takes an image or a sound: JSON (`inputs` holds base64, which
 * the task decodes), or the raw bytes with their Content-Type, or none (the format is read from
 * the bytes). Query-string parameters become `parameters`, as the Endpoint server does.
 */
export async function readMediaPayload(request: Request, url: URL, kind: MediaKind): Promise<EndpointPayload> {
  const type = mediaType(request.headers.get('content-type'));
  if (JSON_CONTENT_TYPES.includes(type as never)) return readPayload(request, url);
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) throw tooLarge(length);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge(bytes.byteLength);
  return withQueryParameters({ inputs: readMediaBody(bytes, request.headers.get('content-type'), kind) }, url);
}

/** Reads a JSON object body (the OpenAI routes' requests). */
export async function readJsonBody(request: Request, expected = '{"messages": …} or {"prompt": …}'): Promise<Record<string, unknown>> {
  const type = mediaType(request.headers.get('content-type'));
  if (type !== '' && !JSON_CONTENT_TYPES.includes(type as never)) {
    throw badRequest(`Unsupported Content-Type ${JSON.stringify(type)}. Supported: application/json.`);
  }
  return parseJsonObject(await readText(request), expected);
}

async function readText(request: Request): Promise<string> {
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) throw tooLarge(length);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge(bytes.byteLength);
  return new TextDecoder().decode(bytes);
}

function parseJsonObject(text: string, expected: string): Record<string, unknown> {
  if (text.trim() === '') throw badRequest(`The request body is empty; expected JSON ${expected}.`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`The request body must be a JSON object ${expected}, got ${describeType(body)}.`);
  }
  checkDepth(body);
  return body as Record<string, unknown>;
}

/**
 * Parses and checks `{"inputs": …, "parameters": {…}}` (and a top-level `"stream"`). `keepExtra`:
 * the other top-level keys go to `extra` (the custom task's handler gets the whole body).
 */
export function parseJsonPayload(text: string, keepExtra = false): EndpointPayload {
  const record = parseJsonObject(text, '{"inputs": …}');
  if (!('inputs' in record)) throw badRequest('The request body has no "inputs" key.');
  const payload: EndpointPayload = { inputs: record.inputs };
  if (keepExtra) {
    const { inputs: _i, parameters: _p, stream: _s, ...extra } = record;
    if (Object.keys(extra).length > 0) payload.extra = extra;
  }
  if (record.stream !== undefined) payload.stream = record.stream as boolean;
  if (record.parameters !== undefined && record.parameters !== null) {
    if (typeof record.parameters !== 'object' || Array.isArray(record.parameters)) {
      throw badRequest(`"parameters" must be an object, got ${describeType(record.parameters)}.`);
    }
    payload.parameters = record.parameters as Record<string, unknown>;
  }
  return payload;
}

/** As the Endpoint server does: query-string parameters become `parameters` when the body has none. */
export function withQueryParameters(payload: EndpointPayload, url: URL): EndpointPayload {
  if (payload.parameters || [...url.searchParams.keys()].length === 0) return payload;
  const parameters: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) {
    try {
      parameters[name] = JSON.parse(value);
    } catch {
      parameters[name] = value;
    }
    checkDepth(parameters[name], `parameters.${quoteName(name)}`, 3);
  }
  return { ...payload, parameters };
}

/** A body over the limit: a 413, as `serve` answers it, in every runtime. */
function tooLarge(bytes: number) {
  return new EndpointError(413, `The request body is ${bytes} bytes, over the limit of ${MAX_BODY_BYTES} bytes.`);
}

/**
 * Refuses a JSON value nested deeper than MAX_JSON_DEPTH, naming the field that is. It walks the
 * value with a stack of its own, so any depth that JSON.parse accepted is safe to check. The name
 * follows object keys and the indexes of objects in arrays (`messages[0].content`), not the
 * indexes of arrays in arrays (`parameters.top_k`, for `[[[…]]]`).
 *
 * `path` names the value ('' for the body itself), `depth` is its level (the body's is 1).
 */
export function checkDepth(value: unknown, path = '', depth = 1): void {
  const stack: [unknown, number, string][] = [[value, depth, path]];
  while (stack.length) {
    const [v, level, at] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (level > MAX_JSON_DEPTH) {
      throw badRequest(`${at || 'The request body'} is nested too deeply: over ${MAX_JSON_DEPTH} levels of arrays and objects.`);
    }
    const grow = at.length < 120;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item === null || typeof item !== 'object') continue;
        stack.push([item, level + 1, grow && !Array.isArray(item) ? `${at}[${i}]` : at]);
      }
      continue;
    }
    for (const key in v) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
      const item = (v as Record<string, unknown>)[key];
      if (item === null || typeof item !== 'object') continue;
      const field = /^[A-Za-z_$][\w$]*$/.test(key) ? (at ? `.${key}` : key) : `[${JSON.stringify(quoteName(key))}]`;
      stack.push([item, level + 1, grow ? `${at}${field}` : at]);
    }
  }
}
