import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH, mediaType, parseJsonPayload, readPayload, withQueryParameters } from '../../src/wire/body.js';
import { EndpointError, quote } from '../../src/protocol/errors.js';

const url = new URL('https://endpoint.example/');
const request = (body: BodyInit | null, contentType?: string, headers: Record<string, string> = {}) =>
  new Request(url, { method: 'POST', body, headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers } });

function expect400(fn: () => unknown, message: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EndpointError);
    expect((err as EndpointError).status).toBe(400);
    expect((err as EndpointError).message).toMatch(message);
    return;
  }
  throw new Error('expected a 400');
}

describe('parseJsonPayload', () => {
  it('reads inputs and parameters', () => {
    expect(parseJsonPayload('{"inputs":"hi","parameters":{"top_k":2}}')).toEqual({ inputs: 'hi', parameters: { top_k: 2 } });
    expect(parseJsonPayload('{"inputs":["a","b"]}')).toEqual({ inputs: ['a', 'b'] });
    expect(parseJsonPayload('{"inputs":"hi","parameters":null}')).toEqual({ inputs: 'hi' });
  });

  it.each([
    ['', /body is empty/],
    ['{"inputs": ', /not valid JSON/],
    ['"just a string"', /must be a JSON object.*a string/],
    ['[1,2]', /must be a JSON object.*an array/],
    ['null', /must be a JSON object.*null/],
    ['{"input":"x"}', /no "inputs" key/],
    ['{"inputs":"x","parameters":[1]}', /"parameters" must be an object, got an array/],
    ['{"inputs":"x","parameters":"top_k=2"}', /"parameters" must be an object, got a string/],
  ])('rejects %j with a 400', (body, message) => expect400(() => parseJsonPayload(body), message));
});

describe('withQueryParameters', () => {
  it('turns query-string parameters into parameters when the body has none, as the Endpoint server does', () => {
    const u = new URL('https://e.example/?top_k=2&function_to_apply=softmax&flag=true');
    expect(withQueryParameters({ inputs: 'x' }, u)).toEqual({ inputs: 'x', parameters: { top_k: 2, function_to_apply: 'softmax', flag: true } });
  });
  it('keeps the body parameters when there are some', () => {
    const u = new URL('https://e.example/?top_k=2');
    expect(withQueryParameters({ inputs: 'x', parameters: { top_k: 3 } }, u)).toEqual({ inputs: 'x', parameters: { top_k: 3 } });
  });
});

describe('readPayload', () => {
  it('accepts JSON, JSON with a charset, text/plain holding JSON, and no Content-Type', async () => {
    const body = '{"inputs":"hi"}';
    for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain;charset=UTF-8', undefined]) {
      expect(await readPayload(request(body, type), url)).toEqual({ inputs: 'hi' });
    }
  });

  it('rejects other Content-Types with the list of supported ones', async () => {
    await expect(readPayload(request('x', 'image/png'), url)).rejects.toThrow(
      'Unsupported Content-Type "image/png". Supported: application/json, text/plain.',
    );
    await expect(readPayload(request('a=b', 'application/x-www-form-urlencoded'), url)).rejects.toMatchObject({ status: 400 });
  });

  it('rejects a body over the size limit, by its header or its bytes', async () => {
    await expect(readPayload(request('{}', 'application/json', { 'content-length': String(MAX_BODY_BYTES + 1) }), url)).rejects.toThrow(/over the limit/);
    const big = new Uint8Array(MAX_BODY_BYTES + 10).fill(32);
    await expect(readPayload(request(big, 'application/json'), url)).rejects.toThrow(/over the limit of 52428800 bytes/);
    await expect(readPayload(request(big, 'application/json'), url)).rejects.toMatchObject({ status: 413 });
  });

  it('parses the media type out of a Content-Type', () => {
    expect(mediaType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaType(null)).toBe('');
  });
});

describe('nesting depth (issue 12, defect 1)', () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it('refuses a body nested deeper than the limit, naming the field, at any depth', () => {
    for (const depth of [MAX_JSON_DEPTH, 5_000, 200_000]) {
      expect400(() => parseJsonPayload(`{"inputs":"hi","parameters":{"top_k":${nested(depth)}}}`), /^parameters\.top_k is nested too deeply: over 128 levels/);
    }
    expect400(() => parseJsonPayload(`{"inputs":[{"role":"user","content":${nested(5000)}}]}`), /^inputs\[0\]\.content is nested too deeply/);
    expect400(() => parseJsonPayload(`{"inputs":"hi","parameters":{"odd key":${nested(5000)}}}`), /^parameters\["odd key"\] is nested too deeply/);
    expect400(() => withQueryParameters({ inputs: 'x' }, new URL(`https://e.example/?top_k=${nested(3000)}`)), /^parameters\.top_k is nested too deeply/);
  });

  it('accepts 128 levels in all', () => {
    // The body is level 1, parameters 2, so top_k may hold 126 levels of arrays.
    expect(parseJsonPayload(`{"inputs":"hi","parameters":{"top_k":${nested(126)}}}`).parameters).toBeDefined();
  });
});

describe('quote (issue 12, defects 1, 2 and 13)', () => {
  it('quotes a value as JSON, cut to 100 characters', () => {
    expect(quote('abc')).toBe('"abc"');
    expect(quote({ a: [1, 'x', null, true] })).toBe('{"a":[1,"x",null,true]}');
    expect(quote('a'.repeat(10_000_000))).toBe(`"${'a'.repeat(99)}…`);
    expect(quote(Array.from({ length: 1_000_000 }, (_, i) => i)).length).toBe(101);
  });

  it('never overflows the stack on a deep value', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: [deep] };
    expect(quote(deep)).toBe('{"a":[{"a":[{…}]}]}');
  });

  it('names numbers JSON cannot hold', () => {
    expect(quote(JSON.parse('1e400'))).toBe('Infinity, not a finite number (a JSON number such as 1e400 overflows to Infinity)');
    expect(quote(-Infinity)).toMatch(/^-Infinity, not a finite number/);
    expect(quote(NaN)).toBe('NaN (not a number)');
  });
});
