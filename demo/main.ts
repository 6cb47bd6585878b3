/**
 * The demo page: pick a task and a model, run it locally in the worker, on a remote Endpoint, or
 * remotely with the local engine as fallback, and see which path answered.
 */
import { LocalEndpointClient, WorkerEngine, getTask, supportedTasks, type DevicePreference } from '../src/index.ts';
import {
  clearProgress,
  fillModels,
  fillSelect,
  modeValue,
  showAnswer,
  showBusy,
  showError,
  showStreaming,
  showProgress,
  showRoute,
  showStatus,
  ui,
} from './view.ts';
import { IMAGE_AND_TEXT_TASKS, MEDIA_TASKS, clearDrawn, drawAnswer, drawTableAnswer, mediaBlob, setMediaTask, showImage } from './media.ts';
import { toBase64 } from '../src/tasks/shared/base64.ts';
import { startServiceWorker } from './sw-register.ts';

/**
 * Each task's example input, from its spec (the Endpoint server's own test payloads), as the box
 * shows it: text as it is, anything else as JSON. Image and audio tasks have none.
 */
const DEFAULT_INPUTS: Record<string, string> = Object.fromEntries(
  supportedTasks.flatMap((task) => {
    const example = getTask(task).example;
    let inputs = example?.inputs;
    // custom's box holds the whole body: the example's inputs and its other keys.
    if (example?.extra) inputs = { inputs, ...example.extra };
    // visual-question-answering's box holds the question; the image comes from the image panel.
    if (task in IMAGE_AND_TEXT_TASKS) inputs = (inputs as { question?: string } | undefined)?.question;
    return inputs === undefined ? [] : [[task, typeof inputs === 'string' ? inputs : JSON.stringify(inputs)]];
  }),
);

/** What to try in the parameters box: the demo's own words, per task (none for a task left out). */
const PARAMETER_HINTS: Record<string, string> = {
  'text-classification': 'e.g. {"top_k": 3}',
  'zero-shot-classification': 'needs e.g. {"candidate_labels": "refund, legal, faq"}',
  'token-classification': 'e.g. {"aggregation_strategy": "simple"}',
  'question-answering': 'e.g. {"top_k": 2}',
  'fill-mask': 'e.g. {"top_k": 3, "targets": ["paris", "berlin"]}',
  'feature-extraction': 'e.g. {"pooling": "cls", "normalize": false}',
  'sentence-embeddings': 'e.g. {"normalize": false}',
  ranking: 'e.g. {"raw_scores": true}',
  'text-generation': 'streams; e.g. {"max_new_tokens": 60, "do_sample": true, "seed": 1, "stop": ["."]}',
  conversational: 'streams through /v1/chat/completions; e.g. {"max_new_tokens": 60, "temperature": 0}',
  'text2text-generation': 'e.g. {"max_new_tokens": 30}',
  summarization: 'e.g. {"max_new_tokens": 30}',
  translation: 'multilingual models need e.g. {"src_lang": "en", "tgt_lang": "de"}',
  'image-classification': 'e.g. {"top_k": 3, "function_to_apply": "sigmoid"} (with parameters the image goes as base64 JSON)',
  'object-detection': 'e.g. {"threshold": 0.5}',
  'image-segmentation': 'e.g. {"threshold": 0.5, "mask_threshold": 0.5, "subtask": "panoptic"}',
  'zero-shot-image-classification': 'needs "candidate_labels"; e.g. {"hypothesis_template": "a photo of a {}."}',
  'automatic-speech-recognition': 'e.g. {"return_timestamps": true}; Whisper: {"language": "en", "task": "transcribe", "chunk_length_s": 30}',
  'audio-classification': 'e.g. {"top_k": 2, "function_to_apply": "none"}',
  'text-to-image': 'e.g. {"num_inference_steps": 20, "seed": 1, "width": 64, "height": 64, "scheduler": "EulerDiscreteScheduler"}',
  'table-question-answering': 'e.g. {"truncation": true}; the input is {"query": …, "table": {column: [cells]}}',
  'visual-question-answering': 'the box holds the question; e.g. {"top_k": 3}; generative models: {"max_new_tokens": 20}',
  'image-to-text': 'e.g. {"max_new_tokens": 30, "prompt": "Describe this image."} (with parameters the image goes as base64 JSON)',
  custom: "the box's JSON object is the whole body the handler's call(data) gets (extra keys included)",
};

