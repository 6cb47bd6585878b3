/**
 * Browser commands that run a widget's code snippets in Node, next to Playwright (curl in bash,
 * fetch, `@huggingface/inference` and the openai SDK in node), against the `serve` processes of
 * the global setup.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BrowserCommand } from 'vitest/node';

/** Inside the repository, so that a snippet's `import "openai"` resolves from its node_modules. */
const ROOT = resolve('node_modules/.cache/le-snippets');
let next = 0;

export interface SnippetRun {
  stdout: string;
  stderr: string;
  code: number | null;
  /** The files the snippet wrote (`image.png`), name → base64. */
  outputs: Record<string, string>;
}

/**
 * Runs one snippet exactly as shown, in a fresh folder holding `files` (name → base64 bytes, the
 * media it reads): `curl` with bash, the others with node as an ES module (`.mjs`). No HF_TOKEN:
 * serve needs none. Gives up after `timeoutMs` (default 120 s). Answers what it printed, its exit
 * code, and the files it wrote.
 */
export const runSnippet: BrowserCommand<[snippet: { id: string; code: string }, files?: Record<string, string>, timeoutMs?: number]> = async (
  _ctx,
  snippet,
  files = {},
  timeoutMs = 120_000,
) => {
  const dir = join(ROOT, `${process.pid}-${Date.now()}-${++next}`);
  await mkdir(dir, { recursive: true });
  try {
    for (const [name, base64] of Object.entries(files)) await writeFile(join(dir, name), Buffer.from(base64, 'base64'));
    const bash = snippet.id === 'curl';
    const file = bash ? 'snippet.sh' : 'snippet.mjs';
    await writeFile(join(dir, file), snippet.code);
    const env = { ...process.env };
    delete env.HF_TOKEN;
    const run = await new Promise<Omit<SnippetRun, 'outputs'>>((ok, fail) => {
      const child = spawn(bash ? 'bash' : process.execPath, [file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        stderr += `\n(killed after ${timeoutMs} ms)`;
      }, timeoutMs);
      child.once('error', (err) => (clearTimeout(timer), fail(err)));
      child.once('close', (code) => (clearTimeout(timer), ok({ stdout, stderr, code })));
    });
    const outputs: Record<string, string> = {};
    for (const name of await readdir(dir)) {
      if (name !== file && !(name in files)) outputs[name] = (await readFile(join(dir, name))).toString('base64');
    }
    return { ...run, outputs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
