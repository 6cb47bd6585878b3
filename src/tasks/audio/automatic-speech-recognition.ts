/**
 * automatic-speech-recognition: a sound → `{text}`, or `{text, chunks: [{text, timestamp: [start,
 * end]}]}` with `return_timestamps`. CTC models (Wav2Vec2) and Whisper (encoder-decoder, with its
 * `language` and `task`); `chunk_length_s` and `stride_length_s` read audio longer than the
 * model's window in overlapping chunks; Whisper takes the generation parameters too.
 */
import { badRequest } from '../../protocol/errors.js';
import { readMediaInput } from '../shared/media-input.js';
import { samplingRate } from './audio-core.js';
import { checkKnownParameters, readParameters } from '../shared/parameters.js';
import { flattenGenerationParameters } from '../generation/generation-parameters.js';
import { cancellableSteps } from '../generation/generate-core.js';
import type { EndpointPayload, PipelineFn, TaskRunner, TaskSpec, TensorLike } from '../types.js';
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
        throw badRequest(`parameters.return_timestamps must be true, false, "word" or "char", got ${JSON.stringify(stamps)}.`);
      }
      options.return_timestamps = stamps;
    }
    for (const name of ['chunk_length_s', 'stride_length_s'] as const) {
      const v = params[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !(v > 0) || v > 600) throw badRequest(`parameters.${name} must be a number of seconds above 0, got ${JSON.stringify(v)}.`);
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
      if (typeof v !== 'string' || !v) throw badRequest(`parameters.${name} must be a string, got ${JSON.stringify(v)}.`);
      if (name === 'task' && v !== 'transcribe' && v !== 'translate') throw badRequest(`parameters.task must be "transcribe" or "translate", got ${JSON.stringify(v)}.`);
      options[name] = v;
    }
    for (const name of ['max_new_tokens', 'num_beams', 'top_k'] as const) {
      const v = params[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw badRequest(`parameters.${name} must be a positive integer, got ${JSON.stringify(v)}.`);
      options[name] = v;
    }
    if (params.do_sample !== undefined) options.do_sample = Boolean(params.do_sample);
    if (typeof params.temperature === 'number') options.temperature = params.temperature;
    return { audio: readMediaInput(inputs, 'audio'), options };
  },
} satisfies TaskSpec<SpeechRecognitionRequest>;

export const automaticSpeechRecognitionRunner: TaskRunner<SpeechRecognitionRequest> = {
  spec: automaticSpeechRecognition,
  pipeline: 'automatic-speech-recognition',
  async run(pipe, request, _setup, ctx) {
    const audio = await ctx!.decodeAudio!(request.audio.bytes, samplingRate(pipe));
    const whisper = isWhisper(pipe);
    const { language, task, ...rest } = request.options;
    if (!whisper && (language !== undefined || task !== undefined)) {
      throw badRequest('parameters.language and parameters.task are for Whisper models; this model transcribes one language.');
    }
    if (!whisper && rest.return_timestamps) {
      // transformers.js's CTC path has no timestamps: they are read from the frames here.
      return ctcWithTimestamps(pipe, audio, rest.return_timestamps === 'char' ? 'char' : 'word');
    }
    let answer: { text: string; chunks?: { text: string; timestamp: [number, number | null] }[] } | null;
    try {
      const transcribe = async () => (await pipe(audio, { ...rest, ...(whisper ? { language, task } : {}) })) as typeof answer;
      // Whisper reads chunk after chunk, token by token: a cancel ends it at the next step.
      answer = whisper && ctx ? await cancellableSteps(pipe as unknown as { model: unknown; processor: unknown }, ctx, transcribe) : await transcribe();
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (/language|task|timestamp|chunk/i.test(message)) throw badRequest(message);
      throw err;
    }
    if (answer === null) return null; // cancelled (the engine answers so)
    const seconds = audio.length / samplingRate(pipe);
    return {
      text: answer.text,
      ...(answer.chunks
        ? { chunks: answer.chunks.map(({ text, timestamp: [start, end] }) => ({ text, timestamp: [start, end ?? seconds] })) }
        : {}),
    };
  },
};

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
 * Greedy CTC decoding with times: the best token of each frame, repeats and blanks dropped, each
 * kept character stamped with its frame (× the model's input-to-logits ratio ÷ sampling rate), and
 * characters grouped into words at the word delimiter `|`.
 */
async function ctcWithTimestamps(pipe: PipelineFn, audio: Float32Array, level: 'word' | 'char') {
  const { processor, model, tokenizer } = pipe as unknown as CtcPipeline;
  const { logits } = await model(await processor(audio));
  const [, frames, vocab] = logits.dims as [number, number, number];
  const data = logits.data as ArrayLike<number>;
  const rate = processor.feature_extractor.config.sampling_rate;
  const strides = (model.config.conv_stride as number[] | undefined) ?? [5, 2, 2, 2, 2, 2, 2];
  const secondsPerFrame = (Number(model.config.inputs_to_logits_ratio) || strides.reduce((a, b) => a * b, 1)) / rate;
  const blank = tokenizer.pad_token_id ?? 0;
  // id → token, from the tokenizer's own vocabulary (transformers.js has no convert_ids_to_tokens).
  const names = new Map<number, string>(Object.entries(tokenizer._tokenizerJSON.model?.vocab ?? {}).map(([token, id]) => [id, token]));
  for (const { id, content } of tokenizer._tokenizerJSON.added_tokens ?? []) names.set(id, content);
  const ids: number[] = [];
  const kept: { token: string; frame: number }[] = [];
  let previous = -1;
  for (let f = 0; f < frames; f++) {
    let best = 0;
    for (let v = 1; v < vocab; v++) if (data[f * vocab + v]! > data[f * vocab + best]!) best = v;
    ids.push(best);
    if (best !== previous && best !== blank) kept.push({ token: names.get(best) ?? '', frame: f });
    previous = best;
  }
  const text = tokenizer.decode(ids, { skip_special_tokens: true }).trim();
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
