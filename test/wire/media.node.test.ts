/** Image and audio bodies: Content-Types, formats read from the bytes, base64 in JSON. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectBadRequest as rejects } from '../helpers.js';
import { decodeBase64Media, readMediaBody, sniffFormat } from '../../src/wire/media.js';
import { readMediaPayload } from '../../src/wire/body.js';
import { decodeAudio } from '../../worker/media/decode.js';
import { SHARED_MEDIA } from '../../fixtures/media-location.js';

const MEDIA = SHARED_MEDIA;
const file = (name: string) => new Uint8Array(readFileSync(`${MEDIA}/${name}`));
/** The files made by ffmpeg in the global setup (test/global-setup.ts, makeAudioFormats). */
const made = (name: string) => new Uint8Array(readFileSync(`.fixtures/models/test-media/${name}`));
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));

describe('media bodies', () => {
  it('recognises the shared recordings and images by their bytes', () => {
    expect(sniffFormat(file('tiger.jpeg'))).toBe('jpeg');
    expect(sniffFormat(file('tiger.png'))).toBe('png');
    expect(sniffFormat(file('sample1.flac'))).toBe('flac');
    expect(sniffFormat(file('sample1.wav'))).toBe('wav');
    expect(sniffFormat(file('sample1.mp3'))).toBe('mp3');
  });

  it.each([
    ['gif', bytes('GIF89a', [1, 0, 1, 0])],
    ['webp', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')],
    ['bmp', bytes('BM', new Array(30).fill(0))],
    ['tiff', bytes('II*', [0, 8, 0, 0, 0])],
    ['ogg-opus', bytes('OggS', new Array(24).fill(0), 'OpusHead')],
    ['ogg-vorbis', bytes('OggS', new Array(24).fill(0), '\x01vorbis')],
    ['webm', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81])],
    ['mp4', bytes([0, 0, 0, 0x20], 'ftypM4A ', [0, 0, 0, 0])],
    ['aac', bytes([0xff, 0xf1, 0x50, 0x80, 0, 0x1f, 0xfc])],
    ['mp3', bytes([0xff, 0xfb, 0x90, 0x64, 0, 0, 0])],
    ['amr', bytes('#!AMR\n')],
  ])('recognises %s from its header', (format, body) => {
    expect(sniffFormat(body)).toBe(format);
  });

  it('reads a body with or without a Content-Type; the bytes decide the format', () => {
    expect(readMediaBody(file('tiger.jpeg'), 'image/jpeg', 'image')).toMatchObject({ kind: 'image', format: 'jpeg', declared: 'image/jpeg' });
    expect(readMediaBody(file('tiger.png'), null, 'image')).toMatchObject({ format: 'png' });
    expect(readMediaBody(file('sample1.flac'), 'application/octet-stream', 'audio')).toMatchObject({ format: 'flac' });
    expect(readMediaBody(file('sample1.wav'), 'audio/webm;codecs=opus', 'audio').format).toBe('wav');
    // An mp3 sent as audio/wav is read as the mp3 it is.
    expect(readMediaBody(file('sample1.mp3'), 'audio/wav', 'audio')).toMatchObject({ format: 'mp3', declared: 'audio/wav' });
  });

  it.each([
    ['a zero-byte body', new Uint8Array(0), 'image/png', 'image', /The request body is empty; expected an image/],
    ['a text file sent as image/png', bytes('hello, this is text'), 'image/png', 'image', /A body sent as image\/png is not a recognisable image \(it starts with bytes 68 65 6c 6c/],
    ['audio sent to an image task', file('sample1.wav'), 'image/png', 'image', /holds wav audio, but this task takes an image/],
    ['an unsupported Content-Type', file('tiger.png'), 'image/svg+xml', 'image', /Unsupported Content-Type "image\/svg\+xml" for image input\. Supported: image\/png, image\/jpeg/],
    ['a video type to an image task', file('tiger.png'), 'video/webm', 'image', /^Unsupported Content-Type "video\/webm" for image input: this task takes an image, not a video \(send one frame as an image\)\. Supported: image\/png/],
    ['a video type no audio task takes', file('sample1.wav'), 'video/quicktime', 'audio', /Unsupported Content-Type "video\/quicktime" for audio input\. Supported: audio\/x-flac.*, video\/webm, video\/mp4, video\/ogg, or JSON/],
  ] as const)('refuses %s with a 400 naming it', (_, body, type, kind, message) => {
    rejects(() => readMediaBody(body, type, kind), message);
  });

  it('decodes base64 in JSON, plain or as a data URL, and refuses what is not base64', () => {
    const png = file('tiger.png');
    const b64 = Buffer.from(png).toString('base64');
    const plain = decodeBase64Media(b64, 'image');
    expect(plain.format).toBe('png');
    expect(Buffer.from(plain.bytes).equals(Buffer.from(png))).toBe(true);
    expect(decodeBase64Media(`data:image/png;base64,${b64}`, 'image')).toMatchObject({ format: 'png', declared: 'image/png' });
    const wav = Buffer.from(file('sample1.wav')).toString('base64');
    expect(decodeBase64Media(wav, 'audio').format).toBe('wav');
    rejects(() => decodeBase64Media('not base64 at all!', 'audio'), /inputs is not valid base64 audio data/);
    rejects(() => decodeBase64Media(42, 'image'), /inputs must be an image as a base64 string, got a number/);
    rejects(() => decodeBase64Media(Buffer.from('plain words').toString('base64'), 'image'), /not a recognisable image/);
  });
});

