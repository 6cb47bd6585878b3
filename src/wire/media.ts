/**
 * Image and audio request bodies (the groundwork of the vision and audio tasks): the Content-Types
 * the Endpoint server accepts, the format read from the bytes themselves (the official client may
 * send a Blob with no Content-Type), and base64 inside JSON. Pure: bytes in, a checked body out.
 * Every failure is a 400 naming the problem.
 */
import { badRequest, describeType } from '../protocol/errors.js';

export type MediaKind = 'image' | 'audio';

/** The Endpoint server's image Content-Types (serialization/base.py). */
export const IMAGE_CONTENT_TYPES = [
  'image/png',
  'image/jpeg',
  'image/jpg',
  'image/webp',
  'image/gif',
  'image/bmp',
  'image/tiff',
  'image/x-image',
] as const;

/** The Endpoint server's audio Content-Types, and the usual names of the same formats. */
export const AUDIO_CONTENT_TYPES = [
  'audio/x-flac',
  'audio/flac',
  'audio/mpeg',
  'audio/mp3',
  'audio/x-mpeg-3',
  'audio/wav',
  'audio/wave',
  'audio/x-wav',
  'audio/ogg',
  'audio/opus',
  'audio/webm',
  'audio/m4a',
  'audio/x-m4a',
  'audio/mp4',
  'audio/aac',
  'audio/amr',
] as const;

/**
 * Video containers an audio task takes, reading their audio track: a `.webm` recording fetched
 * from a server is typed video/webm, and the official client sends a Blob's own type. The bytes
 * are the same webm, mp4 and ogg files as audio/webm, audio/mp4 and audio/ogg.
 */
export const VIDEO_CONTENT_TYPES = ['video/webm', 'video/mp4', 'video/ogg'] as const;

/** Every Content-Type a task taking `kind` accepts for a raw body (besides none and application/octet-stream). */
export function acceptedContentTypes(kind: MediaKind): readonly string[] {
  return kind === 'image' ? IMAGE_CONTENT_TYPES : [...AUDIO_CONTENT_TYPES, ...VIDEO_CONTENT_TYPES];
}

/** A format recognised from its first bytes. */
export type MediaFormat =
  | 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'tiff'
  | 'wav' | 'flac' | 'mp3' | 'aac' | 'ogg-vorbis' | 'ogg-opus' | 'ogg' | 'webm' | 'mp4' | 'amr';

const KIND_OF: Record<MediaFormat, MediaKind> = {
  png: 'image', jpeg: 'image', gif: 'image', webp: 'image', bmp: 'image', tiff: 'image',
  wav: 'audio', flac: 'audio', mp3: 'audio', aac: 'audio', 'ogg-vorbis': 'audio', 'ogg-opus': 'audio', ogg: 'audio',
  webm: 'audio', mp4: 'audio', amr: 'audio',
};

export interface MediaBody {
  kind: MediaKind;
  /** What the bytes are, whatever the Content-Type said. */
  format: MediaFormat;
  /** The Content-Type the request declared, if any. */
  declared?: string;
  bytes: Uint8Array;
}

const ascii = (bytes: Uint8Array, from: number, length: number) =>
  String.fromCharCode(...bytes.subarray(from, from + length));

