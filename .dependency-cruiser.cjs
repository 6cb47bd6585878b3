/**
 * The layer check (`npm run check:layers`, run in CI). Layers import only downward:
 * - in the worker: protocol ← wire ← tasks ← the engine in worker/ ← the worker entry;
 * - on the page: protocol ← wire ← tasks ← local-fetch ← host and client ← src/index.ts;
 * - src/node and src/cli on top of both;
 * - src/widgets (`local-endpoint/widgets`, the custom elements) on top of the page API: it uses the
 *   client, never the engine, and nothing in the package imports it;
 * - src/sw, the Service Worker Endpoint: its Service Worker side (what `local-endpoint/sw`
 *   exports) imports only the protocol and the wire, never the engine or transformers.js (a
 *   Service Worker cannot run them); its page side (page-bridge.ts) sits beside the client, under
 *   src/index.ts.
 * Nothing on the page imports worker/ (the host starts the worker by URL), and there are no cycles.
 */
const { readFileSync } = require('node:fs');

const PAGE = '^src/(index\\.ts|client/|host/|local-fetch/|sw/)';
/** The Service Worker side of src/sw: everything there but the page's half of the bridge. */
const SW_SIDE = '^src/sw/(?!page-bridge\\.ts$)';
/** The task modules are the files the registry imports from a task group folder. */
const TASK_MODULES = [...readFileSync(`${__dirname}/src/tasks/registry.ts`, 'utf8').matchAll(/from '\.\/([a-z-]+\/[a-z0-9-]+)\.js'/g)]
  .filter(([, path]) => !path.startsWith('shared/'))
  .map(([, path]) => `^src/tasks/${path}\\.ts$`);
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles make the layers meaningless.', from: {}, to: { circular: true } },
    {
      name: 'protocol-is-types-and-the-error',
      severity: 'error',
      comment: 'src/protocol is shared by page, worker and Node, and imports nothing outside itself.',
      from: { path: '^src/protocol/' },
      to: { pathNot: '^src/protocol/' },
    },
    {
      name: 'wire-below-tasks',
      severity: 'error',
      comment: 'src/wire decodes request bodies: it may use only the protocol.',
      from: { path: '^src/wire/' },
      to: { path: '^(src|worker)/', pathNot: '^src/(protocol|wire)/' },
    },
    {
      name: 'tasks-below-engine-and-page',
      severity: 'error',
      comment: 'Task modules may use the protocol, the wire and each other’s shared helpers, nothing above.',
      from: { path: '^src/tasks/' },
      to: { path: '^(src|worker)/', pathNot: '^src/(protocol|wire|tasks)/' },
    },
    {
      name: 'task-modules-do-not-import-each-other',
      severity: 'error',
      comment: 'Only the registry imports a task module; what two tasks share lives in a helper beside them or in src/tasks/shared.',
      from: { path: '^src/', pathNot: '^src/tasks/registry\\.ts$' },
      to: { path: TASK_MODULES },
    },
    {
      name: 'engine-below-the-page-and-node',
      severity: 'error',
      comment: 'worker/ runs in the Web Worker (and in Node under src/node): it never imports page or Node-entry code.',
      from: { path: '^worker/' },
      to: { path: '^src/(index\\.ts|client/|host/|local-fetch/|node/|cli/)' },
    },
    {
      name: 'page-never-imports-worker',
      severity: 'error',
      comment: 'The page starts the worker by URL; importing worker/ would pull the engine into the page bundle.',
      from: { path: PAGE },
      to: { path: '^worker/' },
    },
    {
      name: 'local-fetch-below-host-and-client',
      severity: 'error',
      from: { path: '^src/local-fetch/' },
      to: { path: '^src/(index\\.ts|client/|host/|node/|cli/)' },
    },
    {
      name: 'host-below-client',
      severity: 'error',
      from: { path: '^src/host/' },
      to: { path: '^src/(index\\.ts|client/|local-fetch/|node/|cli/)' },
    },
    {
      name: 'client-below-the-entries',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/(index\\.ts|node/|cli/)' },
    },
    {
      name: 'node-entry-below-cli',
      severity: 'error',
      from: { path: '^src/node/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'service-worker-imports-only-protocol-and-wire',
      severity: 'error',
      comment: 'The Service Worker side of src/sw runs where transformers.js cannot (import() is refused there): it may use the protocol, the wire and itself, never the engine, the page API or a model runtime.',
      from: { path: SW_SIDE },
      to: { path: '^(src|worker)/', pathNot: ['^src/(protocol|wire)/', SW_SIDE] },
    },
    {
      name: 'service-worker-loads-no-model-runtime',
      severity: 'error',
      comment: 'No transformers.js, onnxruntime, official client or comlink in the Service Worker bundle.',
      from: { path: SW_SIDE },
      to: { path: 'node_modules/(@huggingface/(transformers|inference)|onnxruntime-(web|node|common)|comlink)/' },
    },
    {
      name: 'sw-layer-above-the-page-layers',
      severity: 'error',
      comment: 'src/sw is on top of local-fetch, host and client; only src/index.ts (the bridge) and the sw entry use it.',
      from: { path: '^(worker/|src/(protocol|wire|tasks|local-fetch|host|client|node|cli)/)' },
      to: { path: '^src/sw/' },
    },
    {
      name: 'widgets-on-top-of-the-page',
      severity: 'error',
      comment: 'The widgets are an entry of their own (local-endpoint/widgets): no other layer imports them, so the page API carries no Lit.',
      from: { path: '^(worker/|src/(?!widgets/))' },
      to: { path: '^src/widgets/' },
    },
    {
      name: 'widgets-answer-through-the-client',
      severity: 'error',
      comment: 'A widget sends its request through the one client (local or remote by its mode); it never reaches the engine, the worker or Node.',
      from: { path: '^src/widgets/' },
      to: { path: '^(worker/|src/(host|local-fetch|node|cli|sw)/)' },
    },
    {
      name: 'shipped-code-never-imports-the-repo-tooling',
      severity: 'error',
      comment: 'src/ and worker/ ship in the package; tests, fixtures, demo, bench and build scripts do not.',
      from: { path: '^(src|worker)/' },
      to: { path: '^(test|fixtures|demo|bench|build)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules stays in the graph as leaves (doNotFollow), so rules can name packages.
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
