/**
 * The bad-input corpus: over 300 requests a caller controls, over every task family, against a
 * real `local-endpoint serve` (Node, onnxruntime-node) of a generated model. Each must be refused
 * with the status it deserves (400, 404, 405, 413 or 415: never a 5xx), a JSON `{"error"}` that
 * names the field or the problem, and a body under 64 KB; afterwards the server is healthy and
 * answers a good request exactly as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, type RunningServer } from '../../src/node/index.js';
import { SHARED_MEDIA } from '../../fixtures/media-location.js';
import { CLASSIFIER, ENCODER, LLAMA, QA } from '../helpers.js';

interface Case {
  name: string;
  method?: string;
  path?: string;
  contentType?: string;
  body?: string | Uint8Array;
  /** Statuses that are right for this case. */
  status: number[];
  /** A word the error must contain (the field, or the problem). */
  names?: RegExp;
}

const deep = (levels: number, leaf = '1') => '['.repeat(levels) + leaf + ']'.repeat(levels);
const json = (value: unknown) => JSON.stringify(value);
const BAD = [400, 413, 415, 422];

/** Malformed and truncated JSON, wrong methods and odd paths: the same for every task. */
function commonCases(good: string): Case[] {
  const cases: Case[] = [];
  const malformed = ['{', '{"inputs":', '[1,2', 'nul', '{"inputs": "a",}', "{'inputs': 'a'}", '{"inputs": "a"} trailing', '{"inputs": "a"', '"unterminated', '{"inputs": tru}', '\u0000', '{"inputs": "a", "parameters": {"top_k": }}'];
  for (const body of malformed) cases.push({ name: `malformed JSON ${json(body)}`, body, status: [400], names: /JSON|body|inputs/i });
  for (let cut = 1; cut < good.length; cut += Math.max(1, Math.floor(good.length / 8))) {
    cases.push({ name: `truncated good request at ${cut}`, body: good.slice(0, cut), status: [400], names: /JSON|body|inputs/i });
  }
  cases.push({ name: 'empty body', body: '', status: [400], names: /body|inputs|empty/i });
  cases.push({ name: 'a JSON array as the payload', body: '[1, 2, 3]', status: [400], names: /inputs|object/i });
  cases.push({ name: 'a JSON string as the payload', body: '"hello"', status: [200, 400] });
  cases.push({ name: 'no inputs', body: json({ parameters: {} }), status: [400], names: /inputs/ });
  cases.push({ name: 'parameters a string', body: json({ inputs: 'a', parameters: 'top_k=3' }), status: [400], names: /parameters/ });
  cases.push({ name: 'parameters an array', body: json({ inputs: 'a', parameters: [1] }), status: [400], names: /parameters/ });
  for (const raw of ['NaN', 'Infinity', '-Infinity', '1e400', '-1e400']) {
    cases.push({ name: `inputs ${raw}`, body: `{"inputs": ${raw}}`, status: [400], names: /inputs|JSON|finite|number/i });
  }
  cases.push({ name: 'inputs nested 5,000 deep', body: `{"inputs": ${deep(5000)}}`, status: [400, 413], names: /inputs|nest|deep/i });
  cases.push({ name: 'a parameter nested 5,000 deep', body: `{"inputs": "hi", "parameters": {"top_k": ${deep(5000)}}}`, status: [400, 413], names: /top_k|nest|deep/i });
  cases.push({ name: 'a parameter nested 100,000 deep', body: `{"inputs": "hi", "parameters": {"x": ${deep(100_000)}}}`, status: [400, 413], names: /nest|deep|parameters|x/i });
  for (const [method, status] of [['PUT', [405]], ['DELETE', [405]], ['PATCH', [405]]] as const) {
    cases.push({ name: `method ${method}`, method, body: good, status: [...status], names: /method|POST/i });
  }
  for (const path of ['/predict/x', '/v1/unknown', '/..%2f..%2fetc%2fpasswd', '/%00', '/v2/models']) {
    cases.push({ name: `path ${path}`, path, body: good, status: [400, 404], names: /route|path|No |not/i });
  }
  // A query string is not the Endpoint's: ignored, even when it is not valid percent-encoding.
  cases.push({ name: 'path /predict?x=%zz', path: '/predict?x=%zz', body: good, status: [200, 400] });
  cases.push({ name: 'a form body', contentType: 'application/x-www-form-urlencoded', body: 'inputs=hi', status: [400, 415], names: /Content-Type|JSON|inputs|body/i });
  cases.push({ name: 'a JSON body typed image/png', contentType: 'image/png', body: good, status: [400, 415], names: /image|PNG|media|Content-Type|format/i });
  cases.push({ name: 'a JSON body typed audio/wav', contentType: 'audio/wav', body: good, status: [400, 415], names: /audio|WAV|media|Content-Type|format/i });
  cases.push({ name: 'a JSON body typed application/octet-stream', contentType: 'application/octet-stream', body: good, status: [200, 400, 415] });
  return cases;
}

