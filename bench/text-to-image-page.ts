/**
 * The page side of the text-to-image benchmark (bench/text-to-image.ts drives it). For each thread
 * count, one worker (bench/text-to-image-worker.ts) holds the engine, reached through a real
 * `WorkerEngine`, and hand-written onnxruntime-web sessions over the same bench-sd files:
 *
 * 1. per step: an engine request of `steps` denoising steps, timed on the page from its
 *    `{status: "step"}` progress events, against a raw loop of as many UNet calls at batch 2,
 *    alternating which goes first each round;
 * 2. guidance: one UNet call at batch 2 against two at batch 1, alternating;
 * 3. the request's parts: from the same engine requests (time to the first step event, the steps,
 *    from the last step event to the answer), and the raw sessions' text encoder, VAE decoder and
 *    PNG encoding on their own.
 */
import * as Comlink from 'comlink';
import { WorkerEngine } from '../src/index.ts';
import type { ProgressEvent } from '../src/protocol/engine.ts';
import type { TextToImageRaw } from './text-to-image-worker.ts';
import { quantile } from './stats.ts';

const MODEL = 'local-endpoint/bench-sd';
const PROMPT = 'a photo of an astronaut riding a horse on mars';

export interface TextToImageConfigResult {
  name: string;
  threads: number;
  rounds: number;
  steps: number;
  /** UNet calls per request (PNDM with skip_prk_steps makes one more than the steps). */
  calls: number;
  size: number;
  pngBytes: number;
  /** Medians over the rounds of each round's median ms per step (the step-to-step intervals after the first call). */
  engineStep: number;
  rawStep: number;
  /** Median over rounds of engine ÷ raw, paired within the round. */
  pairedRatio: number;
  engineStepP90: number;
  rawStepP90: number;
  /** Whole engine request (page → worker → page), median ms. */
  engineTotal: number;
  /** From the request to the first step event, minus one step: tokenizing, text encoder, noise, messaging. */
  beforeSteps: number;
  /** All the steps (first event − one step … last event). */
  denoise: number;
  /** From the last step event to the answer: VAE decode, RGB, PNG, the answer's trip. */
  afterSteps: number;
  cfg: { rounds: number; batch2: number; twoBatch1: number; paired: number };
  parts: { rounds: number; textEncoder: number; vae: number; rgb: number; png: number };
}

