/**
 * Decoding request media where the work runs: in the worker, and in Node for `serve`.
 *
 * - Images, read as PIL reads them behind the Python Endpoint: PNG by fast-png in both runtimes
 *   (png-decode.ts: stored values, no gamma, no premultiplied alpha; bad header CRCs and 0×0
 *   refused, as PIL refuses them); BMP by local-endpoint's own decoder in both runtimes
 *   (bmp-decode.ts: sharp cannot read BMP); the other formats by createImageBitmap (EXIF
 *   orientation applied, ICC profile not: `colorSpaceConversion: "none"`) and OffscreenCanvas in
 *   a worker, by sharp (transformers.js's RawImage) in Node. An image of no pixels is a 400.
 * - Audio: the WebAssembly decoders of the `@audio/decode-*` packages (the codecs of the npm package
 *   audio-decode), since workers have no AudioContext: wav, flac, mp3, ogg (vorbis and opus),
 *   webm/opus, m4a (mp4/aac), raw aac and amr, the same in the browser and in Node, so a local answer
 *   and a Node-served one start from the same samples. A video file (video/webm, video/mp4,
 *   video/ogg) is read the same way: the webm, mp4 and ogg decoders pick the audio track and skip
 *   the others (vp8/vp9, h264/mpeg4, theora); a video with no audio track is a 400 saying so.
 *   The format is read from the bytes (src/wire/media.ts) and only that decoder is loaded. The
 *   samples are mixed to mono and resampled to the model's rate (resample.ts). A file that
 *   declares a sample rate of 0 (or none that is a number) is a 400, and so is one outside
 *   MIN_SAMPLE_RATE…MAX_SAMPLE_RATE (1 kHz to 384 kHz). Audio longer than the engine's
 *   `maxAudioSeconds` (default 600 s) is a 413, counted from the decoded length at the declared
 *   rate, before it is resampled: so the resampled length is at most maxAudioSeconds × the
 *   model's rate, whatever the file declares.
 */
import { RawImage } from '@huggingface/transformers';
import { imageSize } from 'image-size';
import { badRequest, EndpointError } from '../../src/protocol/errors.js';
import { decodeBmpToRgb } from './bmp-decode.js';
import { decodePngToRgb } from './png-decode.js';
import { MediaRefused } from './refused.js';
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
  if (size && (size.width === 0 || size.height === 0)) throw noPixels(bytes, size.width ?? 0, size.height ?? 0);
  let image: { width: number; height: number };
  try {
    image = (await decodeByFormat(bytes)) as { width: number; height: number };
  } catch (err) {
    if (err instanceof MediaRefused) throw badRequest(err.message);
    throw badRequest(`The image could not be decoded (corrupt or truncated?): ${(err as Error)?.message ?? err}`);
  }
  // PIL refuses an image of no pixels ("cannot identify image file"); so does the Endpoint.
  if (!(image.width > 0 && image.height > 0)) throw noPixels(bytes, image.width, image.height);
  return image;
}

const noPixels = (bytes: Uint8Array, width: number, height: number) =>
  badRequest(`The ${sniffFormat(bytes)?.toUpperCase() ?? 'image'} declares ${width}×${height} pixels; an image needs at least one pixel.`);

/** The decoder for the format: the same JavaScript decoder in both runtimes where there is one. */
async function decodeByFormat(bytes: Uint8Array): Promise<unknown> {
  const format = sniffFormat(bytes);
  if (format === 'png') {
    const { data, width, height } = decodePngToRgb(bytes);
    return new RawImage(data, width, height, 3);
  }
  if (format === 'bmp') {
    const { data, width, height } = decodeBmpToRgb(bytes, MAX_IMAGE_PIXELS);
    return new RawImage(data, width, height, 3);
  }
  if (typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function') return await decodeInBrowser(bytes);
  return await RawImage.fromBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]));
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

/**
 * The lowest sample rate a file may declare: 1,000 Hz. ffmpeg's demuxers refuse only rates of 0 or
 * less, but nothing real is recorded below 8 kHz (telephony, AMR-NB; the oldest formats go down to
 * 4–5.5 kHz), and a low declared rate is how a small file turns into a long one: 40 KB of WAV
 * declared at 100 Hz would be resampled to 200 s of 16 kHz audio. At 1 kHz and up, resampling to a
 * 16 kHz model expands the samples at most 16 times (48 times for a 48 kHz model).
 */
export const MIN_SAMPLE_RATE = 1_000;
/**
 * The highest sample rate a file may declare: 384,000 Hz, the top rate of professional audio
 * interfaces and DXD studio masters (twice 192 kHz). Above it nothing real is recorded, and
 * downsampling costs filter taps in proportion to the rate.
 */
export const MAX_SAMPLE_RATE = 384_000;
/**
 * The default of `EngineOptions.maxAudioSeconds`: 10 minutes. Long enough for voice notes, calls
 * and talks cut into parts, with automatic-speech-recognition chunked (30 s windows) so memory
 * stays bounded; 10 minutes of 16 kHz mono is 38 MB of samples and about 19 MB of 16-bit WAV, under
 * the default body limit.
 */
export const DEFAULT_MAX_AUDIO_SECONDS = 600;

/**
 * Audio bytes → mono samples at `samplingRate`. Audio that cannot be decoded, or declares a sample
 * rate outside MIN_SAMPLE_RATE…MAX_SAMPLE_RATE, is the caller's 400; audio longer than
 * `maxSeconds` (default DEFAULT_MAX_AUDIO_SECONDS; Infinity for none) is a 413, refused before it
 * is mixed or resampled.
 */
export async function decodeAudio(bytes: Uint8Array, samplingRate: number, maxSeconds: number = DEFAULT_MAX_AUDIO_SECONDS): Promise<Float32Array> {
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
  const rate = decoded.sampleRate;
  if (!(typeof rate === 'number' && Number.isFinite(rate) && rate > 0)) {
    throw badRequest(`The audio could not be decoded: the ${formatName(format!)} declares a sample rate of ${rate}; it must be a positive number of samples a second.`);
  }
  if (rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
    throw badRequest(
      `The audio could not be decoded: the ${formatName(format!)} declares a sample rate of ${rate} Hz; local-endpoint reads rates from ${MIN_SAMPLE_RATE} Hz to ${MAX_SAMPLE_RATE} Hz.`,
    );
  }
  const samples = decoded.channelData[0]!.length;
  const seconds = samples / rate;
  if (seconds > maxSeconds) throw audioTooLong(seconds, samples, rate, maxSeconds);
  return resample(toMono(decoded.channelData), decoded.sampleRate, samplingRate);
}

/** The 413 for audio over the engine's limit, naming the duration, the limit and how to raise it. */
function audioTooLong(seconds: number, samples: number, rate: number, limit: number): EndpointError {
  const s = (value: number) => `${Math.round(value * 10) / 10} s`;
  return new EndpointError(
    413,
    `The audio is ${s(seconds)} long (${samples} samples at ${rate} Hz), over the limit of ${s(limit)}; send a shorter clip, or raise the engine option maxAudioSeconds.`,
  );
}

/** How a message names the file: "WAV file", "FLAC file", "Ogg file"… */
function formatName(format: MediaFormat): string {
  return format.startsWith('ogg') ? 'Ogg file' : `${format.toUpperCase()} file`;
}
