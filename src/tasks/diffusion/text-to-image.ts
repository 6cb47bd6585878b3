/**
 * text-to-image: `{"inputs": "<prompt>", "parameters": {…}}` → a PNG, as the Endpoint's Diffusers
 * handler (huggingface-inference-toolkit `diffusers_utils.py`) takes and answers it:
 * - `negative_prompt`, `num_inference_steps` (default 50, the toolkit's
 *   DEFAULT_NUM_INFERENCE_STEPS), `guidance_scale`, `seed`;
 * - `width` and `height`, or `target_size: {width, height}`: equal, and multiples of 8;
 * - `scheduler`: a scheduler class name overriding the model's own (a go-beyond);
 * - `num_images_per_prompt` and `output_type` are accepted and ignored, as the toolkit does.
 *
 * Pure: the page and the engine both parse with it.
 */
import type { LoadContext, OnnxModel, PipelineFn, TaskRunner, TaskSpec, TensorLike, TokenizerFn } from '../types.js';
import { checkKnownParameters, readParameters, readPositiveInteger } from '../shared/parameters.js';
import { yieldToEventLoop } from '../shared/yield.js';
import { encodeRgbPng } from '../vision/mask-png.js';
import { TorchGenerator, schedulerFromConfig, torchRandn, type Sample, type SchedulerConfig } from './schedulers/index.js';
import { badRequest, describeType, quote } from '../../protocol/errors.js';

export interface TextToImageRequest {
  prompt: string;
  negativePrompt: string;
  /** Denoising steps: 1 to MAX_STEPS. */
  steps: number;
  /** Classifier-free guidance; undefined: the model's default (7.5 for Stable Diffusion). */
  guidanceScale?: number;
  /** Seeds the initial latents (and an ancestral scheduler's noise); undefined: fresh entropy. */
  seed?: number;
  /** The image's side in pixels; undefined: the model's (the UNet's sample_size × 8). */
  size?: number;
  /** A scheduler class name overriding the model's `scheduler_config.json`. */
  scheduler?: string;
}

const PARAMETERS = [
  'negative_prompt',
  'num_inference_steps',
  'guidance_scale',
  'seed',
  'width',
  'height',
  'target_size',
  'scheduler',
  'num_images_per_prompt',
  'output_type',
] as const;

/** The Endpoint's default step count (DEFAULT_NUM_INFERENCE_STEPS). */
export const DEFAULT_STEPS = 50;
/** More steps than a model has training timesteps make no sense; diffusers refuses them too. */
export const MAX_STEPS = 1000;
/** The largest side in pixels: 2048 (a 256×256 latent, 4× Stable Diffusion XL's). */
export const MAX_SIDE = 2048;

export const textToImage = {
  id: 'text-to-image',
  client: ['textToImage'],
  example: { inputs: 'a man on a horse jumps over a broken down airplane.' },
  imageAnswer: true,

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('text-to-image', parameters, PARAMETERS);
    if (typeof payload.inputs !== 'string') throw badRequest(`inputs must be a string (the prompt), got ${describeType(payload.inputs)}.`);
    if (payload.inputs.trim() === '') throw badRequest('inputs must not be empty: it is the prompt.');
    const negative = parameters.negative_prompt;
    if (negative !== undefined && negative !== null && typeof negative !== 'string') {
      throw badRequest(`parameters.negative_prompt must be a string, got ${describeType(negative)}.`);
    }
    const steps = readPositiveInteger(parameters, 'num_inference_steps') ?? DEFAULT_STEPS;
    if (steps > MAX_STEPS) throw badRequest(`parameters.num_inference_steps must be at most ${MAX_STEPS}, got ${steps}.`);
    const guidance = parameters.guidance_scale;
    if (guidance !== undefined && guidance !== null && (typeof guidance !== 'number' || !Number.isFinite(guidance) || guidance < 0)) {
      throw badRequest(`parameters.guidance_scale must be a number of at least 0, got ${quote(guidance)}.`);
    }
    const seed = parameters.seed;
    if (seed !== undefined && seed !== null && (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 53 - 1)) {
      throw badRequest(`parameters.seed must be a non-negative integer, got ${quote(seed)}.`);
    }
    const scheduler = parameters.scheduler;
    if (scheduler !== undefined && scheduler !== null && (typeof scheduler !== 'string' || scheduler.trim() === '')) {
      throw badRequest(`parameters.scheduler must be a scheduler's class name, such as "EulerDiscreteScheduler", got ${quote(scheduler)}.`);
    }
    return {
      prompt: payload.inputs,
      negativePrompt: typeof negative === 'string' ? negative : '',
      steps,
      ...(typeof guidance === 'number' ? { guidanceScale: guidance } : {}),
      ...(typeof seed === 'number' ? { seed } : {}),
      ...readSize(parameters),
      ...(typeof scheduler === 'string' ? { scheduler } : {}),
    };
  },
} satisfies TaskSpec<TextToImageRequest>;

