/**
 * Audio tasks in the worker: automatic-speech-recognition (Wav2Vec2 CTC and Whisper) and
 * audio-classification, on the shared recording in every accepted format (and as the audio track
 * of webm, mp4 and ogg videos), decoded in the worker, raw and base64, through the official client,
 * against the Node-served Endpoints.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { decodeAudio } from '../../../worker/media/decode.js';
import { toBase64 } from '../../media/masks.js';

const remote = inject('remote');
const URLS = {
  ctc: 'https://ctc.example.endpoints.huggingface.cloud',
  whisper: 'https://whisper.example.endpoints.huggingface.cloud',
  classify: 'https://audio.example.endpoints.huggingface.cloud',
};
const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [URLS.ctc]: { task: 'automatic-speech-recognition', model: 'local-endpoint/tiny-wav2vec2-ctc', device: 'wasm' },
    [URLS.whisper]: { task: 'automatic-speech-recognition', model: 'local-endpoint/tiny-whisper', device: 'wasm' },
    [URLS.classify]: { task: 'audio-classification', model: 'local-endpoint/tiny-wav2vec2-classifier', device: 'wasm' },
  },
});

/** File → the Content-Type sent with it. The ogg, webm and m4a files are made by ffmpeg in the global setup. */
const FORMATS: Record<string, string> = {
  'sample1.wav': 'audio/wav',
  'sample1.flac': 'audio/flac',
  'sample1.mp3': 'audio/mpeg',
  'sample1.opus.ogg': 'audio/ogg',
  'sample1.vorbis.ogg': 'audio/ogg',
  'sample1.webm': 'audio/webm;codecs=opus',
  'sample1.m4a': 'audio/m4a',
};
/** Videos with the same audio tracks (the video track first), made by ffmpeg in the global setup: file → [Content-Type, the audio-only file]. */
const VIDEOS: Record<string, [string, string]> = {
  'sample1.video.webm': ['video/webm', 'sample1.webm'],
  'sample1.video.mp4': ['video/mp4', 'sample1.m4a'],
  'sample1.video.ogv': ['video/ogg', 'sample1.vorbis.ogg'],
};
const VIDEO_ROWS = Object.entries(VIDEOS).map(([name, [type, audioOnly]]) => [name, type, audioOnly] as const);
const files: Record<string, Uint8Array> = {};
beforeAll(async () => {
  for (const name of [...Object.keys(FORMATS), ...Object.keys(VIDEOS), 'video-only.webm', 'long.wav']) {
    files[name] = new Uint8Array(await (await fetch(`/models/test-media/${name}`)).arrayBuffer());
  }
});
const body = (name: string) => files[name]!.slice() as Uint8Array<ArrayBuffer>;
async function post(url: string, data: BodyInit, type?: string, path = '') {
  const r = await localFetch(url + path, { method: 'POST', body: data, ...(type ? { headers: { 'content-type': type } } : {}) });
  return { status: r.status, body: await r.json() };
}
const SECONDS = 219040 / 16000;

describe('audio decoding in the browser', () => {
  it.each(Object.keys(FORMATS))('%s decodes to 16 kHz within a small error of the wav', async (name) => {
    const reference = await decodeAudio(body('sample1.wav'), 16000);
    const samples = await decodeAudio(body(name), 16000);
    expect(samples.length).toBe(reference.length);
    let diff = 0;
    let power = 0;
    for (let i = 0; i < reference.length; i++) {
      diff += (samples[i]! - reference[i]!) ** 2;
      power += reference[i]! ** 2;
    }
    const relative = Math.sqrt(diff / power);
    // Lossless formats are exact; lossy codecs at these bitrates differ by at most about a quarter.
    expect(relative).toBeLessThan(name.endsWith('.flac') || name.endsWith('.wav') ? 1e-4 : 0.3);
  });

  it.each(VIDEO_ROWS)('%s (%s, the video track first) decodes its audio track to the samples of %s', async (name, _, audioOnly) => {
    const samples = await decodeAudio(body(name), 16000);
    expect(samples).toEqual(await decodeAudio(body(audioOnly), 16000));
  });
});

