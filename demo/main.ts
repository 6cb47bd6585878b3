/**
 * The demo: a gallery of `<le-widget>`s, one per task, grouped by family, each on the first
 * generated model of its task (or one the visitor picks or types). The settings above apply to
 * every widget: who answers (local, remote, or a policy between them), the Endpoint URL, the theme
 * and whether Hub downloads are allowed.
 */
import { WorkerEngine, supportedTasks, type Mode } from '../src/index.ts';
import { FAMILIES, familyOf, type LeWidget, type SampleMedia } from '../src/widgets/index.ts';
import { startServiceWorker } from './sw-register.ts';

/** Each family's heading and what its widgets draw. */
const FAMILY_TITLES: Record<string, [title: string, blurb: string]> = {
  labels: ['Label bars', 'Classification of text, images and sound, zero-shot included, and visual question answering.'],
  entities: ['Entities', 'Named entities marked in the original text, coloured by type.'],
  'answer-span': ['Question answering', 'The answer marked in its context.'],
  'fill-mask': ['Fill mask', 'Each candidate placed in the sentence.'],
  similarity: ['Similarity and ranking', 'A bar per sentence, and a ranked list.'],
  embeddings: ['Embeddings', 'Each vector as a strip of its values.'],
  generation: ['Text generation', 'Streaming in place; summaries, translations and captions.'],
  chat: ['Chat', 'Bubbles with history, streaming, Stop and a system prompt.'],
  table: ['Table question answering', 'A table editor; the answer cells marked.'],
  detection: ['Object detection', 'Boxes over the image, with legible labels.'],
  segmentation: ['Image segmentation', 'Masks in colour over the image, with a legend.'],
  transcript: ['Speech recognition', 'The transcript with timestamps; a click seeks the audio.'],
  'text-to-image': ['Text to image', 'The image, with a progress bar per denoising step.'],
  custom: ['Custom handler', "The model folder's own handler.js, and its answer as a tree."],
};

const ui = {
  settings: document.querySelector<HTMLFormElement>('#settings')!,
  endpoint: document.querySelector<HTMLInputElement>('#endpoint')!,
  theme: document.querySelector<HTMLSelectElement>('#theme')!,
  allowRemote: document.querySelector<HTMLInputElement>('#allow-remote')!,
  hint: document.querySelector<HTMLElement>('#settings-hint')!,
  families: document.querySelector<HTMLElement>('#families')!,
  gallery: document.querySelector<HTMLElement>('#gallery')!,
  status: document.querySelector<HTMLElement>('#status')!,
};

let engine = createEngine();
function createEngine(): WorkerEngine {
  // A pass over every widget would otherwise keep each model loaded: at most four stay.
  return new WorkerEngine({ allowRemoteModels: ui.allowRemote.checked, memoryBudget: { pipelines: 4 } });
}

/** The generated models by task (/models/index.json, served by this page's server). */
async function loadModelIndex(): Promise<Record<string, string[]>> {
  try {
    const response = await fetch('/models/index.json');
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return ((await response.json()) as { tasks?: Record<string, string[]> }).tasks ?? {};
  } catch (err) {
    ui.status.textContent = `No generated models (/models/index.json: ${(err as Error).message}). Run npm run fixtures.`;
    return {};
  }
}

/** The real photo and recording when `npm run fixtures -- --media` copied them; else the widgets' own samples. */
async function loadSamples(): Promise<LeWidget['samples']> {
  const found = async (name: string): Promise<SampleMedia[]> => {
    const url = `/models/test-media/${name}`;
    const response = await fetch(url, { method: 'HEAD' }).catch(() => undefined);
    return response?.ok ? [{ name, url }] : [];
  };
  const [image, audio] = await Promise.all([found('tiger.jpeg'), found('sample1.flac')]);
  return { ...(image.length ? { image } : {}), ...(audio.length ? { audio } : {}) };
}

function mode(): Mode {
  return (ui.settings.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value ?? 'local') as Mode;
}

function widgets(): LeWidget[] {
  return [...ui.gallery.querySelectorAll('le-widget')];
}

