/**
 * The package as its users get it (`npm run test:package`, run by .ci/run after `npm test`):
 * `npm pack` (prepack builds dist/), then three apps in a fresh temporary folder, outside the
 * repo, that install the tarball from the npm registry's point of view:
 *
 * - a create-vite `vanilla-ts` app, built by its own `tsc && vite build`, served by `vite preview`;
 * - a webpack 5 app with a minimal config, served by a small static server (no COOP/COEP);
 * - a plain Node app (`"type": "module"`) using `local-endpoint/node`, and the tarball's CLI.
 *
 * Both pages run in Chromium, must answer a text and an image task with real answer shapes, and
 * must make no request outside their own origin (the worker's included). Nothing is cached
 * between runs but npm's own download cache. Prints the figures (tarball, bundle sizes) at the end.
 * KEEP_CONSUMERS=1 keeps the temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright';
import { FIXTURE_SPECS, writeFixtures } from '../../fixtures/generate.js';

/** Error texts found only in task runners (the generation loop, embeddings), never in a spec. */
const RUNNER_ONLY_TEXT = [
  'so it cannot take chat messages. Send a text prompt instead.',
  'The prompt is empty once tokenized.',
  "over the model's maximum of",
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APPS = join(ROOT, 'test/package/apps');
const TEXT_MODEL = 'local-endpoint/tiny-bert-classifier';
const IMAGE_MODEL = 'local-endpoint/tiny-vit-classifier';
/** A decoder, for a structured (JSON schema) completion and TGI's /info. */
const GENERATIVE_MODEL = 'local-endpoint/tiny-llama';
/** An example custom handler (its handler.js calls TEXT_MODEL's text-classification). */
const HANDLER_MODEL = 'local-endpoint/tiny-handler-text';
/** create-vite's major: a new major is a deliberate update here, not a surprise in CI. */
const CREATE_VITE = 'vite@9';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * The apps' npm runs get none of this npm run's own `npm_*` variables (they name the repo as the
 * prefix and package); onnxruntime-node's postinstall must not download CUDA files.
 */
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'));
Object.assign(ENV, { ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' });

const started = performance.now();
const children: ChildProcess[] = [];
const servers: http.Server[] = [];
let browser: Browser | undefined;
const checks: { name: string; ok: boolean; detail?: string }[] = [];
const figures: Record<string, string> = {};

const work = await mkdtemp(join(tmpdir(), 'local-endpoint-consumers-'));
log(`working in ${work}`);
try {
  await main();
} catch (err) {
  checks.push({ name: 'the run itself', ok: false, detail: (err as Error).stack ?? String(err) });
} finally {
  await browser?.close().catch(() => {});
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  for (const server of servers) server.close();
  if (process.env.KEEP_CONSUMERS === '1') log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
report();

async function main(): Promise<void> {
  // 1. The tarball (prepack builds dist/) and the two tiny models, side by side.
  const models = join(work, 'models');
  const [tarball] = await Promise.all([pack(), step('models', () => writeFixtures(models, FIXTURE_SPECS.filter((s) => [TEXT_MODEL, IMAGE_MODEL, HANDLER_MODEL, GENERATIVE_MODEL].includes(s.id))))]);
  const labels = {
    text: await labelsOf(join(models, TEXT_MODEL)),
    image: await labelsOf(join(models, IMAGE_MODEL)),
  };

  // 2. The three apps, installed side by side.
  const viteApp = join(work, 'app-vite');
  const webpackApp = join(work, 'app-webpack');
  const nodeApp = join(work, 'app-node');
  await step('create-vite vanilla-ts', () => run('npm', ['create', '--yes', CREATE_VITE, 'app-vite', '--', '--template', 'vanilla-ts'], work));
  await rm(join(viteApp, 'src'), { recursive: true });
  await cp(join(APPS, 'vite'), viteApp, { recursive: true });
  await cp(join(APPS, 'webpack'), webpackApp, { recursive: true });
  await cp(join(APPS, 'node'), nodeApp, { recursive: true });
  for (const [app, dir] of [[viteApp, 'public/models'], [webpackApp, 'public/models'], [nodeApp, 'models']] as const) {
    await cp(models, join(app, dir), { recursive: true });
  }
  await Promise.all([
    step('install: vite app', () => run('npm', ['install', tarball], viteApp)),
    step('install: webpack app', () => run('npm', ['install', 'webpack@5', 'webpack-cli@6', tarball], webpackApp)),
    step('install: node app', () => run('npm', ['install', tarball], nodeApp)),
  ]);

  // 3. The builds (the Vite app's includes its own tsc), and the Node app meanwhile.
  await Promise.all([
    step('build: vite app (tsc && vite build)', () => run('npm', ['run', 'build'], viteApp)),
    step('build: webpack app', () => run('npm', ['run', 'build'], webpackApp)),
    step('node app', () => checkNode(nodeApp, labels.text)),
  ]);
  await step('node app: the CLI from the tarball', () => checkCli(nodeApp, labels.text));
  await step('vite app: tsc without skipLibCheck', async () => {
    // The template skips .d.ts checks; the package's own must pass without that too.
    const out = await run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '--skipLibCheck', 'false'], viteApp).catch((err: Error) => err.message);
    const ours = out.split('\n').filter((line) => line.includes('node_modules/local-endpoint/'));
    check('vite app: the shipped .d.ts pass tsc (TS 7, strict template) without skipLibCheck', ours.length === 0, ours.join('\n'));
  });
  await measureBundles(viteApp, webpackApp);

  // 4. Both pages in Chromium.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const vitePort = await freePort();
  const preview = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', String(vitePort), '--strictPort'], {
    cwd: viteApp,
    env: ENV,
    stdio: 'ignore',
  });
  children.push(preview);
  await step('vite preview: page', () => checkPage(`http://127.0.0.1:${vitePort}/`, labels, false));
  const staticUrl = await serveStatic([join(webpackApp, 'dist'), join(webpackApp, 'public')], { '/ort/': join(webpackApp, 'node_modules/onnxruntime-web/dist') });
  await step('webpack: page', () => checkPage(`${staticUrl}/`, labels, true));
}

