/**
 * The Vite consumer's config: the app's own Service Worker (src/sw.ts, importing
 * local-endpoint/sw) is a second entry, written to a fixed /sw.js so its scope is the whole app.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  worker: { format: 'es' },
  build: {
    rolldownOptions: {
      input: { index: 'index.html', sw: 'src/sw.ts' },
      output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
});
