/**
 * ViLT for visual-question-answering (`model_type` "vilt", ViltForQuestionAnswering: the
 * transformers pipeline's default, dandelin/vilt-b32-finetuned-vqa). Engine side.
 *
 * What runs, as transformers does it:
 * - ViltProcessor: the BERT tokenizer on the question, truncated to the model's
 *   `max_position_embeddings` (40 for ViLT; the tokenizer's `model_max_length`, if lower, wins),
 *   keeping [CLS] … [SEP]; token_type_ids 0 and attention_mask 1.
 * - ViltImageProcessor (`image_processing_vilt.py`), from `preprocessor_config.json`: RGB; resize
 *   (`do_resize`) so the shorter side is `size.shortest_edge` (or a bare `size`, as older configs
 *   write it; 384) and the longer at most int(1333 / 800 × shortest_edge) (639), each side rounded
 *   and then floored to a multiple of `size_divisor` (32), resampled with `resample` (3: bicubic,
 *   PIL's: the engine makes RawImage.resize PIL-exact); `do_rescale` by `rescale_factor` (1/255),
 *   `do_normalize` with `image_mean` / `image_std` (0.5 / 0.5), in float32 as numpy does; and
 *   `pixel_mask` [1, H, W], all ones for one image (`do_pad` pads a batch to its largest image,
 *   and a single image is its own largest).
 * - ViltForQuestionAnswering's logits → sigmoid → the `top_k` best answers (default 5, at most the
 *   number of labels) over `config.id2label`, as `VisualQuestionAnsweringPipeline.postprocess`:
 *   `[{"score", "answer"}]`, best first.
 *
 * The ONNX layout this expects (optimum does not export ViLT), `onnx/model.onnx`:
 *   inputs  input_ids, attention_mask, token_type_ids: int64 [batch, sequence]
 *           pixel_values: float32 [batch, 3, height, width]
 *           pixel_mask: int64 [batch, height, width]
 *   output  logits: float32 [batch, num_labels]
 * with `config.json` (id2label), `preprocessor_config.json`, `tokenizer.json` and
 * `tokenizer_config.json` at the repo root. Integer inputs the graph declares int32 are sent as
 * int32; inputs the graph does not declare (a trace that dropped token_type_ids) are not sent.
 * To export one: load `ViltForQuestionAnswering.from_pretrained(…)` in eval mode and call
 * `torch.onnx.export(model, (input_ids, attention_mask, token_type_ids, pixel_values, pixel_mask),
 * "onnx/model.onnx", input_names=[those five], output_names=["logits"], opset_version=17,
 * dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, (the same for attention_mask and
 * token_type_ids), "pixel_values": {0: "batch", 2: "height", 3: "width"}, "pixel_mask": {0:
 * "batch", 1: "height", 2: "width"}, "logits": {0: "batch"}})` with example inputs from
 * ViltProcessor, then copy the processor's files beside it (`processor.save_pretrained`).
 * visual_embed loops over the batch and samples patches in Python, so check that the trace did not
 * fix the example's patch grid (try other aspect ratios); see `.notes/vilt.md`.
 */
import { EndpointError, badRequest } from '../../protocol/errors.js';
import type { LoadContext, OnnxModel, RunContext, TensorLike } from '../types.js';
import type { VisionTextModel, VqaAnswer } from './vision-text-model.js';

// -- ViltImageProcessor ---------------------------------------------------------------------------

/** What ViltImageProcessor does, read from `preprocessor_config.json` with its defaults. */
export interface ViltImageConfig {
  doResize: boolean;
  shortestEdge: number;
  sizeDivisor: number;
  /** PIL's resample code (or name), passed on to RawImage.resize. */
  resample: number | string;
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  mean: [number, number, number];
  std: [number, number, number];
  doPad: boolean;
}

/** ViltImageProcessor's defaults (IMAGENET_STANDARD mean and std). */
export const VILT_IMAGE_DEFAULTS: ViltImageConfig = {
  doResize: true,
  shortestEdge: 384,
  sizeDivisor: 32,
  resample: 3,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  doPad: true,
};

