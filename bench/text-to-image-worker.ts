/**
 * The text-to-image benchmark's worker (bench/text-to-image-page.ts drives it): the engine, exactly
 * as `worker/index.ts` builds it (the page reaches it through a real `WorkerEngine`, given this
 * worker by `createWorker`), and beside it hand-written onnxruntime-web loops over the same model's
 * files (the page reaches those through a second comlink wrap of the same worker).
 *
 * Both run in one worker on one onnxruntime-web module instance (the one transformers.js uses, see
 * worker/runtime-browser.ts), so they share the WASM binary, its thread pool and `numThreads`.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { WorkerApi, WorkerLiveness } from '../src/protocol/engine.js';
import { Engine } from '../worker/engine.js';
import { browserRuntime } from '../worker/runtime-browser.js';
import { encodeRgbPng } from '../src/tasks/vision/mask-png.js';

const liveness: WorkerLiveness = {
  holdLiveness: (name) =>
    new Promise<void>((held, fail) => {
      navigator.locks.request(name, () => (held(), new Promise<never>(() => {}))).catch(fail);
    }),
  ping: () => Date.now(),
};

let unet: ort.InferenceSession | undefined;
let textEncoder: ort.InferenceSession | undefined;
let vaeDecoder: ort.InferenceSession | undefined;
/** The CLIP embeddings of [negative, prompt] at batch 2, [2, 77, hidden]. */
let hidden: ort.Tensor | undefined;
let side = 32;
const CHANNELS = 4;
const SEQUENCE = 77;

async function bytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** What transformers.js gives InferenceSession.create for a WASM session (executionProviders, external data). */
async function session(base: string, subfolder: string, external: boolean): Promise<ort.InferenceSession> {
  const graph = await bytes(`${base}${subfolder}/model.onnx`);
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], logSeverityLevel: 2 };
  if (external) options.externalData = [{ path: 'model.onnx_data', data: await bytes(`${base}${subfolder}/model.onnx_data`) }];
  return ort.InferenceSession.create(graph, options);
}

