/**
 * Audio with no limits (issue 12, defect 4), now bounded:
 * (a) a declared sample rate outside 1,000…384,000 Hz is a 400 naming it, before anything is
 *     resampled (a 40 KB WAV declared at 100 Hz used to become 200 s of 16 kHz audio);
 * (b) audio longer than `EngineOptions.maxAudioSeconds` (default 600 s) is a 413 naming the
 *     duration, the limit and how to raise it, counted before resampling;
 * (c) automatic-speech-recognition reads long audio in chunks, as transformers' pipeline does with
 *     `chunk_length_s` and a stride, for CTC (which transformers.js reads in one call, ignoring
 *     `chunk_length_s`) and for Whisper; past the model's window (30 s) it chunks by default.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Wav2Vec2FeatureExtractor, WhisperFeatureExtractor } from '@huggingface/transformers';
import { decodeAudio, DEFAULT_MAX_AUDIO_SECONDS } from '../../../worker/media/decode.js';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { EndpointError } from '../../../src/protocol/errors.js';
import { chunkAudio } from '../../../src/tasks/audio/audio-core.js';
import { ctcChunks } from '../../../src/tasks/audio/automatic-speech-recognition.js';
import { encodeWav } from '../../media/encoders.js';

const CLASSIFIER = 'local-endpoint/tiny-wav2vec2-classifier';
const CTC = 'local-endpoint/tiny-wav2vec2-ctc';
const WHISPER = 'local-endpoint/tiny-whisper';

/**
 * A 16-bit PCM mono WAV of `count` samples declared at `rate`: a tone that changes pitch every
 * 0.3 s (so a CTC model's frames differ along the clip), as audio-input.node.test.ts builds them.
 */
function wav(count: number, rate: number): Uint8Array {
  return encodeWav(count, rate, (i) => (8000 / 32767) * Math.sin((2 * Math.PI * (200 + 150 * (Math.floor(i / 4800) % 7)) * i) / 16000));
}

const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
const limited = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models', maxAudioSeconds: 5 });
const ask = (task: string, model: string, bytes: Uint8Array, parameters: Record<string, unknown> = {}, on = engine) =>
  on.infer({ task, model, inputs: Buffer.from(bytes).toString('base64'), parameters });

const failure = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EndpointError);
  return err as EndpointError;
};

/** The peak growth of the process's RSS (MB) while `run` runs, sampled every 5 ms (ORT runs off the main thread). */
async function peakRss(run: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage().rss;
  let top = before;
  const timer = setInterval(() => (top = Math.max(top, process.memoryUsage().rss)), 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return (Math.max(top, process.memoryUsage().rss) - before) / 2 ** 20;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('(a) declared sample rates outside 1,000…384,000 Hz', () => {
  it('decodeAudio refuses 100 Hz and 999 Hz, and 384,001 Hz, with a 400 naming the rate and the bounds', async () => {
    for (const rate of [100, 999, 384_001, 1_000_000]) {
      const err = await failure(decodeAudio(wav(2000, rate), 16000));
      expect(err.status).toBe(400);
      expect(err.message).toBe(
        `The audio could not be decoded: the WAV file declares a sample rate of ${rate} Hz; local-endpoint reads rates from 1000 Hz to 384000 Hz.`,
      );
    }
  });

  it('the bounds themselves are read: 1,000 Hz and 384,000 Hz resample to the model\'s rate', async () => {
    expect((await decodeAudio(wav(1000, 1000), 16000)).length).toBe(16000);
    expect((await decodeAudio(wav(3840, 384_000), 16000)).length).toBe(160);
  });

  it('a 40 KB WAV declared at 100 Hz (200 s once resampled) is a 400 from the engine, not a run', async () => {
    const bytes = wav(20_000, 100);
    expect(bytes.length).toBe(40_044);
    for (const [task, model] of [['automatic-speech-recognition', CTC], ['audio-classification', CLASSIFIER]] as const) {
      expect(await ask(task, model, bytes)).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/declares a sample rate of 100 Hz/) });
    }
  });
});

