/**
 * Generative vision-language models for visual-question-answering and image-to-text: SmolVLM /
 * Idefics3 (`model_type` "idefics3" or "smolvlm"), in the transformers.js ONNX layout their Hub
 * repos ship (`onnx/vision_encoder.onnx`, `onnx/embed_tokens.onnx`,
 * `onnx/decoder_model_merged.onnx`, with `preprocessor_config.json` and `processor_config.json`).
 * Engine side.
 *
 * transformers.js 4.x loads them without a pipeline: `AutoProcessor` (Idefics3Processor: image
 * resize and tiling, the expansion of `<image>` into the tile and image tokens) and
 * `AutoModelForImageTextToText` (its `generate` encodes the image and merges the features into
 * the prompt's embeddings). The prompt is the model's chat template over one user message, an
 * image then a text, with the generation prompt, as the model cards show:
 * - visual-question-answering: the text is the question; the answer is the generated text
 *   (trimmed), and its score the sequence probability (`vision-language-generate.ts`). Greedy
 *   search (the default) gives one answer; with `do_sample: true` and `num_return_sequences: n`
 *   the answers are n samples, distinct ones kept, best first, at most `top_k`.
 * - image-to-text: the text is `parameters.prompt`, or DEFAULT_CAPTION_PROMPT.
 */
import { badRequest, quote } from '../../protocol/errors.js';
import type { GenerationOptions } from '../generation/generation-parameters.js';
import type { LoadContext, RunContext, TensorLike } from '../types.js';
import type { VisionTextModel, VqaAnswer } from './vision-text-model.js';
import { generateScored, hookSteps, type Generated, type VisionGenerationSetup, type VisionLanguageModel } from './vision-language-generate.js';

/** The families served here (config.json `model_type`). */
export const VISION_LANGUAGE_FAMILIES = ['idefics3', 'smolvlm'] as const;

/** The image-to-text user message when the request has no `parameters.prompt`. */
export const DEFAULT_CAPTION_PROMPT = 'Describe this image.';

interface ChatMessage {
  role: 'user';
  content: ({ type: 'image' } | { type: 'text'; text: string })[];
}

/** transformers.js's processor of these models, as used here. */
interface VisionProcessor {
  (text: string, images: unknown[]): Promise<Record<string, TensorLike>>;
  apply_chat_template(messages: ChatMessage[], options: Record<string, unknown>): string;
  tokenizer: { decode(ids: number[], options?: { skip_special_tokens?: boolean }): string; chat_template?: unknown };
  chat_template?: unknown;
}

export async function loadVisionLanguage(ctx: LoadContext): Promise<VisionTextModel> {
  const config = ((await ctx.readJSON('config.json')) ?? {}) as Record<string, unknown>;
  const family = String(config.model_type);
  if (!(VISION_LANGUAGE_FAMILIES as readonly string[]).includes(family)) {
    throw badRequest(
      `Model ${quote(ctx.model)} (model_type ${quote(config.model_type)}) is not a model visual-question-answering and image-to-text run: ` +
        `they take ViLT ("vilt") and the generative SmolVLM / Idefics3 ("${VISION_LANGUAGE_FAMILIES.join('", "')}").`,
    );
  }
  const generationConfig = ((await ctx.readJSON('generation_config.json')) ?? {}) as Record<string, unknown>;
  const textConfig = (config.text_config ?? {}) as Record<string, unknown>;
  const eos = generationConfig.eos_token_id ?? textConfig.eos_token_id ?? config.eos_token_id;
  const setup: VisionGenerationSetup = {
    eosIds: new Set((Array.isArray(eos) ? eos : eos === undefined || eos === null ? [] : [eos]).map(Number)),
    defaultMaxNewTokens: Number(generationConfig.max_new_tokens ?? 256),
    defaultTopK: Number(generationConfig.top_k ?? 50),
    contextLength: typeof textConfig.max_position_embeddings === 'number' ? textConfig.max_position_embeddings : null,
  };
  const processor = (await ctx.pretrained('AutoProcessor')) as VisionProcessor;
  if (!processor.chat_template && !processor.tokenizer.chat_template) {
    throw badRequest(`Model ${quote(ctx.model)} has no chat template (tokenizer_config.json "chat_template"), which its prompts are built with.`);
  }
  const model = (await ctx.pretrained('AutoModelForImageTextToText')) as VisionLanguageModel;
  hookSteps(model);

  /** The generations of one prompt (`count` of them), with the prompt's token count. */
  async function run(image: unknown, text: string, options: GenerationOptions, count: number, ctx: RunContext): Promise<Generated[]> {
    const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text }] }];
    let prompt: string;
    try {
      prompt = processor.apply_chat_template(messages, { add_generation_prompt: true });
    } catch (err) {
      throw badRequest(`The model's chat template rejected the prompt: ${(err as Error).message}`);
    }
    const inputs = await processor(prompt, [image]);
    const promptTokens = inputs.input_ids!.dims.at(-1)!;
    let maxNew = options.maxNewTokens ?? setup.defaultMaxNewTokens;
    if (setup.contextLength !== null) {
      const room = setup.contextLength - promptTokens;
      if (room < 1) {
        throw badRequest(
          `The prompt takes ${promptTokens} tokens with the image's, but this model's context holds ${setup.contextLength} (prompt plus generated tokens). Shorten the text.`,
        );
      }
      maxNew = Math.min(maxNew, room);
    }
    ctx.seed(options.seed);
    const out: Generated[] = [];
    for (let n = 0; n < count && !ctx.cancelled(); n++) {
      out.push(await generateScored(model, processor.tokenizer, inputs, options, setup, maxNew, ctx));
    }
    return out;
  }

  return {
    family,
    async answer(image, question, { topK, generation }, ctx): Promise<VqaAnswer[]> {
      const generated = await run(image, question, generation, generation.numReturnSequences, ctx);
      const best = new Map<string, number>();
      for (const g of generated) {
        const answer = g.text.trim();
        const score = Math.exp(g.logProb);
        if (!best.has(answer) || best.get(answer)! < score) best.set(answer, score);
      }
      return [...best].map(([answer, score]) => ({ answer, score })).sort((a, b) => b.score - a.score).slice(0, topK);
    },
    async caption(image, { prompt, generation }, ctx) {
      const [first] = await run(image, prompt ?? DEFAULT_CAPTION_PROMPT, generation, 1, ctx);
      return first?.text.trim() ?? '';
    },
    async dispose() {
      await model.dispose();
    },
  };
}
