/**
 * The image or audio input: a file, one of the samples, or (audio) the microphone, with a preview.
 * The chosen media is the element's; this draws the controls and reports the user's choice.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { ChosenMedia, SampleMedia } from '../types.js';

export interface MediaInputHost {
  readonly uid: string;
  readonly media: ChosenMedia | undefined;
  readonly samples: readonly SampleMedia[];
  readonly recording: boolean;
  choose(blob: Blob, name: string): void;
  chooseSample(sample: SampleMedia): void;
  toggleRecording(): void;
}

const ACCEPT = { image: 'image/*', audio: 'audio/*' };

export function mediaInput(host: MediaInputHost, kind: 'image' | 'audio'): TemplateResult {
  const fileId = `${host.uid}-file`;
  const media = host.media?.kind === kind ? host.media : undefined;
  return html`<fieldset class="media field" style="border:0;padding:0;margin:0">
    <legend class="label">${kind === 'image' ? 'Image' : 'Audio'}</legend>
    <div class="media-row">
      <label class="file-button" for=${fileId}>
        Choose ${kind === 'image' ? 'an image' : 'an audio'} file…
        <input
          id=${fileId}
          class="sr-only"
          type="file"
          accept=${ACCEPT[kind]}
          @change=${(event: Event) => {
            const file = (event.target as HTMLInputElement).files?.[0];
            if (file) host.choose(file, file.name);
          }}
        />
      </label>
      ${host.samples.map(
        (sample) => html`<button type="button" class="sample" @click=${() => host.chooseSample(sample)}>Sample: ${sample.name}</button>`,
      )}
      ${kind === 'audio' && typeof MediaRecorder !== 'undefined'
        ? html`<button type="button" class="record" aria-pressed=${host.recording ? 'true' : 'false'} @click=${() => host.toggleRecording()}>
            ${host.recording ? 'Stop recording' : 'Record'}
          </button>`
        : nothing}
    </div>
    ${media
      ? kind === 'image'
        ? html`<div class="chosen">
            <img class="chosen-thumb" src=${media.url} alt="The chosen image: ${media.name}" />
            <span class="hint">${media.name}${media.width ? ` · ${media.width}×${media.height}` : ''}</span>
          </div>`
        : html`<audio class="player" controls src=${media.url} aria-label="The chosen audio: ${media.name}"></audio>
            <p class="hint">${media.name}</p>`
      : html`<p class="hint">No ${kind} chosen yet: Run uses the first sample.</p>`}
  </fieldset>`;
}

/** Records from the microphone until `stop()` (or 30 s), as the browser's own format (webm/opus, mp4…). */
export async function startRecording(onDone: (blob: Blob, name: string) => void, onError: (message: string) => void): Promise<() => void> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    onError(`No microphone: ${(err as Error).message}`);
    return () => {};
  }
  const recorder = new MediaRecorder(stream);
  const chunks: Blob[] = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((track) => track.stop());
    const type = recorder.mimeType || 'audio/webm';
    const extension = type.includes('mp4') ? 'm4a' : type.includes('ogg') ? 'ogg' : 'webm';
    onDone(new Blob(chunks, { type }), `recording.${extension}`);
  };
  recorder.start();
  const timer = setTimeout(() => recorder.state === 'recording' && recorder.stop(), 30_000);
  return () => {
    clearTimeout(timer);
    if (recorder.state === 'recording') recorder.stop();
  };
}
