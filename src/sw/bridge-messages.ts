/**
 * What travels between the Service Worker (src/sw/service-worker.ts) and the page that answers for
 * it (src/sw/page-bridge.ts). Types and message names only: both sides import this, and it
 * imports nothing at run time.
 *
 * - page → Service Worker (`postMessage` to the worker): `ready` when the page can answer, `gone`
 *   when it stops (pagehide, `stop()`);
 * - Service Worker → page (`client.postMessage`): `ping` (any page that can answer says `ready`),
 *   and `request` with a MessagePort of its own;
 * - on that port, page → Service Worker: `head`, then `chunk`s, then `end` or `error`; Service
 *   Worker → page: `abort`, when the caller aborts or stops reading.
 */
import type { DevicePreference } from '../protocol/engine.js';
import type { Dialect } from '../protocol/wire.js';

/** Every message of this protocol carries this key, so an app's own messages are left alone. */
export const BRIDGE_KEY = '__localEndpoint';

/** What one Endpoint URL serves, as the Service Worker is told (and tells the page with each request). */
export interface ServiceWorkerEndpoint {
  task: string;
  model: string;
  device?: DevicePreference;
  dtype?: string;
  /**
   * Which reader the answers are for. Browsers drop the User-Agent the official client sets, so
   * a Service Worker cannot tell it from a plain `fetch`: set `client` on an Endpoint URL that the
   * official `InferenceClient` calls (`endpoint` and `auto` give the Endpoint server's own shape,
   * unless the request says otherwise with `x-endpoint-dialect`).
   */
  dialect?: Dialect | 'auto';
}

export type PageToWorker = { [BRIDGE_KEY]: 'ready' } | { [BRIDGE_KEY]: 'gone' };

export type WorkerToPage =
  | { [BRIDGE_KEY]: 'ping' }
  | {
      [BRIDGE_KEY]: 'request';
      /** The Endpoint URL (as configured) and what it serves. */
      base: string;
      endpoint: ServiceWorkerEndpoint;
      method: string;
      url: string;
      headers: [string, string][];
      /** The request body (absent for GET and HEAD), transferred. */
      body?: ArrayBuffer;
    };

/** On a request's own port, from the page. */
export type ReplyMessage =
  | { type: 'head'; status: number; statusText: string; headers: [string, string][] }
  | { type: 'chunk'; bytes: ArrayBuffer }
  | { type: 'end' }
  | { type: 'error'; message: string };

/** On a request's own port, from the Service Worker. */
export type CancelMessage = { type: 'abort' };

export function isBridgeMessage(data: unknown): data is { [BRIDGE_KEY]: string } {
  return typeof data === 'object' && data !== null && typeof (data as Record<string, unknown>)[BRIDGE_KEY] === 'string';
}
