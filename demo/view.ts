/** The page's elements and how each part of the output is drawn. Plain DOM, no state. */
import type { CachedModel, EngineStatus, Mode, ProgressEvent, RouteInfo } from '../src/index.ts';

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

export const ui = {
  form: byId<HTMLFormElement>('form'),
  stop: byId<HTMLButtonElement>('stop'),
  task: byId<HTMLSelectElement>('task'),
  model: byId<HTMLInputElement>('model'),
  modelList: byId<HTMLDataListElement>('model-list'),
  modelHint: byId('model-hint'),
  allowRemote: byId<HTMLInputElement>('allow-remote'),
  device: byId<HTMLSelectElement>('device'),
  timeout: byId<HTMLInputElement>('timeout'),
  endpoint: byId<HTMLInputElement>('endpoint'),
  endpointHint: byId('endpoint-hint'),
  inputs: byId<HTMLTextAreaElement>('inputs'),
  inputsField: byId<HTMLLabelElement>('inputs-field'),
  parameters: byId<HTMLTextAreaElement>('parameters'),
  parametersHint: byId('parameters-hint'),
  run: byId<HTMLButtonElement>('run'),
  badge: byId('badge'),
  elapsed: byId('elapsed'),
  fallback: byId('fallback'),
  progress: byId('progress'),
  progressFiles: byId<HTMLUListElement>('progress-files'),
  error: byId('error'),
  answer: byId('answer'),
  status: byId('status'),
};

export function modeValue(): Mode {
  const checked = ui.form.querySelector<HTMLInputElement>('input[name="mode"]:checked');
  return (checked?.value ?? 'local') as Mode;
}

export function fillSelect(select: HTMLSelectElement, values: readonly string[]): void {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
}

export function fillModels(models: readonly string[]): void {
  ui.modelList.replaceChildren(...models.map((m) => new Option(m, m)));
  ui.modelHint.textContent = models.length
    ? `${models.length} generated model${models.length > 1 ? 's' : ''} served at /models/, or any Hub id.`
    : 'No generated model for this task: type a Hub id (and allow downloads).';
}

// -- the answer --------------------------------------------------------------------------------

/**
 * The route badge: the path, and what ran it (the local device, or the Endpoint's
 * x-compute-type and x-compute-time), the breaker when open; below it, why this path answered.
 */
export function showRoute(route: RouteInfo | undefined): void {
  ui.badge.hidden = !route;
  ui.fallback.hidden = !route;
  if (!route) return;
  const ranOn = route.path === 'local' ? route.device : route.computeType;
  ui.badge.textContent = [
    route.path,
    ranOn,
    route.computeTime === undefined ? '' : `${(route.computeTime * 1000).toFixed(0)} ms compute`,
    route.breakerOpen ? 'breaker open' : '',
  ]
    .filter(Boolean)
    .join(' · ');
  ui.badge.className = `badge ${route.path}`;
  ui.badge.title = `mode ${route.mode}${route.local ? ` · local model: ${route.local}` : ''} · breaker ${route.breaker}`;
  ui.fallback.textContent = [
    route.fallbackReason ? `Fell back to local: ${route.fallbackReason}` : `${route.mode}: ${route.reason}`,
    route.deviceFallback ? `Ran on ${route.device}: ${route.deviceFallback}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

export function showAnswer(answer: unknown, ms: number): void {
  ui.error.hidden = true;
  ui.answer.hidden = false;
  ui.answer.textContent = JSON.stringify(answer, null, 2);
  ui.elapsed.textContent = `${formatMs(ms)}`;
}

/** A streamed answer so far: the text generated until now, growing token by token. */
export function showStreaming(text: string, tokens: number, ms: number): void {
  ui.error.hidden = true;
  ui.answer.hidden = false;
  ui.answer.textContent = text;
  ui.elapsed.textContent = `${tokens} tokens · ${formatMs(ms)}`;
}

export function showError(message: string, ms?: number): void {
  ui.error.hidden = false;
  ui.error.textContent = message;
  ui.answer.hidden = true;
  ui.elapsed.textContent = ms === undefined ? '' : formatMs(ms);
}

export function showBusy(busy: boolean): void {
  ui.run.disabled = busy;
  ui.run.textContent = busy ? 'Running…' : 'Run';
  if (busy) ui.elapsed.textContent = '';
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

// -- the engine's status ------------------------------------------------------------------------

export function showStatus(status: EngineStatus | { error: string }, cached: CachedModel[] = []): void {
  if ('error' in status) {
    ui.status.textContent = `Engine: ${status.error}`;
    return;
  }
  const device = status.device.reason ? `${status.device.device} (${status.device.reason})` : status.device.device;
  const loaded = status.pipelines.map((p) => `${p.model} on ${p.device}${p.state === 'loading' ? ' (loading)' : ''}`);
  ui.status.textContent = [
    `Engine: auto picks ${device}`,
    `${status.threads} WASM thread${status.threads === 1 ? '' : 's'}`,
    `cross-origin isolated: ${status.crossOriginIsolated ? 'yes' : 'no'}`,
    loaded.length ? `loaded: ${loaded.join(', ')}` : 'no model loaded',
    ...(status.memoryBudget?.pipelines ? [`at most ${status.memoryBudget.pipelines} stay loaded (${status.evicted ?? 0} unloaded so far)`] : []),
    // The model cache (listCached): what a reload, or the network going away, does not download again.
    `model cache: ${cached.length} model${cached.length === 1 ? '' : 's'}, ${(cached.reduce((n, m) => n + m.bytes, 0) / 1e6).toFixed(1)} MB`,
    ...(status.poisoned ? [`poisoned: ${status.poisoned}`] : []),
  ].join(' · ');
}

// -- download progress --------------------------------------------------------------------------

const files = new Map<string, { row: HTMLLIElement; bar: HTMLProgressElement; text: HTMLSpanElement }>();

/** One row per file while a model loads; the panel hides when the model is ready. */
export function showProgress(event: ProgressEvent): void {
  if (event.status === 'ready') return clearProgress();
  if (event.status === 'step' && event.step && event.steps) return showStep(event);
  if (!event.file) return;
  const id = `${event.model}/${event.file}`;
  let entry = files.get(id);
  if (!entry) {
    const row = document.createElement('li');
    const name = Object.assign(document.createElement('span'), { className: 'file', textContent: id });
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.removeAttribute('value'); // indeterminate until sizes are known
    const text = Object.assign(document.createElement('span'), { className: 'bytes', textContent: 'waiting…' });
    row.append(name, bar, text);
    ui.progressFiles.append(row);
    entry = { row, bar, text };
    files.set(id, entry);
  }
  ui.progress.hidden = false;
  if (event.status === 'done') {
    entry.bar.value = 1;
    entry.text.textContent = event.total ? `${formatBytes(event.total)} · done` : 'done';
  } else if (typeof event.loaded === 'number') {
    if (event.total) entry.bar.value = event.loaded / event.total;
    entry.text.textContent = event.total
      ? `${formatBytes(event.loaded)} / ${formatBytes(event.total)}`
      : formatBytes(event.loaded);
  }
}

/** A step of long work (text-to-image's denoising): one bar, step i of n. */
function showStep(event: ProgressEvent): void {
  showProgress({ ...event, status: 'progress', file: 'denoising', loaded: event.step, total: event.steps });
  const entry = files.get(`${event.model}/denoising`);
  if (entry) entry.text.textContent = `step ${event.step} of ${event.steps}`;
}

export function clearProgress(): void {
  files.clear();
  ui.progressFiles.replaceChildren();
  ui.progress.hidden = true;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
