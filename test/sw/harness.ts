/**
 * What the Service Worker tests share: a Vite dev server of their own (the generated models at
 * /models/, cross-origin isolated, no HMR or watcher) and Debian's Chromium through Playwright.
 * They run in the Node project, not in the browser one: a Service Worker takes every request in
 * its scope, and going offline would cut the browser runner's own connection.
 */
import { fileURLToPath } from 'node:url';
import { createServer, type InlineConfig, type ViteDevServer } from 'vite';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright';
import { ISOLATION_HEADERS, WORKER_DEPS, modelsPlugin } from '../../build/vite-plugins.js';

/** The repository: the pages import src/ and worker/ from above their own root. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** As in vitest.config.ts: without these, Chromium tries connections this machine refuses. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * A dev server for `root` (a folder of the repository), with its own dependency cache so that it
 * never re-optimizes another server's (the benchmark's, the browser tests').
 */
export async function startVite(root: string, config: InlineConfig = {}): Promise<{ server: ViteDevServer; origin: string }> {
  const server = await createServer({
    root: join(ROOT, root),
    cacheDir: join(ROOT, 'node_modules', `.vite-${root.replace(/[^a-z0-9]+/gi, '-')}`),
    configFile: false,
    logLevel: 'warn',
    plugins: [modelsPlugin('.fixtures/models')],
    optimizeDeps: { include: WORKER_DEPS },
    worker: { format: 'es' },
    ...config,
    // No watcher and no HMR: an edit elsewhere in the tree must not reload a page mid-test.
    server: { headers: ISOLATION_HEADERS, host: '127.0.0.1', port: 0, fs: { allow: [ROOT] }, watch: null, hmr: false, ...config.server },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as { port: number };
  return { server, origin: `http://127.0.0.1:${port}` };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A browser with a profile on disk (removed by `close`): Chromium reports every page of an
 * in-memory (incognito) context as not installable.
 */
export async function launchWithProfile(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'local-endpoint-sw-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