/** `width`/`height`, or `target_size` (which wins, as the toolkit reads it last): equal, multiples of 8. */
function readSize(parameters: Record<string, unknown>): { size?: number } {
  let width: unknown = parameters.width;
  let height: unknown = parameters.height;
  let where = 'parameters.width and parameters.height';
  const target = parameters.target_size;
  if (target !== undefined && target !== null) {
    if (typeof target !== 'object' || Array.isArray(target)) {
      throw badRequest(`parameters.target_size must be an object {"width": …, "height": …}, got ${describeType(target)}.`);
    }
    ({ width, height } = target as Record<string, unknown>);
    where = 'parameters.target_size';
  }
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 8 || value > MAX_SIDE || value % 8 !== 0) {
      throw badRequest(`${where === 'parameters.target_size' ? 'parameters.target_size.' : 'parameters.'}${name} must be a multiple of 8 from 8 to ${MAX_SIDE}, got ${quote(value)}.`);
    }
  }
  if ((width ?? null) === null && (height ?? null) === null) return {};
  if ((width ?? null) === null || (height ?? null) === null || width !== height) {
    throw badRequest(`${where} must be given together and be equal (a square image), got width ${quote(width ?? null)} and height ${quote(height ?? null)}.`);
  }
  return { size: width as number };
}

// -- the runner: a Stable Diffusion pipeline over the model's ONNX sessions ----------------------

/**
 * A diffusers ONNX Stable Diffusion model (the layout `optimum-cli export onnx` writes):
 * `model_index.json`, `tokenizer/`, `text_encoder/`, `unet/` (weights in `model.onnx_data`),
 * `vae_decoder/` and `scheduler/scheduler_config.json`.
 */
interface DiffusionModel {
  tokenizer: TokenizerFn;
  textEncoder: OnnxModel;
  unet: OnnxModel;
  vaeDecoder: OnnxModel;
  schedulerConfig: SchedulerConfig;
  /** The image side the UNet was trained for (sample_size × the VAE's scale). */
  defaultSize: number;
  /** 2^(VAE blocks − 1): 8 for Stable Diffusion. */
  vaeScale: number;
  scalingFactor: number;
  latentChannels: number;
  /**
   * An LCM-distilled UNet's guidance-embedding size (`time_cond_proj_dim`): it takes the guidance
   * as `timestep_cond` and runs without classifier-free guidance, as diffusers'
   * LatentConsistencyModelPipeline. Null for other UNets.
   */
  guidanceEmbedding: number | null;
  tensor: LoadContext['tensor'];
}

/** Diffusers' default guidance for Stable Diffusion. */
export const DEFAULT_GUIDANCE = 7.5;
/** LatentConsistencyModelPipeline's default guidance. */
export const DEFAULT_LCM_GUIDANCE = 8.5;

