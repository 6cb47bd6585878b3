import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { ISOLATION_HEADERS, WORKER_DEPS, modelsPlugin } from './build/vite-plugins.js';
import { axeCheck, startNetworkRecording, stopNetworkRecording, workerHeaps } from './test/browser-commands.js';
import { runSnippet } from './test/snippet-commands.js';

/** Debian's Chromium; Playwright's own browser download does not work here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without these, Chromium tries connections this machine refuses. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function browserProject(name: string, include: string, extraArgs: string[]) {
  return {
    plugins: [modelsPlugin('.fixtures/models')],
    server: { headers: ISOLATION_HEADERS },
    optimizeDeps: { include: WORKER_DEPS },
    worker: { format: 'es' as const },
    test: {
      name,
      include: [include],
      globalSetup: ['test/global-setup.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({
          launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] },
          // Room for a test's iframe at its own size: a smaller window scales it down (the widgets' screenshots).
          contextOptions: { viewport: { width: 1280, height: 1100 } },
        }),
        instances: [{ browser: 'chromium' as const }],
        commands: { axeCheck, runSnippet, startNetworkRecording, stopNetworkRecording, workerHeaps },
      },
    },
  };
}

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.node.test.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          // Writing every generated model (the benchmark ones are 220 MB) takes longer than 10 s.
          hookTimeout: 60_000,
        },
      },
      // WebGPU through SwiftShader: slow, but a real WebGPU adapter for correctness.
      browserProject('chromium', 'test/**/*.browser.test.ts', ['--enable-unsafe-webgpu']),
      // No WebGPU adapter: `auto` must fall back to WASM.
      browserProject('chromium-no-webgpu', 'test/**/*.no-webgpu.test.ts', []),
    ],
  },
});