describe('automatic-speech-recognition', () => {
  it.each(Object.entries(FORMATS))('transcribes a raw %s body (%s)', async (name, type) => {
    const r = await post(URLS.ctc, body(name), type);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['text']);
    expect(r.body.text.length).toBeGreaterThan(10);
    if (name.endsWith('.flac')) expect(r.body).toEqual((await post(URLS.ctc, body('sample1.wav'), 'audio/wav')).body);
  });

  it('reads the format from the bytes (an mp3 sent as audio/wav, a Blob with no type), takes base64, and matches the Node-served Endpoint', async () => {
    const typed = await post(URLS.ctc, body('sample1.mp3'), 'audio/mpeg');
    expect(await post(URLS.ctc, body('sample1.mp3'), 'audio/wav')).toEqual(typed);
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: URLS.ctc });
    expect(await hf.automaticSpeechRecognition({ data: new Blob([files['sample1.mp3']! as Uint8Array<ArrayBuffer>]) })).toEqual(typed.body);
    expect(await post(URLS.ctc, JSON.stringify({ inputs: toBase64(files['sample1.mp3']!) }), 'application/json')).toEqual(typed);
    // Same decoders and resampler in Node: the same samples, the same text.
    const fromRemote = await (await fetch(remote.speechRecognition, { method: 'POST', headers: { 'content-type': 'audio/flac' }, body: body('sample1.flac') })).json();
    expect(fromRemote).toEqual((await post(URLS.ctc, body('sample1.flac'), 'audio/flac')).body);
  });

  it('transcribes a video/webm recording (with a video track) sent by the official client as a Blob of its own type, as the audio-only webm, and as the Node-served Endpoint does', async () => {
    const seen: (string | null)[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(new Request(input, init).headers.get('content-type'));
      return localFetch(input, init);
    };
    const hf = new InferenceClient('', { fetch: recording, endpointUrl: URLS.ctc });
    const video = await hf.automaticSpeechRecognition({ data: new Blob([body('sample1.video.webm')], { type: 'video/webm' }) });
    expect(seen).toEqual(['video/webm']); // the client sent the Blob's type
    const audio = await post(URLS.ctc, body('sample1.webm'), 'audio/webm');
    expect(audio.status).toBe(200);
    expect(video).toEqual(audio.body);
    expect(video.text.length).toBeGreaterThan(10);
    const fromRemote = await fetch(remote.speechRecognition, { method: 'POST', headers: { 'content-type': 'video/webm' }, body: body('sample1.video.webm') });
    expect(fromRemote.status).toBe(200);
    expect(await fromRemote.json()).toEqual(audio.body);
  });

  it.each(VIDEO_ROWS)('transcribes a raw %s body (%s) as %s, with CTC and Whisper', async (name, type, audioOnly) => {
    const audio = await post(URLS.ctc, body(audioOnly));
    expect(await post(URLS.ctc, body(name), type)).toEqual(audio);
    expect(await post(URLS.ctc, body(name), `${type};codecs="vp8, opus"`)).toEqual(audio);
    const whisper = (data: Uint8Array<ArrayBuffer>, t?: string) => post(URLS.whisper, data, t, '?max_new_tokens=20');
    const heard = await whisper(body(audioOnly));
    expect(heard.status).toBe(200);
    expect(await whisper(body(name), type)).toEqual(heard);
  });

  it('refuses a video with no audio track, and a video/* type it does not read, with a 400 saying so', async () => {
    expect(await post(URLS.ctc, body('video-only.webm'), 'video/webm')).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/^The audio could not be decoded .*No audio track found in WebM/) },
    });
    expect(await post(URLS.ctc, body('sample1.video.webm'), 'video/quicktime')).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/^Unsupported Content-Type "video\/quicktime" for audio input\. Supported: .*video\/webm, video\/mp4, video\/ogg/) },
    });
    expect((await post(URLS.ctc, body('sample1.video.webm'), 'video/webm')).status).toBe(200);
  });

  it('gives word and character timestamps that increase and stay within the audio (CTC)', async () => {
    const chars = await post(URLS.ctc, JSON.stringify({ inputs: toBase64(files['sample1.wav']!), parameters: { return_timestamps: 'char' } }), 'application/json');
    expect(chars.body.chunks.every((c: { text: string }) => c.text.length === 1)).toBe(true);
    const r = await post(URLS.ctc, JSON.stringify({ inputs: toBase64(files['sample1.wav']!), parameters: { return_timestamps: 'word' } }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.body.chunks.length).toBeGreaterThan(3);
    let last = 0;
    for (const { text, timestamp: [start, end] } of r.body.chunks) {
      expect(typeof text).toBe('string');
      expect(start).toBeGreaterThanOrEqual(last);
      expect(end).toBeGreaterThanOrEqual(start);
      expect(end).toBeLessThanOrEqual(SECONDS + 0.05);
      last = start;
    }
    // The words are words of the text; the text is what the plain request gives.
    const words = new Set(r.body.text.split(/\s+/));
    const found = r.body.chunks.filter((c: { text: string }) => words.has(c.text)).length;
    expect(found / r.body.chunks.length).toBeGreaterThan(0.9);
    expect(r.body.text).toBe((await post(URLS.ctc, body('sample1.wav'), 'audio/wav')).body.text);
  });

  it('Whisper takes language and task, and timestamps', async () => {
    const b64 = toBase64(files['sample1.wav']!);
    const run = (parameters: Record<string, unknown>) => post(URLS.whisper, JSON.stringify({ inputs: b64, parameters: { max_new_tokens: 30, ...parameters } }), 'application/json');
    const en = await run({ language: 'en' });
    expect(en.status).toBe(200);
    expect(en.body.text.trim().length).toBeGreaterThan(0);
    const translated = await run({ language: 'en', task: 'translate' });
    expect(translated.body.text).not.toBe(en.body.text);
    const stamped = await run({ return_timestamps: true });
    expect(stamped.body.chunks.length).toBeGreaterThan(0);
    for (const { timestamp: [start, end] } of stamped.body.chunks) {
      expect(end).toBeGreaterThanOrEqual(start);
      expect(end).toBeLessThanOrEqual(SECONDS + 0.05);
    }
    expect((await run({ task: 'dance' })).status).toBe(400);
  });

  it('reads a recording over 30 s in chunks (chunk_length_s, stride_length_s), timestamps increasing within its length', async () => {
    const long = toBase64(files['long.wav']!);
    const seconds = 3 * SECONDS;
    const r = await post(URLS.whisper, JSON.stringify({ inputs: long, parameters: { chunk_length_s: 20, stride_length_s: 4, return_timestamps: true, max_new_tokens: 40 } }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.body.chunks.length).toBeGreaterThan(0);
    let last = -1;
    for (const { timestamp: [start, end] } of r.body.chunks) {
      expect(start).toBeGreaterThanOrEqual(last);
      expect(end).toBeLessThanOrEqual(seconds + 0.05);
      last = start;
    }
    // The chunks reach past the first 20 s window, and read more than one window alone does.
    expect(Math.max(...r.body.chunks.map((c: { timestamp: number[] }) => c.timestamp[1]!))).toBeGreaterThan(20);
    const unchunked = await post(URLS.whisper, JSON.stringify({ inputs: long, parameters: { max_new_tokens: 40 } }), 'application/json');
    expect(r.body.text.length).toBeGreaterThan(unchunked.body.text.length);
    const bad = await post(URLS.whisper, JSON.stringify({ inputs: long, parameters: { chunk_length_s: 10, stride_length_s: 6 } }), 'application/json');
    expect(bad).toEqual({ status: 400, body: { error: 'parameters.stride_length_s must be less than half of chunk_length_s.' } });
  });

  it('stops a long Whisper transcription within a step when the caller aborts, freeing the worker for the next request', async () => {
    const payload = JSON.stringify({ inputs: toBase64(files['long.wav']!), parameters: { chunk_length_s: 8, stride_length_s: 2 } });
    const request = (signal?: AbortSignal) => localFetch(URLS.whisper, { method: 'POST', body: payload, headers: { 'content-type': 'application/json' }, signal });
    expect((await post(URLS.whisper, body('sample1.wav'), 'audio/wav')).status).toBe(200); // loaded
    let t0 = performance.now();
    expect((await request()).status).toBe(200);
    const full = performance.now() - t0; // 10 chunks of 8 s
    // Again, aborted at a tenth of the way; a short request queued behind it must not wait for the rest.
    const controller = new AbortController();
    const aborted = request(controller.signal).catch((e: Error) => e);
    await new Promise((resolve) => setTimeout(resolve, full / 10));
    controller.abort();
    t0 = performance.now();
    const next = await post(URLS.ctc, body('sample1.wav'), 'audio/wav');
    const waited = performance.now() - t0;
    expect((await aborted as Error).name).toBe('AbortError');
    expect(next.status).toBe(200);
    expect(waited, `the next request waited ${waited.toFixed(0)} ms; the whole transcription takes ${full.toFixed(0)} ms`).toBeLessThan(full / 3);
  });

  it.each([
    ['a zero-byte body', () => new Uint8Array(0), 'audio/wav', /The request body is empty; expected audio/],
    ['a text file sent as audio/wav', () => new TextEncoder().encode('no sound here at all'), 'audio/wav', /not a recognisable audio file/],
    ['a truncated flac', () => files['sample1.flac']!.slice(0, 100), 'audio/flac', /could not be decoded/],
    ['an image sent as audio', () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]), 'audio/wav', /holds png image, but this task takes audio/],
  ] as const)('%s gets a 400 naming it, and the next request works', async (_, make, type, message) => {
    expect(await post(URLS.ctc, make() as Uint8Array<ArrayBuffer>, type)).toEqual({ status: 400, body: { error: expect.stringMatching(message) } });
    expect((await post(URLS.ctc, body('sample1.wav'), 'audio/wav')).status).toBe(200);
  });

  it('a 50 MB body gets a 413 naming the limit (as serve answers it), and the next request works', async () => {
    const big = new Uint8Array(50 * 1024 * 1024 + 1);
    big.set(files['sample1.wav']!);
    expect(await post(URLS.ctc, big as Uint8Array<ArrayBuffer>, 'audio/wav')).toEqual({ status: 413, body: { error: expect.stringMatching(/over the limit of 52428800 bytes/) } });
    expect((await post(URLS.ctc, body('sample1.wav'), 'audio/wav')).status).toBe(200);
  });
});