/** `npm pack` of the repo into the work folder; checks that only the package's files ship. */
async function pack(): Promise<string> {
  return step('npm pack (prepack: npm run build)', async () => {
    const out = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT, true);
    const [info] = JSON.parse(out) as { filename: string; size: number; unpackedSize: number; entryCount: number; files: { path: string }[] }[];
    const paths = info!.files.map((f) => f.path);
    const shipped = /^(dist\/(src|worker)\/.+\.(js|d\.ts)|bin\/local-endpoint\.js|README\.md|LICENSE|package\.json)$/;
    const strays = paths.filter((p) => !shipped.test(p) || /(^|\/)(test|tests|fixtures|demo|bench|\.ci)\/|\.test\./.test(p));
    check('tarball: only dist/src, dist/worker, bin, README and package.json', strays.length === 0, strays.join(', '));
    for (const entry of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/worker/index.js', 'dist/src/sw/index.js', 'dist/src/sw/index.d.ts', 'dist/src/node/index.js', 'dist/src/cli/main.js']) {
      check(`tarball: has ${entry}`, paths.includes(entry));
    }
    figures['tarball'] = `${info!.entryCount} files, ${kb(info!.size)} packed, ${kb(info!.unpackedSize)} unpacked`;
    return join(work, info!.filename);
  });
}

async function checkNode(app: string, labels: string[]): Promise<void> {
  const out = JSON.parse((await run(process.execPath, ['main.js'], app)).trim().split('\n').at(-1)!) as {
    served: { status: number; body: unknown };
    inProcess: unknown;
    tasks: string[];
  };
  check('node: serve() answers 200', out.served.status === 200, JSON.stringify(out.served));
  checkClassification('node: serve() text-classification', out.served.body, labels);
  checkClassification('node: createNodeEngine + createLocalFetch in process', out.inProcess, labels);
  check('node: supportedTasks lists text-classification', out.tasks.includes('text-classification'));
}

/** The tarball's `local-endpoint serve`, as npm linked it. */
async function checkCli(app: string, labels: string[]): Promise<void> {
  const bin = join(app, 'node_modules/.bin/local-endpoint');
  const child = spawn(bin, ['serve', '--task', 'text-classification', '--model', TEXT_MODEL, '--models-dir', 'models', '--port', '0'], { cwd: app, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`no URL from the CLI in 60 s: ${out}`)), 60_000);
      const read = (chunk: Buffer) => {
        out += chunk.toString();
        const match = out.match(/listening on (http:\/\/\S+)/);
        if (match) {
          clearTimeout(timer);
          ok(match[1]!);
        }
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      child.once('exit', (code) => fail(new Error(`the CLI exited with ${code}: ${out}`)));
    });
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'I love this library', parameters: { top_k: 3 } }) });
    check('cli: serve answers 200', response.status === 200);
    checkClassification('cli: text-classification', await response.json(), labels);
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * `<le-widget>` from `local-endpoint/widgets`: defined by the import, answered from a click in the
 * bundled worker, one bar per label of its answer, each as wide as its score.
 */
