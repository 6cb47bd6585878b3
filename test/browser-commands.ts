/**
 * Browser commands that run in Node next to Playwright: they watch every request the test page
 * and its workers make, for the privacy tests.
 */
import type { BrowserCommand } from 'vitest/node';
import type { Request } from 'playwright';

const recordings = new Map<string, { urls: string[]; stop: () => void }>();

export const startNetworkRecording: BrowserCommand<[]> = async (ctx) => {
  const page = (ctx as unknown as { page: import('playwright').Page }).page;
  const urls: string[] = [];
  const onRequest = (request: Request) => urls.push(request.url());
  const context = page.context();
  context.on('request', onRequest);
  recordings.get(ctx.sessionId)?.stop();
  recordings.set(ctx.sessionId, { urls, stop: () => context.off('request', onRequest) });
};

export const stopNetworkRecording: BrowserCommand<[]> = async (ctx) => {
  const recording = recordings.get(ctx.sessionId);
  recordings.delete(ctx.sessionId);
  recording?.stop();
  return recording?.urls ?? [];
};

/**
 * The JS heap of each dedicated worker of the test page whose script URL contains `urlPart`,
 * after a full garbage collection, read through the DevTools protocol (workers have no memory
 * API of their own). ONNX Runtime's thread-pool workers sit in Atomics.wait and never answer, so
 * they must be left out.
 */
export const workerHeaps: BrowserCommand<[urlPart: string]> = async (ctx, urlPart) => {
  const page = (ctx as unknown as { page: import('playwright').Page }).page;
  const cdp = await page.context().newCDPSession(page);
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string; url: string }[] };
    const workers = targetInfos.filter((t) => t.type === 'worker' && t.url.includes(urlPart));
    const heaps: { url: string; usedBytes: number }[] = [];
    for (const worker of workers) {
      const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false })) as { sessionId: string };
      let next = 0;
      const call = (method: string) =>
        new Promise<any>((ok, fail) => {
          const id = ++next;
          // A worker that is shutting down never answers.
          setTimeout(() => fail(new Error(`${method}: no answer from ${worker.url}`)), 5000);
          const onMessage = (event: { sessionId: string; message: string }) => {
            const message = JSON.parse(event.message);
            if (event.sessionId !== sessionId || message.id !== id) return;
            cdp.off('Target.receivedMessageFromTarget', onMessage as never);
            if (message.error) fail(new Error(message.error.message));
            else ok(message.result);
          };
          cdp.on('Target.receivedMessageFromTarget', onMessage as never);
          void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
        });
      try {
        await call('HeapProfiler.collectGarbage');
        const { usedSize } = await call('Runtime.getHeapUsage');
        heaps.push({ url: worker.url, usedBytes: usedSize });
      } catch {
        // Gone (terminated): not part of the page any more.
      }
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
    }
    return heaps;
  } finally {
    await cdp.detach();
  }
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    startNetworkRecording: () => Promise<void>;
    stopNetworkRecording: () => Promise<string[]>;
    workerHeaps: (urlPart: string) => Promise<{ url: string; usedBytes: number }[]>;
  }
}

/**
 * axe-core's accessibility rules (through `@axe-core/playwright`) on the element `selector` of
 * the test's iframe: the violations, each with its rule, impact, help and the failing nodes.
 */
export const axeCheck: BrowserCommand<[selector: string]> = async (ctx, selector) => {
  const { AxeBuilder } = await import('@axe-core/playwright');
  const page = (ctx as unknown as { page: import('playwright').Page }).page;
  // The test runs in an iframe of the orchestrator page (iframe[data-vitest]); axe reaches into it,
  // and into the widget's shadow root, by a frame selector.
  const results = await new AxeBuilder({ page }).include({ fromFrames: ['iframe[data-vitest]', selector] } as never).analyze();
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
  }));
};
