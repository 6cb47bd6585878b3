/**
 * The generation and chat families in real Chromium: text-generation streams TGI's tokens in place
 * (the text shown is the tokens' texts, grows while they come, and is the greedy non-stream answer;
 * Stop keeps a prefix); the seq2seq tasks and image-to-text show the real output; the chat keeps
 * its history as bubbles, streams the reply into the last one and sends the system prompt.
 */
import { afterAll, describe, expect, test, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import { LocalEndpointClient } from '../../src/index.ts';
import type { ChatReply } from '../../src/widgets/families/chat.ts';
import { outputText, type StreamedText } from '../../src/widgets/families/generation.ts';
import type { LeWidget } from '../../src/widgets/index.ts';
import { sseEvents } from '../../src/widgets/parts/send.ts';
import { $, $$, TIGER, clickRun, expectAccessible, mount, screenshot, stopSharedEngine, typeInto } from './harness.ts';

afterAll(stopSharedEngine);

/** The same request, sent straight through a client on the widget's engine. */
async function send(widget: LeWidget, path: string, json: unknown): Promise<Response> {
  const client = new LocalEndpointClient({ model: widget.model, task: widget.task, engine: widget.engine!, device: 'wasm' });
  const response = await client.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  expect(response.ok, await response.clone().text()).toBe(true);
  return response;
}

/** The distinct lengths of a node's text while the widget redraws (a MutationObserver on its shadow root). */
function watchLengths(widget: LeWidget, selector: string) {
  const lengths: number[] = [];
  const look = () => {
    const length = widget.shadowRoot!.querySelector(selector)?.textContent?.length;
    if (length !== undefined && lengths.at(-1) !== length) lengths.push(length);
  };
  const observer = new MutationObserver(look);
  observer.observe(widget.shadowRoot!, { subtree: true, childList: true, characterData: true });
  return { lengths, stop: () => observer.disconnect() };
}

/** Resolves with the next answer (or throws on the next error). */
function nextAnswer(widget: LeWidget): Promise<unknown> {
  return new Promise((ok, fail) => {
    widget.addEventListener('le-answer', (e) => ok((e as CustomEvent).detail.answer), { once: true });
    widget.addEventListener('le-error', (e) => fail(new Error((e as CustomEvent).detail.message)), { once: true });
  });
}

function expectNoOverflow(widget: LeWidget) {
  const card = $(widget, '.card');
  expect(card.scrollWidth).toBeLessThanOrEqual(card.clientWidth);
}

/**
 * Clicks Run, and clicks Stop as soon as `atLeast` characters have streamed (in the redraw that
 * shows them, so the answer does not end first); waits for the run to end and gives the text kept.
 */
async function runAndStop(widget: LeWidget, selector: string, atLeast = 16): Promise<string> {
  let started = false;
  const stopped = new Promise<void>((ok) => {
    const observer = new MutationObserver(() => {
      const stop = widget.shadowRoot!.querySelector<HTMLButtonElement>('button.stop');
      started ||= widget.busy;
      if (started && !widget.busy) return (observer.disconnect(), ok()); // it ended first: the checks below say so
      if (!stop || (widget.shadowRoot!.querySelector(selector)?.textContent?.length ?? 0) < atLeast) return;
      observer.disconnect();
      stop.click();
      ok();
    });
    observer.observe(widget.shadowRoot!, { subtree: true, childList: true, characterData: true });
  });
  await userEvent.click($(widget, 'button.run'));
  await stopped;
  await vi.waitUntil(() => !widget.busy, { timeout: 30_000, interval: 20 });
  await widget.updateComplete;
  expect(widget.error).toBe('Stopped.');
  return widget.shadowRoot!.querySelector(selector)!.textContent!;
}

describe('text-generation streams in place', () => {
  test('tiny-llama: the tokens as they come, the greedy answer at the end', async () => {
    const widget = await mount('text-generation', 'local-endpoint/tiny-llama');
    widget.parameterValues = { max_new_tokens: '24' };
    const watch = watchLengths(widget, '.gen-output');
    const answer = (await clickRun(widget)) as StreamedText;
    watch.stop();
    const prompt = 'The weather in Berlin';
    expect(widget.answered?.json).toEqual({ inputs: prompt, parameters: { max_new_tokens: 24 }, stream: true });
    const shown = $(widget, '.gen-output').textContent;
    expect(shown).toBe(answer.text);
    expect($(widget, '.gen-prompt').textContent).toBe(prompt);
    // The same stream, read here: the shown text is its tokens' texts (special ones left out).
    const events = [];
    for await (const event of sseEvents(await send(widget, '/', widget.answered!.json))) events.push(event as { token: { text: string; special: boolean }; generated_text: string | null });
    expect(events.length).toBe(answer.tokens);
    expect(shown).toBe(events.map((e) => (e.token.special ? '' : e.token.text)).join(''));
    // Greedy: the non-stream answer is the prompt and the same text.
    const plain = (await (await send(widget, '/', { inputs: prompt, parameters: { max_new_tokens: 24 } })).json()) as [{ generated_text: string }];
    expect(plain[0].generated_text).toBe(prompt + shown);
    expect(answer.generated_text).toBe(plain[0].generated_text);
    // It grew while it streamed: several lengths, each longer than the last.
    expect(watch.lengths.length).toBeGreaterThanOrEqual(2);
    expect([...watch.lengths].sort((a, b) => a - b)).toEqual(watch.lengths);
    expect($(widget, '.gen-meta').textContent).toContain(`${answer.tokens} tokens`);
    expect($(widget, '.gen-meta').textContent).toContain(`finish: ${answer.finish_reason}`);
    expect($$(widget, '.gen-caret').length).toBe(0);
    await expectAccessible(widget);
    await screenshot(widget, 'text-generation');
  });

  test('tiny-gpt2, return_full_text false, dark: the same text as the non-stream answer', async () => {
    const widget = await mount('text-generation', 'local-endpoint/tiny-gpt2', { theme: 'dark', inputs: { text: 'Once upon a time' } });
    widget.parameterValues = { max_new_tokens: '16', return_full_text: false };
    const answer = (await clickRun(widget)) as StreamedText;
    const plain = (await (await send(widget, '/', { inputs: 'Once upon a time', parameters: { max_new_tokens: 16, return_full_text: false } })).json()) as [
      { generated_text: string },
    ];
    expect($(widget, '.gen-output').textContent).toBe(plain[0].generated_text);
    expect(answer.generated_text).toBe(plain[0].generated_text);
    await expectAccessible(widget);
    await screenshot(widget, 'text-generation-dark');
  });

  test('Stop mid-stream keeps a prefix of the answer', async () => {
    const widget = await mount('text-generation', 'local-endpoint/tiny-llama');
    widget.parameterValues = { max_new_tokens: '300' };
    const kept = await runAndStop(widget, '.gen-output');
    expect((widget.answer as StreamedText).text).toBe(kept);
    expect($(widget, '.gen-meta').textContent).toContain('stopped');
    const plain = (await (await send(widget, '/', { inputs: 'The weather in Berlin', parameters: { max_new_tokens: 300 } })).json()) as [{ generated_text: string }];
    const full = plain[0].generated_text.slice('The weather in Berlin'.length);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(full.length);
    expect(full.startsWith(kept)).toBe(true);
  });
});

describe('seq2seq and captions', () => {
  test('text2text-generation: the generated text in a card', async () => {
    const widget = await mount('text2text-generation', 'local-endpoint/tiny-t5');
    widget.parameterValues = { max_new_tokens: '12' };
    const answer = await clickRun(widget);
    expect(outputText(answer)).toBe((answer as [{ generated_text: string }])[0].generated_text);
    expect($(widget, '.gen-output').textContent).toBe(outputText(answer));
    await expectAccessible(widget);
    await screenshot(widget, 'text2text-generation');
  });

  test('summarization: the summary text', async () => {
    const widget = await mount('summarization', 'local-endpoint/tiny-bart');
    widget.parameterValues = { max_new_tokens: '12' };
    const answer = (await clickRun(widget)) as [{ summary_text: string }];
    expect(typeof answer[0].summary_text).toBe('string');
    expect($(widget, '.gen-output').textContent).toBe(answer[0].summary_text);
    await expectAccessible(widget);
    await screenshot(widget, 'summarization');
  });

  test('translation (M2M100): src_lang and tgt_lang sent, source and target side by side', async () => {
    const widget = await mount('translation', 'local-endpoint/tiny-m2m100', { inputs: { src_lang: 'en', tgt_lang: 'de' } });
    widget.parameterValues = { max_new_tokens: '10' };
    const answer = (await clickRun(widget)) as [{ translation_text: string }];
    const text = 'My name is Wolfgang and I live in Berlin';
    expect(widget.answered?.json).toEqual({ inputs: text, parameters: { src_lang: 'en', tgt_lang: 'de', max_new_tokens: 10 } });
    expect($(widget, '.gen-source .gen-text').textContent).toBe(text);
    expect($(widget, '.gen-target .gen-text').textContent).toBe(answer[0].translation_text);
    expect($(widget, '.gen-target .gen-text').getAttribute('lang')).toBe('de');
    const [source, target] = [$(widget, '.gen-source').getBoundingClientRect(), $(widget, '.gen-target').getBoundingClientRect()];
    expect(target.left).toBeGreaterThan(source.right - 1); // side by side at 720 px
    await expectAccessible(widget);
    await screenshot(widget, 'translation');
  });

  test('translation at 390 px: the sides stack, nothing overflows', async () => {
    const widget = await mount('translation', 'local-endpoint/tiny-m2m100', { width: 390, inputs: { src_lang: 'en', tgt_lang: 'fr' } });
    widget.parameterValues = { max_new_tokens: '10' };
    await clickRun(widget);
    const [source, target] = [$(widget, '.gen-source').getBoundingClientRect(), $(widget, '.gen-target').getBoundingClientRect()];
    expect(target.top).toBeGreaterThanOrEqual(source.bottom - 1);
    expectNoOverflow(widget);
    await screenshot(widget, 'translation-390');
  });

  test('image-to-text (SmolVLM): the tiger with its caption', async () => {
    const widget = await mount('image-to-text', 'local-endpoint/tiny-smolvlm', { samples: { image: [TIGER] } });
    widget.parameterValues = { max_new_tokens: '8' };
    const answer = (await clickRun(widget)) as [{ generated_text: string }];
    expect(widget.answered?.json).toMatchObject({ parameters: { max_new_tokens: 8 } });
    expect($(widget, 'figure figcaption').textContent).toBe(answer[0].generated_text);
    expect($(widget, 'figure img').getAttribute('src')).toBe(widget.media!.url);
    await expectAccessible(widget);
    await screenshot(widget, 'image-to-text');
  });
});

describe('chat', () => {
  const MODEL = 'local-endpoint/tiny-qwen3-chat';
  const SYSTEM = 'You are a film critic. Answer briefly.';

  function bubbles(widget: LeWidget) {
    return $$(widget, '.chat-log .chat-bubble').map((b) => ({ role: b.dataset.role, content: b.querySelector('.chat-content')!.textContent }));
  }

  test('two turns: four bubbles in order, the system prompt sent, replies streamed', async () => {
    const widget = await mount('conversational', MODEL, { inputs: { system: SYSTEM } });
    widget.parameterValues = { max_tokens: '12', temperature: '0' };
    expect(($(widget, 'textarea[id$="-in-message"]') as HTMLTextAreaElement).value).toBe('Which movie is the best ?');
    const watch = watchLengths(widget, '.chat-bubble.assistant:last-child .chat-content');
    const first = (await clickRun(widget)) as ChatReply;
    watch.stop();
    const json = widget.answered!.json as { messages: unknown[]; model: string; stream: boolean; max_tokens: number; temperature: number };
    expect(json.messages[0]).toEqual({ role: 'system', content: SYSTEM });
    expect(json).toMatchObject({ model: MODEL, stream: true, max_tokens: 12, temperature: 0 });
    expect(watch.lengths.length).toBeGreaterThanOrEqual(2);
    expect(bubbles(widget)).toEqual([
      { role: 'user', content: 'Which movie is the best ?' },
      { role: 'assistant', content: first.content },
    ]);
    expect(($(widget, 'textarea[id$="-in-message"]') as HTMLTextAreaElement).value).toBe('');

    // The second turn, sent with Enter.
    await typeInto(widget, 'textarea[id$="-in-message"]', 'And the second best?');
    const answered = nextAnswer(widget);
    await userEvent.keyboard('{Enter}');
    const second = (await answered) as ChatReply;
    await widget.updateComplete;
    const sent = (widget.answered!.json as { messages: unknown[] }).messages;
    expect(sent).toEqual([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Which movie is the best ?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: 'And the second best?' },
    ]);
    expect(bubbles(widget)).toEqual([
      { role: 'user', content: 'Which movie is the best ?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: 'And the second best?' },
      { role: 'assistant', content: second.content },
    ]);
    expect($(widget, '.chat-log').getAttribute('role')).toBe('log');
    // Greedy: the non-stream reply is the streamed one.
    const plain = (await (await send(widget, '/v1/chat/completions', { model: MODEL, messages: sent, max_tokens: 12, temperature: 0 })).json()) as {
      choices: [{ message: { content: string } }];
    };
    expect(plain.choices[0].message.content).toBe(second.content);
    // The user's bubbles are on the right, the assistant's on the left.
    const log = $(widget, '.chat-log').getBoundingClientRect();
    const [user, assistant] = [$$(widget, '.chat-bubble.user')[0]!.getBoundingClientRect(), $$(widget, '.chat-bubble.assistant')[0]!.getBoundingClientRect()];
    expect(log.right - user.right).toBeLessThan(user.left - log.left);
    expect(assistant.left - log.left).toBeLessThan(log.right - assistant.right);
    await expectAccessible(widget);
    await screenshot(widget, 'conversational');

    await userEvent.click($(widget, 'button.chat-clear'));
    await widget.updateComplete;
    expect(bubbles(widget)).toEqual([]);
  });

  test('dark, 390 px; Stop keeps the partial reply in the history (tiny-llama: a long reply)', async () => {
    const widget = await mount('conversational', 'local-endpoint/tiny-llama', { theme: 'dark', width: 390 });
    widget.parameterValues = { max_tokens: '300', temperature: '0' };
    const kept = await runAndStop(widget, '.chat-bubble.assistant:last-child .chat-content');
    expect((widget.answer as ChatReply).content).toBe(kept);
    expect(bubbles(widget)).toEqual([
      { role: 'user', content: 'Which movie is the best ?' },
      { role: 'assistant', content: kept },
    ]);
    const plain = (await (await send(widget, '/v1/chat/completions', { model: widget.model, messages: [{ role: 'user', content: 'Which movie is the best ?' }], max_tokens: 300, temperature: 0 })).json()) as {
      choices: [{ message: { content: string } }];
    };
    expect(kept.length).toBeLessThan(plain.choices[0].message.content.length);
    expect(plain.choices[0].message.content.startsWith(kept)).toBe(true);
    expectNoOverflow(widget);
    await expectAccessible(widget);
    await screenshot(widget, 'conversational-dark-390');
  });
});
