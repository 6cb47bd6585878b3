/**
 * The shapes of tool calls in OpenAI's chat answers (pure, page-safe): `message.tool_calls` with
 * `finish_reason: "tool_calls"`, and in a stream, the text before a call as `delta.content`, then
 * one chunk of `delta.tool_calls` (each with its `index`) and a last chunk with the finish reason.
 */
import { readToolCalls, visibleBeforeCall, type ToolCall } from './tool-call-text.js';
import { openAIId } from '../shared/ids.js';
import type { StructuredRequest } from './structured.js';
import type { StreamMeta, StreamShape, StreamToken } from '../types.js';

/** A chat choice's message and finish reason when it made calls (else only the message's content). */
export function toolMessage(content: string | null, calls: ToolCall[]): { message: Record<string, unknown>; finish_reason?: 'tool_calls' } {
  if (!calls.length) return { message: { role: 'assistant', content: content ?? '' } };
  return { message: { role: 'assistant', content, tool_calls: calls }, finish_reason: 'tool_calls' };
}

/** What a stream has seen so far, per stream. */
const seen = new WeakMap<StreamMeta, { text: string; sent: number }>();

interface Chunk {
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
}

/** Wraps the chat stream: for a request with tools, calls are held back and sent as `delta.tool_calls`. */
export function withToolStream<R extends { structured: StructuredRequest | null }>(base: StreamShape<R>): StreamShape<R> {
  return {
    ...base,
    token(event, request, meta) {
      const tools = request.structured?.tools;
      if (!tools || tools.choice === 'none') return base.token(event, request, meta);
      let state = seen.get(meta);
      if (!state) seen.set(meta, (state = { text: '', sent: 0 }));
      state.text = event.finish ? event.finish.text : state.text + event.text;
      if (!event.finish) {
        const visible = visibleBeforeCall(state.text);
        if (visible <= state.sent) return [];
        const delta = state.text.slice(state.sent, visible);
        state.sent = visible;
        return base.token({ ...event, text: delta }, request, meta);
      }
      seen.delete(meta);
      const names = tools.functions.map((f) => f.name);
      const { calls } = readToolCalls(state.text, names, () => openAIId('call'));
      const rest = calls.length ? '' : state.text.slice(state.sent);
      const messages = base.token({ ...event, text: rest } as StreamToken, request, meta) as Chunk[];
      if (!calls.length) return messages;
      const [last, ...after] = messages;
      const choice = last!.choices[0]!;
      const callChunk = {
        ...last,
        choices: [{ ...choice, delta: { role: 'assistant', content: null, tool_calls: calls.map((call, index) => ({ index, ...call })) }, finish_reason: null }],
      };
      const finishChunk = { ...last, choices: [{ ...choice, delta: {}, finish_reason: 'tool_calls' }] };
      return [callChunk, finishChunk, ...after];
    },
  };
}
