/**
 * The benchmark page. For each configuration it runs every variant once per round, in rotating
 * order, so that the machine's noise falls on all of them alike; then it reports medians.
 */
import * as Comlink from 'comlink';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch, type EngineInterface } from '../src/index.js';
import type { BenchWorker, MediaTiming } from './worker.js';
import type { Engine } from '../worker/engine.js';
import type { StreamEvent } from '../src/protocol/stream.js';
import { quantile } from './stats.js';

const MODEL = 'local-endpoint/bench-bert-encoder';
const URL_ = 'https://bench.local-endpoint.invalid/';
/** About 128 tokens of ordinary words (the exact count is measured and reported). */
const TEXT = Array.from({ length: 25 }, () => 'the good movie is great').join(' ').split(' ').slice(0, 126).join(' ');

const DIRECT_FIRST = new URLSearchParams(location.search).get('direct-first') === '1';

interface Config {
  name: string;
  device: 'wasm' | 'webgpu';
  threads: number;
  rounds: number;
  warmup: number;
}

export interface Row {
  variant: string;
  median: number;
  p90: number;
  n: number;
}

export interface BatchingResult {
  name: string;
  requests: number;
  tokens: number;
  rounds: number;
  /** Medians of the wall time for all the requests, in ms. */
  oneByOne: number;
  batched: number;
  meanBatchSize: number;
}

export interface ConfigResult {
  config: Config;
  tokens: number;
  rows: Row[];
}

async function runConfig(config: Config): Promise<ConfigResult> {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const remote = Comlink.wrap<BenchWorker>(worker);
  const engine = remote.engine as unknown as Comlink.Remote<Engine>;
  await engine.configure({ localModelPath: '/models/', numThreads: config.threads });
  const request = { task: 'feature-extraction', model: MODEL, inputs: TEXT, device: config.device };
  if (DIRECT_FIRST) await remote.loadDirect(MODEL, config.device);
  const loaded = await engine.load(request);
  if (!loaded.ok) throw new Error(loaded.error);
  if (!DIRECT_FIRST) await remote.loadDirect(MODEL, config.device);
  const tokens = await remote.tokens(TEXT);

  const localFetch = createLocalFetch({ engine: engine as unknown as EngineInterface, endpoints: { [URL_]: { task: 'feature-extraction', model: MODEL, device: config.device } } });
  const hf = new InferenceClient('', { endpointUrl: URL_, fetch: localFetch });

  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const variants: [string, () => Promise<number>][] = [
    ['pipeline call, timed inside the worker', () => remote.directTimed(TEXT)],
    ['pipeline call, page → worker → page', () => timed(() => remote.direct(TEXT))],
    ['engine request, page → worker → page', () => timed(async () => {
      const r = await engine.infer(request);
      if (!r.ok) throw new Error(r.error);
    })],
    ['InferenceClient + createLocalFetch + engine', () => timed(() => hf.featureExtraction({ inputs: TEXT }))],
    ['empty comlink round trip', () => timed(() => remote.ping())],
  ];

  // The engine and the direct pipeline must agree before they are compared.
  const viaEngine = (await engine.infer(request)) as { output: number[] };
  const viaDirect = await remote.direct(TEXT);
  const diff = Math.max(...viaDirect.map((x, i) => Math.abs(x - viaEngine.output[i]!)));
  if (!(diff < 1e-6)) throw new Error(`engine and direct pipeline disagree by ${diff}`);

  const samples = variants.map(() => [] as number[]);
  for (let round = 0; round < config.warmup + config.rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + round) % variants.length; // rotate the order every round
      const ms = await variants[i]![1]();
      if (round >= config.warmup) samples[i]!.push(ms);
    }
  }
  worker.terminate();
  return {
    config,
    tokens,
    rows: variants.map(([variant], i) => ({ variant, median: quantile(samples[i]!, 0.5), p90: quantile(samples[i]!, 0.9), n: samples[i]!.length })),
  };
}

/** A short sentence, as a search box or a chat message sends. */
const SENTENCE = 'I love this movie and the great city of berlin';
const BATCH_REQUESTS = 64;

