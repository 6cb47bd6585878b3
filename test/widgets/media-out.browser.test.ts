/**
 * The transcript and text-to-image families in real Chromium: the speech sample transcribed with
 * timestamps (on by default), each chunk a button with its time range that seeks the audio player
 * and is highlighted under the player's time; and a generated image, its pixel size the requested
 * width × height, with the element's "Step k of n" bar seen while it was made.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { userEvent } from 'vitest/browser';
import { chunkAt, clockTime, transcriptChunks } from '../../src/widgets/families/transcript.ts';
import { schedulerFromConfig, type SchedulerConfig } from '../../src/tasks/diffusion/schedulers/index.ts';
import type { LeWidget } from '../../src/widgets/index.ts';
import { $, $$, SPEECH, clickRun, expectAccessible, mount, screenshot, stopSharedEngine } from './harness.ts';

afterAll(stopSharedEngine);

const ASR = 'automatic-speech-recognition';

/** The chunk buttons show the answer's chunks, in order: each one's time range and text. */
function expectChunksFollowAnswer(widget: LeWidget, answer: unknown) {
  const chunks = transcriptChunks(answer);
  const buttons = $$(widget, '.transcript-chunks button.chunk');
  expect(buttons.length).toBe(chunks.length);
  buttons.forEach((button, i) => {
    const chunk = chunks[i]!;
    expect(Number(button.dataset.start)).toBe(chunk.start);
    expect(Number(button.dataset.end)).toBe(chunk.end);
    expect(button.querySelector('.time')!.textContent!.replace('Play from ', '').trim()).toBe(`${clockTime(chunk.start)}–${clockTime(chunk.end)}`);
    expect(button.querySelector('.chunk-text')!.textContent).toBe(chunk.text.trim() ? chunk.text : '·');
  });
  return { chunks, buttons };
}

function player(widget: LeWidget): HTMLAudioElement {
  return $(widget, 'audio.player') as HTMLAudioElement;
}