/** `preprocessor_config.json` → ViltImageConfig; a value of the wrong kind is the model's error, named. */
export function readViltImageConfig(json: unknown, model = 'the model'): ViltImageConfig {
  const c = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  const fail = (what: string) => new EndpointError(500, `${model}'s preprocessor_config.json: ${what}`);
  const bool = (key: string, fallback: boolean) => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw fail(`${key} must be true or false.`);
    return v;
  };
  const positive = (key: string, v: unknown, fallback: number, integer: boolean) => {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !(v > 0) || (integer && !Number.isInteger(v))) throw fail(`${key} must be a positive ${integer ? 'integer' : 'number'}.`);
    return v;
  };
  const triple = (key: string, fallback: [number, number, number]): [number, number, number] => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'number') return [v, v, v];
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as [number, number, number];
    throw fail(`${key} must be a number or three numbers.`);
  };
  // `size`: {"shortest_edge": n} (get_size_dict), or a bare number as older configs write it.
  let shortestEdge = VILT_IMAGE_DEFAULTS.shortestEdge;
  const size = c.size;
  if (typeof size === 'number') shortestEdge = positive('size', size, shortestEdge, true);
  else if (size && typeof size === 'object') {
    const s = size as Record<string, unknown>;
    if (s.shortest_edge === undefined) throw fail(`size must have "shortest_edge" (ViltImageProcessor resizes by the shorter side), got ${JSON.stringify(size)}.`);
    shortestEdge = positive('size.shortest_edge', s.shortest_edge, shortestEdge, true);
  }
  const std = triple('image_std', VILT_IMAGE_DEFAULTS.std);
  if (std.some((x) => x === 0)) throw fail('image_std must not be 0.');
  const resample = c.resample ?? VILT_IMAGE_DEFAULTS.resample;
  if (typeof resample !== 'number' && typeof resample !== 'string') throw fail('resample must be a PIL resampling code.');
  return {
    doResize: bool('do_resize', VILT_IMAGE_DEFAULTS.doResize),
    shortestEdge,
    sizeDivisor: positive('size_divisor', c.size_divisor, VILT_IMAGE_DEFAULTS.sizeDivisor, true),
    resample,
    doRescale: bool('do_rescale', VILT_IMAGE_DEFAULTS.doRescale),
    rescaleFactor: positive('rescale_factor', c.rescale_factor, VILT_IMAGE_DEFAULTS.rescaleFactor, false),
    doNormalize: bool('do_normalize', VILT_IMAGE_DEFAULTS.doNormalize),
    mean: triple('image_mean', VILT_IMAGE_DEFAULTS.mean),
    std,
    // `pad_and_return_pixel_mask` is the older name of do_pad.
    doPad: bool('do_pad', bool('pad_and_return_pixel_mask', VILT_IMAGE_DEFAULTS.doPad)),
  };
}

/**
 * The size ViltImageProcessor resizes an image of `height` × `width` to (get_resize_output_image_size):
 * the shorter side to `shortestEdge`, the longer at most int(1333 / 800 × shortestEdge), each side
 * rounded half up, then floored to a multiple of `sizeDivisor`. A side can come out 0 for an image
 * of an extreme aspect ratio.
 */
export function viltResizeSize(height: number, width: number, shortestEdge: number, sizeDivisor: number): { height: number; width: number } {
  const longest = Math.trunc((1333 / 800) * shortestEdge);
  const scale = shortestEdge / Math.min(height, width);
  let h: number;
  let w: number;
  if (height < width) {
    h = shortestEdge;
    w = scale * width;
  } else {
    h = scale * height;
    w = shortestEdge;
  }
  if (Math.max(h, w) > longest) {
    const s = longest / Math.max(h, w);
    h *= s;
    w *= s;
  }
  const round = (x: number) => Math.trunc(x + 0.5);
  return {
    height: Math.floor(round(h) / sizeDivisor) * sizeDivisor,
    width: Math.floor(round(w) / sizeDivisor) * sizeDivisor,
  };
}

/** A transformers.js RawImage, as far as ViLT uses it. */
export interface ViltRawImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
  rgb(): ViltRawImage;
  resize(width: number, height: number, options: { resample: number | string }): Promise<ViltRawImage>;
}

export interface ViltPixels {
  /** float32 [3, height, width] (channels first). */
  pixelValues: Float32Array;
  /** int64 [height, width]: 1 where the pixel is the image's, 0 where it is padding. */
  pixelMask: BigInt64Array;
  height: number;
  width: number;
}

