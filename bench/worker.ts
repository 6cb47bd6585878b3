/**
 * The benchmark's worker: the engine and a direct transformers.js pipeline on the same model, in
 * the same worker, so that the two are measured side by side.
 */
import * as Comlink from 'comlink';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { pipeline } from '@huggingface/transformers';
import { Engine } from '../worker/engine.js';
import { browserRuntime } from '../worker/runtime-browser.js';
import { decodeAudio, decodeImage } from '../worker/media/decode.js';

type Pipe = ((text: string, options: Record<string, unknown>) => Promise<{ tolist(): number[][] }>) & {
  tokenizer: (text: string) => { input_ids: { dims: number[] } };
};

const engine = new Engine(browserRuntime({ wasmPaths: { mjs, wasm } }));
let direct: Pipe | undefined;

/** What a generation run measured, in ms from its start. */
export interface GenerationTiming {
  /** Time to the first generated token. */
  firstMs: number;
  /** Time to the last generated token. */
  lastMs: number;
  ids: number[];
}

interface Generator {
  tokenizer: (text: string) => Record<string, unknown>;
  model: { generate(options: Record<string, unknown>): Promise<unknown> };
}
let generator: Generator | undefined;

type Tensors = Record<string, unknown>;
/** A transformers.js pipeline's two halves: the processor (preprocessing) and the model. */
interface MediaPipe {
  processor: (input: unknown) => Promise<Tensors>;
  model: (inputs: Tensors) => Promise<Tensors>;
}
const mediaPipes: Partial<Record<'image' | 'audio', MediaPipe>> = {};

/** Where a media request's time goes, timed inside the worker, in ms. */
export interface MediaTiming {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  /** For audio: the recording's length in seconds. */
  seconds?: number;
}
const OPTIONS = { pooling: 'mean', normalize: true };

const bench = {
  engine,
  async loadDirect(model: string, device: string): Promise<number> {
    direct = (await pipeline('feature-extraction', model, { device: device as never })) as unknown as Pipe;
    return 0;
  },
  tokens(text: string): number {
    return direct!.tokenizer(text).input_ids.dims[1]!;
  },
  /** What a hand-written worker would do: call the pipeline, turn the tensor into an array. */
  async direct(text: string): Promise<number[]> {
    return (await direct!(text, OPTIONS)).tolist()[0]!;
  },
  /** The same call, timed inside the worker (no messaging at all). */
  async directTimed(text: string): Promise<number> {
    const t0 = performance.now();
    (await direct!(text, OPTIONS)).tolist();
    return performance.now() - t0;
  },
  ping(): void {},
  /** A body moved to the worker (copied or transferred, as the caller chose). */
  receive(bytes: Uint8Array): number {
    return bytes.byteLength;
  },
  async loadMedia(kind: 'image' | 'audio', model: string, device: string): Promise<void> {
    const task = kind === 'image' ? 'image-classification' : 'audio-classification';
    mediaPipes[kind] = (await pipeline(task, model, { device: device as never })) as unknown as MediaPipe;
  },
  /**
   * The engine's own decoders (worker/media.ts), then the pipeline's processor and model, each
   * timed: what one image or audio request costs, stage by stage. `infer: false` skips the model.
   */
  async mediaTimed(kind: 'image' | 'audio', bytes: Uint8Array, infer = true): Promise<MediaTiming> {
    const pipe = mediaPipes[kind]!;
    const t0 = performance.now();
    const decoded = kind === 'image' ? await decodeImage(bytes) : await decodeAudio(bytes, 16000);
    const t1 = performance.now();
    const inputs = await pipe.processor(decoded);
    const t2 = performance.now();
    if (infer) await pipe.model(inputs);
    const t3 = performance.now();
    return {
      decodeMs: t1 - t0,
      preprocessMs: t2 - t1,
      inferenceMs: t3 - t2,
      ...(kind === 'audio' ? { seconds: (decoded as Float32Array).length / 16000 } : {}),
    };
  },
  async loadDirectGenerator(model: string, device: string): Promise<void> {
    generator = (await pipeline('text-generation', model, { device: device as never })) as unknown as Generator;
  },
  /**
   * A hand-written worker's generation: tokenizer, then model.generate with a streamer, greedy,
   * timed inside the worker (no messaging at all).
   */
  async directGenerate(prompt: string, maxNewTokens: number): Promise<GenerationTiming> {
    const inputs = generator!.tokenizer(prompt);
    const ids: number[] = [];
    let firstMs = 0;
    let lastMs = 0;
    let prompted = false;
    const t0 = performance.now();
    await generator!.model.generate({
      ...inputs,
      max_new_tokens: maxNewTokens,
      do_sample: false,
      streamer: {
        put(value: bigint[][]) {
          if (!prompted) {
            prompted = true; // the first call carries the prompt
            return;
          }
          lastMs = performance.now() - t0;
          if (ids.length === 0) firstMs = lastMs;
          ids.push(Number(value[0]![0]));
        },
        end() {},
      },
    });
    return { firstMs, lastMs, ids };
  },
};

export type BenchWorker = typeof bench;
Comlink.expose(bench);