/** Reads a format from the first bytes (magic numbers); null when none is recognised. */
export function sniffFormat(bytes: Uint8Array): MediaFormat | null {
  if (bytes.length < 4) return null;
  const b = bytes;
  if (b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return 'png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(b, 0, 4) === 'GIF8') return 'gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE') return 'wav';
  if (ascii(b, 0, 2) === 'BM' && bytes.length >= 26) return 'bmp';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return 'tiff';
  if (ascii(b, 0, 4) === 'fLaC') return 'flac';
  if (ascii(b, 0, 3) === 'ID3') return 'mp3';
  if (ascii(b, 0, 4) === 'OggS') {
    const head = ascii(b, 0, Math.min(b.length, 512));
    if (head.includes('OpusHead')) return 'ogg-opus';
    if (head.includes('\x01vorbis')) return 'ogg-vorbis';
    return 'ogg';
  }
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm';
  if (bytes.length >= 12 && ascii(b, 4, 4) === 'ftyp') return 'mp4';
  if (ascii(b, 0, 5) === '#!AMR') return 'amr';
  // MPEG audio frame sync (11 bits set): layer bits 00 are AAC in ADTS, the others MPEG layers 1-3.
  if (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0) return (b[1]! & 0x06) === 0 ? 'aac' : 'mp3';
  return null;
}

/** The kind of media the bytes are (read from their first bytes), or null when no known format. */
export function mediaKindOf(bytes: Uint8Array): MediaKind | null {
  const format = sniffFormat(bytes);
  return format ? KIND_OF[format] : null;
}

/**
 * Checks a binary body for a task that takes `kind`: a supported Content-Type (or none), and bytes
 * that are really an image (or a sound) of a recognised format. The bytes decide the format: a
 * Content-Type naming another format of the same kind (an mp3 sent as audio/wav) is read as what
 * it is. A body of the other kind, or of no known format, is a 400.
 */
export function readMediaBody(bytes: Uint8Array, contentType: string | null, kind: MediaKind): MediaBody {
  const declared = contentType ? normalise(contentType) : undefined;
  const supported = acceptedContentTypes(kind);
  if (declared && declared !== 'application/octet-stream' && !supported.includes(declared)) {
    // A video to an image task: say so, rather than only that the type is not in the list.
    const video = kind === 'image' && declared.startsWith('video/') ? ': this task takes an image, not a video (send one frame as an image)' : '';
    throw badRequest(`Unsupported Content-Type ${JSON.stringify(contentType)} for ${kind} input${video}. Supported: ${supported.join(', ')}, or JSON {"inputs": "<base64>"}.`);
  }
  if (bytes.byteLength === 0) throw badRequest(`The request body is empty; expected ${kind === 'image' ? 'an image' : 'audio'}.`);
  const format = sniffFormat(bytes);
  const what = declared ? `a body sent as ${declared}` : 'the body';
  if (!format) {
    throw badRequest(`${capitalise(what)} is not a recognisable ${kind === 'image' ? 'image' : 'audio file'} (it starts with bytes ${hex(bytes)}). Supported: ${supported.join(', ')}.`);
  }
  if (KIND_OF[format] !== kind) {
    throw badRequest(`${capitalise(what)} holds ${format} ${KIND_OF[format]}, but this task takes ${kind === 'image' ? 'an image' : 'audio'}.`);
  }
  return { kind, format, ...(declared ? { declared } : {}), bytes };
}

/**
 * Decodes base64 media inside JSON `inputs` (plain base64, or a `data:<type>;base64,` URL), as the
 * Endpoint server does for images and for audio.
 */
export function decodeBase64Media(value: unknown, kind: MediaKind, what = 'inputs'): MediaBody {
  if (typeof value !== 'string') {
    throw badRequest(`${what} must be ${kind === 'image' ? 'an image' : 'audio'} as a base64 string, got ${describeType(value)}.`);
  }
  let text = value.trim();
  let declared: string | null = null;
  const dataUrl = /^data:([^;,]+)?(;[^,]*)?,/.exec(text);
  if (dataUrl) {
    if (!dataUrl[2]?.includes('base64')) throw badRequest(`${what} is a data URL without ;base64.`);
    declared = dataUrl[1] ?? null;
    text = text.slice(dataUrl[0].length);
  }
  const cleaned = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(cleaned) || cleaned.length % 4 === 1) {
    throw badRequest(`${what} is not valid base64 ${kind === 'image' ? 'image' : 'audio'} data.`);
  }
  const binary = atob(cleaned.padEnd(Math.ceil(cleaned.length / 4) * 4, '='));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return readMediaBody(bytes, declared, kind);
}

function normalise(contentType: string): string {
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  // `audio/webm;codecs=opus` is the Endpoint's own spelling: the codec is read from the bytes.
  void params;
  return type === 'image/jpg' ? 'image/jpeg' : type!;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function capitalise(text: string): string {
  return text[0]!.toUpperCase() + text.slice(1);
}
