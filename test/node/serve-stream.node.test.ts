/** `serve` streams server-sent events as tokens come, and stops a generation when the client hangs up. */
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/node/serve.js';

const server = await serve({ task: 'text-generation', model: 'local-endpoint/bench-llama', modelsDir: '.fixtures/models', port: 0 });
afterAll(() => server.close());

function post(body: unknown): Promise<http.IncomingMessage & { request: http.ClientRequest }> {
  return new Promise((ok, fail) => {
    const request = http.request(server.url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (response) =>
      ok(Object.assign(response, { request })),
    );
    request.on('error', fail);
    request.end(JSON.stringify(body));
  });
}

describe('serve: streaming', () => {
  it('sends each token as it is generated, and stops generating when the client hangs up', async () => {
    const response = await post({ inputs: 'The weather', parameters: { max_new_tokens: 2000 }, stream: true });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    expect(response.headers['x-compute-type']).toBe('cpu');
    const first = await new Promise<string>((ok) => response.once('data', (chunk: Buffer) => ok(chunk.toString())));
    expect(first).toMatch(/^data: \{"index":0,"token":\{/);
    // Hang up after the first token. 2000 tokens would take many seconds; the next request must not wait for them.
    response.request.destroy();
    const t0 = performance.now();
    const next = await fetch(server.url, { method: 'POST', body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 1 } }) });
    expect(next.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