function checkWidget(name: string, widget: unknown, labels: string[]): void {
  const { answer, bars, defined } = (widget ?? {}) as { answer?: { label: string; score: number }[]; bars?: number[]; defined?: boolean };
  check(`${name}: local-endpoint/widgets defines <le-widget>`, defined === true);
  checkClassification(`${name}: <le-widget> text-classification answered from its Run button`, answer, labels);
  const follow = Array.isArray(answer) && bars?.length === answer.length && answer.every((row, i) => Math.abs(bars[i]! - row.score) < 0.01);
  check(`${name}: <le-widget> draws a bar per label, as wide as its score`, follow, JSON.stringify({ answer, bars }));
}

/** Opens the app, waits for its answers, checks them and every request its page and workers made. */
async function checkPage(url: string, labels: { text: string[]; image: string[] }, withCustomEngine: boolean): Promise<void> {
  const name = withCustomEngine ? 'webpack' : 'vite';
  await waitForHttp(url);
  const context = await browser!.newContext();
  const requests: string[] = [];
  // The context sees the requests of the page and of its dedicated workers alike.
  context.on('request', (request) => requests.push(request.url()));
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { results?: unknown }).results, null, { timeout: 180_000, polling: 250 });
    const results = (await page.evaluate(() => (window as unknown as { results: unknown }).results)) as Record<string, unknown>;
    check(`${name}: the page answered without an error`, !results.error, String(results.error ?? ''));
    if (results.error) return;
    checkClassification(`${name}: text-classification`, results.text, labels.text);
    checkClassification(`${name}: image-classification`, results.image, labels.image);
    const status = results.status as { runtime?: string; pipelines?: { state: string; task: string }[] };
    check(`${name}: the answers came from the worker (runtime browser, 2 pipelines ready)`, status.runtime === 'browser' && status.pipelines?.filter((p) => p.state === 'ready' && p.task !== 'custom').length === 2, JSON.stringify(status));
    // The custom handler ran in the bundled worker (a dynamic import of the model folder's handler.js) and got the whole body.
    const handler = results.handler as { labels?: unknown; extra?: unknown; text?: unknown } | undefined;
    checkClassification(`${name}: custom: the model folder's handler.js ran in the worker, its pipeline call answered`, handler?.labels, labels.text);
    check(`${name}: custom: the body's other keys reached call(data)`, JSON.stringify(handler?.extra) === '{"moreData":1}' && handler?.text === 'I love this library', JSON.stringify(handler));
    checkStructured(name, results.structured);
    checkWidget(name, results.widget, labels.text);
    if (!withCustomEngine) {
      // The app's own Service Worker (local-endpoint/sw, built from the tarball) answered a plain fetch through the page.
      checkClassification(`${name}: local-endpoint/sw: a plain fetch to /api/classify, answered through serveFromPage`, results.sw, labels.text);
    }
    if (withCustomEngine) {
      checkClassification(`${name}: createWorker (own worker importing local-endpoint/worker) + wasmPaths: text-classification`, results.custom, labels.text);
      check(`${name}: createWorker: the app's own worker ran`, requests.some((r) => new URL(r).pathname === '/my-worker.js'), requests.join(', '));
      check(`${name}: wasmPaths: the WASM came from the URLs given`, requests.some((r) => r.endsWith('/ort/ort-wasm-simd-threaded.asyncify.wasm')) && requests.some((r) => r.endsWith('/ort/ort-wasm-simd-threaded.asyncify.mjs')));
    }
    const origin = new URL(url).origin;
    const foreign = requests.filter((r) => !sameOrigin(r, origin));
    check(`${name}: no request left ${origin} (${requests.length} requests)`, foreign.length === 0, foreign.join(', '));
    const wasm = requests.filter((r) => new URL(r).pathname.endsWith('.wasm'));
    check(`${name}: the WASM binary came from the app's own files`, wasm.length >= 1 && wasm.every((r) => sameOrigin(r, origin)), wasm.join(', '));
    check(`${name}: the model files were fetched`, [TEXT_MODEL, IMAGE_MODEL].every((m) => requests.some((r) => r.includes(`/models/${m}/onnx/model.onnx`))));
    check(`${name}: no uncaught page error`, errors.length === 0, errors.join(' | '));
  } finally {
    await context.close();
  }
}

