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
  build: { outDir: '../dist/demo', emptyOutDir: true, target: 'es2022' },
});
