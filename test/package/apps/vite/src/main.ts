/**
 * The Vite consumer (create-vite's vanilla-ts template, this file as its src/main.ts): the
 * package's page API, a text and an image task, answered in the package's own worker. Built by
 * the template's `tsc && vite build`, so it is also a type check of the shipped .d.ts.
 */
import { LocalEndpointClient, WorkerEngine, createLocalFetch, serveFromPage, type EngineStatus, type WorkerEngineOptions } from 'local-endpoint';
import { type LeWidget } from 'local-endpoint/widgets';

/** The options an app can give (type-checked only): its own worker, or the WASM files from elsewhere. */
export const customised: WorkerEngineOptions = {
  workerUrl: new URL('/my-worker.js', location.href),
  wasmPaths: { mjs: '/ort/ort-wasm-simd-threaded.asyncify.mjs', wasm: new URL('/ort/ort-wasm-simd-threaded.asyncify.wasm', location.href) },
  localModelPath: '/models/',
};

/** A 32×32 PNG made here, so the app needs no image file. */
async function pngImage(): Promise<Blob> {
  const canvas = new OffscreenCanvas(32, 32);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#c8322d';
  context.fillRect(0, 0, 32, 32);
  context.fillStyle = '#2d4bc8';
  context.fillRect(8, 8, 16, 16);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** A plain fetch, as code that knows nothing of local-endpoint sends it, answered by the app's Service Worker (src/sw.ts). */
async function throughServiceWorker(engine: WorkerEngine): Promise<unknown> {
  serveFromPage({ engine });
  await navigator.serviceWorker.register('/sw.js', { type: 'module' });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((ok) => navigator.serviceWorker.addEventListener('controllerchange', ok, { once: true }));
  }
  const response = await fetch('/api/classify', { method: 'POST', body: JSON.stringify({ inputs: 'I love this library', parameters: { top_k: 3 } }) });
  return response.json();
}

/** The schema a structured answer must follow (response_format: json_schema, constrained decoding in the worker). */
export const WEATHER = {
  type: 'object',
  properties: { sunny: { type: 'boolean' }, celsius: { type: 'integer', minimum: -20, maximum: 40 } },
  required: ['sunny', 'celsius'],
  additionalProperties: false,
};

/** An OpenAI completion with a JSON schema, through the local fetch, and TGI's /info: the grammar runs in the package's worker. */
async function structured(engine: WorkerEngine): Promise<unknown> {
  const localFetch = createLocalFetch({ engine, endpoints: { 'https://llama.example': { task: 'text-generation', model: 'local-endpoint/tiny-llama' } } });
  const body = { prompt: 'The weather today', max_tokens: 40, seed: 1, response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: WEATHER } } };
  const answer = await (await localFetch('https://llama.example/v1/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const info = await (await localFetch('https://llama.example/info')).json();
  return { answer, info };
}

/**
 * `<le-widget>` from `local-endpoint/widgets`, dropped into the page as an app does: its Run
 * button clicked, its answer drawn as label bars (each bar's width as a fraction of its track).
 */
async function widget(engine: WorkerEngine): Promise<unknown> {
  const element = document.createElement('le-widget') as LeWidget;
  element.task = 'text-classification';
  element.model = 'local-endpoint/tiny-bert-classifier';
  element.engine = engine;
  element.parameterValues = { top_k: '3' };
  document.body.append(element);
  await element.updateComplete;
  const answered = new Promise<unknown>((ok) => element.addEventListener('le-answer', (e) => ok((e as CustomEvent).detail.answer), { once: true }));
  element.shadowRoot!.querySelector<HTMLButtonElement>('button.run')!.click();
  const answer = await answered;
  await element.updateComplete;
  const bars = [...element.shadowRoot!.querySelectorAll<HTMLElement>('.bars .fill')].map((fill) => fill.getBoundingClientRect().width / fill.parentElement!.getBoundingClientRect().width);
  return { answer, bars, defined: customElements.get('le-widget') === element.constructor };
}

async function run(): Promise<{ text: unknown; image: unknown; sw: unknown; handler: unknown; status: EngineStatus; structured: unknown; widget: unknown }> {
  const engine = new WorkerEngine();
  const text = new LocalEndpointClient({ model: 'local-endpoint/tiny-bert-classifier', engine });
  const image = new LocalEndpointClient({ model: 'local-endpoint/tiny-vit-classifier', engine });
  // A custom handler: the model folder's handler.js, imported in the package's worker, calling the engine's pipeline.
  const handler = new LocalEndpointClient({ model: 'local-endpoint/tiny-handler-text', task: 'custom', engine });
  return {
    text: await text.textClassification({ inputs: 'I love this library', parameters: { top_k: 3 } }),
    image: await image.imageClassification({ data: await pngImage(), parameters: { top_k: 5 } }),
    sw: await throughServiceWorker(engine),
    handler: await handler.request({ inputs: 'I love this library', parameters: { top_k: 3 }, moreData: 1 }),
    status: await engine.status(),
    structured: await structured(engine),
    widget: await widget(engine),
  };
}

const out = document.querySelector<HTMLElement>('#app')!;
run().then(
  (results) => {
    out.textContent = JSON.stringify(results, null, 2);
    Object.assign(window, { results });
  },
  (error: unknown) => {
    out.textContent = String(error);
    Object.assign(window, { results: { error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) } });
  },
);
