/**
 * `<le-widget task="…" model="…" mode="local" endpoint-url="…">`: an Inference Widget for one
 * task, answered by the local worker or a remote Endpoint through the one client. The task's
 * family draws its inputs and its answer; the element draws the rest: the parameters panel, Run
 * and Stop, the route badge, download progress, the JSON answer and the code snippets.
 *
 * Built on Lit (reactive properties, templates that escape what they show, scoped styles): the
 * widgets draw model output, which must never become markup.
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { LocalEndpointClient } from '../client/client.js';
import type { Mode, RouteInfo } from '../client/policy.js';
import type { DevicePreference, EngineInterface, ProgressEvent } from '../protocol/engine.js';
import { FAMILIES, familyOf } from './families/index.js';
import { mediaInput, startRecording, type MediaInputHost } from './parts/media-input.js';
import { parametersPanel, collectParameters } from './parts/parameters-panel.js';
import { emptyProgress, onProgress, progressView, type ProgressState } from './parts/progress.js';
import { routeBadge } from './parts/route-badge.js';
import { AnswerError, errorOf, requestInit, sseEvents } from './parts/send.js';
import { snippetsView } from './parts/snippets-view.js';
import { sampleImage, sampleSound } from './parts/samples.js';
import { bars, theme } from './styles.js';
import type { ChosenMedia, Family, SampleMedia, WidgetHost, WidgetRequest } from './types.js';

let nextUid = 0;

/** Where the snippets send requests when the widget runs locally: `local-endpoint serve`'s default. */
export const SERVE_URL = 'http://127.0.0.1:8080';

export class LeWidget extends LitElement implements WidgetHost {
  static override properties = {
    task: { reflect: true },
    model: { reflect: true },
    mode: { reflect: true },
    endpointUrl: { attribute: 'endpoint-url' },
    device: {},
    theme: { reflect: true },
    timeout: { type: Number },
    heading: {},
    inputs: { state: true },
    media: { state: true },
    answer: { state: true },
    busy: { state: true },
    route: { state: true },
    error: { state: true },
    recording: { state: true },
  };

  declare task: string;
  declare model: string;
  /** Who answers: `local` (default), `remote`, `remote-first` (`auto`), `local-first`, `race`, `handoff`. */
  declare mode: Mode;
  declare endpointUrl: string | undefined;
  declare device: DevicePreference;
  /** `light`, `dark`, or unset: the page's `prefers-color-scheme`. */
  declare theme: 'light' | 'dark' | undefined;
  /** Give up on the remote Endpoint after this many ms (the modes that can fall back). */
  declare timeout: number | undefined;
  /** The card's title (default: the task). */
  declare heading: string | undefined;
  declare inputs: Record<string, unknown>;
  declare media: ChosenMedia | undefined;
  declare answer: unknown;
  declare busy: boolean;
  declare route: RouteInfo | undefined;
  declare error: string | undefined;
  declare recording: boolean;

  /** The engine for local answers (default: the page's shared worker). Set before the first run. */
  engine: EngineInterface | undefined;
  /** Remote Endpoint token, sent as `Authorization: Bearer …` (never shown in the snippets). */
  accessToken: string | undefined;
  /** Samples next to the file input; by default one made on the page (works offline). */
  samples: { image?: SampleMedia[]; audio?: SampleMedia[] } = {};
  /** The request that gave `answer`. */
  answered: WidgetRequest | undefined;
  /** Wall time of the latest answer, in ms. */
  elapsedMs: number | undefined;
  readonly uid = `le${++nextUid}`;
  /** The parameters panel's values as typed (`collectParameters` turns them into the request's). */
  parameterValues: Record<string, string | boolean> = {};
  /** The panel's free-form JSON, merged over the typed ones. */
  extraParameters = '';
  snippetTab = 'curl';
  private progress: ProgressState = emptyProgress();
  private stopping: AbortController | undefined;
  private stopRecording: (() => void) | undefined;
  private client: { key: string; client: LocalEndpointClient } | undefined;
  private family: Family | undefined;
  private done: ((value: unknown) => void)[] = [];

  /** Every family's styles: each scopes its rules under its own class names. */
  static override styles = [theme, bars, ...FAMILIES.flatMap((family) => (family.styles ? [family.styles] : []))];