describe('(b) EngineOptions.maxAudioSeconds', () => {
  it('decodeAudio answers 413 past the limit, naming the duration, the limit and the option', async () => {
    const err = await failure(decodeAudio(wav(16000 * 11, 16000), 16000, 10));
    expect(err.status).toBe(413);
    expect(err.message).toBe(
      'The audio is 11 s long (176000 samples at 16000 Hz), over the limit of 10 s; send a shorter clip, or raise the engine option maxAudioSeconds.',
    );
    expect((await decodeAudio(wav(16000 * 10, 16000), 16000, 10)).length).toBe(160000); // at the limit: read
  });

  it('the duration is counted at the declared rate, before resampling: 601 s at 1 kHz (1.2 MB) is over the default 600 s', async () => {
    expect(DEFAULT_MAX_AUDIO_SECONDS).toBe(600);
    const err = await failure(decodeAudio(wav(601_000, 1000), 16000));
    expect(err.status).toBe(413);
    expect(err.message).toMatch(/^The audio is 601 s long \(601000 samples at 1000 Hz\), over the limit of 600 s;/);
    expect((await decodeAudio(wav(1000, 1000), 16000, Infinity)).length).toBe(16000); // Infinity: no limit
  });

  it.each([
    ['automatic-speech-recognition', CTC],
    ['automatic-speech-recognition', WHISPER],
    ['audio-classification', CLASSIFIER],
  ])('%s (%s) on an engine with maxAudioSeconds 5: 6 s is a JSON-able 413, 5 s is answered', async (task, model) => {
    const result = await ask(task, model, wav(16000 * 6, 16000), { ...(model === WHISPER ? { max_new_tokens: 3 } : {}) }, limited);
    expect(result).toEqual({
      ok: false,
      status: 413,
      error: 'The audio is 6 s long (96000 samples at 16000 Hz), over the limit of 5 s; send a shorter clip, or raise the engine option maxAudioSeconds.',
    });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(await ask(task, model, wav(16000 * 5, 16000), { ...(model === WHISPER ? { max_new_tokens: 3 } : {}) }, limited)).toMatchObject({ ok: true });
  });
});

