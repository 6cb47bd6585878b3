import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { ISOLATION_HEADERS, WORKER_DEPS, modelsPlugin } from './build/vite-plugins.js';

/** The demo: `npm start` serves it, with the generated models at /models/. */
export default defineConfig({
  root: 'demo',
  plugins: [modelsPlugin('.fixtures/models')],
  server: { headers: ISOLATION_HEADERS, port: 5173, host: '127.0.0.1', fs: { allow: ['..'] } },
  preview: { headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
  optimizeDeps: { include: WORKER_DEPS },
  build: {
    outDir: '../dist/demo',
    emptyOutDir: true,
    target: 'es2022',
    // The Service Worker (demo/sw.ts) is an entry of its own, written to sw.js beside index.html:
    // a Service Worker's scope is its folder, and its URL must not change between builds.
    rolldownOptions: {
      input: { index: fileURLToPath(new URL('./demo/index.html', import.meta.url)), sw: fileURLToPath(new URL('./demo/sw.ts', import.meta.url)) },
      output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
});
