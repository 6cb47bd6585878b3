/**
 * One generation of a generative vision-language model, with its sequence probability. Engine
 * side, around transformers.js's `model.generate` (which encodes the image, merges its features
 * into the prompt's embeddings and runs the KV-cache decoder).
 *
 * The score of an answer is its sequence probability under the model: exp(Σ log softmax(logits)
 * [token]) over every generated token, EOS included when the answer ended with it, taken from the
 * model's own (unprocessed) logits, before temperature, top-k, top-p or repetition penalty. The
 * model's `forward` is wrapped once: after each step it keeps the last position's logits, and the
 * stopping criterion that `generate` calls with the chosen token adds that token's log-probability.
 * transformers.js 4.3's `generate` returns no scores (`return_dict_in_generate` leaves them out),
 * and a recording logits processor would see the logits after the built-in processors; reading
 * them at the step costs one pass over the vocabulary per token and no extra forward pass.
 *
 * Per token the criterion also cuts at stop sequences, counts the budget, reports a `step`
 * progress event and ends on EOS or cancellation. Each step first yields one macrotask (unless
 * the cancel flag is shared memory), so a cancel message is received, and a step that starts
 * after the caller cancelled throws before it reaches ONNX Runtime.
 */
import { yieldToEventLoop } from '../shared/yield.js';
import { topPProcessor } from '../generation/generate-core.js';
import type { GenerationOptions } from '../generation/generation-parameters.js';
import type { RunContext, TensorLike } from '../types.js';

/** A logits tensor as transformers.js returns it (float16 models convert with `to`). */
interface Logits extends TensorLike {
  slice(...ranges: unknown[]): Logits;
  to(type: 'float32'): Logits;
}

export interface VisionLanguageModel {
  forward(inputs: Record<string, unknown>): Promise<{ logits: Logits }>;
  generate(options: Record<string, unknown>): Promise<TensorLike>;
  dispose(): Promise<unknown>;
}

export interface Decoder {
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

/** What one generation step reports back (set while a generation of ours runs). */
interface StepHook {
  yieldFirst: boolean;
  ctx: RunContext;
  last: Float32Array | null;
}

class StepCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** The model's facts generation needs, read once at load. */
export interface VisionGenerationSetup {
  eosIds: Set<number>;
  /** max_new_tokens when the request sets none (generation_config.json, else 256). */
  defaultMaxNewTokens: number;
  /** The sampler's top_k when the request sets none (generation_config.json, else 50). */
  defaultTopK: number;
  /** Longest sequence the decoder takes (prompt, image tokens and answer); null if unknown. */
  contextLength: number | null;
}

export interface Generated {
  text: string;
  /** Σ log p(token) over the generated tokens (natural log). */
  logProb: number;
  tokens: number[];
  finish: 'eos_token' | 'stop_sequence' | 'length' | 'cancelled';
}

/** The last position's logits of batch row 0, as float32. */
function lastRow(logits: Logits): Float32Array {
  const vocab = logits.dims.at(-1)!;
  const steps = logits.dims.at(-2)!;
  if (logits.data instanceof Float32Array) return logits.data.slice((steps - 1) * vocab, steps * vocab);
  return Float32Array.from(logits.slice(0, -1, null).to('float32').data);
}

/** log softmax(row)[id], in double precision. */
export function logSoftmaxAt(row: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return row[id]! - max - Math.log(sum);
}

const hooks = new WeakMap<object, { current: StepHook | null }>();

/** Wraps the model's `forward` once, so that each step can yield, stop and keep its logits. */
export function hookSteps(model: VisionLanguageModel): void {
  if (hooks.has(model)) return;
  const slot = { current: null as StepHook | null };
  const original = model.forward.bind(model);
  model.forward = async (inputs) => {
    const hook = slot.current;
    if (hook?.yieldFirst) await yieldToEventLoop();
    if (hook?.ctx.cancelled()) throw new StepCancelled();
    const out = await original(inputs);
    if (hook) hook.last = lastRow(out.logits);
    return out;
  };
  hooks.set(model, slot);
}

/**
 * Generates once from prepared inputs (`input_ids`, `attention_mask`, `pixel_values`,
 * `pixel_attention_mask` from the processor). `maxNew` is the budget, already capped by the
 * context; the sampler was seeded by the caller.
 */
export async function generateScored(
  model: VisionLanguageModel,
  decoder: Decoder,
  inputs: Record<string, unknown>,
  options: GenerationOptions,
  setup: VisionGenerationSetup,
  maxNew: number,
  ctx: RunContext,
): Promise<Generated> {
  const slot = hooks.get(model);
  if (!slot) throw new Error('hookSteps(model) was not called');
  const kwargs: Record<string, unknown> = { max_new_tokens: maxNew };
  if (options.doSample !== null) kwargs.do_sample = options.doSample;
  if (options.temperature !== undefined) kwargs.temperature = options.temperature;
  if (options.topK !== undefined) kwargs.top_k = options.topK;
  // transformers.js 4.3 reads top_p but does not apply it: the nucleus is cut by our processor.
  if (options.topP !== undefined && options.topP < 1) kwargs.logits_processor = [topPProcessor(options.topP, options.topK ?? setup.defaultTopK)];
  if (options.repetitionPenalty !== undefined) kwargs.repetition_penalty = options.repetitionPenalty;

  const hook: StepHook = { yieldFirst: !ctx.cancelSeenAtOnce, ctx, last: null };
  const tokens: number[] = [];
  let logProb = 0;
  let text = '';
  let finish: Generated['finish'] | null = null;
  const criterion = (all: bigint[][]): boolean[] => {
    if (finish) return [true];
    const id = Number(all[0]!.at(-1));
    tokens.push(id);
    if (hook.last) logProb += logSoftmaxAt(hook.last, id);
    hook.last = null;
    text = decoder.decode(tokens, { skip_special_tokens: true });
    const cut = stopCut(text, options.stop);
    if (cut !== null) {
      text = text.slice(0, cut);
      finish = 'stop_sequence';
    } else if (setup.eosIds.has(id)) finish = 'eos_token';
    else if (tokens.length >= maxNew) finish = 'length';
    else if (ctx.cancelled()) finish = 'cancelled';
    ctx.progress?.({ status: 'step', step: tokens.length, steps: maxNew });
    return [finish !== null];
  };

  if (ctx.cancelled()) return { text: '', logProb: 0, tokens, finish: 'cancelled' };
  slot.current = hook;
  try {
    await model.generate({ ...inputs, ...kwargs, stopping_criteria: [criterion] });
  } catch (err) {
    if (!(err instanceof StepCancelled)) throw err;
    finish = 'cancelled';
  } finally {
    slot.current = null;
  }
  return { text, logProb, tokens, finish: finish ?? (setup.eosIds.has(tokens.at(-1)!) ? 'eos_token' : 'length') };
}

/** Where the text ends when a stop sequence appears in it (the stop kept, as TGI does); null if none. */
function stopCut(text: string, stops: readonly string[]): number | null {
  let cut: number | null = null;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (cut === null || at + stop.length < cut)) cut = at + stop.length;
  }
  return cut;
}
