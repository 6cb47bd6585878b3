import { describe, expect, it } from 'vitest';
import { PipelineCache, type ProgressEvent } from '../../worker/pipeline-cache.js';

const key = { task: 'text-classification', model: 'm', device: 'wasm' };

describe('PipelineCache', () => {
  it('loads once for concurrent callers and shares the progress with each of them', async () => {
    const cache = new PipelineCache<string>();
    let loads = 0;
    let release!: () => void;
    const load = async (report: (e: ProgressEvent) => void) => {
      loads++;
      await new Promise<void>((ok) => (release = ok));
      report({ status: 'progress', task: key.task, model: key.model, file: 'onnx/model.onnx', loaded: 5, total: 5 });
      return 'pipe';
    };
    const seen: ProgressEvent[][] = [[], [], []];
    const all = seen.map((list) => cache.get(key, load, (e) => list.push(e)));
    expect(cache.list()).toMatchObject([{ key, state: 'loading' }]);
    release();
    expect(await Promise.all(all)).toEqual(['pipe', 'pipe', 'pipe']);
    expect(loads).toBe(1);
    for (const list of seen) expect(list).toHaveLength(1);
    expect(cache.list()).toMatchObject([{ key, state: 'ready', bytes: 5, busy: 0 }]);
    expect(await cache.get(key, load)).toBe('pipe');
    expect(loads).toBe(1);
  });

  it('keys by device and dtype, and forgets a failed load so the next call tries again', async () => {
    const cache = new PipelineCache<string>();
    await expect(cache.get(key, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(cache.list()).toEqual([]);
    expect(await cache.get(key, async () => 'wasm')).toBe('wasm');
    expect(await cache.get({ ...key, device: 'webgpu' }, async () => 'webgpu')).toBe('webgpu');
    expect(await cache.get({ ...key, dtype: 'q8' }, async () => 'q8')).toBe('q8');
    expect(cache.list()).toHaveLength(3);
    expect(cache.take((k) => k.device === 'webgpu')).toHaveLength(1);
    expect(cache.list()).toHaveLength(2);
  });

  it('a listener that throws does not break the load', async () => {
    const cache = new PipelineCache<string>();
    const result = await cache.get(
      key,
      async (report) => {
        report({ status: 'initiate', task: key.task, model: key.model });
        return 'ok';
      },
      () => {
        throw new Error('page went away');
      },
    );
    expect(result).toBe('ok');
  });

  it('overBudget picks the least recently used ready pipelines that are not in use, never the one kept', async () => {
    const cache = new PipelineCache<string>();
    const k = (model: string) => ({ ...key, model });
    const sized = (bytes: number) => async (report: (e: ProgressEvent) => void) => {
      report({ status: 'progress', task: key.task, model: 'x', file: 'onnx/model.onnx', loaded: bytes, total: bytes });
      return 'pipe';
    };
    await cache.get(k('a'), sized(100));
    await new Promise((ok) => setTimeout(ok, 5));
    await cache.get(k('b'), sized(200));
    await new Promise((ok) => setTimeout(ok, 5));
    await cache.get(k('c'), sized(300));
    expect(cache.overBudget({ pipelines: 3 })).toEqual([]);
    expect(cache.overBudget({ pipelines: 2 })).toEqual([k('a')]);
    expect(cache.overBudget({ bytes: 350 })).toEqual([k('a'), k('b')]);
    expect(cache.overBudget({ pipelines: 1 }, k('a'))).toEqual([k('b'), k('c')]);
    // In use: never evicted; using it makes it the most recent.
    const done = cache.use(k('a'));
    expect(cache.overBudget({ pipelines: 2 })).toEqual([k('b')]);
    done();
    expect(cache.overBudget({ pipelines: 2 })).toEqual([k('b')]);
    // Still loading: never evicted.
    void cache.get(k('d'), () => new Promise(() => undefined));
    expect(cache.overBudget({ pipelines: 1 }, k('c'))).toEqual([k('b'), k('a')]);
  });
});
