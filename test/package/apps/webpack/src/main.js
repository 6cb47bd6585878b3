/**
 * The webpack 5 consumer: the package's page API, a text and an image task, answered in the
 * package's own worker with the WASM files webpack emitted; then one request through an engine
 * with the app's own worker (src/worker.js, which imports `local-endpoint/worker`) and
 * `wasmPaths` (served by the test's static server at /ort/).
 */
import { LocalEndpointClient, WorkerEngine, createLocalFetch } from 'local-endpoint';
import 'local-endpoint/widgets';

/** The schema a structured answer must follow (response_format: json_schema, constrained decoding in the worker). */
const WEATHER = {
  type: 'object',
  properties: { sunny: { type: 'boolean' }, celsius: { type: 'integer', minimum: -20, maximum: 40 } },
  required: ['sunny', 'celsius'],
  additionalProperties: false,
};

/** A 32×32 PNG made here, so the app needs no image file. */
async function pngImage() {
  const canvas = new OffscreenCanvas(32, 32);
  const context = canvas.getContext('2d');
  context.fillStyle = '#c8322d';
  context.fillRect(0, 0, 32, 32);
  context.fillStyle = '#2d4bc8';
  context.fillRect(8, 8, 16, 16);
  return canvas.convertToBlob({ type: 'image/png' });
}

async function run() {
  const text = new LocalEndpointClient({ model: 'local-endpoint/tiny-bert-classifier' });
  const image = new LocalEndpointClient({ model: 'local-endpoint/tiny-vit-classifier' });
  const results = {
    text: await text.textClassification({ inputs: 'I love this library', parameters: { top_k: 3 } }),
    image: await image.imageClassification({ data: await pngImage(), parameters: { top_k: 5 } }),
    status: await text.status(),
  };
  // A custom handler: the model folder's handler.js, imported in the package's worker (bundled by webpack).
  const handler = new LocalEndpointClient({ model: 'local-endpoint/tiny-handler-text', task: 'custom' });
  results.handler = await handler.request({ inputs: 'I love this library', parameters: { top_k: 3 }, moreData: 1 });
  // <le-widget> from local-endpoint/widgets: Run clicked, the answer drawn as label bars.
  const element = document.createElement('le-widget');
  element.task = 'text-classification';
  element.model = 'local-endpoint/tiny-bert-classifier';
  element.parameterValues = { top_k: '3' };
  document.body.append(element);
  await element.updateComplete;
  const answered = new Promise((ok) => element.addEventListener('le-answer', (e) => ok(e.detail.answer), { once: true }));
  element.shadowRoot.querySelector('button.run').click();
  const widgetAnswer = await answered;
  await element.updateComplete;
  const bars = [...element.shadowRoot.querySelectorAll('.bars .fill')].map((fill) => fill.getBoundingClientRect().width / fill.parentElement.getBoundingClientRect().width);
  results.widget = { answer: widgetAnswer, bars, defined: customElements.get('le-widget') === element.constructor };
  const engine = new WorkerEngine({
    createWorker: () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'my-worker' }),
    wasmPaths: { mjs: '/ort/ort-wasm-simd-threaded.asyncify.mjs', wasm: new URL('/ort/ort-wasm-simd-threaded.asyncify.wasm', location.href) },
  });
  const custom = new LocalEndpointClient({ model: 'local-endpoint/tiny-bert-classifier', engine });
  results.custom = await custom.textClassification({ inputs: 'I love this library', parameters: { top_k: 3 } });
  // An OpenAI completion with a JSON schema, through the local fetch, in the app's own worker, and TGI's /info.
  const localFetch = createLocalFetch({ engine, endpoints: { 'https://llama.example': { task: 'text-generation', model: 'local-endpoint/tiny-llama' } } });
  const body = { prompt: 'The weather today', max_tokens: 40, seed: 1, response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: WEATHER } } };
  const answer = await (await localFetch('https://llama.example/v1/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const info = await (await localFetch('https://llama.example/info')).json();
  results.structured = { answer, info };
  engine.terminate();
  return results;
}

const out = document.querySelector('#app');
run().then(
  (results) => {
    out.textContent = JSON.stringify(results, null, 2);
    Object.assign(window, { results });
  },
  (error) => {
    out.textContent = String(error);
    Object.assign(window, { results: { error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) } });
  },
);
