/**
 * Odd audio that used to be a 500 (issue 12, defect 3), now a 400 naming the problem:
 * - a WAV that declares a sample rate of 0 (was "Invalid typed array length: Infinity", from the
 *   resampler);
 * - audio shorter than a Wav2Vec2-style model's convolutional feature encoder reads for one frame
 *   (400 samples, 25 ms at 16 kHz; was a 500 from the ONNX Conv node). Python transformers does not
 *   pad such input either (its feature extractor pads only to the batch's longest; PyTorch's Conv1d
 *   then fails), so the reference is an error, not an answer.
 */
import { describe, expect, it } from 'vitest';
import { decodeAudio } from '../../../worker/media/decode.js';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { EndpointError } from '../../../src/protocol/errors.js';
import { minimumSamples } from '../../../src/tasks/audio/audio-core.js';
import { encodeWav } from '../../media/encoders.js';

const CLASSIFIER = 'local-endpoint/tiny-wav2vec2-classifier';
const CTC = 'local-endpoint/tiny-wav2vec2-ctc';

/** A 16-bit PCM mono WAV of `count` samples (a 440 Hz tone) declared at `rate`. */
function wav(count: number, rate: number): Uint8Array {
  return encodeWav(count, rate, (i) => (8000 / 32767) * Math.sin((2 * Math.PI * 440 * i) / 16000));
}

const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
const ask = (task: string, model: string, bytes: Uint8Array, parameters: Record<string, unknown> = {}) =>
  engine.infer({ task, model, inputs: Buffer.from(bytes).toString('base64'), parameters });

describe('a WAV that declares a sample rate of 0', () => {
  it('decodeAudio refuses it with a 400 naming the rate', async () => {
    const err = await decodeAudio(wav(16000, 0), 16000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointError);
    expect((err as EndpointError).status).toBe(400);
    expect((err as EndpointError).message).toBe(
      'The audio could not be decoded: the WAV file declares a sample rate of 0; it must be a positive number of samples a second.',
    );
  });

  it('audio-classification and automatic-speech-recognition answer 400, and the next request is served', async () => {
    expect(await ask('audio-classification', CLASSIFIER, wav(16000, 0))).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/declares a sample rate of 0/) });
    expect(await ask('automatic-speech-recognition', CTC, wav(16000, 0))).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/declares a sample rate of 0/) });
    expect(await ask('audio-classification', CLASSIFIER, wav(16000, 16000))).toMatchObject({ ok: true });
  });
});

describe('audio shorter than the model reads', () => {
  it('minimumSamples is the receptive field of the conv_kernel / conv_stride layers (400 for Wav2Vec2), 0 without them', () => {
    expect(minimumSamples({ conv_kernel: [10, 3, 3, 3, 3, 2, 2], conv_stride: [5, 2, 2, 2, 2, 2, 2] })).toBe(400);
    expect(minimumSamples({ conv_kernel: [10, 3], conv_stride: [5, 2] })).toBe(20);
    expect(minimumSamples({})).toBe(0); // Whisper: its feature extractor pads to 30 s
    expect(minimumSamples(undefined)).toBe(0);
  });

  it.each([
    ['audio-classification', CLASSIFIER, {}],
    ['automatic-speech-recognition', CTC, {}],
    ['automatic-speech-recognition', CTC, { return_timestamps: 'word' }],
  ])('%s (%s %j): 200 samples is a 400 naming both lengths; 399 too; 400 samples is answered', async (task, model, parameters) => {
    expect(await ask(task, model, wav(200, 16000), parameters)).toMatchObject({
      ok: false,
      status: 400,
      error: 'The audio is 12.5 ms long (200 samples at 16000 Hz); this model needs at least 25 ms (400 samples), the span its convolutional feature encoder reads for one frame.',
    });
    expect(await ask(task, model, wav(399, 16000), parameters)).toMatchObject({ ok: false, status: 400 });
    expect(await ask(task, model, wav(400, 16000), parameters)).toMatchObject({ ok: true });
  });

  it('the length is counted at the model\'s rate: 150 samples at 8 kHz (18.75 ms) are too short, 250 (31 ms) are not', async () => {
    expect(await ask('audio-classification', CLASSIFIER, wav(150, 8000))).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/^The audio is 18\.8 ms long \(300 samples at 16000 Hz\)/) });
    expect(await ask('audio-classification', CLASSIFIER, wav(250, 8000))).toMatchObject({ ok: true });
  });
});
