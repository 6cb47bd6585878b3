/**
 * The transcript: automatic-speech-recognition's text, and with timestamps (on by default) each
 * chunk as a button with its time range. A click seeks the audio player to the chunk and plays it;
 * while the sound plays, the chunk under the player's `currentTime` is highlighted.
 */
import { css, html, nothing, type TemplateResult } from 'lit';
import { mediaRequest } from '../parts/media-body.js';
import type { Family, WidgetHost } from '../types.js';

/** One timed piece of the transcript (a word, a character or a Whisper segment). */
export interface TranscriptChunk {
  text: string;
  start: number;
  end: number;
}

/** The answer's chunks as (text, start, end); a missing start is 0, a missing end the start. */
export function transcriptChunks(answer: unknown): TranscriptChunk[] {
  const chunks = (answer as { chunks?: unknown } | undefined)?.chunks;
  if (!Array.isArray(chunks)) return [];
  return chunks.map((chunk: { text?: unknown; timestamp?: [number | null, number | null] }) => {
    const [start, end] = chunk.timestamp ?? [0, 0];
    return { text: String(chunk.text ?? ''), start: start ?? 0, end: end ?? start ?? 0 };
  });
}

/** Seconds as `m:ss.s` (`83.25` → `1:23.3`). */
export function clockTime(seconds: number): string {
  const tenths = Math.max(0, Math.round(seconds * 10));
  const minutes = Math.floor(tenths / 600);
  return `${minutes}:${((tenths % 600) / 10).toFixed(1).padStart(4, '0')}`;
}

/** The index of the chunk under `time` (start ≤ time < end), or -1 between chunks. */
export function chunkAt(chunks: readonly TranscriptChunk[], time: number): number {
  for (let i = chunks.length - 1; i >= 0; i--) {
    const { start, end } = chunks[i]!;
    if (start <= time && (time < end || (end <= start && time < start + 0.05))) return i;
  }
  return -1;
}

function playerOf(host: WidgetHost): HTMLAudioElement | null {
  return host.renderRoot.querySelector<HTMLAudioElement>('audio.player');
}

/** The chunk index drawn as current, per player, so a `timeupdate` re-renders only on a change. */
const shown = new WeakMap<HTMLAudioElement, number>();
const watched = new WeakSet<HTMLAudioElement>();

/** Listens to the player once: each time update that moves to another chunk re-renders. */
function watch(host: WidgetHost, player: HTMLAudioElement): void {
  if (watched.has(player)) return;
  watched.add(player);
  const check = () => {
    const index = chunkAt(transcriptChunks(host.answer), player.currentTime);
    if (shown.get(player) !== index) host.requestUpdate();
  };
  for (const type of ['timeupdate', 'seeked', 'ended', 'emptied']) player.addEventListener(type, check);
}

/** Seeks the player to `start` (once its metadata is in) and plays from there. */
async function playFrom(host: WidgetHost, start: number): Promise<void> {
  const player = playerOf(host);
  if (!player) return;
  watch(host, player);
  if (player.readyState < HTMLMediaElement.HAVE_METADATA) {
    await new Promise<void>((ok) => {
      player.addEventListener('loadedmetadata', () => ok(), { once: true });
      player.addEventListener('error', () => ok(), { once: true });
      player.load();
    });
  }
  player.currentTime = start;
  host.requestUpdate();
  await player.play().catch(() => {});
}

export const transcriptFamily: Family = {
  name: 'transcript',
  tasks: ['automatic-speech-recognition'],
  media: () => 'audio',
  initialInputs: () => ({ timestamps: true }),
  renderInputs(host) {
    const id = `${host.uid}-in-timestamps`;
    return html`<div class="field transcript-options">
      <label class="check" for=${id}>
        <input
          id=${id}
          type="checkbox"
          .checked=${host.inputs.timestamps !== false}
          @change=${(event: Event) => host.setInputs({ timestamps: (event.target as HTMLInputElement).checked })}
        />
        <span>Timestamps</span>
      </label>
      <span class="hint">Adds <code>return_timestamps: true</code>: the text in timed chunks you can click to play.</span>
    </div>`;
  },
  request(host, parameters) {
    if (!host.media) return 'Choose or record a sound to transcribe.';
    // The panel's return_timestamps ("word", "char") wins over the checkbox.
    const all = host.inputs.timestamps !== false && parameters.return_timestamps === undefined ? { ...parameters, return_timestamps: true } : parameters;
    return mediaRequest(host.media, all);
  },
  renderAnswer(host, answer) {
    const text = String((answer as { text?: unknown } | undefined)?.text ?? '');
    const chunks = transcriptChunks(answer);
    const player = playerOf(host);
    if (player) watch(host, player);
    const current = player && chunks.length ? chunkAt(chunks, player.currentTime) : -1;
    if (player) shown.set(player, current);
    return html`<div class="transcript">
      <div class="transcript-text" role="region" aria-label="Transcript" tabindex="0">
        ${text.trim() ? text : html`<span class="hint">(The model heard no words.)</span>`}
      </div>
      ${chunks.length
        ? html`<ol class="transcript-chunks" aria-label="Timed chunks: click one to play it">
            ${chunks.map(
              (chunk, i) => html`<li>
                <button
                  type="button"
                  class="chunk ${i === current ? 'current' : ''}"
                  aria-current=${i === current ? 'true' : nothing}
                  data-start=${chunk.start}
                  data-end=${chunk.end}
                  @click=${() => void playFrom(host, chunk.start)}
                >
                  <span class="time"><span class="sr-only">Play from </span>${clockTime(chunk.start)}–${clockTime(chunk.end)}</span>
                  <span class="chunk-text">${chunk.text.trim() ? chunk.text : '·'}</span>
                </button>
              </li>`,
            )}
          </ol>`
        : nothing}
    </div>`;
  },
  styles: css`
    .transcript-options .check {
      font-weight: 600;
      font-size: 0.85rem;
    }
    .transcript {
      display: grid;
      gap: 10px;
      min-width: 0;
    }
    .transcript-text {
      margin: 0;
      padding: 8px 10px;
      background: var(--le-surface);
      border: 1px solid var(--le-border);
      border-radius: 6px;
      line-height: 1.5;
      overflow-wrap: anywhere;
      max-height: 9.5em;
      overflow-y: auto;
    }
    .transcript-chunks {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
      max-height: 16em;
      overflow-y: auto;
    }
    .transcript-chunks li {
      min-width: 0;
      max-width: 100%;
    }
    .transcript-chunks .chunk {
      display: grid;
      gap: 1px;
      text-align: start;
      padding: 4px 8px;
      max-width: 100%;
      line-height: 1.25;
    }
    .transcript-chunks .time {
      font-family: var(--le-mono);
      font-size: 0.72rem;
      color: var(--le-muted);
      font-variant-numeric: tabular-nums;
      white-space: nowrap;
    }
    .transcript-chunks .chunk-text {
      overflow-wrap: anywhere;
    }
    .transcript-chunks .chunk.current {
      background: var(--le-mark);
      border-color: var(--le-accent);
      box-shadow: inset 0 0 0 1px var(--le-accent);
    }
    .transcript-chunks .chunk.current .time {
      color: var(--le-fg);
    }
  `,
};
