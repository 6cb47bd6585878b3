/**
 * Chat: an optional system prompt, the conversation as bubbles (the user's on the right, the
 * assistant's on the left), and a message box. Each turn posts the whole history to
 * `/v1/chat/completions` with `"stream": true`; the reply streams into the last bubble, and Stop
 * keeps what came.
 */
import { css, html, type TemplateResult } from 'lit';
import type { Family, WidgetHost } from '../types.js';
import { exampleOf, textBox } from './shared.js';

/** One turn of the conversation. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The folded stream: the reply so far, the chunks seen, and how it ended. */
export interface ChatReply {
  /** The concatenated `choices[0].delta.content`. */
  content: string;
  /** Chunks that carried a choice. */
  chunks: number;
  finish_reason?: string;
}

interface ChatChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
}

/** Folds one chat completion chunk into the reply (a new object each time, so the element redraws). */
export function foldChatChunk(reply: ChatReply | undefined, chunk: ChatChunk): ChatReply {
  const so = reply ?? { content: '', chunks: 0 };
  const choice = chunk.choices?.[0];
  if (!choice) return { ...so };
  const next: ChatReply = { ...so, content: so.content + (choice.delta?.content ?? ''), chunks: so.chunks + 1 };
  if (choice.finish_reason) next.finish_reason = choice.finish_reason;
  return next;
}

/** The replies already in the history (so the streaming bubble is not drawn twice). */
const folded = new WeakSet<object>();
/** How many bubbles each widget's log had last time (to scroll it down when it grows). */
const shownCount = new WeakMap<WidgetHost, number>();

function historyOf(host: WidgetHost): ChatTurn[] {
  return Array.isArray(host.inputs.history) ? (host.inputs.history as ChatTurn[]) : [];
}

function sentMessages(host: WidgetHost): ChatTurn[] {
  const json = host.answered?.json as { messages?: ChatTurn[] } | undefined;
  return Array.isArray(json?.messages) ? json.messages : [];
}

function bubble(turn: ChatTurn, streaming = false): TemplateResult {
  const who = turn.role === 'user' ? 'You' : 'Assistant';
  return html`<div class="chat-bubble ${turn.role}" data-role=${turn.role}>
    <span class="sr-only">${who}: </span><span class="chat-content">${turn.content}</span>${streaming
      ? html`<span class="caret" aria-hidden="true"></span>`
      : turn.content
        ? ''
        : html`<span class="chat-note">(empty reply)</span>`}
  </div>`;
}

/** The bubbles: the history, then (while a reply streams) the message sent and the reply so far. */
function chatLog(host: WidgetHost): TemplateResult {
  const turns: TemplateResult[] = historyOf(host).map((turn) => bubble(turn));
  const reply = host.answer as ChatReply | undefined;
  if (host.busy && !(reply && folded.has(reply))) {
    const sent = sentMessages(host).at(-1);
    if (sent) turns.push(bubble(sent));
    turns.push(bubble({ role: 'assistant', content: reply?.content ?? '' }, true));
  }
  if (shownCount.get(host) !== turns.length || host.busy) {
    shownCount.set(host, turns.length);
    requestAnimationFrame(() => {
      const log = host.renderRoot.querySelector<HTMLElement>('.chat-log');
      if (log) log.scrollTop = log.scrollHeight;
    });
  }
  return html`<div class="chat-log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0">
    ${turns.length ? turns : html`<p class="chat-empty">No messages yet.</p>`}
  </div>`;
}

export const chatFamily: Family = {
  runLabel: () => 'Send',
  name: 'chat',
  tasks: ['conversational'],
  initialInputs(task) {
    const messages = exampleOf(task)?.inputs;
    const first = Array.isArray(messages) ? (messages as ChatTurn[]).find((m) => m.role === 'user') : undefined;
    return { system: '', message: first?.content ?? '', history: [] };
  },
  renderInputs(host) {
    const id = `${host.uid}-in-message`;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      if (!host.busy) (event.target as HTMLTextAreaElement).form?.requestSubmit();
    };
    return html`${textBox(host, 'system', 'System prompt (optional)', { rows: 2, placeholder: 'You are a helpful assistant.' })}
      ${chatLog(host)}
      <div class="field chat-compose">
        <label class="label" for=${id}>Message</label>
        <textarea
          id=${id}
          rows="2"
          aria-describedby="${id}-hint"
          .value=${String(host.inputs.message ?? '')}
          @input=${(event: Event) => host.setInputs({ message: (event.target as HTMLTextAreaElement).value })}
          @keydown=${onKey}
        ></textarea>
        <span class="hint" id="${id}-hint">Enter sends, Shift+Enter starts a new line.</span>
      </div>
      <div class="chat-tools">
        <button type="button" class="chat-clear" ?disabled=${host.busy || !historyOf(host).length} @click=${() => host.setInputs({ history: [] })}>
          Clear chat
        </button>
      </div>`;
  },
  request(host, parameters) {
    const content = String(host.inputs.message ?? '').trim();
    if (!content) return 'Type a message.';
    const system = String(host.inputs.system ?? '').trim();
    const messages: ChatTurn[] = [...(system ? [{ role: 'system' as const, content: system }] : []), ...historyOf(host), { role: 'user', content }];
    return { path: '/v1/chat/completions', json: { model: host.model, messages, stream: true, ...parameters }, stream: 'openai' };
  },
  onEvent: (_host, answer, event) => foldChatChunk(answer as ChatReply | undefined, event as ChatChunk),
  onAnswer(host, answer) {
    const reply = answer as ChatReply;
    folded.add(reply);
    const turns = sentMessages(host).filter((turn) => turn.role !== 'system');
    host.setInputs({ history: [...turns, { role: 'assistant', content: reply.content }], message: '' });
  },
  renderAnswer(host, answer) {
    const reply = answer as ChatReply;
    const ending = reply.finish_reason ? `finish: ${reply.finish_reason}` : host.busy ? 'streaming…' : 'stopped';
    return html`<p class="chat-meta">${reply.chunks} chunk${reply.chunks === 1 ? '' : 's'} · ${ending}</p>`;
  },
  styles: css`
    .chat-log {
      display: flex;
      flex-direction: column;
      gap: 8px;
      max-height: 360px;
      overflow-y: auto;
      padding: 10px;
      border: 1px solid var(--le-border);
      border-radius: 6px;
      background: var(--le-bg);
      min-width: 0;
    }
    .chat-bubble {
      max-width: 85%;
      padding: 7px 11px;
      border-radius: 14px;
      overflow-wrap: anywhere;
      line-height: 1.45;
      font-size: 0.92rem;
    }
    .chat-content {
      white-space: pre-wrap;
    }
    .chat-note {
      color: var(--le-muted);
      font-style: italic;
    }
    .chat-bubble.user {
      align-self: flex-end;
      background: var(--le-accent);
      color: var(--le-accent-fg);
      border-bottom-right-radius: 4px;
    }
    .chat-bubble.assistant {
      align-self: flex-start;
      background: var(--le-surface);
      border: 1px solid var(--le-border);
      border-bottom-left-radius: 4px;
    }
    .chat-empty,
    .chat-meta {
      margin: 0;
      color: var(--le-muted);
      font-size: 0.85rem;
    }
    .chat-tools {
      display: flex;
      justify-content: flex-end;
    }
  `,
};
