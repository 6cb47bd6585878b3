/** What a request is once read off the wire, shared by the wire decoders and the task modules. Types only. */

/** Which reader the answer is for: the Endpoint server's own shape, or the official client's. */
export type Dialect = 'endpoint' | 'client';

/** The body of an Endpoint request, once decoded: `{"inputs": …, "parameters": {…}}`. */
export interface EndpointPayload {
  inputs: unknown;
  parameters?: Record<string, unknown>;
  /** Top-level `"stream": true`: answer as server-sent events (generative tasks only). */
  stream?: boolean;
  /** The `custom` task only: the body's other top-level keys, kept for the handler's `call(data)`. */
  extra?: Record<string, unknown>;
}
