#!/usr/bin/env node
/** The `local-endpoint` command. */
import { parseArgs } from 'node:util';
import { serve } from '../node/serve.js';
import { supportedTasks } from '../tasks/registry.js';

const USAGE = `Usage: local-endpoint serve --task <task> --model <hub id or folder> [options]

Runs a model in Node behind an HTTP server that speaks the Hugging Face Inference Endpoint
protocol: POST / (or /predict) with {"inputs": …, "parameters": {…}}, GET /health.

Options:
  --task <task>          one of: ${supportedTasks.join(', ')}
  --model <id|folder>    a Hub model id (downloads it) or a local model folder
  --models-dir <dir>     resolve --model as an id under this folder
  --port <n>             port (default 8080; 0 picks a free one)
  --host <addr>          address to bind (default 127.0.0.1)
  --dialect <d>          auto (default), endpoint or client: the answer shape
  --cors <origin>        allow this browser origin (repeatable; * for any). Default: localhost pages
  --api-key <key>        require Authorization: Bearer <key> on every route but GET /health and
                         GET / (default: none). Prefer the environment variable, which ps does not show:
                         LOCAL_ENDPOINT_API_KEY=<key>
  --allowed-host <name>  also answer requests whose Host is this name (repeatable; name, name:port,
                         .domain for it and its subdomains, * for any). Always allowed: localhost,
                         *.localhost and IP addresses; others get 403 (this stops DNS rebinding)

Custom handlers (--task custom; see the README's "Custom handlers"):
  --handler <path>       the handler module (an ES module exporting class EndpointHandler) instead
                         of the handler.js in the model's folder
  --trust-remote-code    run the model's handler.js when it is downloaded from the Hub (default:
                         only a handler.js under --models-dir, or --handler, runs)
  --handler-timeout <s>  how long a handler's call may take (default 60); past it: 504

Limits (past them: 429 with Retry-After, 408, or 413; see the README's "Limits and security"):
  --max-concurrent-requests <n>  requests served at once (default 128)
  --max-buffered-bytes <n>       request-body bytes held across connections (default 268435456)
  --max-audio-seconds <s>        longest audio a request may send (default 600)
  --request-timeout <s>          a request's headers and body must arrive within this (default 120);
                                 headers within 10 s, and a body may not stall for 10 s

GET /health answers 200 once the model has loaded, 503 while it loads, 500 if it failed.
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'serve') {
    process.stdout.write(USAGE);
    process.exitCode = command === undefined || command === '--help' || command === 'help' ? 0 : 2;
    return;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      task: { type: 'string' },
      model: { type: 'string' },
      'models-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      dialect: { type: 'string' },
      cors: { type: 'string', multiple: true },
      'api-key': { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      'max-concurrent-requests': { type: 'string' },
      'max-buffered-bytes': { type: 'string' },
      'max-audio-seconds': { type: 'string' },
      'request-timeout': { type: 'string' },
      handler: { type: 'string' },
      'trust-remote-code': { type: 'boolean' },
      'handler-timeout': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.task || !values.model) {
    process.stderr.write(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  if (!supportedTasks.includes(values.task)) {
    process.stderr.write(`Unknown task "${values.task}". Supported: ${supportedTasks.join(', ')}.\n`);
    process.exitCode = 2;
    return;
  }
  const dialect = (values.dialect ?? 'auto') as 'auto' | 'endpoint' | 'client';
  if (!['auto', 'endpoint', 'client'].includes(dialect)) {
    process.stderr.write(`--dialect must be auto, endpoint or client.\n`);
    process.exitCode = 2;
    return;
  }
  const apiKey = values['api-key'] ?? (process.env.LOCAL_ENDPOINT_API_KEY || undefined);
  if (apiKey !== undefined && apiKey.trim() === '') {
    process.stderr.write(`--api-key must not be empty.\n`);
    process.exitCode = 2;
    return;
  }
  const numbers: Record<string, number | undefined> = {};
  for (const flag of ['max-concurrent-requests', 'max-buffered-bytes', 'max-audio-seconds', 'request-timeout', 'handler-timeout'] as const) {
    const text = values[flag];
    if (text === undefined) continue;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0 || (flag !== 'max-audio-seconds' && flag !== 'request-timeout' && flag !== 'handler-timeout' && !Number.isInteger(n))) {
      process.stderr.write(`--${flag} must be a positive ${flag.endsWith('seconds') || flag.endsWith('timeout') ? 'number' : 'integer'}, got ${JSON.stringify(text)}.\n`);
      process.exitCode = 2;
      return;
    }
    numbers[flag] = n;
  }
  const server = await serve({
    task: values.task,
    model: values.model,
    modelsDir: values['models-dir'],
    port: values.port === undefined ? 8080 : Number(values.port),
    host: values.host,
    dialect,
    cors: values.cors,
    ...(apiKey !== undefined ? { apiKey } : {}),
    allowedHosts: values['allowed-host'],
    maxConcurrentRequests: numbers['max-concurrent-requests'],
    maxBufferedBytes: numbers['max-buffered-bytes'],
    maxAudioSeconds: numbers['max-audio-seconds'],
    requestTimeoutMs: numbers['request-timeout'] === undefined ? undefined : numbers['request-timeout'] * 1000,
    ...(values.handler !== undefined ? { handler: values.handler } : {}),
    ...(values['trust-remote-code'] ? { trustRemoteCode: true } : {}),
    ...(numbers['handler-timeout'] !== undefined ? { handlerTimeoutMs: numbers['handler-timeout'] * 1000 } : {}),
  });
  // The first line is machine-readable: tests and scripts read the URL from it.
  process.stdout.write(`local-endpoint listening on ${server.url} (task ${values.task}, model ${values.model})\n`);
  void server.ready.then((ok) => {
    const health = server.health();
    if (ok) process.stdout.write(`local-endpoint: model ${values.model} loaded; /health answers 200\n`);
    else if (health.state === 'failed') process.stderr.write(`local-endpoint: model ${values.model} failed to load (/health answers 500): ${health.error}\n`);
  });
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`local-endpoint: ${(err as Error).message}\n`);
  process.exit(1);
});