function until(target: EventTarget, type: string, ms = 5000): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${type} in ${ms} ms`)), ms);
    target.addEventListener(type, () => (clearTimeout(timer), ok()), { once: true });
  });
}

/** The index of the highlighted chunk button, or -1. */
function highlighted(widget: LeWidget): number {
  return $$(widget, '.transcript-chunks button.chunk').findIndex((b) => b.classList.contains('current'));
}

/** Clicks a chunk as a user does; its start is where the player is, and it is the highlighted one. */
async function expectClickSeeks(widget: LeWidget, chunks: ReturnType<typeof transcriptChunks>, index: number) {
  const audio = player(widget);
  const button = $$(widget, '.transcript-chunks button.chunk')[index]!;
  // Where the click's seek landed, read at its `seeked` event: the player plays on after it, so
  // on a busy machine a later reading of currentTime is already past the start.
  const landed = new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('no seeked event in 5 s')), 5000);
    audio.addEventListener('seeked', () => (clearTimeout(timer), ok(audio.currentTime)), { once: true });
  });
  await userEvent.click(button);
  expect(Math.abs((await landed) - chunks[index]!.start)).toBeLessThan(0.05);
  audio.pause();
  await widget.updateComplete;
  await expect.poll(async () => (await widget.updateComplete, highlighted(widget))).toBe(chunkAt(chunks, audio.currentTime));
}

describe('transcript', () => {
  test('tiny-wav2vec2-ctc: timestamps by default (word chunks), a click seeks and plays, the current chunk follows the player', async () => {
    const widget = await mount(ASR, 'local-endpoint/tiny-wav2vec2-ctc', { samples: { audio: [SPEECH] } });
    const box = $(widget, '.transcript-options input[type="checkbox"]') as HTMLInputElement;
    expect(box.checked).toBe(true);
    expect((box.labels?.[0]?.textContent ?? '').trim()).toBe('Timestamps');
    const answer = (await clickRun(widget)) as { text: string; chunks?: unknown[] };
    // The JSON+base64 form, as the raw body cannot carry parameters.
    expect((widget.answered?.json as { parameters: unknown }).parameters).toEqual({ return_timestamps: true });
    expect(typeof answer.text).toBe('string');
    expect($(widget, '.transcript-text').textContent!.trim()).toBe(answer.text.trim() || '(The model heard no words.)');
    let { chunks } = expectChunksFollowAnswer(widget, answer);
    if (!chunks.length) {
      // Random weights may hear no word; characters then (every kept CTC frame is one).
      widget.parameterValues = { return_timestamps: 'char' };
      const chars = await clickRun(widget);
      expect((widget.answered?.json as { parameters: unknown }).parameters).toEqual({ return_timestamps: 'char' });
      chunks = expectChunksFollowAnswer(widget, chars).chunks;
    }
    expect(chunks.length).toBeGreaterThan(1);
    const audio = player(widget);
    if (audio.readyState < HTMLMediaElement.HAVE_METADATA) await until(audio, 'loadedmetadata');
    // A later chunk, then the first: each click seeks to its start, and it is highlighted.
    const later = Math.min(chunks.length - 1, Math.floor(chunks.length / 2));
    await expectClickSeeks(widget, chunks, later);
    await expectClickSeeks(widget, chunks, 0);
    // The player moved elsewhere (as playing does): the highlight follows its time.
    const target = chunks.at(-1)!;
    audio.currentTime = (target.start + target.end) / 2;
    await until(audio, 'seeked');
    await expect.poll(async () => (await widget.updateComplete, highlighted(widget))).toBe(chunkAt(chunks, audio.currentTime));
    expect(highlighted(widget)).toBeGreaterThanOrEqual(0);
    // Playing: time updates move the highlight along (it stays the chunk under currentTime).
    audio.currentTime = chunks[0]!.start;
    await until(audio, 'seeked');
    await audio.play();
    await until(audio, 'timeupdate');
    await until(audio, 'timeupdate');
    audio.pause();
    await until(audio, 'pause').catch(() => {});
    await widget.updateComplete;
    await expect.poll(async () => (await widget.updateComplete, highlighted(widget))).toBe(chunkAt(chunks, audio.currentTime));
    // For the screenshot: a chunk clicked, so one is highlighted.
    await expectClickSeeks(widget, chunks, Math.min(chunks.length - 1, 2));
    expect(highlighted(widget)).toBeGreaterThanOrEqual(0);
    await expectAccessible(widget);
    await screenshot(widget, ASR);
  });

  test('tiny-whisper: the transcript and its chunks, dark theme', async () => {
    const widget = await mount(ASR, 'local-endpoint/tiny-whisper', { samples: { audio: [SPEECH] }, theme: 'dark' });
    widget.parameterValues = { max_new_tokens: '12' };
    const answer = (await clickRun(widget, 180_000)) as { text: string };
    expect((widget.answered?.json as { parameters: Record<string, unknown> }).parameters.return_timestamps).toBe(true);
    expect($(widget, '.transcript-text').textContent!.trim()).toBe(answer.text.trim() || '(The model heard no words.)');
    const { chunks } = expectChunksFollowAnswer(widget, answer);
    if (chunks.length) await expectClickSeeks(widget, chunks, 0);
    await expectAccessible(widget);
    await screenshot(widget, `${ASR}-dark`);
  });

  test('timestamps off: the raw body, the text alone; 390 px wide with chunks, no horizontal overflow', async () => {
    const widget = await mount(ASR, 'local-endpoint/tiny-wav2vec2-ctc', { samples: { audio: [SPEECH] }, width: 390 });
    const box = $(widget, '.transcript-options input[type="checkbox"]') as HTMLInputElement;
    box.click();
    await widget.updateComplete;
    expect(widget.inputs.timestamps).toBe(false);
    const answer = (await clickRun(widget)) as { text: string; chunks?: unknown };
    expect(widget.answered?.media?.type).toBe('audio/flac');
    expect(answer.chunks).toBeUndefined();
    expect($$(widget, '.transcript-chunks').length).toBe(0);
    box.click();
    await widget.updateComplete;
    widget.parameterValues = { return_timestamps: 'char' };
    const chars = await clickRun(widget);
    expect(expectChunksFollowAnswer(widget, chars).chunks.length).toBeGreaterThan(0);
    const card = $(widget, '.card');
    expect(card.scrollWidth).toBeLessThanOrEqual(card.clientWidth);
    await screenshot(widget, `${ASR}-390`);
  });
});

/** Every "Step k of n" the widget shows while `run` runs, seen by a MutationObserver. */
async function stepsSeenDuring(widget: LeWidget, run: () => Promise<unknown>) {
  const seen: { step: number; steps: number; value: number; max: number }[] = [];
  const look = () => {
    const bar = widget.shadowRoot!.querySelector<HTMLElement>('.progress .step');
    const match = bar?.querySelector('span')?.textContent?.match(/Step (\d+) of (\d+)/);
    const progress = bar?.querySelector('progress');
    if (match && progress) {
      const row = { step: Number(match[1]), steps: Number(match[2]), value: progress.value, max: progress.max };
      if (!seen.some((s) => s.step === row.step && s.steps === row.steps)) seen.push(row);
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(widget.shadowRoot!, { subtree: true, childList: true, characterData: true, attributes: true });
  try {
    const answer = await run();
    return { answer, seen };
  } finally {
    observer.disconnect();
  }
}

describe('text-to-image', () => {
  test('tiny-sd: the image at the requested size, alt the prompt, a Download link; the step bar seen while running', async () => {
    const widget = await mount('text-to-image', 'local-endpoint/tiny-sd');
    const prompt = String(widget.inputs.prompt);
    expect(prompt.length).toBeGreaterThan(0);
    expect(($(widget, 'textarea') as HTMLTextAreaElement).value).toBe(prompt);
    const steps = 3;
    widget.parameterValues = { num_inference_steps: String(steps), width: '64', height: '64', seed: '7' };
    const { seen } = await stepsSeenDuring(widget, () => clickRun(widget, 300_000));
    expect(widget.answered?.binary).toBe(true);
    expect(widget.answered?.json).toEqual({ inputs: prompt, parameters: { num_inference_steps: steps, width: 64, height: 64, seed: 7 } });
    // The denoising loop's length: the model's scheduler over num_inference_steps (PNDM, as
    // diffusers' with skip_prk_steps, runs one step more than asked).
    const config = (await (await fetch('/models/local-endpoint/tiny-sd/scheduler/scheduler_config.json')).json()) as SchedulerConfig;
    const scheduler = schedulerFromConfig(config);
    scheduler.setTimesteps(steps);
    const total = scheduler.timesteps.length;
    expect(total).toBeGreaterThanOrEqual(steps);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.steps).toBe(total);
      expect(s.max).toBe(total);
      expect(s.value).toBe(s.step);
      expect(s.step).toBeGreaterThanOrEqual(1);
      expect(s.step).toBeLessThanOrEqual(total);
    }
    // The bar is gone once the image is in.
    expect($$(widget, '.progress .step').length).toBe(0);
    const img = $(widget, 'img.t2i-image') as HTMLImageElement;
    await img.decode();
    expect([img.naturalWidth, img.naturalHeight]).toEqual([64, 64]);
    expect(img.alt).toBe(prompt);
    await widget.updateComplete;
    await expect.poll(() => $(widget, '.t2i-size').textContent).toBe('64 × 64 px');
    const link = $(widget, 'a.t2i-download') as HTMLAnchorElement;
    expect(link.getAttribute('download')).toBe('image.png');
    expect(link.href).toBe(img.src);
    expect((await (await fetch(link.href)).blob()).type).toBe('image/png');
    await expectAccessible(widget);
    await screenshot(widget, 'text-to-image');

    // 390 px wide: one step more is enough to see the layout; nothing overflows.
    const narrow = await mount('text-to-image', 'local-endpoint/tiny-sd', { width: 390, theme: 'dark' });
    narrow.parameterValues = { num_inference_steps: '1', width: '64', height: '64' };
    await clickRun(narrow, 300_000);
    await ($(narrow, 'img.t2i-image') as HTMLImageElement).decode();
    await narrow.updateComplete;
    const card = $(narrow, '.card');
    expect(card.scrollWidth).toBeLessThanOrEqual(card.clientWidth);
    await expectAccessible(narrow);
    await screenshot(narrow, 'text-to-image-390');
  });
});
