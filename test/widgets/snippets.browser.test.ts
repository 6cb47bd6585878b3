/**
 * The widgets' code snippets run as shown. A widget (local mode, its endpoint-url a `serve`
 * process of the global setup, on the same model) answers; its snippets are read from its DOM (each
 * tab clicked, the `pre.snippet` text); curl, fetch, `@huggingface/inference` and openai run in
 * Node against serve (the `runSnippet` command), the local-endpoint snippet on this page. Each
 * printed answer must be the widget's (numbers within 1e-4), or, where the official client posts
 * elsewhere or reshapes the answer (CONTRACT.md's ⚠ rows), the same call made by
 * `@huggingface/inference` on this page.
 */
import { InferenceClient } from '@huggingface/inference';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { commands, userEvent } from 'vitest/browser';
import { LocalEndpointClient } from '../../src/index.ts';
import type { LeWidget } from '../../src/widgets/index.ts';
import { $, $$, SPEECH, TIGER, clickRun, mount, screenshot, stopSharedEngine } from './harness.ts';

afterAll(stopSharedEngine);

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
  outputs: Record<string, string>;
}
const runSnippet = (commands as unknown as { runSnippet(s: { id: string; code: string }, files?: Record<string, string>): Promise<Run> }).runSnippet;
type Remote = ReturnType<typeof inject<'remote'>>;

/** The snippets as the widget shows them: each tab clicked, its `pre.snippet` read. */
async function shownSnippets(widget: LeWidget): Promise<{ id: string; code: string }[]> {
  const panel = $(widget, 'details.snippets') as HTMLDetailsElement;
  if (!panel.open) await userEvent.click($(widget, 'details.snippets > summary'));
  const shown: { id: string; code: string }[] = [];
  for (const tab of $$(widget, 'details.snippets [role="tab"]')) {
    await userEvent.click(tab);
    await widget.updateComplete;
    expect(tab.getAttribute('aria-selected')).toBe('true');
    const pre = $(widget, 'pre.snippet');
    expect(pre.dataset.snippet).toBe(tab.dataset.snippet);
    shown.push({ id: pre.dataset.snippet!, code: pre.textContent! });
  }
  return shown;
}

function base64Of(blob: Blob): Promise<string> {
  return new Promise((ok) => {
    const reader = new FileReader();
    reader.onload = () => ok(String(reader.result).split(',')[1]!);
    reader.readAsDataURL(blob);
  });
}

/** Runs the local-endpoint snippet on this page: its import is the library already loaded, its files the widget's media. */
async function runOnPage(code: string, files: Record<string, Blob>): Promise<string> {
  const lines: string[] = [];
  const body = code.replace(/^import \{ LocalEndpointClient \} from "local-endpoint";$/m, '');
  expect(body).not.toBe(code);
  const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
  const pageFetch = (input: string, init?: RequestInit) => (files[input] ? Promise.resolve(new Response(files[input])) : fetch(input, init));
  await new AsyncFunction('LocalEndpointClient', 'fetch', 'console', body)(LocalEndpointClient, pageFetch, { log: (...values: unknown[]) => lines.push(values.join(' ')) });
  return `${lines.join('\n')}\n`;
}

/** The text a curl stream printed: TGI's non-special tokens, or OpenAI's deltas, joined. */
function sseText(stdout: string): string {
  let text = '';
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('data:') || line.slice(5).trim() === '[DONE]') continue;
    const event = JSON.parse(line.slice(5));
    text += event.token ? (event.token.special ? '' : event.token.text) : (event.choices?.[0]?.delta?.content ?? '');
  }
  return text;
}

/** An image's pixels (RGBA), decoded by the browser. */
async function pixels(blob: Blob): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  return { width: bitmap.width, height: bitmap.height, data: context.getImageData(0, 0, bitmap.width, bitmap.height).data };
}