function randn(n: number, seed: number): Float32Array {
  // A small deterministic generator (Box–Muller over an LCG): the values do not change the cost.
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

/** CLIP's <|startoftext|> and <|endoftext|> (also the padding), read from the model's tokenizer.json. */
let bos = 0;
let eos = 0;

/** [2, 77] token ids: BOS, a few words, EOS, then padding with EOS (CLIP's pad), as the tokenizer gives. */
function tokenIds(): ort.Tensor {
  const ids = new Int32Array(2 * SEQUENCE).fill(eos);
  ids[0] = bos; // the empty negative prompt: BOS, EOS, padding
  ids[SEQUENCE] = bos;
  for (let i = 1; i <= 9; i++) ids[SEQUENCE + i] = 300 + i;
  return new ort.Tensor('int32', ids, [2, SEQUENCE]);
}

function hiddenFor(batch: 1 | 2, which = 1): ort.Tensor {
  if (batch === 2) return hidden!;
  const per = hidden!.data.length / 2;
  const data = (hidden!.data as Float32Array).slice(which * per, (which + 1) * per);
  return new ort.Tensor('float32', data, [1, ...hidden!.dims.slice(1)]);
}

const raw = {
  /** Opens the three sessions from the files the Vite server serves under `base` (…/bench-sd/). */
  async rawLoad(base: string, latentSide: number): Promise<{ threads: number; hiddenDims: readonly number[] }> {
    side = latentSide;
    const tokenizer = JSON.parse(new TextDecoder().decode(await bytes(`${base}tokenizer/tokenizer.json`))) as { added_tokens: { id: number; content: string }[] };
    bos = tokenizer.added_tokens.find((t) => t.content === '<|startoftext|>')!.id;
    eos = tokenizer.added_tokens.find((t) => t.content === '<|endoftext|>')!.id;
    textEncoder = await session(base, 'text_encoder', false);
    unet = await session(base, 'unet', true);
    vaeDecoder = await session(base, 'vae_decoder', false);
    const out = await textEncoder.run({ input_ids: tokenIds() });
    hidden = out.last_hidden_state!;
    return { threads: ort.env.wasm.numThreads ?? 1, hiddenDims: hidden.dims };
  },
  rawThreads: () => ort.env.wasm.numThreads ?? 1,

  /**
   * A hand-written denoising loop at batch 2 (classifier-free guidance): per step the latents
   * twice, one UNet call, guidance, a plain update of the latents. Returns the time of each
   * iteration, in ms, timed in this worker.
   */
  async rawUnetLoop(calls: number): Promise<number[]> {
    const n = CHANNELS * side * side;
    let latents = randn(n, 7);
    const times: number[] = [];
    let last = performance.now();
    for (let i = 0; i < calls; i++) {
      const both = new Float32Array(2 * n);
      both.set(latents);
      both.set(latents, n);
      const out = await unet!.run({
        sample: new ort.Tensor('float32', both, [2, CHANNELS, side, side]),
        timestep: new ort.Tensor('float32', new Float32Array([981 - 20 * i]), []),
        encoder_hidden_states: hidden!,
      });
      const predicted = out.out_sample!.data as Float32Array;
      const next = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const guided = predicted[j]! + 7.5 * (predicted[n + j]! - predicted[j]!);
        next[j] = latents[j]! - 0.02 * guided;
      }
      latents = next;
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times;
  },

  /** One guidance step's UNet work: one call at batch 2, or two calls at batch 1 (uncond, cond). Ms. */
  async rawCfg(mode: 'batch2' | 'two-batch1'): Promise<number> {
    const n = CHANNELS * side * side;
    const latents = randn(n, 11);
    const timestep = new ort.Tensor('float32', new Float32Array([501]), []);
    const t0 = performance.now();
    if (mode === 'batch2') {
      const both = new Float32Array(2 * n);
      both.set(latents);
      both.set(latents, n);
      await unet!.run({ sample: new ort.Tensor('float32', both, [2, CHANNELS, side, side]), timestep, encoder_hidden_states: hidden! });
    } else {
      for (const which of [0, 1]) {
        await unet!.run({ sample: new ort.Tensor('float32', latents.slice(), [1, CHANNELS, side, side]), timestep, encoder_hidden_states: hiddenFor(1, which) });
      }
    }
    return performance.now() - t0;
  },

  /** The CLIP text encoder at batch 2 (negative + prompt). Ms. */
  async rawTextEncode(): Promise<number> {
    const t0 = performance.now();
    await textEncoder!.run({ input_ids: tokenIds() });
    return performance.now() - t0;
  },

  /** The VAE decoder on [1, 4, side, side], then [-1, 1] → 8-bit RGB, then the PNG, each timed (ms). */
  async rawDecode(): Promise<{ vae: number; rgb: number; png: number; pngBytes: number }> {
    const latents = randn(CHANNELS * side * side, 5).map((x) => x / 0.18215);
    const t0 = performance.now();
    const out = await vaeDecoder!.run({ latent_sample: new ort.Tensor('float32', latents, [1, CHANNELS, side, side]) });
    const t1 = performance.now();
    const chw = out.sample!.data as Float32Array;
    const size = out.sample!.dims[2]!;
    const plane = size * size;
    const rgb = new Uint8Array(plane * 3);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(Math.min(1, Math.max(0, chw[c * plane + p]! / 2 + 0.5)) * 255);
    }
    const t2 = performance.now();
    const png = await encodeRgbPng(rgb, size, size);
    const t3 = performance.now();
    return { vae: t1 - t0, rgb: t2 - t1, png: t3 - t2, pngBytes: png.byteLength };
  },
};

export type TextToImageRaw = typeof raw;

// The engine API (for WorkerEngine) and the raw loops on the same endpoint: each comlink wrap
// calls only its own names (the raw ones all start with `raw`, so none hides an engine method).
const api: WorkerApi & WorkerLiveness & TextToImageRaw = Object.assign(new Engine(browserRuntime({ wasmPaths: { mjs, wasm } })), liveness, raw);
Comlink.expose(api);
