/**
 * image-segmentation's subtasks in Node: the MaskFormer instance post-processing (a port of Python
 * transformers') on hand-made logits, the direct path a named subtask takes against the
 * transformers.js pipeline's own answer, and the task through the engine on the fixtures.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { env, pipeline, RawImage } from '@huggingface/transformers';
import { maskFormerInstances } from '../../../src/tasks/vision/mask-instances.js';
import { segmentWith, supportedSubtasks } from '../../../src/tasks/vision/image-segmentation.js';
import { Engine } from '../../../worker/engine.js';
import { nodeRuntime } from '../../../worker/runtime-node.js';
import { SHARED_MEDIA } from '../../../fixtures/media-location.js';

const MASKFORMER = 'local-endpoint/tiny-maskformer';
const SEGFORMER = 'local-endpoint/tiny-segformer';
const MASKFORMER_LABELS = ['tiger', 'grass', 'water', 'tree', 'sky'];
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softmax = (row: number[]) => {
  const e = row.map(Math.exp);
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
};

describe('maskFormerInstances (Python MaskFormerImageProcessor.post_process_instance_segmentation)', () => {
  // 3 queries, 2 labels + no-object; 2×2 mask logits, resized to 4×4.
  const classLogits = { dims: [1, 3, 3], data: [3, 0, 0, /**/ 0, 2, 0, /**/ 0, 0, 5] };
  const maskLogits = {
    dims: [1, 3, 2, 2],
    data: [2, 2, -1, -1, /* query 0: top row */ -1, 4, 4, 4, /* query 1: all but top-left */ 9, 9, 9, 9 /* query 2 */],
  };
  const p0 = softmax([3, 0, 0]);
  const p1 = softmax([0, 2, 0]);

  it('takes the best (query, class) pairs, scores them class × mean mask probability, and paints later over earlier', () => {
    const { segmentation, segments } = maskFormerInstances(classLogits, maskLogits, 0.5, [4, 4]);
    const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
    // Mean probability inside the mask: sum / (pixels + 1e-6), as in Python.
    expect(segments).toEqual([
      { id: 0, label_id: 0, score: round6(p0[0]! * ((2 * sigmoid(2)) / (2 + 1e-6))) },
      { id: 1, label_id: 1, score: round6(p1[1]! * ((3 * sigmoid(4)) / (3 + 1e-6))) },
    ]);
    // Nearest resize 2×2 → 4×4; query 1 is painted over query 0's top-right.
    expect(Array.from(segmentation)).toEqual([0, 0, 1, 1, /**/ 0, 0, 1, 1, /**/ 1, 1, 1, 1, /**/ 1, 1, 1, 1]);
  });

  it('lets one query count for two classes (top-k over all pairs); a fully covered instance keeps an empty mask', () => {
    const { segmentation, segments } = maskFormerInstances(classLogits, maskLogits, 0.05, [4, 4]);
    // Pairs by score: (q0, label 0), (q1, label 1), (q1, label 0): the top 3 of 6; query 2 (no-object) is out.
    expect(segments.map((s) => [s.id, s.label_id])).toEqual([[0, 0], [1, 1], [2, 0]]);
    expect(segments[2]!.score).toBeCloseTo(p1[0]! * sigmoid(4), 6);
    expect(Array.from(segmentation)).toEqual([0, 0, 2, 2, /**/ 0, 0, 2, 2, /**/ 2, 2, 2, 2, /**/ 2, 2, 2, 2]);
    expect(Array.from(segmentation).includes(1)).toBe(false);
  });

  it('keeps nothing above the threshold, and skips a mask with no logit above 0', () => {
    expect(maskFormerInstances(classLogits, maskLogits, 0.99, [4, 4]).segments).toEqual([]);
    const empty = { dims: [1, 3, 2, 2], data: [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1] };
    const { segmentation, segments } = maskFormerInstances(classLogits, empty, 0, [3, 5]);
    expect(segments).toEqual([]);
    expect(segmentation).toEqual(new Int32Array(15).fill(-1));
  });
});

