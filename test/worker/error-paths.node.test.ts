/**
 * Errors never name a path (issue 12, defect 10): not ONNX Runtime's build tree
 * (`/onnxruntime_src/onnxruntime/core/…`), and in Node not a folder of the server (the model
 * folder, the cache, the working, home or temporary folder). Real ONNX Runtime errors, real files.
 */
import { readFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { toErrorValue } from '../../src/protocol/errors.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { CLASSIFIER } from '../helpers.js';

const MODELS = resolve('.fixtures/models');

/** A real ONNX Runtime failure: the classifier run on more tokens than it has positions. */
async function ortRunError(): Promise<Error> {
  const session = await InferenceSession.create(join(MODELS, CLASSIFIER, 'onnx/model.onnx'));
  const ids = (values: number[]) => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
  const feeds: Record<string, Tensor> = {};
  const n = 4096;
  const values: Record<string, number[]> = { input_ids: Array(n).fill(101), attention_mask: Array(n).fill(1), token_type_ids: Array(n).fill(0) };
  for (const name of session.inputNames) feeds[name] = ids(values[name] ?? Array(n).fill(0));
  try {
    await session.run(feeds);
  } catch (err) {
    return err as Error;
  } finally {
    await session.release();
  }
  throw new Error('the run did not fail');
}

describe('error messages name no paths (defect 10)', () => {
  it("keeps ONNX Runtime's source file and line, not its build path", async () => {
    const err = await ortRunError();
    expect(err.message).toMatch(/\/onnxruntime_src\/onnxruntime\/core\//); // what ORT itself says
    const { status, error } = toErrorValue(err);
    expect(status).toBe(500);
    expect(error).not.toMatch(/onnxruntime_src|\/onnxruntime\/core\//);
    expect(error).toMatch(/Status Message: \w+\.(cc|h):\d+ /); // the file and line stay: they help a bug report
    expect(error).toMatch(/running Add node\. Name:'[^']+'/); // and the node
    expect(error).toMatch(/128 by 4096/);
  });

  it('in Node, takes the model folder, cache and working, home and temporary folders out of a message', async () => {
    const runtime = nodeRuntime();
    await runtime.configure({ localModelPath: MODELS });
    const missing = await readFile(join(MODELS, CLASSIFIER, 'no-such.json')).catch((e: Error) => e.message);
    expect(missing).toContain(MODELS);
    expect(runtime.scrubPaths!(String(missing))).toBe(`ENOENT: no such file or directory, open '${CLASSIFIER}/no-such.json'`);
    for (const folder of [process.cwd(), homedir(), tmpdir()]) {
      const said = runtime.scrubPaths!(`could not open ${join(folder, 'x', 'y.bin')}`);
      expect(said).toBe(`could not open ${join('x', 'y.bin')}`);
    }
  });
});