/** Wrong types at each field of a text task, huge strings, NUL and lone surrogates. */
function textCases(field: (value: unknown) => unknown, parameters: Record<string, unknown[]>): Case[] {
  const cases: Case[] = [];
  for (const value of [1, true, null, {}, [], [1], [[]], { x: 1 }, [null], -0.5]) {
    cases.push({ name: `inputs ${json(value)}`, body: json({ inputs: field(value) }), status: [400], names: /inputs|question|context|string/i });
  }
  for (const [name, values] of Object.entries(parameters)) {
    for (const value of values) {
      cases.push({ name: `${name} = ${json(value)?.slice(0, 40)}`, body: json({ inputs: field('hello there'), parameters: { [name]: value } }), status: BAD, names: new RegExp(name) });
    }
  }
  cases.push({ name: 'a 10 MB string as top_k (quoted short)', body: json({ inputs: field('hi'), parameters: { top_k: 'x'.repeat(10_000_000) } }), status: [400, 413], names: /top_k|large/i });
  cases.push({ name: 'lone surrogate in inputs', body: `{"inputs": ${json(field('hello \ud800 there'))}}`, status: [200, 400] });
  cases.push({ name: 'NUL bytes in inputs', body: json({ inputs: field('hello\u0000\u0000there') }), status: [200, 400] });
  cases.push({ name: 'unknown parameter', body: json({ inputs: field('hello'), parameters: { no_such_parameter: 1 } }), status: [200, 400] });
  cases.push({ name: 'a body over 4× the limit', body: new Uint8Array(201 * 1024 * 1024), status: [413], names: /large|limit|MB|bytes/i });
  return cases;
}

/** Corrupt and truncated media of every format, and mismatched Content-Types. */
function mediaCases(kind: 'image' | 'audio'): Case[] {
  const files = kind === 'image' ? { 'image/png': 'tiger.png', 'image/jpeg': 'tiger.jpeg' } : { 'audio/wav': 'sample1.wav', 'audio/flac': 'sample1.flac', 'audio/mpeg': 'sample1.mp3' };
  const cases: Case[] = [];
  for (const [type, file] of Object.entries(files)) {
    const bytes = new Uint8Array(readFileSync(join(SHARED_MEDIA, file)));
    for (const keep of [0, 4, 16, 64]) {
      cases.push({ name: `${file} cut to ${keep} bytes`, contentType: type, body: bytes.slice(0, keep), status: [400], names: new RegExp(`${kind}|${type.split('/')[1]}|empty|body|decode|format|truncated|corrupt`, 'i') });
    }
    cases.push({ name: `${file} cut in half`, contentType: type, body: bytes.slice(0, bytes.length >> 1), status: [200, 400] });
    const garbled = bytes.slice();
    for (let i = 64; i < garbled.length; i += 97) garbled[i] = (garbled[i]! * 31 + 7) & 0xff;
    cases.push({ name: `${file} with garbled bytes`, contentType: type, body: garbled, status: [200, 400] });
    cases.push({ name: `random bytes typed ${type}`, contentType: type, body: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff), status: [400], names: new RegExp(`${kind}|format|decode|recogn|unsupported`, 'i') });
    cases.push({ name: `${file} typed text/plain`, contentType: 'text/plain', body: bytes, status: [200, 400, 415] });
  }
  const other = kind === 'image' ? ['sample1.wav', 'audio/wav'] : ['tiger.png', 'image/png'];
  cases.push({ name: `a ${other[1]} body for an ${kind} task`, contentType: other[1], body: new Uint8Array(readFileSync(join(SHARED_MEDIA, other[0]!))), status: [400, 415], names: new RegExp(`${kind}|format|unsupported|Content-Type`, 'i') });
  cases.push({ name: `base64 JSON that is not an ${kind}`, body: json({ inputs: Buffer.from('not media at all').toString('base64') }), status: [400], names: new RegExp(`${kind}|format|decode|recogn|unsupported|base64`, 'i') });
  cases.push({ name: 'base64 JSON that is not base64', body: json({ inputs: '***not base64***' }), status: [400], names: /base64|inputs|format|decode/i });
  cases.push({ name: `${kind} inputs a number`, body: json({ inputs: 42 }), status: [400], names: /inputs/ });
  return cases;
}

