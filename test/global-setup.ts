/**
 * Before any test: generate the fixture models (and a few deliberately broken copies for the
 * error tests), and start real `local-endpoint serve` processes as the remote Endpoints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { generateFixtures } from '../fixtures/generate.js';
import { SHARED_MEDIA } from '../fixtures/media-location.js';
import { refusedUrl } from './client/policy-proxy.js';

export const MODELS_DIR = '.fixtures/models';
export const CLASSIFIER = 'local-endpoint/tiny-bert-classifier';
export const ENCODER = 'local-endpoint/tiny-bert-encoder';

declare module 'vitest' {
  export interface ProvidedContext {
    remote: Record<keyof typeof SERVED, string> & {
      /** Answers 503 to everything, like a cold Endpoint. */
      cold: string;
      /** Accepts connections and never answers. */
      hanging: string;
      /** Nothing listens there. */
      down: string;
    };
  }
}

/** The Node-served Endpoints the tests use as the remote side, one process each. */
const SERVED = {
  textClassification: ['text-classification', CLASSIFIER],
  featureExtraction: ['feature-extraction', ENCODER],
  sentenceEmbeddings: ['sentence-embeddings', ENCODER],
  sentenceSimilarity: ['sentence-similarity', ENCODER],
  zeroShotClassification: ['zero-shot-classification', 'local-endpoint/tiny-bert-nli'],
  fillMask: ['fill-mask', 'local-endpoint/tiny-bert-mlm'],
  ranking: ['ranking', 'local-endpoint/tiny-bert-cross-encoder'],
  tokenClassification: ['token-classification', 'local-endpoint/tiny-roberta-ner'],
  questionAnswering: ['question-answering', 'local-endpoint/tiny-bert-qa'],
  imageClassification: ['image-classification', 'local-endpoint/tiny-vit-classifier'],
  objectDetection: ['object-detection', 'local-endpoint/tiny-yolos'],
  imageSegmentation: ['image-segmentation', 'local-endpoint/tiny-segformer'],
  panopticSegmentation: ['image-segmentation', 'local-endpoint/tiny-maskformer'],
  zeroShotImageClassification: ['zero-shot-image-classification', 'local-endpoint/tiny-clip'],
  speechRecognition: ['automatic-speech-recognition', 'local-endpoint/tiny-wav2vec2-ctc'],
  audioClassification: ['audio-classification', 'local-endpoint/tiny-wav2vec2-classifier'],
  textGeneration: ['text-generation', 'local-endpoint/tiny-llama'],
  conversational: ['conversational', 'local-endpoint/tiny-qwen3-chat'],
  text2textGeneration: ['text2text-generation', 'local-endpoint/tiny-t5'],
  summarization: ['summarization', 'local-endpoint/tiny-bart'],
  translation: ['translation', 'local-endpoint/tiny-m2m100'],
  textToImage: ['text-to-image', 'local-endpoint/tiny-sd'],
  tableQuestionAnswering: ['table-question-answering', 'local-endpoint/tiny-tapas'],
  tapex: ['table-question-answering', 'local-endpoint/tiny-tapex'],
  visionLanguage: ['visual-question-answering', 'local-endpoint/tiny-smolvlm'],
  imageToText: ['image-to-text', 'local-endpoint/tiny-smolvlm'],
  visualQuestionAnswering: ['visual-question-answering', 'local-endpoint/tiny-vilt'],
  customText: ['custom', 'local-endpoint/tiny-handler-text'],
  customImage: ['custom', 'local-endpoint/tiny-handler-image'],
  customStream: ['custom', 'local-endpoint/tiny-handler-stream'],
} as const;

type Remote = import('vitest').ProvidedContext['remote'];

/**
 * Vitest runs a project's globalSetup once per project, and all three projects name this file:
 * without sharing, every run generated the fixtures and started the 30 `serve` processes three
 * times (90 processes). The first project's setup does the work; the others get the same URLs.
 * The state lives on globalThis because each project may load this module afresh.
 */
interface Shared {
  ready?: Promise<Remote>;
  users: number;
  children: ChildProcess[];
  servers: http.Server[];
}
const SHARED_KEY = Symbol.for('local-endpoint:test-global-setup');
const shared: Shared = ((globalThis as Record<symbol, Shared>)[SHARED_KEY] ??= { users: 0, children: [], servers: [] });
const { children, servers } = shared;

export default async function setup(project: TestProject) {
  shared.users++;
  shared.ready ??= prepare();
  project.provide('remote', await shared.ready);
  return async () => {
    if (--shared.users > 0) return; // another project still runs tests against them
    shared.ready = undefined;
    for (const child of children.splice(0)) child.kill('SIGTERM');
    for (const s of servers.splice(0)) s.closeAllConnections?.(), s.close();
  };
}

async function prepare(): Promise<Remote> {
  await generateFixtures(MODELS_DIR);
  await writeBrokenModels(MODELS_DIR);
  // The shared test media, served to the browser tests at /models/test-media/, and the other
  // audio formats made from them.
  await cp(SHARED_MEDIA, join(MODELS_DIR, 'test-media'), { recursive: true });
  await makeAudioFormats(join(MODELS_DIR, 'test-media'));
  // LE_SERVED=textGeneration,ranking (names of SERVED) starts only those, for a quick run of a
  // few files; the others then point at a port where nothing listens.
  const only = process.env.LE_SERVED?.split(',').map((name) => name.trim()).filter(Boolean);
  const nobody = only ? await refusedUrl() : '';
  const urls = await Promise.all(
    Object.entries(SERVED).map(([name, [task, model]]) => (only && !only.includes(name) ? nobody : startServe(task, model))),
  );
  const served = Object.fromEntries(Object.keys(SERVED).map((name, i) => [name, urls[i]!])) as Record<keyof typeof SERVED, string>;
  const cold = await listen((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' }).end();
      return;
    }
    res.writeHead(503, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' });
    res.end(JSON.stringify({ error: 'Endpoint is initializing' }));
  });
  const hanging = await listen((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' }).end();
    } // otherwise: never answer
  });
  const down = await refusedUrl();
  return { ...served, cold, hanging, down };
}