export const textToImageRunner: TaskRunner<TextToImageRequest, void> = {
  spec: textToImage,
  pipeline: 'text-to-image',

  async load(ctx) {
    const index = (await ctx.readJSON('model_index.json')) as Record<string, unknown> | null;
    if (!index) throw badRequest(`Model ${JSON.stringify(ctx.model)} is not a diffusers model: it has no model_index.json.`);
    for (const part of ['tokenizer', 'text_encoder', 'unet', 'vae_decoder', 'scheduler']) {
      if (!Array.isArray(index[part]) || (index[part] as unknown[])[0] === null) {
        throw badRequest(`Model ${JSON.stringify(ctx.model)} has no ${part} in its model_index.json: text-to-image needs an ONNX Stable Diffusion layout (tokenizer, text_encoder, unet, vae_decoder, scheduler).`);
      }
    }
    const [schedulerConfig, unetConfig, vaeConfig] = await Promise.all([
      ctx.readJSON('scheduler/scheduler_config.json'),
      ctx.readJSON('unet/config.json'),
      ctx.readJSON('vae_decoder/config.json'),
    ]);
    if (!schedulerConfig) throw badRequest(`Model ${JSON.stringify(ctx.model)} has no scheduler/scheduler_config.json.`);
    const unet = (unetConfig ?? {}) as Record<string, unknown>;
    const vae = (vaeConfig ?? {}) as Record<string, unknown>;
    const vaeScale = 2 ** Math.max(0, (Array.isArray(vae.block_out_channels) ? vae.block_out_channels.length : 4) - 1);
    schedulerFromConfig(schedulerConfig as SchedulerConfig); // a scheduler this engine has, or a 400 now
    const tokenizer = await ctx.tokenizer('tokenizer');
    // One session at a time: loads, like runs, never overlap.
    const textEncoder = await ctx.session('text_encoder');
    const unetSession = await ctx.session('unet');
    const vaeDecoder = await ctx.session('vae_decoder');
    const model: DiffusionModel = {
      tokenizer,
      textEncoder,
      unet: unetSession,
      vaeDecoder,
      schedulerConfig: schedulerConfig as SchedulerConfig,
      defaultSize: (typeof unet.sample_size === 'number' ? unet.sample_size : 64) * vaeScale,
      vaeScale,
      scalingFactor: typeof vae.scaling_factor === 'number' ? vae.scaling_factor : 0.18215,
      latentChannels: typeof unet.in_channels === 'number' ? unet.in_channels : 4,
      guidanceEmbedding: typeof unet.time_cond_proj_dim === 'number' ? unet.time_cond_proj_dim : null,
      tensor: ctx.tensor,
    };
    const pipe = (async () => {
      throw new Error('text-to-image runs through its runner');
    }) as unknown as PipelineFn;
    return Object.assign(pipe, {
      diffusion: model,
      dispose: async () => {
        for (const session of [textEncoder, unetSession, vaeDecoder]) await session.dispose();
      },
    });
  },

  async run(pipe, request, _setup, ctx) {
    const model = (pipe as unknown as { diffusion: DiffusionModel }).diffusion;
    const size = request.size ?? model.defaultSize;
    if (size % model.vaeScale !== 0) throw badRequest(`The image side must be a multiple of ${model.vaeScale} for this model, got ${size}.`);
    const scheduler = schedulerFromConfig(model.schedulerConfig, request.scheduler);
    scheduler.setTimesteps(request.steps);
    const lcm = model.guidanceEmbedding !== null;
    const guidance = request.guidanceScale ?? (lcm ? DEFAULT_LCM_GUIDANCE : DEFAULT_GUIDANCE);
    // diffusers: classifier-free guidance only above 1, and never for an LCM (it embeds the guidance).
    const cfg = guidance > 1 && !lcm;

    // 1. The prompt (and the negative prompt, for guidance) as CLIP embeddings, in one call.
    const prompts = cfg ? [request.negativePrompt, request.prompt] : [request.prompt];
    const hidden = await encodePrompts(model, prompts);

    // 2. The initial latents: seeded Gaussian noise, as diffusers draws it on the CPU (torch.randn).
    const side = size / model.vaeScale;
    const dims = [1, model.latentChannels, side, side];
    const generator = new TorchGenerator(request.seed ?? randomSeed());
    const random = torchRandn(generator);
    const noise = new Float32Array(dims.reduce((a, b) => a * b, 1));
    random(noise);
    let latents: Sample = { data: noise.map((x) => Math.fround(x * scheduler.initNoiseSigma)), dims };

    // 3. The denoising loop: one UNet call a step, at batch 2 under guidance (uncond, cond).
    const timestepInput = model.unet.inputs.find((i) => i.name === 'timestep');
    const total = scheduler.timesteps.length;
    for (const [i, t] of scheduler.timesteps.entries()) {
      if (ctx?.cancelled()) return null;
      const input = scheduler.scaleModelInput(cfg ? twice(latents) : latents, t);
      const batch = input.dims[0]!;
      const outputs = await model.unet({
        sample: model.tensor('float32', input.data, [...input.dims]),
        timestep: timestepTensor(model, timestepInput, t, batch),
        encoder_hidden_states: hidden,
        ...(lcm ? { timestep_cond: model.tensor('float32', guidanceScaleEmbedding(guidance - 1, model.guidanceEmbedding!), [1, model.guidanceEmbedding!]) } : {}),
      });
      const predicted = outputs.out_sample ?? Object.values(outputs)[0]!;
      const noisePred = cfg ? guide(predicted.data as Float32Array, guidance) : Float32Array.from(predicted.data as Float32Array);
      latents = scheduler.step({ data: noisePred, dims }, t, latents, { random }).prevSample;
      ctx?.progress?.({ status: 'step', step: i + 1, steps: total });
      await yieldToEventLoop();
    }
    if (ctx?.cancelled()) return null;

    // 4. The VAE decoder: latents / scaling_factor → an RGB image in [-1, 1] → 8-bit PNG.
    const scaled = latents.data.map((x) => Math.fround(x / model.scalingFactor));
    const decoded = await model.vaeDecoder({ latent_sample: model.tensor('float32', scaled, [...dims]) });
    const image = decoded.sample ?? Object.values(decoded)[0]!;
    return encodeRgbPng(toRgb(image.data as Float32Array, size, size), size, size);
  },
};