/** 64 concurrent single-sentence requests, batched against one by one, alternating per round. */
async function runBatching(
  name: string,
  device: 'wasm' | 'webgpu',
  threads: number,
  rounds: number,
  text = SENTENCE,
): Promise<BatchingResult> {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const remote = Comlink.wrap<BenchWorker>(worker);
  const engine = remote.engine as unknown as Comlink.Remote<Engine>;
  await engine.configure({ localModelPath: '/models/', numThreads: threads });
  const request = { task: 'feature-extraction', model: MODEL, inputs: text, device };
  const loaded = await engine.load(request);
  if (!loaded.ok) throw new Error(loaded.error);
  await remote.loadDirect(MODEL, device);
  const tokens = await remote.tokens(text);

  const burst = async (batching: 'on' | 'off') => {
    await engine.configure({ batching });
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: BATCH_REQUESTS }, () => engine.infer(request)));
    const ms = performance.now() - t0;
    if (!results.every((r) => r.ok)) throw new Error('a batching request failed');
    const sizes = results.map((r) => (r as { batchSize: number }).batchSize);
    return { ms, meanBatch: sizes.reduce((a, b) => a + b, 0) / sizes.length };
  };
  await burst('on'); // warm-up of both paths
  await burst('off');
  const off: number[] = [];
  const on: number[] = [];
  const batchSizes: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const mode of round % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      const { ms, meanBatch } = await burst(mode);
      (mode === 'on' ? on : off).push(ms);
      if (mode === 'on') batchSizes.push(meanBatch);
    }
  }
  worker.terminate();
  return {
    name,
    requests: BATCH_REQUESTS,
    tokens,
    rounds,
    oneByOne: quantile(off, 0.5),
    batched: quantile(on, 0.5),
    meanBatchSize: batchSizes.reduce((a, b) => a + b, 0) / batchSizes.length,
  };
}

const GENERATOR = 'local-endpoint/bench-llama';
const GEN_PROMPT = 'The weather in Berlin is good and the people of the city like to walk in the park on a sunny day';
const GEN_TOKENS = 64;

export interface GenerationRow {
  variant: string;
  /** Medians over the rounds: time to first token (ms) and decode speed (tokens/s after the first). */
  ttft: number;
  tokensPerSecond: number;
}

export interface GenerationResult {
  name: string;
  rounds: number;
  promptTokens: number;
  newTokens: number;
  rows: GenerationRow[];
  /**
   * Paired per round, against the direct generate of the same round (so that drift between
   * rounds cancels): medians of the tokens/s ratio and of the added time to first token (ms).
   */
  paired: { variant: string; speedRatio: number; ttftAdded: number }[];
  /**
   * Constrained decoding: /v1/completions streamed through the engine, free and with a JSON
   * schema (xgrammar's mask at every step), alternating in the same rounds. Medians of tokens/s,
   * and of the per-round ratio json ÷ free.
   */
  constrained: { free: number; json: number; ratio: number; schemaTokens: number };
}

/** A schema no answer completes within GEN_TOKENS, so that both sides make exactly GEN_TOKENS tokens. */
const BENCH_SCHEMA = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      minItems: 30,
      items: { type: 'object', properties: { name: { type: 'string', maxLength: 24 }, score: { type: 'integer' } }, required: ['name', 'score'] },
    },
  },
  required: ['items'],
};

/**
 * Streaming generation on the benchmark decoder: the engine (streaming, timed on the page as
 * tokens arrive), the official client's textGenerationStream through the local fetch, and a direct
 * `model.generate` timed inside the same worker. Greedy, so all three make the same tokens.
 */
