/**
 * Test only, never shipped: the package's real worker entry, plus a message that breaks it in a
 * way no test can reach from the page, for test/host/device-lost.browser.test.ts. The message
 * carries no comlink id, so comlink's own listener ignores it.
 *
 * - `destroy-devices`: destroys every GPUDevice created in this worker (onnxruntime-web's among
 *   them, as a GPU reset or a crashed GPU process would lose it), then answers
 *   `{ reliabilityWorker: 'destroyed', devices }`.
 */
import '../../worker/index.js';

/** What the page posts to this worker. */
export interface ReliabilityWorkerMessage {
  reliabilityWorker: 'destroy-devices';
}

interface DeviceLike {
  destroy(): void;
}
type RequestDevice = (this: unknown, ...args: unknown[]) => Promise<DeviceLike>;

const devices: DeviceLike[] = [];
const adapter = (globalThis as unknown as { GPUAdapter?: { prototype: { requestDevice: RequestDevice } } }).GPUAdapter;
if (adapter) {
  const requestDevice = adapter.prototype.requestDevice;
  // onnxruntime-web asks for its device at its first WebGPU session, after this has run.
  adapter.prototype.requestDevice = async function (this: unknown, ...args: unknown[]) {
    const device = await requestDevice.apply(this, args);
    devices.push(device);
    return device;
  };
}

self.addEventListener('message', (event: MessageEvent) => {
  const kind = (event.data as Partial<ReliabilityWorkerMessage> | null)?.reliabilityWorker;
  if (kind === 'destroy-devices') {
    for (const device of devices) device.destroy();
    self.postMessage({ reliabilityWorker: 'destroyed', devices: devices.length });
  }
});
