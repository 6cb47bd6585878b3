/**
 * Decoding request media where the work runs: in the worker, and in Node for `serve`.
 *
 * - Images, read as PIL reads them behind the Python Endpoint: PNG by fast-png in both runtimes
 *   (src/tasks/png-decode.ts: stored values, no gamma, no premultiplied alpha); the other formats
 *   by createImageBitmap (EXIF orientation applied, ICC profile not: `colorSpaceConversion:
 *   "none"`) and OffscreenCanvas in a worker, by sharp (transformers.js's RawImage) in Node.
 * - Audio: the WebAssembly decoders of the `@audio/decode-*` packages (the codecs of the npm package
 *   audio-decode), since workers have no AudioContext: wav, flac, mp3, ogg (vorbis and opus),
 *   webm/opus, m4a (mp4/aac), raw aac and amr, the same in the browser and in Node, so a local answer
 *   and a Node-served one start from the same samples. A video file (video/webm, video/mp4,
 *   video/ogg) is read the same way: the webm, mp4 and ogg decoders pick the audio track and skip
 *   the others (vp8/vp9, h264/mpeg4, theora); a video with no audio track is a 400 saying so.
 *   The format is read from the bytes (src/wire/media.ts) and only that decoder is loaded. The
 *   samples are mixed to mono and resampled to the model's rate (src/tasks/resample.ts).
 */
import { RawImage } from '@huggingface/transformers';
import { imageSize } from 'image-size';
import { badRequest } from '../../src/protocol/errors.js';
import { decodePngToRgb } from './png-decode.js';
import { resample, toMono } from './resample.js';
import { sniffFormat, type MediaFormat } from '../../src/wire/media.js';

interface AudioData {
  channelData: Float32Array[];
  sampleRate: number;
}
type Decoder = (bytes: Uint8Array) => Promise<AudioData>;

/** One decoder per format, loaded on first use. */
const DECODERS: Partial<Record<MediaFormat, () => Promise<{ default: Decoder }>>> = {
  wav: () => import('@audio/decode-wav') as never,
  flac: () => import('@audio/decode-flac') as never,
  mp3: () => import('@audio/decode-mp3') as never,
  'ogg-vorbis': () => import('@audio/decode-vorbis') as never,
  'ogg-opus': () => import('@audio/decode-opus') as never,
  webm: () => import('@audio/decode-webm') as never,
  mp4: () => import('@audio/decode-mp4') as never,
  aac: () => import('@audio/decode-aac') as never,
  amr: () => import('@audio/decode-amr') as never,
};

/**
 * The most pixels an image may have: 8192 × 8192. A small file can declare a huge image (a PNG of
 * 20000 × 20000 zeros is 1 MB); decoded, it would take gigabytes of the worker's memory. PIL, which
 * the Python Endpoint uses, refuses images over 179 M pixels (DecompressionBombError); a browser
 * tab has less room, so the limit here is lower.
 */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

/** Image bytes → RawImage. A corrupt, truncated or oversized image is the caller's 400. */
export async function decodeImage(bytes: Uint8Array): Promise<unknown> {
  // The size from the header (the image-size package), checked before anything is decoded.
  let size: { width?: number; height?: number } | undefined;
  try {
    size = imageSize(bytes);
  } catch {
    size = undefined; // an unreadable header: the decoder below names the problem
  }
  if (size?.width && size.height && size.width * size.height > MAX_IMAGE_PIXELS) {
    throw badRequest(
      `The image is ${size.width}×${size.height} pixels, over the limit of ${MAX_IMAGE_PIXELS} pixels (8192×8192); send a smaller image.`,
    );
  }
  try {
    if (sniffFormat(bytes) === 'png') {
      const { data, width, height } = decodePngToRgb(bytes);
      return new RawImage(data, width, height, 3);
    }
    if (typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function') return await decodeInBrowser(bytes);
    return await RawImage.fromBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  } catch (err) {
    throw badRequest(`The image could not be decoded (corrupt or truncated?): ${(err as Error)?.message ?? err}`);
  }
}

/** transformers.js's browser decoding, without the ICC conversion PIL does not do either. */
async function decodeInBrowser(bytes: Uint8Array): Promise<unknown> {
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none' });
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return new RawImage(context.getImageData(0, 0, width, height).data, width, height, 4);
}

/** Audio bytes → mono samples at `samplingRate`. Audio that cannot be decoded is the caller's 400. */
export async function decodeAudio(bytes: Uint8Array, samplingRate: number): Promise<Float32Array> {
  const format = sniffFormat(bytes);
  const load = format ? DECODERS[format === 'ogg' ? 'ogg-vorbis' : format] : undefined;
  if (!load) throw badRequest(`The audio could not be decoded: ${format ? `no decoder for ${format}` : 'unknown format'}.`);
  let decoded: AudioData;
  try {
    decoded = await (await load()).default(bytes);
  } catch (err) {
    throw badRequest(`The audio could not be decoded (corrupt, truncated or an unsupported codec?): ${(err as Error)?.message ?? err}`);
  }
  if (!decoded?.channelData?.length || decoded.channelData[0]!.length === 0) {
    throw badRequest('The audio could not be decoded: it holds no samples (a video with no audio track?).');
  }
  return resample(toMono(decoded.channelData), decoded.sampleRate, samplingRate);
}
