#!/usr/bin/env node
// The `local-endpoint` command. The npm package ships the built CLI, dist/src/cli/main.js. In a
// checkout of the repository the TypeScript source runs instead, through tsx (a devDependency),
// so the command never runs a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