describe('audio-classification', () => {
  it('answers [{label, score}] best first, raw and through audioClassification, like the Node-served Endpoint', async () => {
    const r = await post(URLS.classify, body('sample1.flac'), 'audio/flac');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(4); // all 4 labels (top_k 5 by default)
    const scores = r.body.map((e: { score: number }) => e.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(scores.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: URLS.classify });
    expect(await hf.audioClassification({ data: new Blob([files['sample1.flac']! as Uint8Array<ArrayBuffer>]) })).toEqual(r.body);
    const two = await post(URLS.classify, JSON.stringify({ inputs: toBase64(files['sample1.flac']!), parameters: { top_k: 2 } }), 'application/json');
    expect(two.body).toEqual(r.body.slice(0, 2));
    const fromRemote = await (await fetch(remote.audioClassification, { method: 'POST', headers: { 'content-type': 'audio/flac' }, body: body('sample1.flac') })).json();
    expect(fromRemote.map((e: { label: string }) => e.label)).toEqual(r.body.map((e: { label: string }) => e.label));
    fromRemote.forEach((e: { score: number }, i: number) => expect(Math.abs(e.score - r.body[i].score)).toBeLessThan(1e-4));
  });

  it('applies function_to_apply to the same logits: none gives them raw, sigmoid and softmax derive from them', async () => {
    const ask = async (fn: string) => {
      const r = await post(URLS.classify, JSON.stringify({ inputs: toBase64(files['sample1.wav']!), parameters: { function_to_apply: fn, top_k: null } }), 'application/json');
      expect(r.status).toBe(200);
      return new Map<string, number>(r.body.map((e: { label: string; score: number }) => [e.label, e.score]));
    };
    const [logits, sigmoid, softmax] = [await ask('none'), await ask('sigmoid'), await ask('softmax')];
    expect(logits.size).toBe(4);
    const total = [...logits.values()].reduce((sum, v) => sum + Math.exp(v), 0);
    for (const [label, logit] of logits) {
      expect(sigmoid.get(label)).toBeCloseTo(1 / (1 + Math.exp(-logit)), 6);
      expect(softmax.get(label)).toBeCloseTo(Math.exp(logit) / total, 6);
    }
    // Raw logits of a random model are not probabilities: some fall outside [0, 1].
    expect([...logits.values()].some((v) => v < 0 || v > 1)).toBe(true);
    const bad = await post(URLS.classify, JSON.stringify({ inputs: toBase64(files['sample1.wav']!), parameters: { function_to_apply: 'relu' } }), 'application/json');
    expect(bad).toEqual({ status: 400, body: { error: expect.stringMatching(/function_to_apply/) } });
  });
});
