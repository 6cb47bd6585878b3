/** `local-endpoint serve`, the real CLI process started by the global setup, over real HTTP. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { CLASSIFY_TEXT, EMBED_TEXT, LABELS, norm } from '../helpers.js';
import { supportedTasks } from '../../src/tasks/registry.js';

const { textClassification: url, featureExtraction: embedUrl, speechRecognition: asr } = inject('remote');
const run = promisify(execFile);

describe('local-endpoint serve', () => {
  it('answers GET / and /health with Ok once the model has loaded (503 before)', async () => {
    // The model loads at start; until it has, /health answers 503.
    for (const end = Date.now() + 30_000; (await fetch(`${url}/health`)).status === 503 && Date.now() < end; ) await new Promise((ok) => setTimeout(ok, 100));
    for (const path of ['/', '/health']) {
      const response = await fetch(url + path);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('Ok');
    }
  });

  it('answers a raw POST in the Endpoint server’s shape, with x-compute-type', async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: CLASSIFY_TEXT }) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-compute-type')).toBe('cpu');
    const body = await response.json();
    expect(body).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    const predict = await fetch(`${url}/predict?top_k=3`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: CLASSIFY_TEXT }) });
    expect((await predict.json()).map((l: { label: string }) => l.label).sort()).toEqual(LABELS);
  });

  it('serves the official client in Node, recognised by its User-Agent', async () => {
    const hf = new InferenceClient('', { endpointUrl: url });
    const labels = await hf.textClassification({ inputs: CLASSIFY_TEXT });
    expect(labels).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    const embedding = (await new InferenceClient('', { endpointUrl: embedUrl }).featureExtraction({ inputs: EMBED_TEXT })) as number[];
    expect(embedding).toHaveLength(32);
    expect(norm(embedding)).toBeCloseTo(1, 5);
  });

  it('answers bad input with 400 (413 for a body over the limit) and {"error"}, and keeps serving', async () => {
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringMatching(/not valid JSON/) });
    const type = await fetch(url, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: 'RIFF' });
    expect(type.status).toBe(400);
    expect((await type.json()).error).toMatch(/Unsupported Content-Type "audio\/wav". Supported: application\/json, text\/plain/);
    const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(51 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect((await big.json()).error).toMatch(/over the limit/);
    const good = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: CLASSIFY_TEXT }) });
    expect(good.status).toBe(200);
  });

  it('transcribes a video/webm recording (its audio track) as the audio-only webm, raw and from the official client', async () => {
    const media = (name: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(`.fixtures/models/test-media/${name}`)) // made by the global setup;
    const post = (type: string, body: Uint8Array<ArrayBuffer>) => fetch(asr, { method: 'POST', headers: { 'content-type': type }, body });
    const audio = await post('audio/webm', media('sample1.webm'));
    expect(audio.status).toBe(200);
    const expected = await audio.json();
    expect(expected.text.length).toBeGreaterThan(10);
    const video = await post('video/webm', media('sample1.video.webm'));
    expect(video.status).toBe(200);
    expect(await video.json()).toEqual(expected);
    // The client sends a Blob's own type as the Content-Type.
    const hf = new InferenceClient('', { endpointUrl: asr });
    expect(await hf.automaticSpeechRecognition({ data: new Blob([media('sample1.video.webm')], { type: 'video/webm' }) })).toEqual(expected);
    const mp4 = await post('video/mp4', media('sample1.video.mp4'));
    expect(await mp4.json()).toEqual(await (await post('audio/mp4', media('sample1.m4a'))).json());
  });

  it('allows browser pages from localhost by default, and refuses other origins', async () => {
    const preflight = (origin: string) =>
      fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-endpoint-dialect' } });
    const local = await preflight('http://localhost:5173');
    expect(local.status).toBe(204);
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(local.headers.get('access-control-allow-headers')).toBe('content-type,x-endpoint-dialect');
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('prints its usage, and refuses an unknown task with exit code 2', async () => {
    // As a user types it: npx finds the package's own bin.
    const help = await run('npx', ['local-endpoint', '--help']);
    expect(help.stdout).toMatch(/Usage: local-endpoint serve --task <task> --model <hub id or folder>/);
    const failed = await run(process.execPath, ['bin/local-endpoint.js', 'serve', '--task', 'nope', '--model', 'x']).catch((e) => e);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`Unknown task "nope". Supported: ${supportedTasks.join(', ')}.`);
  });
});
