/**
 * automatic-speech-recognition: a sound → `{text}`, or `{text, chunks: [{text, timestamp: [start,
 * end]}]}` with `return_timestamps`. CTC models (Wav2Vec2) and Whisper (encoder-decoder, with its
 * `language` and `task`); `chunk_length_s` and `stride_length_s` read audio longer than the
 * model's window in overlapping chunks; Whisper takes the generation parameters too. Without
 * `chunk_length_s`, audio longer than the model's window (Whisper: 30 s; CTC: CTC_WINDOW_SECONDS,
 * 30 s) is chunked all the same, with a stride of chunk_length_s / 6, so memory stays bounded.
 */
import { badRequest, quote } from '../../protocol/errors.js';
import { readMediaInput } from '../shared/media-input.js';
import { chunkAudio, checkAudioLength, minimumSamples, samplingRate, type AudioChunk } from './audio-core.js';
import { checkKnownParameters, readParameters } from '../shared/parameters.js';
import { flattenGenerationParameters } from '../generation/generation-parameters.js';
import { cancellableSteps } from '../generation/generate-core.js';
import type { EndpointPayload, PipelineFn, RunContext, TaskRunner, TaskSpec, TensorLike } from '../types.js';
import type { MediaBody } from '../../wire/media.js';

export interface SpeechRecognitionRequest {
  audio: MediaBody;
  options: Record<string, unknown>;
}

const PARAMETERS = ['return_timestamps', 'chunk_length_s', 'stride_length_s', 'language', 'task', 'max_new_tokens', 'num_beams', 'do_sample', 'temperature', 'top_k', 'generation_parameters', 'generate_kwargs'];