async function runGeneration(name: string, threads: number, rounds: number): Promise<GenerationResult> {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const remote = Comlink.wrap<BenchWorker>(worker);
  const engine = remote.engine as unknown as Comlink.Remote<Engine>;
  await engine.configure({ localModelPath: '/models/', numThreads: threads });
  const request = {
    task: 'text-generation',
    model: GENERATOR,
    inputs: GEN_PROMPT,
    device: 'wasm' as const,
    parameters: { max_new_tokens: GEN_TOKENS, return_full_text: false },
    stream: true,
  };
  const loaded = await engine.load(request);
  if (!loaded.ok) throw new Error(loaded.error);
  await remote.loadDirectGenerator(GENERATOR, 'wasm');
  // As WorkerEngine does: stream events come on a MessagePort of their own, and a request with a
  // signal gets a cancellation flag in shared memory (the local fetch gives every stream a signal).
  let requests = 0;
  const streamPort = (onEvent: (event: StreamEvent) => void) => {
    const channel = new MessageChannel();
    const ended = new Promise<void>((resolve) => {
      channel.port1.onmessage = ({ data }) => (data.type === 'end' ? (channel.port1.close(), resolve()) : onEvent(data));
    });
    return { port: Comlink.transfer(channel.port2, [channel.port2]), ended };
  };
  const engineLike: EngineInterface = {
    infer: async (r, onProgress, onStream, signal) => {
      const flag = signal ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
      const id = signal ? `bench-${++requests}` : undefined;
      signal?.addEventListener('abort', () => {
        Atomics.store(flag!, 0, 1);
        void engine.cancel(id!);
      });
      const stream = onStream ? streamPort(onStream) : undefined;
      const result = await engine.infer({ ...r, ...(id ? { id, cancelFlag: flag } : {}) }, onProgress && Comlink.proxy(onProgress), stream?.port);
      await stream?.ended;
      return result;
    },
    load: (r) => engine.load(r),
    status: () => engine.status(),
    dispose: (model) => engine.dispose(model),
    unload: (model) => engine.unload(model),
    listCached: () => engine.listCached(),
    deleteCached: (model) => engine.deleteCached(model),
    storageEstimate: () => engine.storageEstimate(),
  };
  const localFetch = createLocalFetch({ engine: engineLike, endpoints: { [URL_]: { task: 'text-generation', model: GENERATOR, device: 'wasm' } } });
  const hf = new InferenceClient('', { endpointUrl: URL_, fetch: localFetch });

  let promptTokens = 0;
  const viaEngine = async () => {
    const ids: number[] = [];
    let first = 0;
    let last = 0;
    const t0 = performance.now();
    const stream = streamPort((event) => {
      if (event.type === 'start') {
        promptTokens = event.promptTokens;
        return;
      }
      last = performance.now() - t0;
      if (!ids.length) first = last;
      ids.push(event.id);
    });
    // Cancellable, as a request with a signal is: an id and a shared flag.
    const result = await engine.infer(
      { ...request, id: `bench-${++requests}`, cancelFlag: new Int32Array(new SharedArrayBuffer(4)) },
      undefined,
      stream.port,
    );
    await stream.ended;
    if (!result.ok) throw new Error(result.error);
    return { firstMs: first, lastMs: last, ids };
  };
  const viaClient = async () => {
    let count = 0;
    let first = 0;
    let last = 0;
    const t0 = performance.now();
    for await (const _chunk of hf.textGenerationStream({ inputs: GEN_PROMPT, parameters: { max_new_tokens: GEN_TOKENS, do_sample: false } })) {
      last = performance.now() - t0;
      if (!count++) first = last;
    }
    return { firstMs: first, lastMs: last, ids: Array.from({ length: count }, () => 0) };
  };
  // /v1/completions through the engine, streamed, free or under a JSON schema (constrained decoding).
  const viaCompletions = (json: boolean) => async () => {
    const ids: number[] = [];
    let first = 0;
    let last = 0;
    const t0 = performance.now();
    const stream = streamPort((event) => {
      if (event.type === 'start') return;
      last = performance.now() - t0;
      if (!ids.length) first = last;
      ids.push(event.id);
    });
    const inputs = {
      prompt: GEN_PROMPT,
      max_tokens: GEN_TOKENS,
      temperature: 0,
      stream: true,
      ...(json ? { response_format: { type: 'json_schema', json_schema: { name: 'bench', schema: BENCH_SCHEMA } } } : {}),
    };
    const result = await engine.infer({ task: 'completions', model: GENERATOR, device: 'wasm', inputs, id: `bench-${++requests}`, cancelFlag: new Int32Array(new SharedArrayBuffer(4)) }, undefined, stream.port);
    await stream.ended;
    if (!result.ok) throw new Error(result.error);
    return { firstMs: first, lastMs: last, ids };
  };
  const variants: [string, () => Promise<{ firstMs: number; lastMs: number; ids: number[] }>][] = [
    ['direct model.generate, timed inside the worker', () => remote.directGenerate(GEN_PROMPT, GEN_TOKENS)],
    ['engine, streaming, timed on the page', viaEngine],
    ['InferenceClient.textGenerationStream + createLocalFetch', viaClient],
    ['engine, /v1/completions streamed, free', viaCompletions(false)],
    ['engine, /v1/completions streamed, json_schema (constrained decoding)', viaCompletions(true)],
  ];
  // The first constrained request loads xgrammar and compiles the schema: not a round.
  await variants[4]![1]();
  // The engine and the direct generate must make the same tokens before they are compared.
  const [a, b] = [await variants[0]![1](), await variants[1]![1]()];
  if (a.ids.join() !== b.ids.join()) throw new Error(`engine and direct generate disagree: ${a.ids} vs ${b.ids}`);

  const ttft = variants.map(() => [] as number[]);
  const speed = variants.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + round) % variants.length;
      const t = await variants[i]![1]();
      if (t.ids.length !== GEN_TOKENS) throw new Error(`${variants[i]![0]} made ${t.ids.length} tokens`);
      ttft[i]!.push(t.firstMs);
      speed[i]!.push(((t.ids.length - 1) * 1000) / (t.lastMs - t.firstMs));
    }
  }
  worker.terminate();
  return {
    name,
    rounds,
    promptTokens,
    newTokens: GEN_TOKENS,
    rows: variants.map(([variant], i) => ({ variant, ttft: quantile(ttft[i]!, 0.5), tokensPerSecond: quantile(speed[i]!, 0.5) })),
    paired: variants.slice(1).map(([variant], k) => ({
      variant,
      speedRatio: quantile(speed[k + 1]!.map((v, r) => v / speed[0]![r]!), 0.5),
      ttftAdded: quantile(ttft[k + 1]!.map((v, r) => v - ttft[0]![r]!), 0.5),
    })),
    constrained: {
      free: quantile(speed[3]!, 0.5),
      json: quantile(speed[4]!, 0.5),
      ratio: quantile(speed[4]!.map((v, r) => v / speed[3]![r]!), 0.5),
      schemaTokens: GEN_TOKENS,
    },
  };
}

