/**
 * Handoff in real Chromium: the remote is a real `local-endpoint serve` process (started by the
 * global setup), the local path the page's WorkerEngine, which really downloads the model from
 * this test server while the remote answers. Playwright sees every request the page and its
 * worker make, so "no network at the end" is counted, not assumed.
 */
import { afterAll, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import { LocalEndpointClient, WorkerEngine, type ProgressEvent, type RouteInfo } from '../../src/index.js';
import { CLASSIFIER, CLASSIFY_TEXT } from '../helpers.js';

const remote = inject('remote').textClassification;
/**
 * The fixture models at a path no other test uses (the flaky route serves them all but one file
 * nobody asks for), so the model is not in the model cache and the worker must download it.
 */
const modelPath = `/flaky-models/404=handoff-${Date.now()}.none/`;
const engine = new WorkerEngine({ localModelPath: modelPath });
afterAll(() => engine.terminate());

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

it('handoff: remote answers while the worker downloads the model, then every answer is local with no request at all', async () => {
  const routes: RouteInfo[] = [];
  const progress: ProgressEvent[] = [];
  const client = new LocalEndpointClient({
    mode: 'handoff',
    endpointUrl: remote,
    model: CLASSIFIER,
    device: 'wasm',
    engine,
    onRoute: (r) => routes.push(r),
    onProgress: (e) => progress.push(e),
  });
  type Answer = { label: string; score: number }[];
  const answers: Answer[] = [];

  await commands.startNetworkRecording();
  for (let i = 0; i < 600 && routes.at(-1)?.path !== 'local'; i++) {
    answers.push(await client.textClassification({ inputs: CLASSIFY_TEXT }));
    if (routes.at(-1)?.path === 'remote') await sleep(50);
  }
  const untilSwitch = await commands.stopNetworkRecording();

  const switchedAt = routes.findIndex((r) => r.path === 'local');
  expect(switchedAt, JSON.stringify(routes.at(-1))).toBeGreaterThan(0);
  // The first answer came from the remote Endpoint while the model was still loading: no wait.
  expect(routes[0]).toMatchObject({
    path: 'remote',
    mode: 'handoff',
    local: 'loading',
    reason: 'handoff: local model loading in the background',
    computeType: 'cpu',
    computeTime: expect.any(Number),
    breakerOpen: false,
  });
  expect(routes.slice(0, switchedAt).every((r) => r.path === 'remote')).toBe(true);
  expect(routes[switchedAt]).toMatchObject({ path: 'local', reason: 'handoff: local model loaded', local: 'loaded', device: 'wasm' });
  // A real download by the worker, from this page's server, during the remote answers.
  const modelFiles = untilSwitch.filter((u) => new URL(u).pathname.startsWith(`${modelPath}${CLASSIFIER}/`));
  expect(modelFiles.some((u) => u.endsWith('.onnx'))).toBe(true);
  expect(progress.some((e) => e.status === 'done' || e.status === 'ready')).toBe(true);
  expect(untilSwitch.filter((u) => u.startsWith(remote)).length).toBeGreaterThanOrEqual(switchedAt);

  // From the switch on: every answer local, and nothing on the network, remote or model files.
  await commands.startNetworkRecording();
  for (let i = 0; i < 5; i++) answers.push(await client.textClassification({ inputs: CLASSIFY_TEXT }));
  const afterSwitch = await commands.stopNetworkRecording();
  expect(routes.slice(switchedAt).map((r) => r.path)).toEqual(Array(routes.length - switchedAt).fill('local'));
  expect(afterSwitch).toEqual([]);

  // The same answer either way.
  for (const answer of answers) {
    expect(answer[0]!.label).toBe(answers[0]![0]!.label);
    expect(Math.abs(answer[0]!.score - answers[0]![0]!.score)).toBeLessThan(1e-4);
  }
});