describe('(c) chunking long audio', () => {
  // transformers' tests/pipelines/test_pipelines_automatic_speech_recognition.py, test_chunk_iterator
  // and test_chunk_iterator_stride: 100 samples, (chunk, left, right) → the strides yielded.
  it.each([
    [100, 0, 0, [[100, 0, 0]]],
    [50, 0, 0, [[50, 0, 0], [50, 0, 0]]],
    [80, 0, 0, [[80, 0, 0], [20, 0, 0]]],
    [105, 5, 5, [[100, 0, 0]]],
    [100, 20, 10, [[100, 0, 10], [30, 20, 0]]],
    [80, 20, 10, [[80, 0, 10], [50, 20, 0]]],
    [90, 20, 0, [[90, 0, 0], [30, 20, 0]]],
    [36, 6, 6, [[36, 0, 6], [36, 6, 6], [36, 6, 6], [28, 6, 0]]],
  ])('chunkAudio(100, %i, %i, %i) yields strides %j, as transformers\' chunk_iter', (chunk, left, right, strides) => {
    const chunks = chunkAudio(100, chunk, left, right);
    expect(chunks.map((c) => c.stride)).toEqual(strides);
    expect(chunks.map((c) => c.end - c.start)).toEqual(strides.map(([n]) => n));
    expect(chunks.map((c) => c.isLast)).toEqual(strides.map((_, i) => i === strides.length - 1));
  });

  it('ctcChunks: one call without chunk_length_s; 30 s chunks and a 5 s stride (chunk / 6), in whole frames of 320 samples', () => {
    expect(ctcChunks(16000 * 300, 16000, 320)).toEqual([{ start: 0, end: 4_800_000, stride: [4_800_000, 0, 0], isLast: true }]);
    const chunks = ctcChunks(16000 * 300, 16000, 320, 30);
    expect(chunks).toHaveLength(15); // steps of 20 s: 0, 20, … 280 s
    expect(chunks[0]).toEqual({ start: 0, end: 480_000, stride: [480_000, 0, 80_000], isLast: false });
    expect(chunks[1]).toEqual({ start: 320_000, end: 800_000, stride: [480_000, 80_000, 80_000], isLast: false });
    expect(chunks.at(-1)).toEqual({ start: 4_480_000, end: 4_800_000, stride: [320_000, 80_000, 0], isLast: true });
    expect(chunks.every((c) => c.start % 320 === 0 && c.end - c.start <= 480_000)).toBe(true);
  });

  it('CTC: chunked output equals unchunked on audio shorter than the chunk (transformers: chunking is a no-op there)', async () => {
    const bytes = wav(16000 * 4, 16000);
    for (const stamps of [undefined, 'word', 'char'] as const) {
      const extra = stamps ? { return_timestamps: stamps } : {};
      const plain = await ask('automatic-speech-recognition', CTC, bytes, extra);
      const chunked = await ask('automatic-speech-recognition', CTC, bytes, { ...extra, chunk_length_s: 10, stride_length_s: 2 });
      expect(plain).toMatchObject({ ok: true });
      expect((chunked as { output: unknown }).output).toEqual((plain as { output: unknown }).output);
    }
  });

  it('CTC: a 5-minute clip with no chunk_length_s is read in 30 s chunks (15 calls, none over 480,000 samples) in under 400 MB more RSS', async () => {
    const lengths: number[] = [];
    const original = Wav2Vec2FeatureExtractor.prototype._call;
    vi.spyOn(Wav2Vec2FeatureExtractor.prototype, '_call').mockImplementation(function (this: Wav2Vec2FeatureExtractor, audio: Float32Array | Float64Array) {
      lengths.push(audio.length);
      return original.call(this, audio);
    });
    const bytes = wav(16000 * 300, 16000);
    await ask('automatic-speech-recognition', CTC, wav(16000 * 30, 16000)); // load the model and warm ORT's arena with one full chunk
    lengths.length = 0;
    let result: unknown;
    const grew = await peakRss(async () => (result = await ask('automatic-speech-recognition', CTC, bytes)));
    expect(result).toMatchObject({ ok: true, output: { text: expect.any(String) } });
    console.info(`CTC peak RSS growth, 300 s chunked: ${grew.toFixed(0)} MB`);
    expect(grew).toBeLessThan(400); // one call took 3.7 GB (issue 12)
    expect(lengths).toHaveLength(15);
    expect(Math.max(...lengths)).toBe(480_000);
  }, 60_000);

  it('CTC: chunked, 2 minutes of audio add under 150 MB of RSS at the peak; read in one call (chunk_length_s past its length) over 300 MB', async () => {
    const bytes = wav(16000 * 120, 16000);
    await ask('automatic-speech-recognition', CTC, wav(16000 * 30, 16000)); // load the model and warm ORT's arena with one full chunk
    let answer: unknown;
    const chunked = await peakRss(async () => (answer = await ask('automatic-speech-recognition', CTC, bytes)));
    expect(answer).toMatchObject({ ok: true });
    // One chunk: what every long input did before (5 minutes took 3.7 GB; 2 minutes stay testable).
    const whole = await peakRss(async () => (answer = await ask('automatic-speech-recognition', CTC, bytes, { chunk_length_s: 600 })));
    expect(answer).toMatchObject({ ok: true });
    console.info(`CTC peak RSS growth, 120 s: chunked ${chunked.toFixed(0)} MB, one call ${whole.toFixed(0)} MB`);
    expect(chunked).toBeLessThan(150);
    expect(whole).toBeGreaterThan(300);
  }, 60_000);

  it('Whisper: 40 s with no chunk_length_s is read in two 30 s windows (it was cut to the first 30 s)', async () => {
    const lengths: number[] = [];
    const original = WhisperFeatureExtractor.prototype._call;
    vi.spyOn(WhisperFeatureExtractor.prototype, '_call').mockImplementation(function (this: WhisperFeatureExtractor, audio: Float32Array | Float64Array, options?: unknown) {
      lengths.push(audio.length);
      return original.call(this, audio, options as never);
    });
    const result = await ask('automatic-speech-recognition', WHISPER, wav(16000 * 40, 16000), { max_new_tokens: 3 });
    expect(result).toMatchObject({ ok: true, output: { text: expect.any(String) } });
    expect(lengths).toEqual([480_000, 320_000]); // 0–30 s and 20–40 s: a 5 s stride (chunk / 6)
  }, 60_000);
});
