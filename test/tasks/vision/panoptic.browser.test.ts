/**
 * image-segmentation with a mask-classification model (tiny MaskFormer) in the worker: panoptic by
 * default (numeric scores, disjoint masks), raw and base64 bodies, the official client, threshold,
 * subtasks (instance through our port of Python's post-processing; unsupported ones a 400 that
 * names the supported ones), and the Node-served Endpoint.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { WorkerEngine, createLocalFetch } from '../../../src/index.js';
import { decodeMask, toBase64 } from '../../media/masks.js';

const remote = inject('remote');
const MASKFORMER = 'local-endpoint/tiny-maskformer';
const SEGFORMER = 'local-endpoint/tiny-segformer';
const PANOPTIC_URL = 'https://panoptic.example.endpoints.huggingface.cloud';
const SEMANTIC_URL = 'https://semantic.example.endpoints.huggingface.cloud';
/** tiger.jpeg and tiger.png are 612×408. */
const WIDTH = 612;
const HEIGHT = 408;

const engine = new WorkerEngine();
afterAll(() => engine.terminate());
const localFetch = createLocalFetch({
  engine,
  endpoints: {
    [PANOPTIC_URL]: { task: 'image-segmentation', model: MASKFORMER, device: 'wasm' },
    [SEMANTIC_URL]: { task: 'image-segmentation', model: SEGFORMER, device: 'wasm' },
  },
});

type Segment = { label: string; score: number; mask: string };
let jpeg: Uint8Array;
let png: Uint8Array;
let labels: string[];

beforeAll(async () => {
  const media = async (name: string) => new Uint8Array(await (await fetch(`/models/test-media/${name}`)).arrayBuffer());
  jpeg = await media('tiger.jpeg');
  png = await media('tiger.png');
  labels = Object.values((await (await fetch(`/models/${MASKFORMER}/config.json`)).json()).id2label);
});

const body = (bytes: Uint8Array) => bytes.slice() as Uint8Array<ArrayBuffer>;

async function post(payload: BodyInit, type: string, url = PANOPTIC_URL) {
  const r = await localFetch(url, { method: 'POST', body: payload, headers: { 'content-type': type } });
  return { status: r.status, body: await r.json() };
}
const postJson = (payload: unknown, url = PANOPTIC_URL) => post(JSON.stringify(payload), 'application/json', url);

/**
 * Checks each mask (image-sized, 0 / 255, not empty) and that no pixel is in two segments; returns
 * the segment index per pixel (-1 where none).
 */
async function checkDisjoint(segments: Segment[]): Promise<Int8Array> {
  const owner = new Int8Array(WIDTH * HEIGHT).fill(-1);
  let overlaps = 0;
  for (const [k, segment] of segments.entries()) {
    const mask = await decodeMask(segment.mask);
    expect([mask.width, mask.height]).toEqual([WIDTH, HEIGHT]);
    let inside = 0;
    let other = 0;
    mask.gray.forEach((v, i) => {
      if (v === 255) {
        inside++;
        if (owner[i] !== -1) overlaps++;
        owner[i] = k;
      } else if (v !== 0) other++;
    });
    expect(other).toBe(0);
    expect(inside).toBeGreaterThan(0);
  }
  expect(overlaps).toBe(0);
  return owner;
}

