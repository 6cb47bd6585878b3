/**
 * The auto policy over real HTTP: a real `serve` process as the remote, the in-process engine as
 * local, and remotes that are down, cold (503) or hanging.
 */
import { describe, expect, inject, it } from 'vitest';
import { InferenceClient } from '@huggingface/inference';
import { policyFetch, type RouteInfo } from '../../src/client/policy.js';
import { createLocalFetch } from '../../src/local-fetch/index.js';
import { Engine } from '../../worker/engine.js';
import { nodeRuntime } from '../../worker/runtime-node.js';
import { CLASSIFIER, CLASSIFY_TEXT } from '../helpers.js';

const remote = inject('remote');
const engine = new Engine(nodeRuntime(), { localModelPath: '.fixtures/models' });

function clientFor(endpointUrl: string, timeoutMs?: number) {
  const routes: RouteInfo[] = [];
  const local = createLocalFetch({ engine, endpoints: { [endpointUrl]: { task: 'text-classification', model: CLASSIFIER } } });
  const fetch = policyFetch({ mode: 'auto', local, remote: globalThis.fetch, timeoutMs, onRoute: (r) => routes.push(r) });
  return { hf: new InferenceClient('', { endpointUrl, fetch, retry_on_error: false }), routes };
}

describe('auto policy', () => {
  it('uses the remote Endpoint when it answers', async () => {
    const { hf, routes } = clientFor(remote.textClassification);
    await hf.textClassification({ inputs: CLASSIFY_TEXT });
    expect(routes).toEqual([{ path: 'remote' }]);
  });

  // Only the hanging remote needs the timeout; the others get a generous one, so a loaded
  // machine cannot turn their answer into a timeout.
  it.each([
    ['down', /unreachable/, 30_000],
    ['cold', /answered 503/, 30_000],
    ['hanging', /did not answer within 200 ms/, 200],
  ] as const)('answers locally when the remote is %s', async (which, reason, timeoutMs) => {
    const { hf, routes } = clientFor(remote[which], timeoutMs);
    const answer = await hf.textClassification({ inputs: CLASSIFY_TEXT });
    expect(answer).toEqual([{ label: expect.any(String), score: expect.any(Number) }]);
    expect(routes).toEqual([{ path: 'local', device: 'cpu', fallbackReason: expect.stringMatching(reason) }]);
  });

  it('does not answer locally when the caller aborted', async () => {
    const { hf, routes } = clientFor(remote.hanging, 5_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(hf.textClassification({ inputs: CLASSIFY_TEXT }, { signal: controller.signal })).rejects.toThrow();
    expect(routes).toEqual([]);
  });

  it('passes a 4xx from the remote through: it is the caller’s error, not an outage', async () => {
    const { hf, routes } = clientFor(remote.textClassification);
    await expect(hf.textClassification({ inputs: 42 as unknown as string })).rejects.toThrow(/inputs must be a string/);
    expect(routes).toEqual([{ path: 'remote' }]);
  });
});