/** Parameters a task cannot run without (from its spec), filled in when the box holds nothing of the user's. */
const DEFAULT_PARAMETERS: Record<string, string> = Object.fromEntries(
  supportedTasks.flatMap((task) => {
    const parameters = getTask(task).example?.parameters;
    return parameters ? [[task, JSON.stringify(parameters)]] : [];
  }),
);

/** The latest run's client and its settings (see run()). */
let lastClient: { key: string; engine: WorkerEngine; client: LocalEndpointClient } | undefined;

/** Generation the demo streams token by token (Stop aborts it). */
const STREAMED = new Set(['text-generation', 'conversational']);
let stopping: AbortController | undefined;

/** The generated models by task, from /models/index.json (served by this page's server). */
let modelsByTask: Record<string, string[]> = {};
let engine = createEngine();

function createEngine(): WorkerEngine {
  // A pass over every task would otherwise keep each model loaded: at most four stay (least recently used out).
  return new WorkerEngine({ allowRemoteModels: ui.allowRemote.checked, memoryBudget: { pipelines: 4 } });
}

async function loadModelIndex(): Promise<void> {
  try {
    const response = await fetch('/models/index.json');
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const index = (await response.json()) as { tasks?: Record<string, string[]> };
    modelsByTask = index.tasks ?? {};
  } catch (err) {
    modelsByTask = {};
    ui.modelHint.textContent = `No generated models (/models/index.json: ${(err as Error).message}). Run npm run fixtures.`;
  }
}

// -- the form -----------------------------------------------------------------------------------

/** A new task brings its generated models, and its default input unless the user typed one. */
function onTaskChange(): void {
  const task = ui.task.value;
  const models = modelsByTask[task] ?? [];
  fillModels(models);
  const generated = Object.values(modelsByTask).flat();
  if (!ui.model.value.trim() || generated.includes(ui.model.value)) ui.model.value = models[0] ?? '';

  const defaults = Object.values(DEFAULT_INPUTS);
  if (!ui.inputs.value.trim() || defaults.includes(ui.inputs.value)) ui.inputs.value = DEFAULT_INPUTS[task] ?? '';
  const defaultParameters = ['', '{}', ...Object.values(DEFAULT_PARAMETERS)];
  if (defaultParameters.includes(ui.parameters.value.trim())) ui.parameters.value = DEFAULT_PARAMETERS[task] ?? '{}';
  setMediaTask(task);
  ui.inputsField.hidden = task in MEDIA_TASKS;
  updateParameterHint();
  updateEndpointHint();
}

function onModeChange(): void {
  const mode = modeValue();
  ui.endpoint.disabled = mode === 'local';
  ui.timeout.disabled = mode === 'local';
  updateEndpointHint();
}

function updateEndpointHint(): void {
  const model = ui.model.value.trim() || '<model>';
  const command = document.createElement('code');
  const generated = Object.values(modelsByTask).flat().includes(model);
  // A generated model lives in .fixtures/models; a Hub id is downloaded by the server.
  const where = generated ? ' --models-dir .fixtures/models' : '';
  command.textContent = `npx local-endpoint serve --task ${ui.task.value} --model ${model}${where} --port 8080`;
  ui.endpointHint.replaceChildren('Used by every mode but local. ', command, ' gives one at http://127.0.0.1:8080.');
}

function updateParameterHint(): void {
  const parsed = parseParameters();
  ui.parameters.classList.toggle('invalid', 'error' in parsed);
  ui.parametersHint.classList.toggle('invalid', 'error' in parsed);
  ui.parametersHint.textContent = 'error' in parsed ? parsed.error : (PARAMETER_HINTS[ui.task.value] ?? '');
}

function parseParameters(): { value: Record<string, unknown> } | { error: string } {
  const text = ui.parameters.value.trim();
  if (!text) return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { error: 'Parameters must be a JSON object, like {"top_k": 3}.' };
    }
    return { value: value as Record<string, unknown> };
  } catch (err) {
    return { error: `Parameters are not valid JSON: ${(err as Error).message}` };
  }
}