/** The PNG a snippet wrote is the widget's image: same size, pixels within 2/255 on average (ONNX Runtime in Node vs WASM). */
async function expectSameImage(base64: string | undefined, expected: Blob, where: string): Promise<void> {
  expect(base64, `${where} wrote no image.png`).toBeTruthy();
  const bytes = Uint8Array.from(atob(base64!), (ch) => ch.charCodeAt(0));
  expect([...bytes.slice(0, 8)], where).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const [got, want] = [await pixels(new Blob([bytes], { type: 'image/png' })), await pixels(expected)];
  expect([got.width, got.height], where).toEqual([want.width, want.height]);
  let diff = 0;
  for (let i = 0; i < want.data.length; i++) diff += Math.abs(got.data[i]! - want.data[i]!);
  expect(diff / want.data.length, where).toBeLessThan(2);
}

/** Deep equality, numbers within 1e-4. */
function expectClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual, where).toBe('number');
    expect(Math.abs((actual as number) - expected), `${where}: ${actual} vs ${expected}`).toBeLessThan(1e-4);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), where).toBe(true);
    expect((actual as unknown[]).length, where).toBe(expected.length);
    expected.forEach((value, i) => expectClose((actual as unknown[])[i], value, `${where}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), where).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
  } else {
    expect(actual, where).toEqual(expected);
  }
}

/** A streamed answer's text as the widget folded it (the generation family's `text`, or a chat's reply). */
function streamedText(answer: unknown): string {
  const value = answer as { text?: string; content?: string; messages?: { role: string; content: string }[] } | string;
  if (typeof value === 'string') return value;
  if (typeof value.text === 'string') return value.text;
  if (typeof value.content === 'string') return value.content;
  const last = value.messages?.at(-1);
  if (last?.role === 'assistant') return last.content;
  throw new Error(`no text in the streamed answer ${JSON.stringify(answer)}`);
}

interface Case {
  /** The test's name (default: the task). */
  name?: string;
  task: string;
  model: string;
  served: keyof Remote;
  samples?: LeWidget['samples'];
  inputs?: Record<string, unknown>;
  /** The panel's free-form parameters. */
  parameters?: string;
  /**
   * How the official client's answer differs from the widget's (⚠): compute the reference with
   * the official client on this page, for the request on screen.
   */
  official?: (client: InferenceClient, request: { json?: unknown }, media?: Blob) => Promise<unknown>;
}

async function joined(chunks: AsyncIterable<{ choices: { text?: string; delta?: { content?: string } }[] }>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk.choices[0]?.text ?? chunk.choices[0]?.delta?.content ?? '';
  return text;
}

const CASES: Case[] = [
  // A ' in the text: curl's single quotes must survive it.
  { task: 'text-classification', model: 'local-endpoint/tiny-bert-classifier', served: 'textClassification', inputs: { text: "I love you. It's $5, isn't it?" }, parameters: '{"top_k": 2}' },
  { task: 'token-classification', model: 'local-endpoint/tiny-roberta-ner', served: 'tokenClassification' },
  { task: 'question-answering', model: 'local-endpoint/tiny-bert-qa', served: 'questionAnswering' },
  { task: 'image-classification', model: 'local-endpoint/tiny-vit-classifier', served: 'imageClassification', samples: { image: [TIGER] } },
  // With a parameter the image goes as base64 inside JSON; the official client's raw request() sends it.
  { name: 'image-classification, base64 in JSON', task: 'image-classification', model: 'local-endpoint/tiny-vit-classifier', served: 'imageClassification', samples: { image: [TIGER] }, parameters: '{"top_k": 2}' },
  { task: 'zero-shot-image-classification', model: 'local-endpoint/tiny-clip', served: 'zeroShotImageClassification', samples: { image: [TIGER] } },
  {
    task: 'visual-question-answering',
    model: 'local-endpoint/tiny-vilt',
    served: 'visualQuestionAnswering',
    samples: { image: [TIGER] },
    // The official client answers the first answer only, `{answer, score}`, not the list.
    official: (client, request, media) => {
      const { inputs, parameters } = request.json as { inputs: { question: string }; parameters?: Record<string, unknown> };
      return client.visualQuestionAnswering({ inputs: { image: media!, question: inputs.question }, ...(parameters ? { parameters } : {}) });
    },
  },
  { task: 'automatic-speech-recognition', model: 'local-endpoint/tiny-wav2vec2-ctc', served: 'speechRecognition', samples: { audio: [SPEECH] } },
  {
    task: 'text-generation',
    model: 'local-endpoint/tiny-llama',
    served: 'textGeneration',
    parameters: '{"max_new_tokens": 8, "do_sample": false}',
    // ⚠ textGenerationStream posts {prompt, max_tokens} to /v1/completions and yields OpenAI chunks.
    official: (client, request) => {
      const { stream: _stream, ...args } = request.json as Record<string, unknown>;
      return joined(client.textGenerationStream(args as never) as never);
    },
  },
  { task: 'text-to-image', model: 'local-endpoint/tiny-sd', served: 'textToImage', parameters: '{"num_inference_steps": 2, "seed": 7}' },
  { task: 'conversational', model: 'local-endpoint/tiny-qwen3-chat', served: 'conversational', parameters: '{"max_tokens": 8, "temperature": 0}' },
];

describe('snippets run as shown and print the widget’s answer', () => {
  for (const c of CASES) {
    test(c.name ?? c.task, async () => {
      const url = inject('remote')[c.served];
      const widget = await mount(c.task, c.model, { ...(c.samples ? { samples: c.samples } : {}), ...(c.inputs ? { inputs: c.inputs } : {}) });
      widget.endpointUrl = url; // the mode stays local: the snippets use the endpoint-url
      if (c.parameters) widget.extraParameters = c.parameters;
      const answer = await clickRun(widget, 120_000);
      const request = widget.answered!;
      expect(widget.route?.path ?? 'local').toBe('local');
      const snippets = await shownSnippets(widget);
      if (c.task === 'conversational' || c.task === 'zero-shot-image-classification') await screenshot(widget, `snippets-${c.task}`);
      const ids = snippets.map((s) => s.id);
      expect(ids.slice(0, 4)).toEqual(['curl', 'fetch', 'huggingface-inference', 'local-endpoint']);
      const chat = request.path === '/v1/chat/completions';
      expect(ids.includes('openai')).toBe(chat || request.path === '/v1/completions');
      if (c.task === 'conversational') expect(chat, 'the chat widget posts to /v1/chat/completions').toBe(true);
      for (const s of snippets) expect(s.code, s.id).toContain(s.id === 'local-endpoint' ? `model: "${c.model}"` : url);
      if (c.inputs) expect(JSON.stringify(request.json)).toContain(JSON.stringify(c.inputs.text));
      if (c.name?.includes('base64')) expect(request.mediaInJson).toEqual({ name: TIGER.name, pointer: '/inputs' });
      if (JSON.stringify(request.json ?? '').includes("'")) expect(snippets[0]!.code).toContain(`'\\''`);

      const media = request.media ?? request.mediaInJson;
      const blobs: Record<string, Blob> = media ? { [media.name]: widget.media!.blob } : {};
      const files: Record<string, string> = media ? { [media.name]: await base64Of(widget.media!.blob) } : {};
      const expectedText = request.stream ? streamedText(answer) : undefined;
      if (expectedText !== undefined) expect(expectedText.length).toBeGreaterThan(0);
      for (const s of snippets) {
        let stdout: string;
        let outputs: Record<string, string> = {};
        if (s.id === 'local-endpoint') {
          stdout = await runOnPage(s.code, blobs);
        } else {
          const run = await runSnippet(s, files);
          expect(run.code, `${c.task} ${s.id} failed:\n${run.stderr}`).toBe(0);
          ({ stdout, outputs } = run);
        }
        const where = `${c.task} ${s.id}`;
        if (request.binary) {
          const image = (answer as { image: { blob: Blob } }).image.blob;
          if (s.id === 'local-endpoint') expect(stdout, where).toMatch(/^image\/png \d+\n$/);
          else await expectSameImage(outputs['image.png'], image, where);
        } else if (s.id === 'curl') {
          if (request.stream) expect(sseText(stdout), where).toBe(expectedText);
          else expectClose(JSON.parse(stdout), answer, where);
        } else if (s.id === 'huggingface-inference' && c.official) {
          const reference = await c.official(new InferenceClient('', { endpointUrl: url }), request, widget.media?.blob);
          if (typeof reference === 'string') expect(stdout, where).toBe(`${reference}\n`);
          else expectClose(JSON.parse(stdout), reference, where);
        } else if (request.stream) {
          expect(stdout, where).toBe(`${expectedText}\n`);
        } else {
          expectClose(JSON.parse(stdout), answer, where);
        }
      }
    });
  }
});
