/** The custom task's pure parts: the body kept whole, the JSON check of answers, the browser's origin rule. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readWholeBody } from '../../../src/wire/body.js';
import { handlerData } from '../../../src/tasks/custom/custom.js';
import { jsonAnswer } from '../../../src/tasks/custom/json-answer.js';
import { checkBrowserHandlerUrl } from '../../../src/tasks/custom/handler-trust.js';

const read = (body: BodyInit, headers: Record<string, string> = {}, query = '') => {
  const request = new Request(`https://e.example/${query}`, { method: 'POST', headers, body });
  return readWholeBody(request, new URL(request.url));
};

describe('the custom body, kept whole', () => {
  it('keeps every top-level key of a JSON body for call(data)', async () => {
    const payload = await read(JSON.stringify({ inputs: 'This is a sample input', moreData: 1, customTask: true, parameters: { a: 1 } }), { 'content-type': 'application/json' });
    expect(payload).toEqual({ inputs: 'This is a sample input', parameters: { a: 1 }, extra: { moreData: 1, customTask: true } });
    expect(handlerData(payload)).toEqual({ inputs: 'This is a sample input', moreData: 1, customTask: true, parameters: { a: 1 } });
  });

  it('reads a raw image (by its type, or by its bytes with none) and takes query parameters; refuses other types', async () => {
    const png = new Uint8Array(readFileSync('.fixtures/models/test-media/tiger.png'));
    const typed = await read(png, { 'content-type': 'image/png' }, '?top_k=2');
    expect(typed).toMatchObject({ inputs: { kind: 'image', format: 'png' }, parameters: { top_k: 2 } });
    expect(await read(png)).toMatchObject({ inputs: { kind: 'image', format: 'png' } });
    const wav = new Uint8Array(readFileSync('.fixtures/models/test-media/sample1.wav'));
    expect(await read(wav, { 'content-type': 'application/octet-stream' })).toMatchObject({ inputs: { kind: 'audio', format: 'wav' } });
    expect(await read(JSON.stringify({ inputs: 1, x: 2 }))).toEqual({ inputs: 1, extra: { x: 2 } }); // JSON with no Content-Type
    await expect(read('a,b', { 'content-type': 'text/csv' })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^Unsupported Content-Type "text\/csv"/) });
    await expect(read(JSON.stringify({ other: 1 }), { 'content-type': 'application/json' })).rejects.toMatchObject({ status: 400, message: 'The request body has no "inputs" key.' });
  });
});

describe('what a handler may answer', () => {
  it('passes JSON through (a copy), with toJSON, typed arrays as numbers, non-finite numbers as null', () => {
    const date = new Date(0);
    const value = { a: [1, 'x', null, true], nested: { d: date, f: new Float32Array([0.5, 2]) }, n: Number.NaN, gone: undefined };
    expect(jsonAnswer(value)).toEqual({ a: [1, 'x', null, true], nested: { d: '1970-01-01T00:00:00.000Z', f: [0.5, 2] }, n: null });
    const shared = { k: 1 };
    expect(jsonAnswer([shared, shared])).toEqual([{ k: 1 }, { k: 1 }]); // shared, not cyclic
  });

  it.each([
    [() => 1, /answer is a function/],
    [Symbol('s'), /answer is a symbol/],
    [{ deep: { n: 1n } }, /answer\.deep\.n is a BigInt \(1n\)/],
    [[undefined], /answer\[0\] is undefined/],
    [new Set([1]), /answer is a Set, not a plain object/],
    [{ p: Promise.resolve(1) }, /answer\.p is a Promise, not a plain object \(await it\)/],
    [{ 'odd key': new Map() }, /answer\["odd key"\] is a Map/],
  ])('refuses %s with a 500 naming where', (value, message) => {
    expect(() => jsonAnswer(value)).toThrow(message);
    try {
      jsonAnswer(value);
    } catch (err) {
      expect((err as { status: number }).status).toBe(500);
    }
  });

  it('refuses a cyclic value', () => {
    const a: Record<string, unknown> = {};
    a.list = [a];
    expect(() => jsonAnswer(a)).toThrow(/answer\.list\[0\] is a cyclic value/);
  });
});

describe('the browser’s origin rule for an app-named handler', () => {
  const page = 'https://app.example/demo/index.html';
  it('resolves a relative URL against the page and allows the page’s origin', () => {
    expect(checkBrowserHandlerUrl('m', './handlers/h.js', page)).toBe('https://app.example/demo/handlers/h.js');
    expect(checkBrowserHandlerUrl('m', '/h.js', page)).toBe('https://app.example/h.js');
  });
  it.each([
    ['https://cdn.example/h.js', /is on another origin than the app's \(https:\/\/app\.example\)/],
    ['http://app.example/h.js', /is on another origin/],
    ['data:text/javascript,export class EndpointHandler {}', /its module URL is a data: URL/],
    ['blob:https://app.example/1234', /its module URL is a blob: URL/],
    ['javascript:alert(1)', /its module URL is a javascript: URL/],
  ])('refuses %s with a 403', (url, message) => {
    expect(() => checkBrowserHandlerUrl('m', url, page)).toThrow(message);
    try {
      checkBrowserHandlerUrl('m', url, page);
    } catch (err) {
      expect((err as { status: number }).status).toBe(403);
    }
  });
});