const median = (v: number[]) => quantile(v, 0.5);
const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function runConfig(name: string, threads: number, rounds: number, steps: number): Promise<TextToImageConfigResult> {
  let worker: Worker | undefined;
  const engine = new WorkerEngine({
    localModelPath: '/models/',
    numThreads: threads,
    createWorker: () => (worker = new Worker(new URL('./text-to-image-worker.ts', import.meta.url), { type: 'module' })),
  });
  try {
    const request = {
      task: 'text-to-image',
      model: MODEL,
      inputs: PROMPT,
      parameters: { num_inference_steps: steps, guidance_scale: 7.5, seed: 42 },
      device: 'wasm' as const,
    };
    const loaded = await engine.load(request);
    if (!loaded.ok) throw new Error(loaded.error);
    const status = await engine.status();
    const raw = Comlink.wrap<TextToImageRaw>(worker!);
    const size = 256;
    const info = await raw.rawLoad(`/models/${MODEL}/`, size / 8);
    if (info.threads !== threads || status.threads !== threads) throw new Error(`threads: engine ${status.threads}, raw ${info.threads}, wanted ${threads}`);

    /** One engine request, timed on the page from its progress events. */
    const engineRound = async () => {
      const events: number[] = [];
      let calls = 0;
      const onProgress = (e: ProgressEvent) => {
        if (e.status !== 'step') return;
        events.push(performance.now());
        calls = e.steps ?? calls;
      };
      const t0 = performance.now();
      const result = await engine.infer(request, onProgress);
      const end = performance.now();
      if (!result.ok) throw new Error(result.error);
      if (events.length !== calls || calls < 2) throw new Error(`${events.length} step events of ${calls}`);
      const intervals = events.slice(1).map((t, i) => t - events[i]!);
      // The median interval: robust to a spike from another process on this shared machine.
      const step = median(intervals);
      return { step, intervals, total: end - t0, calls, first: events[0]! - t0, last: events.at(-1)! - events[0]!, after: end - events.at(-1)!, output: result.output };
    };

    // Warm-up: both paths once (first runs plan memory), and the step count the engine makes.
    const warm = await engineRound();
    const calls = warm.calls;
    await raw.rawUnetLoop(calls);
    const pngBytes = pngSize(warm.output);

    const engineSteps: number[] = [];
    const rawSteps: number[] = [];
    const ratios: number[] = [];
    const totals: number[] = [];
    const before: number[] = [];
    const during: number[] = [];
    const after: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let e: Awaited<ReturnType<typeof engineRound>> | undefined;
      let r = 0;
      for (const which of round % 2 ? (['raw', 'engine'] as const) : (['engine', 'raw'] as const)) {
        await pause(100);
        if (which === 'engine') e = await engineRound();
        else r = median((await raw.rawUnetLoop(calls)).slice(1)); // as the engine's: the intervals after the first call
      }
      engineSteps.push(e!.step);
      rawSteps.push(r);
      ratios.push(e!.step / r);
      totals.push(e!.total);
      before.push(e!.first - e!.step);
      during.push(e!.last + e!.step);
      after.push(e!.after);
      console.log(`${name} round ${round + 1}/${rounds}: engine ${e!.step.toFixed(1)} ms/step, raw ${r.toFixed(1)} ms/step`);
    }

    // 2. Guidance at batch 2 against two batch-1 calls.
    const cfgRounds = Math.max(8, rounds);
    await raw.rawCfg('batch2');
    await raw.rawCfg('two-batch1');
    const batch2: number[] = [];
    const twoBatch1: number[] = [];
    const cfgRatios: number[] = [];
    for (let round = 0; round < cfgRounds; round++) {
      let a = 0;
      let b = 0;
      for (const mode of round % 2 ? (['two-batch1', 'batch2'] as const) : (['batch2', 'two-batch1'] as const)) {
        const ms = await raw.rawCfg(mode);
        if (mode === 'batch2') a = ms;
        else b = ms;
      }
      batch2.push(a);
      twoBatch1.push(b);
      cfgRatios.push(b / a);
    }

    // 3. The fixed parts on their own (raw sessions).
    const partRounds = Math.max(8, rounds);
    await raw.rawTextEncode();
    await raw.rawDecode();
    const te: number[] = [];
    const vae: number[] = [];
    const rgb: number[] = [];
    const png: number[] = [];
    for (let round = 0; round < partRounds; round++) {
      te.push(await raw.rawTextEncode());
      const d = await raw.rawDecode();
      vae.push(d.vae);
      rgb.push(d.rgb);
      png.push(d.png);
    }

    return {
      name,
      threads,
      rounds,
      steps,
      calls,
      size,
      pngBytes,
      engineStep: median(engineSteps),
      rawStep: median(rawSteps),
      pairedRatio: median(ratios),
      engineStepP90: quantile(engineSteps, 0.9),
      rawStepP90: quantile(rawSteps, 0.9),
      engineTotal: median(totals),
      beforeSteps: median(before),
      denoise: median(during),
      afterSteps: median(after),
      cfg: { rounds: cfgRounds, batch2: median(batch2), twoBatch1: median(twoBatch1), paired: median(cfgRatios) },
      parts: { rounds: partRounds, textEncoder: median(te), vae: median(vae), rgb: median(rgb), png: median(png) },
    };
  } finally {
    engine.terminate();
  }
}

/** The answer's PNG size, whatever form the engine gives it in (bytes, or base64 text). */
function pngSize(output: unknown): number {
  if (output instanceof Uint8Array) return output.byteLength;
  if (output instanceof ArrayBuffer) return output.byteLength;
  if (output && typeof output === 'object') {
    for (const v of Object.values(output as Record<string, unknown>)) {
      const n = pngSize(v);
      if (n > 0) return n;
    }
  }
  if (typeof output === 'string') return Math.floor((output.length * 3) / 4);
  return 0;
}

async function main() {
  const params = new URLSearchParams(location.search);
  const rounds = Math.max(5, Number(params.get('rounds') ?? 6));
  const steps = Number(params.get('steps') ?? 8);
  const threads = (params.get('threads') ?? '2,1').split(',').map(Number);
  const results: TextToImageConfigResult[] = [];
  for (const t of threads) results.push(await runConfig(`WASM, ${t} thread${t === 1 ? '' : 's'}`, t, rounds, steps));
  (window as unknown as { textToImageResults: unknown }).textToImageResults = { crossOriginIsolated, results };
}

main().catch((err) => {
  (window as unknown as { textToImageResults: unknown }).textToImageResults = { error: String(err?.stack ?? err) };
});
