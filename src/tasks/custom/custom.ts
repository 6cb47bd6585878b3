/**
 * custom: the app's own handler answers, as a `handler.py` does on an Inference Endpoint. The
 * handler is an ES module exporting `class EndpointHandler { constructor(path, context);
 * call(data, request) }`; `call` gets the whole decoded request body and answers any JSON (an async
 * generator streams it as server-sent events). The README's "Custom handlers" gives the handler
 * API, where handlers come from and which are refused (worker/custom-handler.ts loads and runs
 * them; the runtimes decide where a handler may come from).
 *
 * The spec is pure: the body is the handler's to judge, so `parse` only keeps it whole (the
 * other top-level keys in `extra`, a raw image or sound as its checked bytes, which the engine
 * decodes). The runner is never run as a pipeline: the engine runs a custom request outside its
 * serial queues, since a handler's own pipeline calls go through them (`wholeBody`).
 */
import { EndpointError } from '../../protocol/errors.js';
import type { EndpointPayload, TaskRunner, TaskSpec } from '../types.js';

export const custom = {
  id: 'custom',
  wholeBody: true,
  // The Endpoint toolkit's seed payload for a custom handler.
  example: { inputs: 'This is a sample input', extra: { moreData: 1, customTask: true } },
  parse(payload: EndpointPayload): EndpointPayload {
    return payload;
  },
} satisfies TaskSpec<EndpointPayload>;

export const customRunner: TaskRunner<EndpointPayload> = {
  spec: custom,
  pipeline: 'custom',
  async run() {
    // The engine answers custom requests itself (worker/custom-handler.ts), never through here.
    throw new EndpointError(500, 'custom requests are answered by their handler, not by a pipeline.');
  },
};

/**
 * What the handler's `call(data)` gets, as the toolkit builds it: the body's keys as they came
 * (`inputs`, `parameters` when given, `stream` when set, and every other top-level key); for a raw
 * image or sound, `{inputs: <decoded>}` (and `parameters` from the query string). Pure.
 */
export function handlerData(payload: EndpointPayload, inputs: unknown = payload.inputs): Record<string, unknown> {
  return {
    ...payload.extra,
    inputs,
    ...(payload.parameters !== undefined ? { parameters: payload.parameters } : {}),
    ...(payload.stream !== undefined ? { stream: payload.stream } : {}),
  };
}
