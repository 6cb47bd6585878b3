/**
 * What every widget test does: put a real `<le-widget>` on the page, with one shared worker engine
 * on WASM; click its Run button through Playwright (vitest's userEvent) and wait for the answer;
 * check it with axe-core; save a screenshot of it to `test-results/widgets/` for a reviewer.
 */
import { expect } from 'vitest';
import { commands, page, userEvent } from 'vitest/browser';
import { WorkerEngine } from '../../src/index.ts';
import '../../src/widgets/index.ts';
import type { LeWidget } from '../../src/widgets/index.ts';

/** The shared media the global setup serves (tiger.jpeg, sample1.flac…). */
export const MEDIA = '/models/test-media';
export const TIGER = { name: 'tiger.jpeg', url: `${MEDIA}/tiger.jpeg` };
export const SPEECH = { name: 'sample1.flac', url: `${MEDIA}/sample1.flac` };

let engine: WorkerEngine | undefined;
/** One worker for a file's widgets (on WASM: SwiftShader's WebGPU is for parity tests only). */
export function sharedEngine(): WorkerEngine {
  return (engine ??= new WorkerEngine({ memoryBudget: { pipelines: 3 } }));
}
export function stopSharedEngine(): void {
  engine?.terminate();
  engine = undefined;
}

let counter = 0;

export interface MountOptions {
  mode?: string;
  endpointUrl?: string;
  theme?: 'light' | 'dark';
  width?: number;
  samples?: LeWidget['samples'];
  inputs?: Record<string, unknown>;
}

/** A widget for `task` on `model`, in a box `width` px wide (default 720). */
export async function mount(task: string, model: string, options: MountOptions = {}): Promise<LeWidget> {
  const box = document.createElement('div');
  box.style.width = `${options.width ?? 720}px`;
  box.style.padding = '8px';
  box.style.background = options.theme === 'dark' ? '#0f1115' : '#ffffff';
  const widget = document.createElement('le-widget');
  widget.dataset.test = `w${++counter}`;
  widget.engine = sharedEngine();
  widget.device = 'wasm';
  widget.task = task;
  widget.model = model;
  if (options.mode) widget.mode = options.mode as LeWidget['mode'];
  if (options.endpointUrl) widget.endpointUrl = options.endpointUrl;
  if (options.theme) widget.theme = options.theme;
  if (options.samples) widget.samples = options.samples;
  if (options.inputs) widget.inputs = options.inputs;
  box.append(widget);
  document.body.append(box);
  // The test iframe is as wide as the box and its padding, so a screenshot holds the whole widget.
  await page.viewport((options.width ?? 720) + 40, 1060);
  await widget.updateComplete;
  return widget;
}

/** The widget's shadow root, where everything it draws is. */
export function shadow(widget: LeWidget): ShadowRoot {
  return widget.shadowRoot!;
}

export function $(widget: LeWidget, selector: string): HTMLElement {
  const found = widget.shadowRoot!.querySelector<HTMLElement>(selector);
  if (!found) throw new Error(`${selector} is not in the ${widget.task} widget`);
  return found;
}

export function $$(widget: LeWidget, selector: string): HTMLElement[] {
  return [...widget.shadowRoot!.querySelectorAll<HTMLElement>(selector)];
}

/** Clicks Run as a user does and waits for the answer (or the error), then for the redraw. */
export async function clickRun(widget: LeWidget, timeout = 90_000): Promise<unknown> {
  const outcome = new Promise<{ answer?: unknown; error?: string }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${widget.task}: no answer in ${timeout} ms`)), timeout);
    widget.addEventListener('le-answer', (e) => (clearTimeout(timer), ok({ answer: (e as CustomEvent).detail.answer })), { once: true });
    widget.addEventListener('le-error', (e) => (clearTimeout(timer), ok({ error: (e as CustomEvent).detail.message })), { once: true });
  });
  await userEvent.click($(widget, 'button.run'));
  const result = await outcome;
  await widget.updateComplete;
  if (result.error !== undefined) throw new Error(`${widget.task}: ${result.error}`);
  return result.answer;
}

/** Types into a field of the widget (clearing it first), as a user does. */
export async function typeInto(widget: LeWidget, selector: string, text: string): Promise<void> {
  const field = $(widget, selector);
  await userEvent.clear(field);
  await userEvent.fill(field, text);
  await widget.updateComplete;
}

/** axe-core's rules on the widget (through @axe-core/playwright): no violations. */
export async function expectAccessible(widget: LeWidget): Promise<void> {
  const violations = await (commands as unknown as { axeCheck(selector: string): Promise<unknown[]> }).axeCheck(`[data-test="${widget.dataset.test}"]`);
  expect(violations, `axe violations in the ${widget.task} widget`).toEqual([]);
}

/** A screenshot of the widget, to test-results/widgets/<name>.png (for a reviewer; not compared). */
export async function screenshot(widget: LeWidget, name: string): Promise<void> {
  widget.scrollIntoView();
  await page.screenshot({ element: widget, path: `../../test-results/widgets/${name}.png` });
}

/** The width of a bar as a fraction of its track. */
export function barFraction(fill: HTMLElement): number {
  const track = fill.parentElement!.getBoundingClientRect();
  return fill.getBoundingClientRect().width / track.width;
}
