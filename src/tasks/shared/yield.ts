/** One turn of the event loop, without a timer's clamped delay (setTimeout(0) waits ≥ 4 ms when nested). */
export function yieldToEventLoop(): Promise<void> {
  // Node's setImmediate, where it exists (the DOM and WebWorker libraries do not declare it).
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise((resolve) => immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
