/**
 * What a widget family is: the inputs it shows for its tasks, the Endpoint request they make, and
 * how the answer is drawn. The element (`<le-widget>`, widget.ts) owns everything around them:
 * the parameters panel, Run and Stop, the route badge, download progress, the JSON view and the
 * code snippets, so a family file holds only what is particular to its tasks.
 */
import type { CSSResultGroup, TemplateResult } from 'lit';
import type { RouteInfo } from '../client/policy.js';

/** An image or a sound the user chose (a file, a sample or a recording). */
export interface ChosenMedia {
  kind: 'image' | 'audio';
  blob: Blob;
  /** The file's name, as the snippets refer to it (`tiger.jpeg`, `recording.webm`). */
  name: string;
  /** An object URL for the preview (revoked when another is chosen). */
  url: string;
  /** Pixel size of an image, once known. */
  width?: number;
  height?: number;
}

/** A sample the widget offers next to the file input. */
export interface SampleMedia {
  name: string;
  /** Where to fetch it; or the Blob itself. */
  url?: string;
  blob?: Blob;
}

/**
 * The request on screen: one Endpoint route and its body. The element sends exactly this, and the
 * snippets show exactly this.
 */
export interface WidgetRequest {
  /** The route: `/` for the Endpoint's own request, `/v1/chat/completions` for chat. */
  path: string;
  /** A JSON body. */
  json?: unknown;
  /** A raw image or audio body (sent as the bytes, with the file's Content-Type). */
  media?: { blob: Blob; name: string; type: string };
  /**
   * The answer streams as server-sent events: `tgi` (`{token, generated_text}` events, POST / with
   * `"stream": true`) or `openai` (chat completion chunks). The family folds each event in `onEvent`.
   */
  stream?: 'tgi' | 'openai';
  /** The answer is an image (text-to-image's PNG bytes), not JSON. */
  binary?: boolean;
  /**
   * The JSON body carries the chosen media as base64: the file's name, and the JSON pointer
   * (`/inputs`, `/inputs/image`) of the base64 string, so the snippets read the file there
   * instead of showing the base64.
   */
  mediaInJson?: { name: string; pointer: string };
}

/** What a family sees of the element. */
export interface WidgetHost {
  readonly task: string;
  readonly model: string;
  /** The family's input values (kept by the element across renders; start from `initialInputs`). */
  readonly inputs: Record<string, unknown>;
  /** Changes some input values and re-renders. */
  setInputs(patch: Record<string, unknown>): void;
  /** The chosen image or sound, for families with `media`. */
  readonly media: ChosenMedia | undefined;
  /** The latest answer (the Endpoint's JSON, a family's folded stream, or `{image: ChosenMedia}`). */
  readonly answer: unknown;
  /** The request that gave `answer`. */
  readonly answered: WidgetRequest | undefined;
  /** True while a request runs. */
  readonly busy: boolean;
  readonly route: RouteInfo | undefined;
  /** Re-renders the element. */
  requestUpdate(): void;
  /** The element's shadow root, for a family that needs to reach its own nodes (an audio player). */
  readonly renderRoot: ParentNode;
  /** The element's id prefix, for unique `id`/`for` pairs inside the shadow root. */
  readonly uid: string;
}

export interface Family {
  /** The family's name: `labels`, `entities`, `chat`… (also the gallery's grouping). */
  readonly name: string;
  readonly tasks: readonly string[];
  /** The media input the family shows for a task, if any. */
  media?(task: string): 'image' | 'audio' | undefined;
  /** The input values a task starts with (from its spec's example). */
  initialInputs(task: string): Record<string, unknown>;
  /** The inputs: text boxes, pairs, messages, a table editor… (the media input is the element's). */
  renderInputs(host: WidgetHost): TemplateResult;
  /**
   * The request for the inputs on screen and the parameters set in the panel (only those the
   * user set; the panel's defaults are the model's). A string is a message for the user instead
   * (an input is missing).
   */
  request(host: WidgetHost, parameters: Record<string, unknown>): Promise<WidgetRequest | string> | WidgetRequest | string;
  /** A streamed request's events, folded into the answer so far (starts from `undefined`). */
  onEvent?(host: WidgetHost, answer: unknown, event: unknown): unknown;
  /** Called once when an answer is complete (a chat keeps its history). */
  onAnswer?(host: WidgetHost, answer: unknown): void;
  /** The Run button's label for a task (default `Run`; a chat says `Send`). */
  runLabel?(task: string): string;
  /** The answer as a picture. */
  renderAnswer(host: WidgetHost, answer: unknown): TemplateResult;
  /** Extra CSS for the family's inputs and answers. */
  readonly styles?: CSSResultGroup;
}