export const automaticSpeechRecognition = {
  id: 'automatic-speech-recognition',
  aliases: ['asr'],
  media: 'audio',
  client: ['automaticSpeechRecognition'],
  parse({ inputs, parameters }: EndpointPayload) {
    const params = flattenGenerationParameters(readParameters(parameters));
    checkKnownParameters('automatic-speech-recognition', params, PARAMETERS);
    const options: Record<string, unknown> = {};
    const stamps = params.return_timestamps;
    if (stamps !== undefined && stamps !== null) {
      if (stamps !== true && stamps !== false && stamps !== 'word' && stamps !== 'char') {
        throw badRequest(`parameters.return_timestamps must be true, false, "word" or "char", got ${quote(stamps)}.`);
      }
      options.return_timestamps = stamps;
    }
    for (const name of ['chunk_length_s', 'stride_length_s'] as const) {
      const v = params[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !(v > 0) || v > 600) throw badRequest(`parameters.${name} must be a number of seconds above 0, got ${quote(v)}.`);
      options[name] = v;
    }
    if (options.stride_length_s !== undefined && options.chunk_length_s === undefined) {
      throw badRequest('parameters.stride_length_s needs chunk_length_s.');
    }
    if (options.stride_length_s !== undefined && (options.stride_length_s as number) * 2 >= (options.chunk_length_s as number)) {
      throw badRequest('parameters.stride_length_s must be less than half of chunk_length_s.');
    }
    for (const name of ['language', 'task'] as const) {
      const v = params[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string' || !v) throw badRequest(`parameters.${name} must be a string, got ${quote(v)}.`);
      if (name === 'task' && v !== 'transcribe' && v !== 'translate') throw badRequest(`parameters.task must be "transcribe" or "translate", got ${quote(v)}.`);
      options[name] = v;
    }
    for (const name of ['max_new_tokens', 'num_beams', 'top_k'] as const) {
      const v = params[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw badRequest(`parameters.${name} must be a positive integer, got ${quote(v)}.`);
      options[name] = v;
    }
    if (params.do_sample !== undefined) options.do_sample = Boolean(params.do_sample);
    if (typeof params.temperature === 'number') options.temperature = params.temperature;
    return { audio: readMediaInput(inputs, 'audio'), options };
  },
} satisfies TaskSpec<SpeechRecognitionRequest>;

/**
 * How much audio a CTC model (Wav2Vec2, HuBERT…) reads in one call when the caller gives no
 * `chunk_length_s`: 30 s, as Whisper's window. Its self-attention costs memory in the square of
 * the frames (50 a second), so one call over 5 minutes took gigabytes; longer audio is read in
 * 30 s chunks with transformers' default stride (chunk_length_s / 6 on each side).
 */
export const CTC_WINDOW_SECONDS = 30;

export const automaticSpeechRecognitionRunner: TaskRunner<SpeechRecognitionRequest> = {
  spec: automaticSpeechRecognition,
  pipeline: 'automatic-speech-recognition',
  async run(pipe, request, _setup, ctx) {
    const rate = samplingRate(pipe);
    const audio = await ctx!.decodeAudio!(request.audio.bytes, rate, ctx!.maxAudioSeconds);
    checkAudioLength(pipe, audio);
    const whisper = isWhisper(pipe);
    const { language, task, ...rest } = request.options;
    if (!whisper && (language !== undefined || task !== undefined)) {
      throw badRequest('parameters.language and parameters.task are for Whisper models; this model transcribes one language.');
    }
    if (!whisper) {
      // transformers.js's CTC path reads the whole input in one call and ignores chunk_length_s, and
      // has no timestamps: both are done here, from the frames.
      const chunkSeconds = (rest.chunk_length_s as number | undefined) ?? (audio.length > CTC_WINDOW_SECONDS * rate ? CTC_WINDOW_SECONDS : undefined);
      const level = rest.return_timestamps ? (rest.return_timestamps === 'char' ? 'char' : 'word') : null;
      return ctcTranscribe(pipe, audio, level, chunkSeconds, rest.stride_length_s as number | undefined, ctx);
    }
    // Whisper reads 30 s (its feature extractor's chunk_length); past it, chunk as transformers does.
    const window = whisperWindowSeconds(pipe);
    if (rest.chunk_length_s === undefined && audio.length > window * rate) rest.chunk_length_s = window;
    let answer: { text: string; chunks?: { text: string; timestamp: [number, number | null] }[] } | null;
    try {
      const transcribe = async () => (await pipe(audio, { ...rest, language, task })) as typeof answer;
      // Whisper reads chunk after chunk, token by token: a cancel ends it at the next step.
      answer = ctx ? await cancellableSteps(pipe as unknown as { model: unknown; processor: unknown }, ctx, transcribe) : await transcribe();
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (/language|task|timestamp|chunk/i.test(message)) throw badRequest(message);
      throw err;
    }
    if (answer === null) return null; // cancelled (the engine answers so)
    const seconds = audio.length / rate;
    return {
      text: answer.text,
      ...(answer.chunks
        ? { chunks: answer.chunks.map(({ text, timestamp: [start, end] }) => ({ text, timestamp: [start, end ?? seconds] })) }
        : {}),
    };
  },
};

/** Whisper's window in seconds: its feature extractor's `chunk_length` (30). */
function whisperWindowSeconds(pipe: PipelineFn): number {
  const config = (pipe as unknown as { processor?: { feature_extractor?: { config?: { chunk_length?: number } } } }).processor?.feature_extractor?.config;
  return config?.chunk_length ?? 30;
}

interface CtcPipeline {
  processor: ((audio: Float32Array) => Promise<Record<string, TensorLike>>) & { feature_extractor: { config: { sampling_rate: number } } };
  model: ((inputs: Record<string, TensorLike>) => Promise<{ logits: TensorLike }>) & { config: Record<string, unknown> };
  tokenizer: {
    decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
    _tokenizerJSON: { model?: { vocab?: Record<string, number> }; added_tokens?: { id: number; content: string }[] };
    pad_token_id?: number;
  };
}

/**
 * The chunks a CTC model reads `length` samples in: one call when `chunkSeconds` is not set,
 * else transformers' chunking, with the chunk and strides rounded to whole frames
 * (`inputs_to_logits_ratio` samples) and the stride `chunkSeconds / 6` unless given.
 */
export function ctcChunks(length: number, rate: number, ratio: number, chunkSeconds?: number, strideSeconds?: number): AudioChunk[] {
  if (chunkSeconds === undefined) return [{ start: 0, end: length, stride: [length, 0, 0], isLast: true }];
  const align = (seconds: number) => Math.round((seconds * rate) / ratio) * ratio;
  const chunk = Math.max(ratio, align(chunkSeconds));
  const stride = align(strideSeconds ?? chunkSeconds / 6);
  if (chunk <= 2 * stride) throw badRequest('parameters.stride_length_s must be less than half of chunk_length_s.');
  return chunkAudio(length, chunk, stride, stride);
}

/** Samples of input per frame of logits: `inputs_to_logits_ratio`, or the product of `conv_stride` (320). */
function inputsPerFrame(config: Record<string, unknown>): number {
  const strides = (config.conv_stride as number[] | undefined) ?? [5, 2, 2, 2, 2, 2, 2];
  return Number(config.inputs_to_logits_ratio) || strides.reduce((a, b) => a * b, 1);
}

/**
 * Greedy CTC decoding, chunk by chunk as transformers' pipeline reads long audio: each chunk's
 * logits are computed alone (memory bounded by the chunk), the frames of its strides dropped,
 * and the best token of each kept frame appended; then repeats and blanks are dropped over the
 * whole sequence. With `level`, each kept character is stamped with its frame (× the model's
 * input-to-logits ratio ÷ sampling rate), and characters are grouped into words at the word
 * delimiter `|`. A cancel is seen between chunks (null: the engine answers it as cancelled).
 */
async function ctcTranscribe(
  pipe: PipelineFn,
  audio: Float32Array,
  level: 'word' | 'char' | null,
  chunkSeconds: number | undefined,
  strideSeconds: number | undefined,
  ctx: RunContext | undefined,
) {
  const { processor, model, tokenizer } = pipe as unknown as CtcPipeline;
  const rate = processor.feature_extractor.config.sampling_rate;
  const ratio = inputsPerFrame(model.config);
  const needed = minimumSamples(model.config);
  const ids: number[] = [];
  for (const { start, end, stride: [total, left, right] } of ctcChunks(audio.length, rate, ratio, chunkSeconds, strideSeconds)) {
    if (ctx?.cancelled()) return null;
    let samples = audio.slice(start, end);
    if (samples.length < needed) {
      // A last chunk shorter than the encoder's receptive field: padded with silence to one frame.
      const padded = new Float32Array(needed);
      padded.set(samples);
      samples = padded;
    }
    const { logits } = await model(await processor(samples));
    const [, frames, vocab] = logits.dims as [number, number, number];
    const data = logits.data as ArrayLike<number>;
    const first = Math.round(left / ratio);
    const last = Math.min(frames, Math.round(total / ratio) - Math.round(right / ratio));
    for (let f = first; f < last; f++) {
      let best = 0;
      for (let v = 1; v < vocab; v++) if (data[f * vocab + v]! > data[f * vocab + best]!) best = v;
      ids.push(best);
    }
    (logits as { dispose?: () => void }).dispose?.();
  }
  const text = tokenizer.decode(ids, { skip_special_tokens: true }).trim();
  if (level === null) return { text };
  const secondsPerFrame = ratio / rate;
  const blank = tokenizer.pad_token_id ?? 0;
  // id → token, from the tokenizer's own vocabulary (transformers.js has no convert_ids_to_tokens).
  const names = new Map<number, string>(Object.entries(tokenizer._tokenizerJSON.model?.vocab ?? {}).map(([token, id]) => [id, token]));
  for (const { id, content } of tokenizer._tokenizerJSON.added_tokens ?? []) names.set(id, content);
  const kept: { token: string; frame: number }[] = [];
  let previous = -1;
  ids.forEach((best, f) => {
    if (best !== previous && best !== blank) kept.push({ token: names.get(best) ?? '', frame: f });
    previous = best;
  });
  const at = (frame: number) => Math.round(frame * secondsPerFrame * 100) / 100;
  const visible = kept.filter(({ token }) => !/^<.*>$/.test(token));
  if (level === 'char') {
    return { text, chunks: visible.filter(({ token }) => token !== '|').map(({ token, frame }) => ({ text: token, timestamp: [at(frame), at(frame + 1)] })) };
  }
  const chunks: { text: string; timestamp: [number, number] }[] = [];
  let word: { token: string; frame: number }[] = [];
  const flush = () => {
    if (word.length) chunks.push({ text: word.map((c) => c.token).join(''), timestamp: [at(word[0]!.frame), at(word.at(-1)!.frame + 1)] });
    word = [];
  };
  for (const c of visible) {
    if (c.token === '|') flush();
    else word.push(c);
  }
  flush();
  return { text, chunks };
}

function isWhisper(pipe: PipelineFn): boolean {
  return (pipe.model?.config as { model_type?: string } | undefined)?.model_type === 'whisper';
}