async function encodePrompts(model: DiffusionModel, prompts: string[]): Promise<TensorLike> {
  const max = Math.min(model.tokenizer.model_max_length ?? 77, 77);
  const encoded = (model.tokenizer as unknown as (t: string[], o: object) => Record<string, TensorLike>)(prompts, { padding: 'max_length', max_length: max, truncation: true });
  const ids = encoded.input_ids!;
  const type = model.textEncoder.inputs.find((i) => i.name === 'input_ids')?.type;
  const values = Array.from(ids.data as ArrayLike<number | bigint>, Number);
  const tensor = type === 'int64' ? model.tensor('int64', BigInt64Array.from(values.map(BigInt)), [...ids.dims]) : model.tensor('int32', Int32Array.from(values), [...ids.dims]);
  const out = await model.textEncoder({ input_ids: tensor });
  return out.last_hidden_state ?? Object.values(out)[0]!;
}

/**
 * The timestep as the UNet declares it: current optimum exports a float32 scalar (shape []);
 * older ones an int64 of shape [batch].
 */
function timestepTensor(model: DiffusionModel, input: OnnxModel['inputs'][number] | undefined, t: number, batch: number): TensorLike {
  const dims = input?.shape?.length === 0 ? [] : [batch];
  const n = dims.length === 0 ? 1 : batch;
  if (input?.type === 'float32' || input?.type === 'float') return model.tensor('float32', new Float32Array(n).fill(t), dims);
  return model.tensor('int64', new BigInt64Array(n).fill(BigInt(Math.round(t))), dims);
}

/**
 * diffusers' `get_guidance_scale_embedding(w, embedding_dim)`: sinusoidal features of w × 1000,
 * sines then cosines, zero-padded to an odd size.
 */
export function guidanceScaleEmbedding(w: number, dim: number): Float32Array {
  const half = Math.floor(dim / 2);
  const step = Math.fround(Math.log(10000) / (half - 1));
  const out = new Float32Array(dim);
  const scaled = Math.fround(w * 1000);
  for (let i = 0; i < half; i++) {
    const x = Math.fround(scaled * Math.fround(Math.exp(Math.fround(-step * i))));
    out[i] = Math.sin(x);
    out[half + i] = Math.cos(x);
  }
  return out;
}

/** The latents twice along the batch: [uncond, cond] share them. */
function twice(sample: Sample): Sample {
  const data = new Float32Array(sample.data.length * 2);
  data.set(sample.data);
  data.set(sample.data, sample.data.length);
  return { data, dims: [sample.dims[0]! * 2, ...sample.dims.slice(1)] };
}

/** Classifier-free guidance: uncond + scale × (cond − uncond), in float32 as diffusers computes it. */
function guide(both: Float32Array, scale: number): Float32Array {
  const n = both.length / 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const uncond = both[i]!;
    const cond = both[n + i]!;
    out[i] = Math.fround(uncond + Math.fround(scale * Math.fround(cond - uncond)));
  }
  return out;
}

/** [1, 3, h, w] in [-1, 1] → interleaved 8-bit RGB, as diffusers' VaeImageProcessor (x / 2 + 0.5, clamp, × 255, round). */
function toRgb(chw: Float32Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.min(1, Math.max(0, chw[c * plane + p]! / 2 + 0.5));
      out[p * 3 + c] = Math.round(v * 255);
    }
  }
  return out;
}

function randomSeed(): number {
  const word = new Uint32Array(1);
  globalThis.crypto.getRandomValues(word);
  return word[0]!;
}
