/**
 * Loaded pipelines, keyed by (task, model, device, dtype). Each is loaded at most once: requests
 * that arrive during a load wait for that same load, and all of them see its progress.
 */
export interface PipelineKey {
  task: string;
  model: string;
  device: string;
  dtype?: string;
}

export function keyOf(k: PipelineKey): string {
  return JSON.stringify([k.task, k.model, k.device, k.dtype ?? 'default']);
}

import type { ProgressEvent } from '../src/protocol/engine.js';

export type { ProgressEvent } from '../src/protocol/engine.js';
export type ProgressListener = (event: ProgressEvent) => void;

interface Entry<T> {
  promise: Promise<T>;
  listeners: Set<ProgressListener>;
  state: 'loading' | 'ready';
  key: PipelineKey;
}

export class PipelineCache<T> {
  private entries = new Map<string, Entry<T>>();

  /**
   * The pipeline for `key`, loading it with `load` if no load is cached or under way.
   * A failed load is forgotten, so the next request tries again.
   */
  get(key: PipelineKey, load: (report: ProgressListener) => Promise<T>, listener?: ProgressListener): Promise<T> {
    const id = keyOf(key);
    let entry = this.entries.get(id);
    if (!entry) {
      const listeners = new Set<ProgressListener>();
      const report: ProgressListener = (e) => listeners.forEach((l) => safely(l, e));
      const promise = load(report);
      const created: Entry<T> = { promise, listeners, state: 'loading', key };
      entry = created;
      this.entries.set(id, created);
      promise.then(
        () => {
          created.state = 'ready';
          created.listeners.clear();
        },
        () => {
          if (this.entries.get(id) === created) this.entries.delete(id);
        },
      );
    }
    if (listener && entry.state === 'loading') entry.listeners.add(listener);
    return entry.promise;
  }

  list(): { key: PipelineKey; state: 'loading' | 'ready' }[] {
    return [...this.entries.values()].map((e) => ({ key: e.key, state: e.state }));
  }

  /** Removes and returns the cached entries matching `match`. */
  take(match: (key: PipelineKey) => boolean): Promise<T>[] {
    const taken: Promise<T>[] = [];
    for (const [id, e] of this.entries) {
      if (match(e.key)) {
        this.entries.delete(id);
        taken.push(e.promise);
      }
    }
    return taken;
  }
}

function safely(listener: ProgressListener, event: ProgressEvent): void {
  try {
    listener(event);
  } catch {
    // A listener that throws (or a page that went away) must not break the load.
  }
}