const IMAGE_MODEL = 'local-endpoint/bench-vit-classifier';
const AUDIO_MODEL = 'local-endpoint/bench-wav2vec2-classifier';
/** The shared media, copied next to the models by bench/run.ts. */
const IMAGES = [['tiger.jpeg', 'image/jpeg'], ['tiger.png', 'image/png']] as const;
const SOUNDS = [['sample1.wav', 'audio/wav'], ['sample1.flac', 'audio/flac'], ['sample1.mp3', 'audio/mpeg']] as const;
const BODY_MB = 5;

export interface MediaRow {
  input: string;
  bytes: number;
  /** Audio length in seconds (audio only). */
  seconds?: number;
  /** Medians in ms, timed inside the worker. */
  decode: number;
  preprocess: number;
  /** Median of (decode + preprocess) ÷ inference, paired per round (audio: against the wav's inference). */
  share: number;
}

export interface MediaResult {
  name: string;
  rounds: number;
  image: { rows: MediaRow[]; inference: number; engine: number; stages: number };
  audio: { rows: MediaRow[]; inference: number; engine: number; stages: number; seconds: number };
  /** Moving a 5 MB body to the worker and back an answer: medians in ms over `transferRounds`. */
  transfer: { rounds: number; empty: number; copy: number; transfer: number; copyMinusTransfer: number };
}

/**
 * Images and sounds: per request, where the time goes inside the worker (the engine's decoders,
 * the pipeline's processor, the model), and the whole request through the library (WorkerEngine +
 * local fetch, raw body, in a worker of its own); then a 5 MB body moved to a worker by copy and by
 * transfer.
 */