/** Plain text, or JSON: an array (a batch, or ranking's pairs) or an object (question-answering…). */
function parseInputs(): unknown {
  const text = ui.inputs.value;
  if (/^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON: send it as text
    }
  }
  return text;
}

// -- running ------------------------------------------------------------------------------------

async function run(): Promise<void> {
  const task = ui.task.value;
  const model = ui.model.value.trim();
  const mode = modeValue();
  const endpointUrl = ui.endpoint.value.trim();
  const parameters = parseParameters();
  showRoute(undefined);
  if ('error' in parameters) return showError(parameters.error);
  if (!model) return showError('Pick or type a model id.');
  if (mode !== 'local' && !endpointUrl) return showError(`Mode "${mode}" needs an Endpoint URL.`);
  const timeoutMs = Number(ui.timeout.value);

  showBusy(true);
  clearDrawn();
  ui.allowRemote.disabled = true; // recreating the engine now would drop the running request
  clearProgress();
  const started = performance.now();
  try {
    // The same settings keep the same client: handoff's switch and the breaker live in it.
    const options = {
      mode,
      ...(mode === 'local' ? {} : { endpointUrl }),
      ...(mode !== 'local' && timeoutMs > 0 ? { timeoutMs } : {}),
      model,
      task,
      device: ui.device.value as DevicePreference,
    };
    const key = JSON.stringify(options);
    if (lastClient?.key !== key || lastClient.engine !== engine) {
      lastClient = { key, engine, client: new LocalEndpointClient({ ...options, engine, onProgress: showProgress, onRoute: showRoute }) };
    }
    const { client } = lastClient;
    const inputs = parseInputs();
    const payload = { inputs, parameters: parameters.value };
    let answer: unknown;
    // The official client's methods where they fit; otherwise the raw Endpoint request.
    if (task in MEDIA_TASKS) {
      answer = await runMedia(client, task, await mediaBlob(), parameters.value);
    } else if (STREAMED.has(task)) {
      answer = await stream(client, task, inputs, parameters.value, started);
    } else if (task === 'text-to-image') {
      answer = await generateImage(client, String(inputs), parameters.value);
    } else if (task === 'visual-question-answering') {
      answer = await client.visualQuestionAnswering({ inputs: { image: await mediaBlob(), question: String(inputs) }, parameters: parameters.value });
    } else if (task === 'table-question-answering') {
      answer = await client.tableQuestionAnswering({ inputs, parameters: parameters.value } as Parameters<typeof client.tableQuestionAnswering>[0]);
    } else if (task === 'custom') {
      // The handler gets the whole body: the box's object as it is (with parameters when given).
      const body = inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs) && 'inputs' in inputs ? { ...inputs } : { inputs };
      answer = await client.request(Object.keys(parameters.value).length ? { ...body, parameters: parameters.value } : body, { task });
    } else if (task === 'text-classification' && typeof inputs === 'string') {
      answer = await client.textClassification({ inputs, parameters: parameters.value });
    } else if (task === 'feature-extraction') {
      answer = await client.featureExtraction(payload as Parameters<typeof client.featureExtraction>[0]);
    } else {
      answer = await client.request(payload, { task });
    }
    showAnswer(answer, performance.now() - started);
    if (task === 'table-question-answering') drawTableAnswer(inputs, answer);
    else if (task !== 'text-to-image') await drawAnswer(task, answer); // text-to-image has shown its image
  } catch (err) {
    showError(errorMessage(err), performance.now() - started);
  } finally {
    showBusy(false);
    ui.allowRemote.disabled = false;
    clearProgress();
    void refreshStatus();
  }
}

/**
 * Streams a generation through the official client's async iterators, showing each token as it
 * arrives; the Stop button aborts it (the worker stops within one token).
 */