function applySettings(): void {
  for (const widget of widgets()) {
    widget.mode = mode();
    widget.endpointUrl = ui.endpoint.value.trim() || undefined;
    widget.theme = (ui.theme.value || undefined) as LeWidget['theme'];
    widget.engine = engine;
  }
  document.documentElement.dataset.theme = ui.theme.value;
  ui.endpoint.disabled = mode() === 'local';
  ui.hint.textContent =
    mode() === 'local'
      ? "Local: nothing leaves this device; models come only from this server's /models/."
      : `Every widget asks ${ui.endpoint.value || 'the Endpoint'} (npx local-endpoint serve --task <task> --model <model> serves one).`;
}

function slot(task: string, models: string[], samples: LeWidget['samples']): HTMLElement {
  const article = document.createElement('article');
  article.className = 'slot';
  article.dataset.task = task;
  const id = `model-${task}`;
  const picker = document.createElement('div');
  picker.className = 'picker';
  const label = Object.assign(document.createElement('label'), { htmlFor: id, textContent: 'Model' });
  const input = Object.assign(document.createElement('input'), { id, className: 'model', value: models[0] ?? '', spellcheck: false });
  input.setAttribute('list', `${id}-list`);
  input.placeholder = 'owner/model (a Hub id needs downloads allowed)';
  const list = document.createElement('datalist');
  list.id = `${id}-list`;
  list.append(...models.map((m) => new Option(m, m)));
  picker.append(label, input, list);
  const widget = document.createElement('le-widget');
  widget.task = task;
  widget.model = input.value;
  widget.samples = samples;
  widget.engine = engine;
  input.addEventListener('change', () => (widget.model = input.value.trim()));
  widget.addEventListener('le-answer', () => void refreshStatus());
  article.append(picker, widget);
  return article;
}

async function build(): Promise<void> {
  const [models, samples] = await Promise.all([loadModelIndex(), loadSamples()]);
  const served = new Set(supportedTasks);
  for (const family of FAMILIES) {
    const tasks = family.tasks.filter((task) => served.has(task));
    if (!tasks.length) continue;
    const [title, blurb] = FAMILY_TITLES[family.name] ?? [family.name, ''];
    const section = document.createElement('section');
    section.id = `family-${family.name}`;
    // A family of one task sits beside the others; a family of several spans the page.
    section.className = tasks.length > 1 ? 'family wide' : 'family';
    section.setAttribute('aria-labelledby', `${section.id}-title`);
    const heading = Object.assign(document.createElement('h2'), { id: `${section.id}-title`, textContent: title });
    const about = Object.assign(document.createElement('p'), { className: 'hint', textContent: blurb });
    const grid = document.createElement('div');
    grid.className = 'grid';
    grid.append(...tasks.map((task) => slot(task, models[task] ?? [], samples)));
    section.append(heading, about, grid);
    ui.gallery.append(section);
    ui.families.append(Object.assign(document.createElement('a'), { href: `#${section.id}`, textContent: title }));
  }
  // A served task without a family would be missing from the gallery: say so rather than hide it.
  const missing = supportedTasks.filter((task) => !familyOf(task));
  if (missing.length) ui.status.textContent = `No widget yet for: ${missing.join(', ')}`;
  applySettings();
}

async function refreshStatus(): Promise<void> {
  const current = engine;
  try {
    const [status, cached] = await Promise.all([current.status(), current.listCached()]);
    if (current !== engine) return;
    const loaded = status.pipelines.map((p) => `${p.task} · ${p.model} (${p.device})`);
    ui.status.textContent = `Engine: ${loaded.length ? `loaded ${loaded.join('; ')}` : 'no model loaded'} · ${cached.length} model(s) in the cache.`;
  } catch (err) {
    if (current === engine) ui.status.textContent = `Engine: ${(err as Error).message}`;
  }
}

ui.settings.addEventListener('change', (event) => {
  if ((event.target as HTMLElement).id === 'allow-remote') {
    engine.terminate();
    engine = createEngine();
  }
  applySettings();
});
ui.settings.addEventListener('submit', (event) => event.preventDefault());

startServiceWorker(() => engine); // the Endpoint for code that knows nothing of this library, and the offline app shell
await build();
void refreshStatus();
