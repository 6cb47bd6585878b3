/**
 * The widgets' code snippets, without running them: quoting, the media forms, the stream and
 * image flags, which snippets each request gets.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { snippetsFor, type Snippet } from '../../src/widgets/snippets.ts';
import { widgetTasks } from '../../src/widgets/families/index.ts';
import type { WidgetRequest } from '../../src/widgets/types.ts';

const URL = 'http://127.0.0.1:8080';
const target = (task: string) => ({ task, model: 'owner/model', endpointUrl: URL });
const code = (snippets: Snippet[], id: Snippet['id']) => snippets.find((s) => s.id === id)?.code ?? '';
const ids = (snippets: Snippet[]) => snippets.map((s) => s.id);

describe('snippets', () => {
  test("curl single-quotes the JSON and escapes ' for bash", () => {
    const request: WidgetRequest = { path: '/', json: { inputs: "It's a 'quoted' text; $HOME `x`" } };
    const curl = code(snippetsFor(request, target('text-classification')), 'curl');
    expect(curl.split('\n')[0]).toBe('# Remote Endpoint: add -H "Authorization: Bearer $HF_TOKEN"');
    expect(curl).toContain(`curl ${URL} \\\n  -X POST`);
    expect(curl).toContain(`-d '{"inputs":"It'\\''s a '\\''quoted'\\'' text; $HOME \`x\`"}'`);
    // bash reads the body back unchanged.
    const quoted = curl.match(/-d ('.*')$/m)![1]!;
    expect(execFileSync('bash', ['-c', `printf '%s' ${quoted}`]).toString()).toBe(JSON.stringify(request.json));
  });

  test('a raw media body is --data-binary @file with its Content-Type; the JS snippets read the file', () => {
    const request: WidgetRequest = { path: '/', media: { blob: new Blob([]), name: 'tiger.jpeg', type: 'image/jpeg' } };
    const snippets = snippetsFor(request, target('image-classification'));
    expect(code(snippets, 'curl')).toContain(`--data-binary @'tiger.jpeg' \\\n  -H "Content-Type: image/jpeg"`);
    expect(code(snippets, 'fetch')).toContain('fs.readFileSync("tiger.jpeg")');
    expect(code(snippets, 'fetch')).toContain('"Content-Type": "image/jpeg"');
    expect(code(snippets, 'huggingface-inference')).toContain('client.imageClassification({\n  "data": new Blob([fs.readFileSync("tiger.jpeg")], { type: "image/jpeg" })\n})');
    expect(code(snippets, 'local-endpoint')).toContain('await (await fetch("tiger.jpeg")).blob()');
  });

  test('base64 in JSON is read from the file, never shown', () => {
    const base64 = 'QUJD'.repeat(50);
    const request: WidgetRequest = {
      path: '/',
      json: { inputs: { image: base64, question: 'What?' }, parameters: { top_k: 2 } },
      mediaInJson: { name: 'tiger.jpeg', pointer: '/inputs/image' },
    };
    const snippets = snippetsFor(request, target('visual-question-answering'));
    for (const s of snippets) expect(s.code, s.id).not.toContain(base64);
    expect(code(snippets, 'curl')).toContain(`{ printf '%s' '{"inputs":{"image":"'; base64 -w0 'tiger.jpeg'; printf '%s' '","question":"What?"},"parameters":{"top_k":2}}'; } | curl ${URL}`);
    expect(code(snippets, 'curl')).toContain('--data-binary @-');
    expect(code(snippets, 'fetch')).toContain('"image": fs.readFileSync("tiger.jpeg").toString("base64")');
    expect(code(snippets, 'huggingface-inference')).toContain('client.visualQuestionAnswering(');
    expect(code(snippets, 'huggingface-inference')).toContain('"image": new Blob([fs.readFileSync("tiger.jpeg")])');
    expect(code(snippets, 'local-endpoint')).toContain('"image": base64');
    // the printf pieces put together are the body, the base64 in its place
    const curl = code(snippets, 'curl').replace(/base64 -w0 'tiger.jpeg'/, `printf '%s' ${base64}`).replace(/ \| curl[^]*$/, '');
    expect(JSON.parse(execFileSync('bash', ['-c', curl.split('\n').slice(1).join('\n')]).toString())).toEqual(request.json);
  });

  test('streams get -N and an SSE reader; an image answer -o image.png', () => {
    const stream: WidgetRequest = { path: '/', json: { inputs: 'Once', parameters: { max_new_tokens: 5 }, stream: true }, stream: 'tgi' };
    const snippets = snippetsFor(stream, target('text-generation'));
    expect(code(snippets, 'curl')).toContain('-X POST \\\n  -N');
    expect(code(snippets, 'fetch')).toContain('line.startsWith("data:")');
    expect(code(snippets, 'huggingface-inference')).toContain('client.textGenerationStream({\n  "inputs": "Once"');
    expect(code(snippets, 'huggingface-inference')).not.toContain('"stream"');
    const image: WidgetRequest = { path: '/', json: { inputs: 'a cat' }, binary: true };
    const images = snippetsFor(image, target('text-to-image'));
    expect(code(images, 'curl')).toMatch(/-H "Accept: image\/png" \\\n  -o image\.png$/);
    expect(code(images, 'fetch')).toContain('Accept: "image/png"');
    expect(code(images, 'local-endpoint')).toContain('Accept: "image/png"');
    expect(code(images, 'fetch')).toContain('fs.writeFileSync("image.png"');
    expect(code(images, 'huggingface-inference')).toContain('client.textToImage(');
  });

  test('openai only for /v1/chat/completions and /v1/completions', () => {
    const chat: WidgetRequest = { path: '/v1/chat/completions', json: { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, stream: true }, stream: 'openai' };
    const snippets = snippetsFor(chat, target('conversational'));
    expect(ids(snippets)).toEqual(['curl', 'fetch', 'huggingface-inference', 'local-endpoint', 'openai']);
    expect(code(snippets, 'curl')).toContain(`curl ${URL}/v1/chat/completions`);
    expect(code(snippets, 'openai')).toContain(`baseURL: "${URL}/v1"`);
    expect(code(snippets, 'openai')).toContain('"stream": true');
    expect(code(snippets, 'huggingface-inference')).toContain(`endpointUrl: "${URL}" `);
    expect(code(snippets, 'huggingface-inference')).toContain('client.chatCompletionStream(');
    expect(ids(snippetsFor({ ...chat, path: '/v1/completions', json: { prompt: 'Hi' } }, target('text-generation')))).toContain('openai');
    expect(ids(snippetsFor({ path: '/', json: { inputs: 'Hi' } }, target('text-generation')))).not.toContain('openai');
  });

  test('every widget task gets curl, fetch, huggingface-inference and local-endpoint', () => {
    expect(widgetTasks().length).toBeGreaterThan(20);
    for (const task of widgetTasks()) {
      const snippets = snippetsFor({ path: '/', json: { inputs: 'x' } }, target(task));
      expect(ids(snippets).slice(0, 4), task).toEqual(['curl', 'fetch', 'huggingface-inference', 'local-endpoint']);
      expect(code(snippets, 'local-endpoint'), task).toContain(`new LocalEndpointClient({ model: "owner/model", task: "${task}" })`);
    }
    // a task without an official method: the raw request, to the URL of the route
    expect(code(snippetsFor({ path: '/', json: { inputs: [['a', 'b']] } }, target('ranking')), 'huggingface-inference')).toContain('client.request(');
  });
});