async function runMedia(name: string, threads: number, rounds: number): Promise<MediaResult> {
  const fetchBytes = async (file: string) => new Uint8Array(await (await fetch(`/models/test-media/${file}`)).arrayBuffer());
  const files = Object.fromEntries(await Promise.all([...IMAGES, ...SOUNDS].map(async ([f]) => [f, await fetchBytes(f)] as const)));
  const fresh = (file: string) => files[file]!.slice(); // a copy to transfer, so the original stays usable

  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const remote = Comlink.wrap<BenchWorker>(worker);
  await (remote.engine as unknown as Comlink.Remote<Engine>).configure({ localModelPath: '/models/', numThreads: threads });
  await remote.loadMedia('image', IMAGE_MODEL, 'wasm');
  await remote.loadMedia('audio', AUDIO_MODEL, 'wasm');
  const timed = (kind: 'image' | 'audio', file: string, infer = true) => {
    const bytes = fresh(file);
    return remote.mediaTimed(kind, Comlink.transfer(bytes, [bytes.buffer]), infer);
  };

  const engine = new WorkerEngine({ localModelPath: '/models/', numThreads: threads });
  const URL_IMAGE = 'https://image.local-endpoint.invalid/';
  const URL_AUDIO = 'https://audio.local-endpoint.invalid/';
  const localFetch = createLocalFetch({
    engine,
    endpoints: {
      [URL_IMAGE]: { task: 'image-classification', model: IMAGE_MODEL, device: 'wasm' },
      [URL_AUDIO]: { task: 'audio-classification', model: AUDIO_MODEL, device: 'wasm' },
    },
  });
  const request = async (url: string, file: string, type: string) => {
    const t0 = performance.now();
    const response = await localFetch(url, { method: 'POST', headers: { 'content-type': type }, body: fresh(file) });
    if (!response.ok) throw new Error(`${file}: ${response.status} ${await response.text()}`);
    await response.json();
    return performance.now() - t0;
  };

  // Warm-up: every decoder loaded, both models run once in each worker.
  for (const [file] of IMAGES) await timed('image', file);
  for (const [file] of SOUNDS) await timed('audio', file, file === SOUNDS[0][0]);
  await request(URL_IMAGE, IMAGES[0][0], IMAGES[0][1]);
  await request(URL_AUDIO, SOUNDS[0][0], SOUNDS[0][1]);

  const imageT = IMAGES.map(() => [] as MediaTiming[]);
  const soundT = SOUNDS.map(() => [] as MediaTiming[]);
  const imageEngine: number[] = [];
  const audioEngine: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Images: each file decoded, preprocessed and inferred; then one request through the library.
    for (let k = 0; k < IMAGES.length; k++) {
      const i = (k + round) % IMAGES.length;
      imageT[i]!.push(await timed('image', IMAGES[i]![0]));
    }
    imageEngine.push(await request(URL_IMAGE, IMAGES[0][0], IMAGES[0][1]));
  }
  const audioRounds = Math.max(3, Math.round(rounds / 3));
  for (let round = 0; round < audioRounds; round++) {
    // Audio: inference (seconds per call) once per round, on the wav; the other formats decode only.
    for (let k = 0; k < SOUNDS.length; k++) {
      const i = (k + round) % SOUNDS.length;
      soundT[i]!.push(await timed('audio', SOUNDS[i]![0], i === 0));
    }
    audioEngine.push(await request(URL_AUDIO, SOUNDS[0][0], SOUNDS[0][1]));
  }
  engine.terminate();

  const median = (xs: number[]) => quantile(xs, 0.5);
  const rowsOf = (list: readonly (readonly [string, string])[], samples: MediaTiming[][], inferenceOf: (r: number, own: MediaTiming) => number) =>
    list.map(([input], i) => {
      const s = samples[i]!;
      return {
        input,
        bytes: files[input]!.byteLength,
        ...(s[0]!.seconds ? { seconds: s[0]!.seconds } : {}),
        decode: median(s.map((t) => t.decodeMs)),
        preprocess: median(s.map((t) => t.preprocessMs)),
        share: median(s.map((t, r) => (t.decodeMs + t.preprocessMs) / inferenceOf(r, t))),
      };
    });
  const imageInference = imageT.flat().map((x) => x.inferenceMs);
  const wav = soundT[0]!;
  const imageStages = median(imageT[0]!.map((t) => t.decodeMs + t.preprocessMs + t.inferenceMs));
  const audioStages = median(wav.map((t) => t.decodeMs + t.preprocessMs + t.inferenceMs));

  // A 5 MB body: structured-clone copy against transfer, each on a fresh buffer made before timing.
  const transferRounds = rounds * 2;
  const moves: Record<'empty' | 'copy' | 'transfer', number[]> = { empty: [], copy: [], transfer: [] };
  const diffs: number[] = [];
  const body = () => {
    const bytes = new Uint8Array(BODY_MB * 1024 * 1024);
    crypto.getRandomValues(bytes.subarray(0, 65536));
    return bytes;
  };
  const move = async (mode: 'empty' | 'copy' | 'transfer') => {
    const bytes = body();
    const t0 = performance.now();
    if (mode === 'empty') await remote.ping();
    else if (mode === 'copy') await remote.receive(bytes);
    else await remote.receive(Comlink.transfer(bytes, [bytes.buffer]));
    const ms = performance.now() - t0;
    if (mode === 'transfer' && bytes.byteLength !== 0) throw new Error('the body was copied, not transferred');
    return ms;
  };
  for (let i = 0; i < 5; i++) for (const mode of ['empty', 'copy', 'transfer'] as const) await move(mode);
  for (let round = 0; round < transferRounds; round++) {
    const order = (['empty', 'copy', 'transfer'] as const).map((_, k, all) => all[(k + round) % 3]!);
    const got: Partial<Record<'empty' | 'copy' | 'transfer', number>> = {};
    for (const mode of order) moves[mode].push((got[mode] = await move(mode)));
    diffs.push(got.copy! - got.transfer!);
  }
  worker.terminate();

  return {
    name,
    rounds,
    image: {
      rows: rowsOf(IMAGES, imageT, (_, own) => own.inferenceMs),
      inference: median(imageInference),
      engine: median(imageEngine),
      stages: imageStages,
    },
    audio: {
      rows: rowsOf(SOUNDS, soundT, (r) => wav[r]!.inferenceMs),
      inference: median(wav.map((t) => t.inferenceMs)),
      engine: median(audioEngine),
      stages: audioStages,
      seconds: wav[0]!.seconds!,
    },
    transfer: {
      rounds: transferRounds,
      empty: median(moves.empty),
      copy: median(moves.copy),
      transfer: median(moves.transfer),
      copyMinusTransfer: median(diffs),
    },
  };
}