/**
 * The structured completion: its text is JSON valid against the apps' WEATHER schema (a boolean
 * `sunny`, an integer `celsius` in [-20, 40], nothing else), which only the grammar (xgrammar, loaded
 * in the bundled worker) can make a random-weights model write; and TGI's /info names the model.
 */
function checkStructured(name: string, value: unknown): void {
  const { answer, info } = (value ?? {}) as { answer?: { choices?: { text?: string; finish_reason?: string }[] }; info?: { model_id?: string } };
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(answer?.choices?.[0]?.text ?? '');
  } catch {
    // reported below
  }
  const weather = parsed as { sunny?: unknown; celsius?: unknown } | null;
  const valid =
    weather !== null && typeof weather === 'object' && Object.keys(weather).sort().join() === 'celsius,sunny' &&
    typeof weather.sunny === 'boolean' && Number.isInteger(weather.celsius) && (weather.celsius as number) >= -20 && (weather.celsius as number) <= 40;
  check(`${name}: response_format json_schema: the worker's constrained answer is valid JSON of the schema`, valid && answer?.choices?.[0]?.finish_reason === 'stop', JSON.stringify(value));
  check(`${name}: TGI's GET /info through the local fetch names the model`, info?.model_id === GENERATIVE_MODEL, JSON.stringify(info));
}

/** A classification answer over all labels: each label once, scores in [0, 1], summing to 1, best first. */
function checkClassification(name: string, answer: unknown, labels: string[]): void {
  const list = answer as { label?: unknown; score?: unknown }[];
  const ok =
    Array.isArray(list) &&
    list.length === labels.length &&
    list.every((e) => typeof e.label === 'string' && typeof e.score === 'number' && e.score >= 0 && e.score <= 1) &&
    new Set(list.map((e) => e.label)).size === labels.length &&
    list.every((e) => labels.includes(e.label as string)) &&
    Math.abs(list.reduce((a, e) => a + (e.score as number), 0) - 1) < 1e-4 &&
    list.every((e, i) => i === 0 || (list[i - 1]!.score as number) >= (e.score as number));
  check(name, ok, JSON.stringify(answer));
}