describe('image-segmentation, panoptic (MaskFormer)', () => {
  it('answers a raw JPEG body with panoptic segments: numeric scores, labels from id2label, disjoint image-sized masks', async () => {
    const r = await post(body(jpeg), 'image/jpeg');
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThanOrEqual(2);
    for (const segment of r.body as Segment[]) {
      expect(labels).toContain(segment.label);
      expect(typeof segment.score).toBe('number');
      expect(segment.score).toBeGreaterThanOrEqual(0.9); // the Endpoint's default threshold
      expect(segment.score).toBeLessThanOrEqual(1);
    }
    expect(new Set(r.body.map((s: Segment) => s.label)).size).toBeGreaterThanOrEqual(2);
    await checkDisjoint(r.body);
    // Naming the default subtask gives the same answer.
    const named = await postJson({ inputs: toBase64(jpeg), parameters: { subtask: 'panoptic' } });
    expect(named).toEqual(r);
  });

  it('takes base64 in JSON (bare and as {image}), and the official client gets the same segments', async () => {
    const raw = await post(body(png), 'image/png');
    expect(await postJson({ inputs: toBase64(png) })).toEqual(raw);
    expect(await postJson({ inputs: { image: toBase64(png) } })).toEqual(raw);
    const hf = new InferenceClient('', { fetch: localFetch, endpointUrl: PANOPTIC_URL });
    const viaClient = await hf.imageSegmentation({ inputs: new Blob([body(png)]) });
    expect(viaClient).toEqual(raw.body); // panoptic scores are numbers: nothing to drop for the client
  });

  it('keeps fewer segments as the threshold rises, each scored at least the threshold', async () => {
    const counts: number[] = [];
    for (const threshold of [0.5, 0.9, 0.99]) {
      const r = await postJson({ inputs: toBase64(jpeg), parameters: { threshold } });
      expect(r.status).toBe(200);
      for (const segment of r.body as Segment[]) expect(segment.score).toBeGreaterThanOrEqual(threshold);
      counts.push(r.body.length);
    }
    expect(counts[0]).toBeGreaterThanOrEqual(counts[1]!);
    expect(counts[1]).toBeGreaterThan(counts[2]!);
  });

  it('answers subtask "instance" (Python MaskFormer post-processing): scores ≥ threshold, masks that never overlap', async () => {
    const r = await postJson({ inputs: toBase64(jpeg), parameters: { subtask: 'instance', threshold: 0.5 } });
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThanOrEqual(2);
    for (const segment of r.body as Segment[]) {
      expect(labels).toContain(segment.label);
      expect(segment.score).toBeGreaterThanOrEqual(0.5);
      const mask = await decodeMask(segment.mask);
      expect([mask.width, mask.height]).toEqual([WIDTH, HEIGHT]);
    }
    // Instances are painted onto one map, later over earlier (a fully covered one keeps an empty mask).
    const owner = new Uint8Array(WIDTH * HEIGHT);
    for (const segment of r.body as Segment[]) (await decodeMask(segment.mask)).gray.forEach((v, i) => v === 255 && (owner[i]! += 1));
    expect(owner.every((c) => c <= 1)).toBe(true);
    // Soft random masks: class × mean mask probability stays near 0.55, under the default 0.9.
    expect(await postJson({ inputs: toBase64(jpeg), parameters: { subtask: 'instance' } })).toEqual({ status: 200, body: [] });
  });

  it('refuses a subtask the model does not support, naming those it does, and keeps serving', async () => {
    const semantic = await postJson({ inputs: toBase64(png), parameters: { subtask: 'semantic' } });
    expect(semantic).toEqual({ status: 400, body: { error: 'This model does not support subtask "semantic"; it supports panoptic, instance.' } });
    const panoptic = await postJson({ inputs: toBase64(png), parameters: { subtask: 'panoptic' } }, SEMANTIC_URL);
    expect(panoptic).toEqual({ status: 400, body: { error: 'This model does not support subtask "panoptic"; it supports semantic.' } });
    const instance = await postJson({ inputs: toBase64(png), parameters: { subtask: 'instance' } }, SEMANTIC_URL);
    expect(instance.body.error).toBe('This model does not support subtask "instance"; it supports semantic.');
    // Both models still answer, and SegFormer's named semantic subtask is its default answer.
    expect((await post(body(png), 'image/png')).status).toBe(200);
    const semanticNamed = await postJson({ inputs: toBase64(png), parameters: { subtask: 'semantic' } }, SEMANTIC_URL);
    expect(semanticNamed).toEqual(await post(body(png), 'image/png', SEMANTIC_URL));
  });

  it('agrees with the Node-served Endpoint on the PNG: the same labels, and (almost) every pixel in the same kind of segment', async () => {
    const local = await post(body(png), 'image/png');
    const response = await fetch(remote.panopticSegmentation, { method: 'POST', headers: { 'content-type': 'image/png' }, body: body(png) });
    expect(response.status).toBe(200);
    const fromRemote = (await response.json()) as Segment[];
    expect(fromRemote.length).toBeGreaterThanOrEqual(2);
    expect([...new Set(fromRemote.map((s) => s.label))].sort()).toEqual([...new Set(local.body.map((s: Segment) => s.label))].sort());
    for (const segment of fromRemote) expect(segment.score).toBeGreaterThanOrEqual(0.9);
    // Compared loosely, by label per pixel: float rounding in the two ONNX runtimes may move a
    // segment's edge or split it differently.
    const localOwner = await checkDisjoint(local.body);
    const remoteOwner = await checkDisjoint(fromRemote);
    let same = 0;
    for (let i = 0; i < localOwner.length; i++) {
      const a = localOwner[i]! < 0 ? null : local.body[localOwner[i]!].label;
      const b = remoteOwner[i]! < 0 ? null : fromRemote[remoteOwner[i]!]!.label;
      if (a === b) same++;
    }
    expect(same / localOwner.length).toBeGreaterThan(0.95);
  });
});
