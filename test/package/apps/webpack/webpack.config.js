// A minimal webpack 5 app: nothing for the worker or the WASM, which webpack finds by itself.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: './src/main.js',
  output: { path: fileURLToPath(new URL('./dist', import.meta.url)), clean: true },
};