/** The page bundle (the entry's JS), the worker bundle and the whole output of each app. */
async function measureBundles(viteApp: string, webpackApp: string): Promise<void> {
  const ortWasm = (await stat(join(viteApp, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm'))).size;
  // The app's Service Worker, built from local-endpoint/sw: the proxy and app shell only, no model code.
  const sw = await readFile(join(viteApp, 'dist/sw.js'), 'utf8').catch(() => '');
  const modelCode = ['InferenceSession', 'onnxruntime', 'transformers.js', 'InferenceClient'].filter((name) => sw.includes(name));
  check('vite: the Service Worker (dist/sw.js) was built from local-endpoint/sw, with no model or client code', sw.includes('serveFromPage') && modelCode.length === 0, `${sw.length} bytes; holds ${modelCode.join(', ')}`);
  figures['vite: Service Worker'] = `${kb(sw.length)}, ${kb(gzipSync(sw).length)} gzipped`;
  for (const [name, dist, html] of [
    ['vite', join(viteApp, 'dist'), join(viteApp, 'dist/index.html')],
    ['webpack', join(webpackApp, 'dist'), join(webpackApp, 'public/index.html')],
  ] as const) {
    const files = await listFiles(dist);
    const entry = (await readFile(html, 'utf8')).match(/<script[^>]*src="\/?([^"]+)"/)![1]!;
    const entryCode = await readFile(join(dist, entry));
    // The worker: the script the page bundle starts with `new Worker(new URL("…"` (Vite), or the
    // chunk webpack names after the Worker's `name` option.
    const workerName = entryCode.toString().match(/new Worker\(new URL\(\s*[`"']([^`"']+)[`"']/)?.[1]?.replace(/^\.?\//, '') ?? 'local-endpoint.js';
    const workerFile = files.find((f) => f.path === workerName);
    const js = files.filter((f) => /\.m?js$/.test(f.path));
    const wasm = files.filter((f) => f.path.endsWith('.wasm'));
    const models = files.filter((f) => f.path.startsWith('models/'));
    check(`${name}: the build has one WASM binary, onnxruntime-web's asyncify one`, wasm.length === 1 && wasm[0]!.size === ortWasm, wasm.map((f) => `${f.path} ${mb(f.size)}`).join(', '));
    check(`${name}: the build has the package's worker (${workerName})`, Boolean(workerFile), `worker ${workerName} not found in ${dist}`);
    // webpack moves what its two workers share into a chunk each one loads first: count it in.
    let workerCode = workerFile ? await readFile(join(dist, workerFile.path)) : Buffer.alloc(0);
    const shared = workerCode.toString().match(/\.O\(void 0,\[([\d,]+)\]/)?.[1]?.split(',').map((id) => `${id}.js`) ?? [];
    for (const chunk of shared) workerCode = Buffer.concat([workerCode, await readFile(join(dist, chunk))]);
    // The page bundle drops the task runners (the registry's runners() is engine-only); the worker has them.
    const runnerOnly = RUNNER_ONLY_TEXT.filter((text) => entryCode.includes(text) || !workerCode.includes(text));
    check(`${name}: the page bundle has no task runner code, the worker has it`, runnerOnly.length === 0, `misplaced: ${runnerOnly.join(' | ')}`);
    const total = files.reduce((a, f) => a + f.size, 0);
    const modelBytes = models.reduce((a, f) => a + f.size, 0);
    figures[`${name}: page bundle (${entry})`] = `${kb(entryCode.length)}, ${kb(gzipSync(entryCode).length)} gzipped`;
    figures[`${name}: worker bundle (${[workerFile?.path ?? '?', ...shared].join(' + ')})`] = `${kb(workerCode.length)}, ${kb(gzipSync(workerCode).length)} gzipped`;
    figures[`${name}: all JS`] = `${js.length} files, ${kb(js.reduce((a, f) => a + f.size, 0))}`;
    figures[`${name}: WASM`] = wasm.map((f) => `${f.path} ${mb(f.size)}`).join(', ');
    figures[`${name}: whole dist`] = `${files.length} files, ${mb(total)}${modelBytes ? ` (${mb(total - modelBytes)} without the test models)` : ''}`;
  }
}

async function listFiles(dir: string): Promise<{ path: string; size: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Promise.all(files.map(async (f) => ({ path: relative(dir, f).split(sep).join('/'), size: (await stat(f)).size })));
}

async function labelsOf(modelDir: string): Promise<string[]> {
  const config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
  return Object.values(config.id2label);
}

function sameOrigin(url: string, origin: string): boolean {
  if (url.startsWith('data:')) return true;
  const { protocol, origin: own } = new URL(url.startsWith('blob:') ? url.slice(5) : url);
  return (protocol === 'http:' || protocol === 'https:') && own === origin;
}

/** A static server for the webpack app: the files, 404 for the rest, nothing else. */
async function serveStatic(roots: string[], mounts: Record<string, string>): Promise<string> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const candidates = Object.entries(mounts)
      .filter(([prefix]) => path.startsWith(prefix))
      .map(([prefix, dir]) => [dir, path.slice(prefix.length)] as const);
    for (const [root, rest] of [...candidates, ...roots.map((r) => [r, path] as const)]) {
      const file = normalize(join(root, rest));
      if (!file.startsWith(root + sep)) continue;
      try {
        if (!statSync(file).isFile()) continue;
      } catch {
        continue;
      }
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function waitForHttp(url: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(url).catch(() => null);
    if (response?.ok) return;
    if (Date.now() > until) throw new Error(`${url} did not answer in 30 s`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/** Runs a command; its output is shown only when it fails. */
function run(command: string, args: string[], cwd: string, stdoutOnly = false): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd, env: cwd === ROOT ? process.env : ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let all = '';
    child.stdout!.on('data', (c: Buffer) => ((out += c), (all += c)));
    child.stderr!.on('data', (c: Buffer) => (all += c));
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? ok(stdoutOnly ? out : all) : fail(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${code}:\n${all.slice(-4000)}`))));
  });
}

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await body();
  } finally {
    log(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

function check(name: string, ok: boolean, detail?: string): void {
  checks.push({ name, ok, detail: ok ? undefined : detail });
  if (!ok) log(`FAIL ${name}${detail ? `\n  ${detail.slice(0, 2000)}` : ''}`);
}

function report(): never {
  console.log('\nFigures:');
  for (const [name, value] of Object.entries(figures)) console.log(`  ${name}: ${value}`);
  console.log('\nChecks:');
  for (const c of checks) console.log(`  ${c.ok ? '✓' : '✗'} ${c.name}${c.ok ? '' : `\n      ${(c.detail ?? '').slice(0, 2000).replace(/\n/g, '\n      ')}`}`);
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`\nconsumers: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  // The plain closing line CI reads.
  console.log(`consumers: ${checks.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 && checks.length > 0 ? 0 : 1);
}

function log(message: string): void {
  console.log(`[consumers] ${message}`);
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
