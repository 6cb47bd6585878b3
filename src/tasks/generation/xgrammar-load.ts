/**
 * Loads `@mlc-ai/web-xgrammar` (the grammar compiler and matcher WebLLM uses) once, on the first
 * request that needs a grammar: its bundle inlines the WebAssembly (about 1 MB of JS), so nothing
 * else pays for it.
 *
 * The package is a UMD bundle in a `"type": "module"` package:
 * - in a worker or page, it is imported from its URL as ESM, runs with `this` undefined and sets
 *   `globalThis.xgrammar` (named or default exports, should a bundler give them, are read too);
 * - in Node, ESM import fails (`require is not defined`: it finds its folder with `require('url')`
 *   and `__filename`), so the file is run as CommonJS with Node's own `require`, reached through
 *   `process.getBuiltinModule` (no `node:` import, which the worker bundle cannot have).
 *
 * Its WebAssembly prints fatal errors (a schema it cannot compile) through `console.error`, bound
 * when it starts, then throws a bare `Aborted()`. `captureErrors` collects those lines, so that
 * the answer can name the problem.
 */
import type * as XGrammar from '@mlc-ai/web-xgrammar';

export type XGrammarModule = Pick<typeof XGrammar, 'GrammarCompiler' | 'GrammarMatcher' | 'TokenizerInfo' | 'Testings' | 'Grammar'>;

let loading: Promise<XGrammarModule> | null = null;
/** Lines the WebAssembly printed while `captureErrors` runs. */
let sink: string[] | null = null;

/** The xgrammar module, loaded and started on first use. */
export function loadXGrammar(): Promise<XGrammarModule> {
  loading ??= load().catch((err) => {
    loading = null;
    throw err;
  });
  return loading;
}

async function load(): Promise<XGrammarModule> {
  const mod = inNode() ? await loadInNode() : await loadAsModule();
  // The WebAssembly binds console.error when it starts: start it now, through a router that
  // sends its lines to `sink` while one is open and to the console otherwise.
  const original = console.error;
  console.error = function route(this: unknown, ...args: unknown[]) {
    if (sink) sink.push(args.map(String).join(' '));
    else original.apply(console, args);
  };
  try {
    await mod.Testings._jsonSchemaToEBNF('{"type": "null"}');
  } finally {
    console.error = original;
  }
  return mod;
}

/** Runs `work` and, when it throws, adds what the WebAssembly printed to the error. */
export async function captureErrors<T>(work: () => Promise<T>): Promise<T> {
  const lines: string[] = [];
  sink = lines;
  try {
    return await work();
  } catch (err) {
    throw new GrammarError(lines, err);
  } finally {
    sink = null;
  }
}

/** A failure inside xgrammar, with the lines it printed (absolute paths of its build removed). */
export class GrammarError extends Error {
  constructor(lines: string[], cause: unknown) {
    const printed = lines
      .map((line) => line.replace(/^\[(FATAL|ERROR)\]\s*/, '').replace(/^(\S*\/)?[\w.-]+\.(cc|h|cpp):\d+:\s*/, '').trim())
      .filter((line) => line && !/^Aborted\(/.test(line));
    const own = cause instanceof Error ? cause.message : String(cause);
    super(printed.length ? printed.join('; ') : /^Aborted/.test(own) ? 'the grammar compiler aborted' : own);
  }
}

function inNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string' && typeof (globalThis as { document?: unknown }).document === 'undefined';
}

async function loadAsModule(): Promise<XGrammarModule> {
  // Named as an asset URL, as onnxruntime-web's WASM factory is (worker/index.ts): Vite and
  // webpack 5 emit the file unparsed, and it is imported here at run time. A bundler that parsed
  // it would stop at its Node-only `import('module')` (webpack: "Can't resolve 'module'").
  const url = new URL('@mlc-ai/web-xgrammar/lib/index.js', import.meta.url);
  const mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ url.href)) as Partial<XGrammarModule> & { default?: Partial<XGrammarModule> };
  const found = [mod, mod.default, (globalThis as { xgrammar?: Partial<XGrammarModule> }).xgrammar].find((m) => m?.GrammarCompiler);
  if (!found) throw new Error('@mlc-ai/web-xgrammar loaded but exports no GrammarCompiler.');
  return found as XGrammarModule;
}

type NodeRequire = ((id: string) => unknown) & { resolve(id: string): string };

async function loadInNode(): Promise<XGrammarModule> {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const nodeModule = proc?.getBuiltinModule?.('node:module') as { createRequire(from: string): NodeRequire } | undefined;
  if (!nodeModule) throw new Error('Loading @mlc-ai/web-xgrammar in Node needs process.getBuiltinModule (Node 20.16 or later).');
  const require = nodeModule.createRequire(import.meta.url);
  const file = require.resolve('@mlc-ai/web-xgrammar');
  const fs = require('node:fs') as { readFileSync(path: string, encoding: 'utf8'): string };
  // Its one dynamic import (`import('module')`, for createRequire) goes to `require`: code made by
  // `new Function` has no module to import from inside a vm context (vitest's, for one).
  const source = fs.readFileSync(file, 'utf8').replaceAll("import('module')", "Promise.resolve(require('module'))");
  const module = { exports: {} as Record<string, unknown> };
  new Function('exports', 'module', 'require', '__filename', source)(module.exports, module, require, file);
  return module.exports as unknown as XGrammarModule;
}