  constructor() {
    super();
    this.task = '';
    this.model = '';
    this.mode = 'local';
    this.device = 'auto';
    this.busy = false;
    this.recording = false;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('task')) {
      this.family = familyOf(this.task);
      // Inputs the app set with the task are kept over the task's own starting values.
      const given = changed.has('inputs') && this.inputs ? this.inputs : {};
      this.inputs = { ...(this.family?.initialInputs(this.task) ?? {}), ...given };
      this.answer = undefined;
      this.answered = undefined;
      this.error = undefined;
      // A new task's parameters are not the old one's; those the app set before the first render stay.
      if (changed.get('task')) {
        this.parameterValues = {};
        this.extraParameters = '';
      }
    }
  }

  setInputs(patch: Record<string, unknown>): void {
    this.inputs = { ...this.inputs, ...patch };
  }

  get mediaKind(): 'image' | 'audio' | undefined {
    return this.family?.media?.(this.task);
  }

  get sampleList(): SampleMedia[] {
    const kind = this.mediaKind;
    if (!kind) return [];
    const given = this.samples[kind];
    return given?.length ? given : [{ name: kind === 'image' ? 'shapes.png' : 'tone.wav' }];
  }

  choose(blob: Blob, name: string): void {
    const kind = this.mediaKind ?? (blob.type.startsWith('audio') ? 'audio' : 'image');
    if (this.media) URL.revokeObjectURL(this.media.url);
    const media: ChosenMedia = { kind, blob, name, url: URL.createObjectURL(blob) };
    this.media = media;
    this.answer = undefined;
    this.answered = undefined;
    if (kind === 'image') {
      void createImageBitmap(blob).then(
        (bitmap) => {
          if (this.media !== media) return;
          this.media = { ...media, width: bitmap.width, height: bitmap.height };
          bitmap.close();
        },
        () => {},
      );
    }
  }

  async chooseSample(sample: SampleMedia): Promise<void> {
    try {
      const blob = sample.blob ?? (sample.url ? await (await fetch(sample.url)).blob() : this.mediaKind === 'audio' ? sampleSound() : await sampleImage());
      this.choose(blob, sample.name);
    } catch (err) {
      this.error = `The sample ${sample.name} did not load: ${(err as Error).message}`;
    }
  }

  toggleRecording(): void {
    if (this.recording) {
      this.stopRecording?.();
      return;
    }
    this.recording = true;
    void startRecording(
      (blob, name) => {
        this.recording = false;
        this.choose(blob, name);
      },
      (message) => {
        this.recording = false;
        this.error = message;
      },
    ).then((stop) => (this.stopRecording = stop));
  }

  /** Runs the request on screen; resolves with the answer (or undefined after an error). */
  async run(): Promise<unknown> {
    if (this.busy) return new Promise((ok) => this.done.push(ok));
    const family = this.family;
    if (!family) return this.fail(`No widget for the task "${this.task}".`);
    if (!this.model) return this.fail('The widget needs a model.');
    const parameters = collectParameters(this);
    if ('error' in parameters) return this.fail(parameters.error);
    if (this.mediaKind && !this.media) await this.chooseSample(this.sampleList[0]!);
    let request: WidgetRequest | string;
    try {
      request = await family.request(this, parameters.value);
    } catch (err) {
      return this.fail((err as Error).message);
    }
    if (typeof request === 'string') return this.fail(request);
    this.error = undefined;
    this.answer = undefined;
    this.answered = request;
    this.route = undefined;
    this.busy = true;
    this.progress = emptyProgress();
    this.stopping = new AbortController();
    const signal = this.stopping.signal;
    const started = performance.now();
    let answer: unknown;
    try {
      const init = requestInit(request, signal);
      // An image answer comes as PNG bytes only for an Accept of image/* (else base64 in JSON).
      if (request.binary) init.headers = { ...(init.headers as Record<string, string>), accept: 'image/png' };
      const response = await this.clientFor().fetch(request.path, init);
      if (!response.ok) throw await errorOf(response);
      if (request.stream) {
        for await (const event of sseEvents(response)) {
          answer = family.onEvent ? family.onEvent(this, answer, event) : event;
          this.answer = answer;
        }
      } else if (request.binary) {
        const blob = await response.blob();
        answer = { image: { kind: 'image', blob, name: 'image.png', url: URL.createObjectURL(blob) } satisfies ChosenMedia };
      } else {
        answer = await response.json();
      }
      this.answer = answer;
      this.elapsedMs = performance.now() - started;
      family.onAnswer?.(this, answer);
      this.dispatchEvent(new CustomEvent('le-answer', { detail: { answer, request, route: this.route }, bubbles: true, composed: true }));
    } catch (err) {
      if (signal.aborted) {
        // Stopped: what streamed so far stays, marked as stopped.
        this.elapsedMs = performance.now() - started;
        if (answer !== undefined) family.onAnswer?.(this, answer);
        this.error = 'Stopped.';
      } else {
        this.fail(err instanceof AnswerError ? `${err.status}: ${err.message}` : (err as Error).message);
      }
    } finally {
      this.busy = false;
      this.stopping = undefined;
      this.progress.step = undefined;
      for (const ok of this.done.splice(0)) ok(this.answer);
    }
    return this.answer;
  }

  stop(): void {
    this.stopping?.abort();
  }

  private fail(message: string): undefined {
    this.error = message;
    this.dispatchEvent(new CustomEvent('le-error', { detail: { message }, bubbles: true, composed: true }));
    return undefined;
  }

  private clientFor(): LocalEndpointClient {
    const mode = this.mode || 'local';
    const options = {
      mode,
      model: this.model,
      task: this.task,
      device: this.device,
      ...(mode !== 'local' && this.endpointUrl ? { endpointUrl: this.endpointUrl } : {}),
      ...(mode !== 'local' && this.timeout ? { timeoutMs: this.timeout } : {}),
    };
    const key = JSON.stringify(options);
    if (this.client?.key !== key) {
      this.client = {
        key,
        client: new LocalEndpointClient({
          ...options,
          ...(this.engine ? { engine: this.engine } : {}),
          ...(this.accessToken ? { accessToken: this.accessToken } : {}),
          onProgress: (event: ProgressEvent) => {
            if (onProgress(this.progress, event)) this.requestUpdate();
          },
          onRoute: (route) => (this.route = route),
        }),
      };
    }
    return this.client.client;
  }

  /** The Endpoint URL the snippets call: the endpoint-url when one is set (in every mode), else serve's default. */
  get snippetUrl(): string {
    return this.endpointUrl || SERVE_URL;
  }

  override render(): TemplateResult {
    const family = this.family;
    const kind = this.mediaKind;
    const title = this.heading ?? this.task;
    return html`<section class="card" part="card" aria-labelledby="${this.uid}-title" data-family=${family?.name ?? 'none'}>
      <header>
        <h2 id="${this.uid}-title">${title}</h2>
        <span class="model">${this.model}</span>
      </header>
      ${family
        ? html`<form
            class="inputs"
            aria-label="${title} inputs"
            @submit=${(event: Event) => {
              event.preventDefault();
              void this.run();
            }}
          >
            ${kind ? mediaInput(this.mediaHost(), kind) : nothing}
            ${family.renderInputs(this)} ${parametersPanel(this)}
            <div class="actions">
              <button type="submit" class="primary run" ?disabled=${this.busy}>${this.busy ? 'Running…' : (family.runLabel?.(this.task) ?? 'Run')}</button>
              ${this.busy ? html`<button type="button" class="stop" @click=${() => this.stop()}>Stop</button>` : nothing}
              <span class="status" role="status" aria-live="polite">${this.busy ? 'Working…' : this.answer !== undefined ? 'Done.' : ''}</span>
            </div>
          </form>`
        : html`<p class="error" role="alert">No widget for the task "${this.task}".</p>`}
      ${progressView(this.progress, this.uid)} ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${routeBadge(this.route, this.busy ? undefined : this.elapsedMs)}
      <div class="answer" aria-live="polite">${family && this.answer !== undefined ? family.renderAnswer(this, this.answer) : nothing}</div>
      ${this.answered ? this.jsonView() : nothing} ${this.answered ? snippetsView(this) : nothing}
    </section>`;
  }

  private mediaHost(): MediaInputHost {
    return {
      uid: this.uid,
      media: this.media,
      samples: this.sampleList,
      recording: this.recording,
      choose: (blob, name) => this.choose(blob, name),
      chooseSample: (sample) => void this.chooseSample(sample),
      toggleRecording: () => this.toggleRecording(),
    };
  }

  private jsonView(): TemplateResult {
    const answer = this.answer as { image?: ChosenMedia } | undefined;
    const shown = answer?.image?.blob ? { image: `${answer.image.blob.type}, ${answer.image.blob.size} bytes` } : this.answer;
    return html`<details class="panel json">
      <summary>Answer as JSON</summary>
      <pre tabindex="0" aria-label="The answer as JSON"><code>${JSON.stringify(shown, null, 2) ?? ''}</code></pre>
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'le-widget': LeWidget;
  }
}
