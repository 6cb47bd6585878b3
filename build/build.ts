/**
 * `npm run build` (and `prepack`): the package's dist/, with plain tsc, one run per environment
 * (tsconfig.page.json, tsconfig.worker.json, tsconfig.node.json). dist/ mirrors the source tree
 * (dist/src/…, dist/worker/…) one module per file, so that the relative `new URL(…,
 * import.meta.url)` references (the page's worker, the worker's WASM) mean the same in the source
 * and in the build, and the app's bundler sees them. Dependencies stay imports: nothing is bundled.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const started = performance.now();

// Only the package's own output: dist/demo (the demo's `vite build`) is left alone.
for (const dir of ['dist/src', 'dist/worker']) rmSync(join(root, dir), { recursive: true, force: true });

for (const project of ['tsconfig.page.json', 'tsconfig.worker.json', 'tsconfig.node.json']) {
  const run = spawnSync(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) fail(`tsc -p ${project} failed`);
}

// What the exports, the bin and the bundlers rely on.
const expect: [file: string, contains?: string][] = [
  ['dist/src/index.js'],
  ['dist/src/index.d.ts'],
  ['dist/src/node/index.js'],
  ['dist/src/node/index.d.ts'],
  ['dist/worker/index.d.ts'],
  // The Service Worker entry: the proxy and the app shell, with no engine or model runtime in its imports.
  ['dist/src/sw/index.js'],
  ['dist/src/sw/index.d.ts'],
  // The widgets: `<le-widget>` is defined on import.
  ['dist/src/widgets/index.js', 'defineWidgets()'],
  ['dist/src/widgets/index.d.ts'],
  ['dist/src/host/worker-engine.js', "new Worker(new URL('../../worker/index.js', import.meta.url)"],
  ['dist/worker/index.js', "new URL('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm', import.meta.url)"],
  ['dist/src/cli/main.js', '#!/usr/bin/env node'],
];
for (const [file, contains] of expect) {
  const path = join(root, file);
  if (!existsSync(path)) fail(`${file} is missing`);
  if (contains && !readFileSync(path, 'utf8').includes(contains)) fail(`${file} does not contain ${contains}`);
}
chmodSync(join(root, 'dist/src/cli/main.js'), 0o755);
console.error(`dist/ built in ${((performance.now() - started) / 1000).toFixed(1)} s`);

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}