async function stream(
  client: LocalEndpointClient,
  task: string,
  inputs: unknown,
  parameters: Record<string, unknown>,
  started: number,
): Promise<unknown> {
  stopping = new AbortController();
  ui.stop.hidden = false;
  const signal = stopping.signal;
  let text = '';
  let tokens = 0;
  let finish: unknown = null;
  const { max_new_tokens, ...rest } = parameters;
  try {
    if (task === 'conversational') {
      const messages = (Array.isArray(inputs) ? inputs : [{ role: 'user', content: String(inputs) }]) as never;
      const chunks = client.chatCompletionStream({ messages, ...(max_new_tokens ? { max_tokens: max_new_tokens } : {}), ...rest } as never, { signal });
      for await (const chunk of chunks) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        showStreaming(text, ++tokens, performance.now() - started);
      }
    } else {
      const chunks = client.textGenerationStream({ inputs: String(inputs), parameters }, { signal });
      for await (const chunk of chunks as AsyncIterable<{ choices: { text: string; finish_reason: string | null }[] }>) {
        text += chunk.choices[0]?.text ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        showStreaming(text, ++tokens, performance.now() - started);
      }
    }
    return { generated_text: text, finish_reason: finish, tokens };
  } catch (err) {
    if (signal.aborted) return { generated_text: text, finish_reason: 'stopped by you', tokens };
    throw err;
  } finally {
    ui.stop.hidden = true;
    stopping = undefined;
  }
}

/** text-to-image through the official client's textToImage: each step on the bar; Stop aborts it within a step. */
async function generateImage(client: LocalEndpointClient, inputs: string, parameters: Record<string, unknown>): Promise<unknown> {
  stopping = new AbortController();
  ui.stop.hidden = false;
  const signal = stopping.signal;
  try {
    const png = (await client.textToImage({ inputs, parameters }, { signal })) as unknown as Blob;
    showImage(png);
    return { image: `${png.type}, ${png.size} bytes` };
  } catch (err) {
    if (signal.aborted) return { image: null, stopped: 'by you' };
    throw err;
  } finally {
    ui.stop.hidden = true;
    stopping = undefined;
  }
}

/**
 * An image or sound through the official client's method: the raw body, as the client sends it.
 * That body carries no parameters, so with parameters the Endpoint's other form is sent: base64
 * in JSON (`{"inputs": "<base64>", "parameters": {…}}`).
 */
async function runMedia(client: LocalEndpointClient, task: string, data: Blob, parameters: Record<string, unknown>): Promise<unknown> {
  if (task === 'image-segmentation') return client.imageSegmentation({ inputs: data, parameters });
  if (task === 'zero-shot-image-classification') {
    return client.zeroShotImageClassification({ inputs: { image: data }, parameters: parameters as never });
  }
  // The others take `{data}`: the method their spec names (imageClassification, objectDetection…).
  const method = getTask(task).client?.[0];
  if (Object.keys(parameters).length || !method) {
    return client.request({ inputs: toBase64(new Uint8Array(await data.arrayBuffer())), parameters }, { task });
  }
  return (client as unknown as Record<string, (args: { data: Blob }) => Promise<unknown>>)[method]!({ data });
}

function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // The official client's HTTP errors carry the Endpoint's status code.
  const status = (err as Error & { httpResponse?: { status?: number } }).httpResponse?.status;
  return status ? `HTTP ${status}: ${err.message}` : err.message;
}

async function refreshStatus(): Promise<void> {
  const current = engine;
  try {
    const [status, cached] = await Promise.all([current.status(), current.listCached()]);
    if (current === engine) showStatus(status, cached);
  } catch (err) {
    if (current === engine) showStatus({ error: (err as Error).message });
  }
}

// -- start --------------------------------------------------------------------------------------

fillSelect(ui.task, supportedTasks);
ui.task.addEventListener('change', onTaskChange);
ui.model.addEventListener('input', updateEndpointHint);
ui.parameters.addEventListener('input', updateParameterHint);
ui.form.addEventListener('change', (event) => {
  if ((event.target as HTMLInputElement).name === 'mode') onModeChange();
});
ui.allowRemote.addEventListener('change', () => {
  engine.terminate();
  engine = createEngine();
  showStatus({ error: 'restarting…' });
  void refreshStatus();
});
ui.stop.addEventListener('click', () => stopping?.abort());
ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!ui.run.disabled) void run();
});

startServiceWorker(() => engine); // the Endpoint for code that knows nothing of this library, and the offline app shell
await loadModelIndex();
onTaskChange();
onModeChange();
void refreshStatus();
