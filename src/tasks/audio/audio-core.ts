/** What the audio runners share. Engine side. */
import { badRequest } from '../../protocol/errors.js';
import type { PipelineFn } from '../types.js';

interface AudioPipeline {
  processor?: { feature_extractor?: { config?: { sampling_rate?: number } } };
  model?: { config?: { conv_kernel?: unknown; conv_stride?: unknown } };
}

/** The sampling rate the model's feature extractor expects. */
export function samplingRate(pipe: PipelineFn): number {
  return (pipe as unknown as AudioPipeline).processor?.feature_extractor?.config?.sampling_rate ?? 16000;
}

/**
 * The fewest samples the model reads: the receptive field of a convolutional feature encoder
 * (Wav2Vec2, HuBERT, WavLM, Data2VecAudio, UniSpeech, SEW…), from `conv_kernel` and `conv_stride`
 * in its config.json: 1 + Σ (kernelᵢ − 1) × Π_{j<i} strideⱼ. Wav2Vec2's default layers (kernels
 * 10, 3, 3, 3, 3, 2, 2; strides 5, 2, 2, 2, 2, 2, 2) give 400 samples, 25 ms at 16 kHz. 0 for a
 * model without those layers (Whisper pads every input to its 30 s window).
 */
export function minimumSamples(config: { conv_kernel?: unknown; conv_stride?: unknown } | undefined): number {
  const kernels = config?.conv_kernel;
  const strides = config?.conv_stride;
  if (!Array.isArray(kernels) || !Array.isArray(strides) || kernels.length !== strides.length) return 0;
  let field = 1;
  let jump = 1;
  for (let i = 0; i < kernels.length; i++) {
    const kernel = Number(kernels[i]);
    const stride = Number(strides[i]);
    if (!(kernel >= 1 && stride >= 1)) return 0;
    field += (kernel - 1) * jump;
    jump *= stride;
  }
  return field;
}

/**
 * Refuses audio shorter than the model can read, with a 400 naming both lengths. Python
 * transformers does not pad it either: its feature extractor pads only to the longest input of a
 * batch, and PyTorch's Conv1d then fails ("Kernel size can't be greater than actual input size"),
 * which the Endpoint answers as an error. Here the ONNX Conv node would fail the same way, as a 500.
 */
export function checkAudioLength(pipe: PipelineFn, audio: Float32Array): void {
  const needed = minimumSamples((pipe as unknown as AudioPipeline).model?.config);
  if (audio.length >= needed) return;
  const rate = samplingRate(pipe);
  const ms = (samples: number) => `${Math.round((samples / rate) * 1000 * 10) / 10} ms`;
  throw badRequest(
    `The audio is ${ms(audio.length)} long (${audio.length} samples at ${rate} Hz); this model needs at least ${ms(needed)} (${needed} samples), the span its convolutional feature encoder reads for one frame.`,
  );
}

/** One chunk of long audio: samples [start, end), and how many of them are context on each side. */
export interface AudioChunk {
  start: number;
  end: number;
  /** `[length, left, right]`, as transformers' `chunk_iter` yields it: the chunk's length, and the samples at its left and right edges that only give context (another chunk reads them). */
  stride: [number, number, number];
  isLast: boolean;
}

/**
 * Cuts `length` samples into chunks of `chunkLength` that overlap by `strideLeft` + `strideRight`:
 * transformers' `chunk_iter` (pipelines/automatic_speech_recognition.py), step for step. The first
 * chunk has no left stride and the last no right stride; a chunk that would hold only left stride
 * is dropped. Pure.
 */
export function chunkAudio(length: number, chunkLength: number, strideLeft: number, strideRight: number): AudioChunk[] {
  const step = chunkLength - strideLeft - strideRight;
  if (!(step > 0)) throw badRequest('parameters.chunk_length_s must be longer than twice stride_length_s.');
  const chunks: AudioChunk[] = [];
  for (let start = 0; start < length; start += step) {
    const end = start + chunkLength;
    const size = Math.min(end, length) - start;
    const left = start === 0 ? 0 : strideLeft;
    const isLast = strideRight > 0 ? end > length : end >= length;
    const right = isLast ? 0 : strideRight;
    if (size > left) chunks.push({ start, end: start + size, stride: [size, left, right], isLast });
    if (isLast) break;
  }
  return chunks;
}
