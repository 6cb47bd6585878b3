/**
 * Test only, never shipped: the package's real worker entry, plus messages that make it fail the
 * ways a page's worker can, for test/host/worker-death.browser.test.ts. The worker protocol itself
 * is unchanged (these messages carry no comlink id, so comlink's own listener ignores them).
 */
import '../../worker/index.js';

/** What the page posts to this worker. */
export interface DyingWorkerMessage {
  dyingWorker: 'close' | 'array-buffers' | 'throw';
}

self.addEventListener('message', (event: MessageEvent) => {
  const kind = (event.data as Partial<DyingWorkerMessage> | null)?.dyingWorker;
  // Exhausting the V8 heap is not here: in Chromium 156 that crashes the whole renderer, the
  // page with its worker (measured: "Target crashed" after 22 s), which no page can survive.
  if (kind === 'close') self.close(); // the worker ends itself: no event reaches the page
  if (kind === 'array-buffers') {
    // Huge ArrayBuffers (outside the V8 heap), kept, until an allocation fails. They are never
    // written, so they reserve address space without taking the machine's memory.
    const buffers: ArrayBuffer[] = [];
    for (;;) buffers.push(new ArrayBuffer(2 ** 32));
  }
  if (kind === 'throw') throw new Error('dying-worker: an uncaught exception the worker survives');
});