const FAMILIES: { task: string; model: string; good: string | { type: string; file: string }; cases: () => Case[] }[] = [
  {
    task: 'text-classification',
    model: CLASSIFIER,
    good: json({ inputs: 'I love you', parameters: { top_k: 2 } }),
    cases: () => [
      ...textCases((v) => v, { top_k: [-1, 0, 1.5, '3', [3], true], function_to_apply: ['tanh', 3] }),
      // As the transformers pipeline: a top_k past the labels gives them all; null is no value.
      { name: 'top_k past the number of labels', body: json({ inputs: 'hi', parameters: { top_k: 1e9 } }), status: [200] },
      { name: 'function_to_apply null', body: json({ inputs: 'hi', parameters: { function_to_apply: null } }), status: [200, 400] },
    ],
  },
  {
    task: 'question-answering',
    model: QA,
    good: json({ inputs: { question: 'where do i live?', context: 'my name is wolfgang and i live in berlin' } }),
    cases: () => [
      ...textCases((v) => (typeof v === 'string' ? { question: v, context: `${v} in berlin` } : { question: v, context: 'c' }), { top_k: [-1, 0, 2.5, '1'], max_answer_len: [-5, 0, 'x'], doc_stride: [-1, 'x'] }),
      { name: 'context missing', body: json({ inputs: { question: 'q' } }), status: [400], names: /context/ },
      { name: 'question missing', body: json({ inputs: { context: 'c' } }), status: [400], names: /question/ },
    ],
  },
  {
    task: 'feature-extraction',
    model: ENCODER,
    good: json({ inputs: 'an embedding' }),
    cases: () => textCases((v) => v, { pooling: ['max_of_min', 3], normalize: ['yes', 1], truncate: ['no', 2] }),
  },
  {
    task: 'text-generation',
    model: LLAMA,
    good: json({ inputs: 'Hello', parameters: { max_new_tokens: 2 } }),
    cases: () => [
      ...textCases((v) => v, { max_new_tokens: [-1, 1.5, 'ten'], temperature: [-1, 'hot'], top_p: [2, -0.1], stop: [3, [1]] }),
      { name: 'chat messages nested 5,000 deep', path: '/v1/chat/completions', body: `{"messages": [{"role": "user", "content": ${deep(5000, '"x"')}}]}`, status: [400, 413], names: /content|messages|nest|deep/i },
      { name: 'chat messages not an array', path: '/v1/chat/completions', body: json({ messages: 'hi' }), status: [400], names: /messages/ },
      { name: 'chat role unknown', path: '/v1/chat/completions', body: json({ messages: [{ role: 'wizard', content: 'hi' }] }), status: [200, 400] },
      { name: 'completions prompt a number', path: '/v1/completions', body: json({ prompt: 3 }), status: [400], names: /prompt/ },
    ],
  },
  { task: 'image-classification', model: 'local-endpoint/tiny-vit-classifier', good: { type: 'image/png', file: 'tiger.png' }, cases: () => mediaCases('image') },
  { task: 'automatic-speech-recognition', model: 'local-endpoint/tiny-wav2vec2-ctc', good: { type: 'audio/wav', file: 'sample1.wav' }, cases: () => mediaCases('audio') },
];

const total = FAMILIES.reduce((n, f) => n + f.cases().length + commonCases(typeof f.good === 'string' ? f.good : '{"inputs": ""}').length, 0);

describe(`the bad-input corpus (${total} cases)`, () => {
  it('has at least 300 cases over every task family', () => {
    expect(total).toBeGreaterThanOrEqual(300);
  });

  describe.each(FAMILIES)('$task', ({ task, model, good, cases }) => {
    let server: RunningServer;
    let reference: string;
    const goodRequest = (): Case =>
      typeof good === 'string'
        ? { name: 'good', body: good, status: [200] }
        : { name: 'good', contentType: good.type, body: new Uint8Array(readFileSync(join(SHARED_MEDIA, good.file))), status: [200] };
    const send = async (c: Case) => {
      const response = await fetch(`${server.url}${c.path ?? '/'}`, {
        method: c.method ?? 'POST',
        headers: { 'content-type': c.contentType ?? 'application/json' },
        ...(c.method === 'GET' ? {} : { body: c.body as BodyInit }),
      });
      return { status: response.status, text: await response.text() };
    };
    beforeAll(async () => {
      server = await serve({ task, model, modelsDir: '.fixtures/models', port: 0 });
      const answer = await send(goodRequest());
      expect(answer.status, answer.text).toBe(200);
      reference = answer.text;
    });
    afterAll(() => server?.close());

    const all = [...cases(), ...commonCases(typeof good === 'string' ? good : '{"inputs": ""}')];
    it.each(all.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const { status, text } = await send(c);
      const context = `${status}: ${text.slice(0, 300)}`;
      expect(c.status, context).toContain(status);
      expect(text.length, context).toBeLessThan(64 * 1024);
      if (status >= 400) {
        const body = JSON.parse(text) as { error?: unknown };
        expect(typeof body.error, context).toBe('string');
        if (c.names) expect(body.error as string, context).toMatch(c.names);
      }
    });

    it('is healthy afterwards and answers the good request as before', async () => {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect((await send(goodRequest())).text).toBe(reference);
    });
  });
});
