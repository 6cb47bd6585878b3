/**
 * Download progress, one bar per file, and the steps of long work (text-to-image's denoising), from
 * the engine's progress events.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { ProgressEvent } from '../../protocol/engine.js';

export interface ProgressState {
  files: Map<string, { loaded?: number; total?: number; progress?: number }>;
  step?: { step: number; steps: number };
}

export function emptyProgress(): ProgressState {
  return { files: new Map() };
}

/** Folds one event in; false when it changes nothing shown. */
export function onProgress(state: ProgressState, event: ProgressEvent): boolean {
  if (event.status === 'step' && event.step !== undefined && event.steps !== undefined) {
    state.step = { step: event.step, steps: event.steps };
    return true;
  }
  if (event.status === 'ready') {
    state.files.clear();
    return true;
  }
  if (!event.file) return false;
  const previous = state.files.get(event.file) ?? {};
  const progress = event.status === 'done' ? 100 : (event.progress ?? previous.progress);
  state.files.set(event.file, {
    ...previous,
    ...(event.loaded !== undefined ? { loaded: event.loaded } : {}),
    ...(event.total !== undefined ? { total: event.total } : {}),
    ...(progress !== undefined ? { progress } : {}),
  });
  return true;
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`;
}

export function progressView(state: ProgressState, uid: string): TemplateResult | typeof nothing {
  const files = [...state.files].filter(([, f]) => (f.progress ?? 0) < 100);
  if (!files.length && !state.step) return nothing;
  return html`<div class="progress">
    ${files.map(
      ([file, f], i) =>
        html`<div class="file" data-file=${file}>
          <span id="${uid}-file-${i}">${file} ${f.total ? `(${size(f.loaded)} of ${size(f.total)})` : ''}</span>
          <progress aria-labelledby="${uid}-file-${i}" max="100" .value=${f.progress ?? 0}></progress>
        </div>`,
    )}
    ${state.step
      ? html`<div class="file step">
          <span id="${uid}-step">Step ${state.step.step} of ${state.step.steps}</span>
          <progress aria-labelledby="${uid}-step" max=${state.step.steps} .value=${state.step.step}></progress>
        </div>`
      : nothing}
  </div>`;
}
