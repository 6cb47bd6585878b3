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
  /** Bytes of each file the load read (the largest `total` its progress reported), by file. */
  files: Map<string, number>;
  lastUsed: number;
  /** Requests using it now: it is never evicted while one runs. */
  busy: number;
}

/** What `list()` tells of a pipeline. */
export interface PipelineEntryInfo {
  key: PipelineKey;
  state: 'loading' | 'ready';
  bytes: number;
  lastUsed: number;
  busy: number;
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
      const files = new Map<string, number>();
      const report: ProgressListener = (e) => {
        if (e.file && typeof e.total === 'number' && e.total > (files.get(e.file) ?? 0)) files.set(e.file, e.total);
        listeners.forEach((l) => safely(l, e));
      };
      const promise = load(report);
      const created: Entry<T> = { promise, listeners, state: 'loading', key, files, lastUsed: Date.now(), busy: 0 };
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

  list(): PipelineEntryInfo[] {
    return [...this.entries.values()].map((e) => ({ key: e.key, state: e.state, bytes: sum(e.files), lastUsed: e.lastUsed, busy: e.busy }));
  }

  /** Marks a pipeline in use until the returned function is called (and used now). */
  use(key: PipelineKey): () => void {
    const entry = this.entries.get(keyOf(key));
    if (!entry) return () => undefined;
    entry.busy++;
    entry.lastUsed = Date.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.busy--;
      entry.lastUsed = Date.now();
    };
  }

  /**
   * The ready pipelines to evict, least recently used first, so that what stays fits `budget`
   * (a count and bytes of model files). `keep` is never chosen, nor a pipeline in use.
   */
  overBudget(budget: { pipelines?: number; bytes?: number }, keep?: PipelineKey): PipelineKey[] {
    const all = this.list();
    let count = all.length;
    let bytes = all.reduce((n, e) => n + e.bytes, 0);
    const fits = () => (budget.pipelines === undefined || count <= budget.pipelines) && (budget.bytes === undefined || bytes <= budget.bytes);
    const kept = keep ? keyOf(keep) : undefined;
    const chosen: PipelineKey[] = [];
    for (const e of all.filter((e) => e.state === 'ready' && e.busy === 0 && keyOf(e.key) !== kept).sort((a, b) => a.lastUsed - b.lastUsed)) {
      if (fits()) break;
      chosen.push(e.key);
      count--;
      bytes -= e.bytes;
    }
    return chosen;
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

function sum(files: Map<string, number>): number {
  let total = 0;
  for (const bytes of files.values()) total += bytes;
  return total;
}

function safely(listener: ProgressListener, event: ProgressEvent): void {
  try {
    listener(event);
  } catch {
    // A listener that throws (or a page that went away) must not break the load.
  }
}