/**
 * 8-bit RGB pixels (height × width × 3, as RawImage holds them) → pixel_values [3, H, W], as
 * ViltImageProcessor: rescale (in float64, then float32, as numpy's rescale) and normalise (in
 * float32: (x − mean) / std), then channels first.
 */
export function viltPixelValues(rgb: ArrayLike<number>, height: number, width: number, config: ViltImageConfig): Float32Array {
  const plane = height * width;
  const out = new Float32Array(3 * plane);
  const f = Math.fround;
  const mean = config.mean.map(f);
  const std = config.std.map(f);
  for (let c = 0; c < 3; c++) {
    const m = mean[c]!;
    const s = std[c]!;
    for (let p = 0; p < plane; p++) {
      let v = rgb[p * 3 + c]!;
      if (config.doRescale) v = f(v * config.rescaleFactor);
      if (config.doNormalize) v = f(f(v - m) / s);
      out[c * plane + p] = v;
    }
  }
  return out;
}

/** pixel_mask of one image padded to `padHeight` × `padWidth` (make_pixel_mask): 1 inside the image, 0 outside. */
export function viltPixelMask(height: number, width: number, padHeight = height, padWidth = width): BigInt64Array {
  const mask = new BigInt64Array(padHeight * padWidth);
  for (let y = 0; y < height; y++) mask.fill(1n, y * padWidth, y * padWidth + width);
  return mask;
}

/** The most patches an image may give the model (a 2048 × 2048 image at patch 32); only reachable with do_resize false. */
export const MAX_VILT_PATCHES = 4096;

/** A decoded image (RawImage) → what ViltImageProcessor gives the model for it. */
export async function preprocessViltImage(image: ViltRawImage, config: ViltImageConfig, patchSize: number): Promise<ViltPixels> {
  let rgb = image.channels === 3 ? image : image.rgb(); // the pipeline's load_image: PIL convert("RGB")
  if (config.doResize) {
    const size = viltResizeSize(rgb.height, rgb.width, config.shortestEdge, config.sizeDivisor);
    if (size.height < 1 || size.width < 1) {
      throw badRequest(
        `The image is ${rgb.width}×${rgb.height} pixels: too narrow for this model, whose resize (shorter side ${config.shortestEdge}, ` +
          `longer side at most ${Math.trunc((1333 / 800) * config.shortestEdge)}, multiples of ${config.sizeDivisor}) leaves it no pixels; send an image closer to square.`,
      );
    }
    rgb = await rgb.resize(size.width, size.height, { resample: config.resample });
  }
  const { width, height } = rgb;
  if (height < patchSize || width < patchSize) {
    throw badRequest(`The image is ${width}×${height} pixels, smaller than one ${patchSize}×${patchSize} patch of this model.`);
  }
  const patches = Math.floor(height / patchSize) * Math.floor(width / patchSize);
  if (patches > MAX_VILT_PATCHES) {
    throw new EndpointError(413, `The image is ${width}×${height} pixels, ${patches} patches for this model (which does not resize); at most ${MAX_VILT_PATCHES} are allowed.`);
  }
  // One image is its own batch's largest, so padding adds nothing and the mask is all ones.
  return { pixelValues: viltPixelValues(rgb.data, height, width, config), pixelMask: viltPixelMask(height, width), height, width };
}

// -- the question -----------------------------------------------------------------------------

interface ViltTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  model_max_length?: number;
}

/**
 * The question's token ids, with the tokenizer's special tokens, truncated to `maxLength` as
 * transformers truncates one sequence: words are dropped from the end, the special tokens kept
 * (transformers.js would cut the final [SEP] off).
 */
export function questionIds(tokenizer: ViltTokenizer, question: string, maxLength: number): number[] {
  const full = tokenizer.encode(question);
  if (full.length <= maxLength) return full;
  const plain = tokenizer.encode(question, { add_special_tokens: false });
  const specials = full.length - plain.length;
  let prefix = 0;
  while (prefix <= specials && !plain.every((id, i) => full[prefix + i] === id)) prefix++;
  if (prefix > specials || maxLength <= specials) return full.slice(0, maxLength); // not [specials] words [specials]: plain truncation
  return [...full.slice(0, prefix), ...plain.slice(0, maxLength - specials), ...full.slice(prefix + plain.length)];
}