describe('a named subtask, run directly, answers what the pipeline answers for its own pick', () => {
  it('panoptic on MaskFormer and semantic on SegFormer', async () => {
    env.localModelPath = '.fixtures/models/';
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    const image = await RawImage.read(join(SHARED_MEDIA, 'tiger.jpeg'));
    const params = { threshold: 0.9, maskThreshold: 0.5, overlapMaskAreaThreshold: 0.5 };
    for (const [model, subtask, supported] of [
      [MASKFORMER, 'panoptic', ['panoptic', 'instance']],
      [SEGFORMER, 'semantic', ['semantic']],
    ] as const) {
      const pipe = (await pipeline('image-segmentation', model, { device: 'cpu', dtype: 'fp32' })) as never as Parameters<typeof segmentWith>[0];
      try {
        expect(supportedSubtasks(pipe)).toEqual(supported);
        const direct = await segmentWith(pipe, image, subtask, params);
        const viaPipeline = await pipe(image, { threshold: 0.9, mask_threshold: 0.5, overlap_mask_area_threshold: 0.5, subtask: null });
        expect(direct.length).toBeGreaterThanOrEqual(2);
        expect(direct.map((s) => [s.label, s.score])).toEqual(viaPipeline.map((s) => [s.label, s.score]));
        direct.forEach((s, k) => {
          const other = viaPipeline[k]!.mask;
          expect([s.mask.width, s.mask.height]).toEqual([other.width, other.height]);
          expect(Buffer.from(s.mask.data).equals(Buffer.from(other.data))).toBe(true);
        });
      } finally {
        await (pipe as unknown as { dispose(): Promise<void> }).dispose();
      }
    }
  });
});

type Answer = { label: string; score: number | null; mask: string }[];

describe('image-segmentation through the engine (Node, as `serve` runs it)', () => {
  const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });
  const ask = async (model: string, parameters: Record<string, unknown> = {}) => {
    const inputs = (await readFile(join(SHARED_MEDIA, 'tiger.jpeg'))).toString('base64');
    return engine.infer({ task: 'image-segmentation', model, inputs, parameters });
  };
  const masks = async (answer: Answer) =>
    Promise.all(answer.map(async (s) => (await RawImage.fromBlob(new Blob([Buffer.from(s.mask, 'base64')]))).grayscale()));

  it('MaskFormer: panoptic by default (numeric scores), the same when named, and instance as Python computes it', async () => {
    const byDefault = await ask(MASKFORMER);
    expect(byDefault.ok).toBe(true);
    const panoptic = (byDefault as { output: Answer }).output;
    expect(panoptic.length).toBeGreaterThanOrEqual(2);
    for (const s of panoptic) {
      expect(MASKFORMER_LABELS).toContain(s.label);
      expect(s.score).toBeGreaterThanOrEqual(0.9);
    }
    expect(((await ask(MASKFORMER, { subtask: 'panoptic' })) as { output: Answer }).output).toEqual(panoptic);

    const instances = ((await ask(MASKFORMER, { subtask: 'instance', threshold: 0.5 })) as { output: Answer }).output;
    expect(instances.length).toBeGreaterThanOrEqual(2);
    const decoded = await masks(instances);
    const covered = new Uint8Array(612 * 408);
    instances.forEach((s, k) => {
      expect(MASKFORMER_LABELS).toContain(s.label);
      expect(typeof s.score).toBe('number');
      expect(s.score).toBeGreaterThanOrEqual(0.5);
      expect(s.score).toBe(Math.round(s.score! * 1e6) / 1e6); // rounded to 6 decimals, as in Python
      expect([decoded[k]!.width, decoded[k]!.height]).toEqual([612, 408]);
      decoded[k]!.data.forEach((v, i) => v === 255 && (covered[i]! += 1));
    });
    expect(covered.every((c) => c <= 1)).toBe(true); // painted onto one map, as Python's pipeline reads them
    // The default threshold (0.9) keeps no instance on this random model (soft masks: mean mask probability about 0.6).
    expect(((await ask(MASKFORMER, { subtask: 'instance' })) as { output: Answer }).output).toEqual([]);
  });

  it('names the supported subtasks when the request asks for another', async () => {
    expect(await ask(MASKFORMER, { subtask: 'semantic' })).toMatchObject({
      ok: false,
      status: 400,
      error: 'This model does not support subtask "semantic"; it supports panoptic, instance.',
    });
    for (const subtask of ['panoptic', 'instance']) {
      expect(await ask(SEGFORMER, { subtask })).toMatchObject({
        ok: false,
        status: 400,
        error: `This model does not support subtask "${subtask}"; it supports semantic.`,
      });
    }
    const semantic = await ask(SEGFORMER, { subtask: 'semantic' });
    expect(semantic).toMatchObject({ ok: true });
    expect((semantic as { output: Answer }).output).toEqual((await ask(SEGFORMER) as { output: Answer }).output);
  });
});