async function main() {
  const params = new URLSearchParams(location.search);
  const rounds = Number(params.get('rounds') ?? 40);
  const configs: Config[] = [
    { name: 'WASM, 2 threads', device: 'wasm', threads: 2, rounds, warmup: 5 },
    { name: 'WASM, 1 thread', device: 'wasm', threads: 1, rounds, warmup: 5 },
  ];
  if (params.get('webgpu') !== '0') {
    // SwiftShader WebGPU takes ~1.5 s a call here: a few rounds show the overhead, not speed.
    configs.push({ name: 'WebGPU (SwiftShader)', device: 'webgpu', threads: 2, rounds: Math.min(rounds, 8), warmup: 2 });
  }
  const only = params.get('only')?.toLowerCase();
  const results: ConfigResult[] = [];
  for (const config of configs) if (!only || config.name.toLowerCase().includes(only)) results.push(await runConfig(config));
  const generation: GenerationResult[] = [];
  if (!only || only.includes('gen')) {
    const genRounds = Math.max(5, Math.round(rounds / 4));
    generation.push(await runGeneration('WASM, 2 threads', 2, genRounds));
    generation.push(await runGeneration('WASM, 1 thread', 1, genRounds));
  }
  const media: MediaResult[] = [];
  if (!only || only.includes('media')) {
    const mediaRounds = Math.max(5, Math.round(rounds / 2));
    media.push(await runMedia('WASM, 2 threads', 2, mediaRounds));
    media.push(await runMedia('WASM, 1 thread', 1, mediaRounds));
  }
  const batching: BatchingResult[] = [];
  if (!only || 'batching'.includes(only) || only.includes('batch')) {
    const wasmRounds = Math.max(3, Math.round(rounds / 8));
    batching.push(await runBatching('WASM, 2 threads', 'wasm', 2, wasmRounds));
    batching.push(await runBatching('WASM, 1 thread', 'wasm', 1, wasmRounds));
    // Long inputs, where compute dominates: does batching still pay on WASM?
    batching.push(await runBatching('WASM, 2 threads, long inputs', 'wasm', 2, wasmRounds, TEXT));
    if (params.get('webgpu') !== '0') batching.push(await runBatching('WebGPU (SwiftShader)', 'webgpu', 2, 2));
  }
  (window as unknown as { benchResults: unknown }).benchResults = { crossOriginIsolated, results, batching, generation, media };
  document.getElementById('out')!.textContent = JSON.stringify(results, null, 2);
}

main().catch((err) => {
  (window as unknown as { benchResults: unknown }).benchResults = { error: String(err?.stack ?? err) };
});