describe('video bodies for audio tasks', () => {
  /** Video file, its Content-Type, the container read from the bytes, the audio-only file with the same audio track. */
  const VIDEOS = [
    ['sample1.video.webm', 'video/webm', 'webm', 'sample1.webm'],
    ['sample1.video.mp4', 'video/mp4', 'mp4', 'sample1.m4a'],
    ['sample1.video.ogv', 'video/ogg', 'ogg-vorbis', 'sample1.vorbis.ogg'],
  ] as const;

  it.each(VIDEOS)('takes %s sent as %s, read as %s', (name, type, format) => {
    expect(readMediaBody(made(name), type, 'audio')).toMatchObject({ kind: 'audio', format, declared: type });
    // With codecs, as a Blob from MediaRecorder is typed, and in a data URL.
    expect(readMediaBody(made(name), `${type};codecs="vp8, opus"`, 'audio')).toMatchObject({ format, declared: type });
    const b64 = Buffer.from(made(name)).toString('base64');
    expect(decodeBase64Media(`data:${type};base64,${b64}`, 'audio')).toMatchObject({ format, declared: type });
    // The bytes decide, as for audio types: an audio-only webm sent as video/webm is fine.
    expect(readMediaBody(made('sample1.webm'), 'video/webm', 'audio').format).toBe('webm');
  });

  it.each(VIDEOS)('reads %s (%s, %s) as the raw body of an audio task; its audio track decodes to the samples of %s', async (name, type, _, audioOnly) => {
    const request = new Request('https://endpoint.example/', { method: 'POST', headers: { 'content-type': type }, body: made(name) });
    const payload = await readMediaPayload(request, new URL(request.url), 'audio');
    expect(payload.inputs).toMatchObject({ kind: 'audio', declared: type });
    // The video track comes first in these files: the decoder picks the audio track.
    const samples = await decodeAudio(made(name), 16000);
    const reference = await decodeAudio(made(audioOnly), 16000);
    expect(samples.length).toBe(reference.length);
    expect(samples).toEqual(reference);
  });

  it('refuses a video sent to an image task, by its Content-Type or, with none, by its bytes', async () => {
    const request = new Request('https://endpoint.example/', { method: 'POST', headers: { 'content-type': 'video/mp4' }, body: made('sample1.video.mp4') });
    await expect(readMediaPayload(request, new URL(request.url), 'image')).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Unsupported Content-Type "video\/mp4" for image input: this task takes an image, not a video/),
    });
    rejects(() => readMediaBody(made('sample1.video.webm'), null, 'image'), /The body holds webm audio, but this task takes an image/);
  });
});