/** Copies of the tiny classifier, each broken in one real way. */
async function writeBrokenModels(dir: string) {
  const source = join(dir, CLASSIFIER);
  const broken = join(dir, 'test-broken');
  await rm(broken, { recursive: true, force: true });
  await mkdir(broken, { recursive: true });

  // An ONNX file that is not ONNX: the session load fails (and poisons a browser worker).
  await cp(source, join(broken, 'corrupt-classifier'), { recursive: true });
  await writeFile(join(broken, 'corrupt-classifier/onnx/model.onnx'), new TextEncoder().encode('this is not an onnx model'.repeat(40)));

  // A tokenizer that allows more tokens than the model has positions: long inputs fail inside
  // ONNX Runtime (Gather out of range on WASM), which poisons a browser worker.
  await cp(source, join(broken, 'overlong-tokenizer-classifier'), { recursive: true });
  const tcPath = join(broken, 'overlong-tokenizer-classifier/tokenizer_config.json');
  const tc = JSON.parse(await readFile(tcPath, 'utf8'));
  await writeFile(tcPath, JSON.stringify({ ...tc, model_max_length: 4096 }, null, 2));

  // A model whose only weights are the fp16 variant, as many Hub repos ship for WebGPU. The
  // SwiftShader adapter has no shader-f16, so WebGPU refuses it and `auto` must use WASM. (The
  // file holds the fp32 graph: what is tested is the refusal and the fallback, not fp16 maths.)
  await cp(source, join(broken, 'fp16-classifier'), { recursive: true });
  await cp(join(source, 'onnx/model.onnx'), join(broken, 'fp16-classifier/onnx/model_fp16.onnx'));
  await rm(join(broken, 'fp16-classifier/onnx/model.onnx'));
  const cfgPath = join(broken, 'fp16-classifier/config.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  await writeFile(cfgPath, JSON.stringify({ ...cfg, 'transformers.js_config': { dtype: 'fp16' } }, null, 2));
}

/**
 * The audio formats the Endpoint accepts that the shared media lack, made from sample1.wav by
 * ffmpeg (installed by .ci/run from Debian), the same recording inside webm, mp4 and ogg videos,
 * and a recording over 30 s for chunked recognition.
 */
async function makeAudioFormats(dir: string) {
  const source = join(dir, 'sample1.wav');
  const outputs: [string, string[]][] = [
    ['sample1.opus.ogg', ['-c:a', 'libopus', '-b:a', '64k']],
    ['sample1.vorbis.ogg', ['-c:a', 'libvorbis', '-q:a', '5']],
    ['sample1.webm', ['-c:a', 'libopus', '-b:a', '64k']],
    ['sample1.m4a', ['-c:a', 'aac', '-b:a', '96k']],
  ];
  const run = (args: string[]) =>
    new Promise<void>((ok, fail) => {
      const child = spawn('ffmpeg', ['-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.once('error', (e) => fail(new Error(`ffmpeg is needed to make the test audio (apt-get install ffmpeg): ${e.message}`)));
      child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`ffmpeg ${args.join(' ')} failed: ${err}`))));
    });
  await Promise.all(outputs.map(([name, codec]) => run(['-i', source, ...codec, join(dir, name)])));
  // The same recording as the audio track of a video, the video track first (as cameras and
  // MediaRecorder write them), with the audio codec settings of the audio-only files above.
  const video = ['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-i', source, '-shortest', '-pix_fmt', 'yuv420p'];
  const videos: [string, string[]][] = [
    ['sample1.video.webm', ['-c:v', 'libvpx', '-c:a', 'libopus', '-b:a', '64k']],
    ['sample1.video.mp4', ['-c:v', 'libx264', '-c:a', 'aac', '-b:a', '96k']],
    ['sample1.video.ogv', ['-c:v', 'libtheora', '-c:a', 'libvorbis', '-q:a', '5']],
  ];
  await Promise.all([
    ...videos.map(([name, codecs]) => run([...video, ...codecs, join(dir, name)])),
    // A video with no audio track at all.
    run(['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', '-c:v', 'libvpx', join(dir, 'video-only.webm')]),
  ]);
  // 3 × 13.7 s = 41 s, longer than Whisper's 30 s window.
  await run(['-i', source, '-i', source, '-i', source, '-filter_complex', '[0:a][1:a][2:a]concat=n=3:v=0:a=1', join(dir, 'long.wav')]);
}

/** Starts the real CLI (from the source, through tsx: no build needed) and reads its URL from its first line. */
function startServe(task: string, model: string): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--task', task, '--model', model, '--models-dir', MODELS_DIR, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/listening on (http:\/\/\S+)/);
      if (match) ok(match[1]!);
    });
    child.once('exit', (code) => fail(new Error(`serve ${task} exited with ${code}: ${out}`)));
  });
}

function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

