/**
 * Sends a widget's request through the client, exactly as the snippets show it, and reads the
 * answer: JSON, an image, or server-sent events folded one by one.
 */
import { createParser } from 'eventsource-parser';
import type { WidgetRequest } from '../types.js';

/** The fetch init for a request: the JSON text, or the raw bytes with the file's Content-Type. */
export function requestInit(request: WidgetRequest, signal?: AbortSignal): RequestInit {
  if (request.media) {
    return { method: 'POST', headers: { 'content-type': request.media.type }, body: request.media.blob, ...(signal ? { signal } : {}) };
  }
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.json ?? {}), ...(signal ? { signal } : {}) };
}

/** An answer that is not a 2xx: the Endpoint's message (`error`, or OpenAI's `message`) and status. */
export class AnswerError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'AnswerError';
  }
}

/** The error body's message, whatever the route's shape (`{error}`, `{error: {message}}`, `{message}`). */
export async function errorOf(response: Response): Promise<AnswerError> {
  const text = await response.text();
  let message = text || response.statusText;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error = body.error as { message?: unknown } | string | undefined;
    message = String(typeof error === 'object' && error ? (error.message ?? JSON.stringify(error)) : (error ?? body.message ?? text));
  } catch {
    // not JSON: the text as it is
  }
  return new AnswerError(message, response.status);
}

/** Each SSE event's JSON data, in order; `[DONE]` ends it. */
export async function* sseEvents(response: Response): AsyncGenerator<unknown> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const queue: string[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event.data) });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(value);
      while (queue.length) {
        const data = queue.shift()!;
        if (data === '[DONE]') return;
        const event = JSON.parse(data) as { error?: unknown };
        if (event && typeof event === 'object' && 'error' in event && event.error) {
          const error = event.error as { message?: string } | string;
          throw new AnswerError(typeof error === 'string' ? error : (error.message ?? JSON.stringify(error)), 400);
        }
        yield event;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