// -- the model ----------------------------------------------------------------------------------

const SIGMOID = (x: number) => 1 / (1 + Math.exp(-x));

/** Logits → the `topK` best answers by sigmoid score, best first (VisualQuestionAnsweringPipeline.postprocess). */
export function topAnswers(logits: ArrayLike<number>, labels: readonly string[], topK: number): VqaAnswer[] {
  const scored = Array.from({ length: labels.length }, (_, i) => ({ i, score: Math.fround(SIGMOID(logits[i]!)) }));
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.slice(0, Math.min(topK, labels.length)).map(({ i, score }) => ({ score, answer: labels[i]! }));
}

const REQUIRED_INPUTS = ['input_ids', 'pixel_values'];

export async function loadVilt(ctx: LoadContext): Promise<VisionTextModel> {
  const name = JSON.stringify(ctx.model);
  const config = ((await ctx.readJSON('config.json')) ?? {}) as Record<string, unknown>;
  const id2label = config.id2label as Record<string, unknown> | undefined;
  const count = id2label && typeof id2label === 'object' ? Object.keys(id2label).length : 0;
  if (count === 0) throw badRequest(`Model ${name} is a ViLT model without answers: its config.json has no id2label.`);
  const labels = Array.from({ length: count }, (_, i) => String(id2label![String(i)] ?? `LABEL_${i}`));
  const patchSize = typeof config.patch_size === 'number' && config.patch_size > 0 ? config.patch_size : 32;
  const maxPositions = typeof config.max_position_embeddings === 'number' && config.max_position_embeddings > 2 ? config.max_position_embeddings : 40;
  const imageConfig = readViltImageConfig(await ctx.readJSON('preprocessor_config.json'), `Model ${name}`);
  // The repo root's tokenizer.json through transformers.js's AutoTokenizer (ctx.tokenizer(subfolder) reads `<subfolder>/…`).
  const tokenizer = (await ctx.pretrained('AutoTokenizer')) as ViltTokenizer;
  const maxLength = Math.min(maxPositions, tokenizer.model_max_length ?? Infinity);
  const session: OnnxModel = await ctx.session('onnx');
  const declared = new Map(session.inputs.map((i) => [i.name, i]));
  const missing = REQUIRED_INPUTS.filter((n) => !declared.has(n));
  if (missing.length > 0) {
    await session.dispose();
    throw badRequest(
      `Model ${name}'s onnx/model.onnx is not a ViLT export: it lacks ${missing.join(' and ')} (its inputs: ${[...declared.keys()].join(', ')}); ` +
        'ViLT takes input_ids, attention_mask, token_type_ids, pixel_values and pixel_mask.',
    );
  }
  const integers = (input: string, values: ArrayLike<number | bigint>, dims: number[]): TensorLike => {
    if (declared.get(input)?.type === 'int32') return ctx.tensor('int32', Int32Array.from(values, Number), dims);
    return ctx.tensor('int64', values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v)), dims);
  };

  return {
    family: 'vilt',
    async answer(image, question, { topK }, _run: RunContext) {
      const pixels = await preprocessViltImage(image as ViltRawImage, imageConfig, patchSize);
      const ids = questionIds(tokenizer, question, maxLength);
      const n = ids.length;
      const feeds: Record<string, TensorLike> = {
        input_ids: integers('input_ids', ids, [1, n]),
        attention_mask: integers('attention_mask', new Array<number>(n).fill(1), [1, n]),
        token_type_ids: integers('token_type_ids', new Array<number>(n).fill(0), [1, n]),
        pixel_values: ctx.tensor('float32', pixels.pixelValues, [1, 3, pixels.height, pixels.width]),
        pixel_mask: integers('pixel_mask', pixels.pixelMask, [1, pixels.height, pixels.width]),
      };
      for (const input of Object.keys(feeds)) if (!declared.has(input)) delete feeds[input];
      const outputs = await session(feeds);
      const logits = outputs.logits ?? Object.values(outputs)[0];
      if (!logits || logits.data.length !== labels.length) {
        throw new EndpointError(500, `Model ${name} gave ${logits?.data.length ?? 0} logits for the ${labels.length} answers of its config.json id2label.`);
      }
      return topAnswers(logits.data, labels, topK);
    },
    dispose: () => session.dispose(),
  };
}
