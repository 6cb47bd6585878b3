/** Image and audio bodies: Content-Types, formats read from the bytes, base64 in JSON. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectBadRequest as rejects } from '../helpers.js';
import { decodeBase64Media, readMediaBody, sniffFormat } from '../../src/wire/media.js';
import { SHARED_MEDIA } from '../../fixtures/media-location.js';

const MEDIA = SHARED_MEDIA;
const file = (name: string) => new Uint8Array(readFileSync(`${MEDIA}/${name}`));
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
    ['a video type to an audio task', file('sample1.wav'), 'video/mp4', 'audio', /Supported: audio\/x-flac/],
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
