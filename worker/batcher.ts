/**
 * Dynamic batching, as Text Embeddings Inference does it: requests for one pipeline that wait
 * while it is busy run together as one call when it is free. They are grouped by compatibility,
 * then by length (to limit padding), under a cap in tokens. A request that finds the pipeline
 * idle runs at once, so batching adds no wait.
 */
import { yieldToEventLoop } from '../src/tasks/shared/yield.js';
import type { Batching, PipelineFn } from '../src/tasks/types.js';

export interface BatcherOptions {
  /** Runs work in the pipeline's queue. */
  enqueue(work: () => Promise<void>): Promise<void>;
  /** The most tokens one batched call may hold. */
  maxTokens: number;
  /** Whether a failed batch may be rerun one request at a time here (not in a poisoned worker). */
  rerunAlone: boolean;
  /** Throws when the call must not run (the worker is poisoned). */
  beforeRun?(): void;
}

/** A batch failed; each of its requests should be retried alone. */
export class BatchFailed extends Error {
  constructor(readonly cause: unknown) {
    super(`a batched call failed: ${(cause as Error)?.message ?? cause}`);
  }
}

export interface BatchedAnswer {
  output: unknown;
  batchSize: number;
  /** When the call that answered began. */
  started: number;
}

interface Waiting<R> {
  request: R;
  key: string;
  tokens: number;
  resolve(value: BatchedAnswer): void;
  reject(reason: unknown): void;
}

export class Batcher<R, S> {
  private waiting: Waiting<R>[] = [];
  private scheduled = false;

  constructor(
    private readonly batching: Batching<R, S>,
    private readonly pipe: PipelineFn,
    private readonly setup: S,
    private readonly options: BatcherOptions,
  ) {}

  /** Queues a request of `tokens` padded tokens under a compatibility key; resolves with its answer. */
  submit(request: R, key: string, tokens: number): Promise<BatchedAnswer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, key, tokens, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        void this.options.enqueue(() => this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    // Let requests already delivered to this thread join: on WASM the model runs synchronously,
    // so the messages that arrived during the last call are still waiting in the event queue.
    await yieldToEventLoop();
    this.scheduled = false;
    const taken = this.waiting;
    this.waiting = [];
    for (const batch of planBatches(taken, this.options.maxTokens)) await this.runBatch(batch);
  }

  private async runBatch(batch: Waiting<R>[]): Promise<void> {
    const started = performance.now();
    try {
      this.options.beforeRun?.();
      const outputs = await this.batching.run(this.pipe, batch.map((w) => w.request), this.setup);
      batch.forEach((w, i) => w.resolve({ output: outputs[i], batchSize: batch.length, started }));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      if (!this.options.rerunAlone) return batch.forEach((w) => w.reject(new BatchFailed(err)));
      // Find the request at fault: each runs alone, and only its own error reaches it.
      for (const w of batch) await this.runBatch([w]);
    }
  }
}

/**
 * Batches from waiting requests: same key together, sorted by length, each batch under
 * `maxTokens` counted as padded (longest × count), so long and short inputs do not share a call.
 */
export function planBatches<W extends { key: string; tokens: number }>(waiting: W[], maxTokens: number): W[][] {
  const byKey = new Map<string, W[]>();
  for (const w of waiting) byKey.set(w.key, [...(byKey.get(w.key) ?? []), w]);
  const batches: W[][] = [];
  for (const group of byKey.values()) {
    group.sort((a, b) => a.tokens - b.tokens);
    let current: W[] = [];
    for (const w of group) {
      const padded = Math.max(w.tokens, ...current.map((c) => c.tokens)) * (current.length + 1);
      if (current.length > 0 && padded > maxTokens) {
        batches.push(current);
        current = [];
      }
      current.push(w);
    }
    if (current.length) batches.push(current);
  }
  return batches;
}
