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

declare module 'vitest/browser' {
  interface BrowserCommands {
    startNetworkRecording: () => Promise<void>;
    stopNetworkRecording: () => Promise<string[]>;
  }
}
