/**
 * Code snippets for the request on screen, as the Endpoint UI writes them: curl, JavaScript's
 * fetch, the official `@huggingface/inference` client, this library in the browser, and the
 * `openai` SDK for the OpenAI routes. Each sends exactly the widget's request (same route, same
 * body) and prints the answer (JSON, or a stream's joined text). A media body reads the file by
 * its name (`tiger.jpeg`) instead of showing its bytes or base64.
 */
import type { WidgetRequest } from './types.js';

export interface Snippet {
  id: 'curl' | 'fetch' | 'huggingface-inference' | 'local-endpoint' | 'openai';
  label: string;
  language: 'bash' | 'javascript';
  code: string;
}

export interface SnippetTarget {
  task: string;
  model: string;
  /** The Endpoint the snippets call (the widget's endpoint-url, or serve's default when local). */
  endpointUrl: string;
}

/** Stands in the JSON for the base64 of a media file, replaced by code that reads the file. */
const MEDIA = '__le_media_base64__';
const MEDIA_JSON = JSON.stringify(MEDIA);

/** The official client's method for a task whose request is `{inputs, parameters}` JSON. */
const JSON_METHODS: Record<string, string> = {
  'text-classification': 'textClassification',
  'zero-shot-classification': 'zeroShotClassification',
  'token-classification': 'tokenClassification',
  'question-answering': 'questionAnswering',
  'fill-mask': 'fillMask',
  summarization: 'summarization',
  translation: 'translation',
  'feature-extraction': 'featureExtraction',
  'sentence-similarity': 'sentenceSimilarity',
  'table-question-answering': 'tableQuestionAnswering',
  'text-generation': 'textGeneration',
  'text-to-image': 'textToImage',
};
/** The official client's method for a task whose request is the raw media (`{data: Blob}`). */
const MEDIA_METHODS: Record<string, string> = {
  'image-classification': 'imageClassification',
  'audio-classification': 'audioClassification',
  'automatic-speech-recognition': 'automaticSpeechRecognition',
  'object-detection': 'objectDetection',
  'image-segmentation': 'imageSegmentation',
  'image-to-text': 'imageToText',
};
/** The official method for a base64-in-JSON task, and where it wants the Blob. */
const MEDIA_JSON_METHODS: Record<string, { method: string; pointer: string }> = {
  'zero-shot-image-classification': { method: 'zeroShotImageClassification', pointer: '/inputs' },
  'visual-question-answering': { method: 'visualQuestionAnswering', pointer: '/inputs/image' },
};

/**
 * The snippets for `request`, in the Endpoint UI's order: curl, fetch, huggingface-inference,
 * local-endpoint, and openai for `/v1/chat/completions` and `/v1/completions`.
 */
export function snippetsFor(request: WidgetRequest, target: SnippetTarget): Snippet[] {
  const base = target.endpointUrl.replace(/\/+$/, '');
  const url = request.path === '/' ? base : `${base}${request.path}`;
  const snippets: Snippet[] = [
    { id: 'curl', label: 'curl', language: 'bash', code: curlSnippet(request, url) },
    { id: 'fetch', label: 'fetch', language: 'javascript', code: fetchSnippet(request, url) },
    { id: 'huggingface-inference', label: '@huggingface/inference', language: 'javascript', code: officialSnippet(request, target, base, url) },
    { id: 'local-endpoint', label: 'local-endpoint', language: 'javascript', code: localSnippet(request, target) },
  ];
  if (request.path === '/v1/chat/completions' || request.path === '/v1/completions') {
    snippets.push({ id: 'openai', label: 'openai', language: 'javascript', code: openaiSnippet(request, base) });
  }
  return snippets;
}

/** The JSON body with the media's base64 replaced by the marker (or as it is). */
function markedJson(request: WidgetRequest): unknown {
  const json = request.json ?? {};
  const pointer = request.mediaInJson?.pointer;
  return pointer ? setAt(json, pointer, MEDIA) : json;
}

/** A copy of `value` with the JSON pointer's place set to `replacement`. */
function setAt(value: unknown, pointer: string, replacement: unknown): unknown {
  const [key, ...rest] = pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (key === undefined) return replacement;
  if (!value || typeof value !== 'object') return value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  (copy as Record<string, unknown>)[key] = setAt((value as Record<string, unknown>)[key], rest.length ? `/${rest.join('/')}` : '', replacement);
  return copy;
}

/** A string inside bash single quotes. */
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Indents every line but the first by `pad`. */
const indent = (code: string, pad: string) => code.replace(/\n/g, `\n${pad}`);

/** A value as a JS literal (indented JSON), the media marker replaced by `media` (an expression). */
function jsLiteral(value: unknown, media = '', pad = ''): string {
  return indent(JSON.stringify(value, null, 2).replace(MEDIA_JSON, media), pad);
}

const TOKEN_COMMENT = '# Remote Endpoint: add -H "Authorization: Bearer $HF_TOKEN"';

function curlSnippet(request: WidgetRequest, url: string): string {
  const options = ['-X POST'];
  if (request.stream) options.push('-N');
  let prefix = '';
  if (request.media) {
    options.push(`--data-binary @${shellQuote(request.media.name)}`, `-H "Content-Type: ${request.media.type}"`);
  } else if (request.mediaInJson) {
    // The base64 is too long for a command-line argument: the body goes through stdin.
    const [before, after] = JSON.stringify(markedJson(request)).split(MEDIA_JSON) as [string, string];
    prefix = `{ printf '%s' ${shellQuote(`${before}"`)}; base64 -w0 ${shellQuote(request.mediaInJson.name)}; printf '%s' ${shellQuote(`"${after}`)}; } | `;
    options.push('-H "Content-Type: application/json"', '--data-binary @-');
  } else {
    options.push('-H "Content-Type: application/json"', `-d ${shellQuote(JSON.stringify(request.json ?? {}))}`);
  }
  // The Endpoint answers PNG bytes for an Accept of image/* (else base64 inside JSON).
  if (request.binary) options.push('-H "Accept: image/png"', '-o image.png');
  return `${TOKEN_COMMENT}\n${prefix}curl ${url} \\\n  ${options.join(' \\\n  ')}`;
}

/** Node code reading a file as base64 / as a Blob. */
const nodeBase64 = (name: string) => `fs.readFileSync(${JSON.stringify(name)}).toString("base64")`;

/** Reads an SSE body and joins the generated text: TGI's tokens or OpenAI's deltas. */
function sseReader(stream: 'tgi' | 'openai', response: string): string {
  const piece = stream === 'tgi' ? 'event.token && !event.token.special ? event.token.text : ""' : 'event.choices?.[0]?.delta?.content ?? event.choices?.[0]?.text ?? ""';
  return `let text = "";
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of ${response}.body) {
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split("\\n");
    buffer = lines.pop();
    for (const line of lines) {
      if (!line.startsWith("data:") || line.slice(5).trim() === "[DONE]") continue;
      const event = JSON.parse(line.slice(5));
      if (event.error) throw new Error(JSON.stringify(event.error));
      text += ${piece};
    }
  }
  return text;`;
}

function fetchSnippet(request: WidgetRequest, url: string): string {
  const media = request.media ?? request.mediaInJson;
  const head = media || request.binary ? 'import fs from "node:fs";\n\n' : '';
  const type = request.media ? request.media.type : 'application/json';
  const body = request.media ? 'data' : 'JSON.stringify(data)';
  const read = request.stream
    ? sseReader(request.stream, 'response')
    : request.binary
      ? `fs.writeFileSync("image.png", Buffer.from(await response.arrayBuffer()));\n  return "Wrote image.png";`
      : 'const result = await response.json();\n  return result;';
  const argument = request.media ? `fs.readFileSync(${JSON.stringify(request.media.name)})` : jsLiteral(markedJson(request), request.mediaInJson ? nodeBase64(request.mediaInJson.name) : '');
  const print = request.stream || request.binary ? 'console.log(response)' : 'console.log(JSON.stringify(response))';
  return `${head}async function query(data) {
  const response = await fetch("${url}", {
    headers: {
      "Content-Type": "${type}",${request.binary ? '\n      Accept: "image/png",' : ''}
      ...(process.env.HF_TOKEN ? { Authorization: \`Bearer \${process.env.HF_TOKEN}\` } : {}),
    },
    method: "POST",
    body: ${body},
  });
  if (!response.ok) throw new Error(\`\${response.status}: \${await response.text()}\`);
  ${read}
}

query(${argument}).then((response) => {
  ${print};
});`;
}

/** The official client's call for the request: a task method where one sends it, else the raw one. */
function officialCall(request: WidgetRequest, task: string): { method: string; args: unknown; media?: string; endpoint?: 'base' | 'url' } {
  const json = (request.json ?? {}) as Record<string, unknown>;
  const plain = typeof json === 'object' && !Array.isArray(json) && Object.keys(json).every((key) => ['inputs', 'parameters', 'stream'].includes(key));
  if (request.path === '/v1/chat/completions') {
    const { stream, ...args } = json;
    return { method: stream ? 'chatCompletionStream' : 'chatCompletion', args, endpoint: 'base' };
  }
  if (request.path === '/v1/completions') {
    const { prompt, max_tokens, stream, model: _model, ...rest } = json;
    const parameters = { ...(max_tokens === undefined ? {} : { max_new_tokens: max_tokens }), ...rest };
    return { method: stream ? 'textGenerationStream' : 'textGeneration', args: { inputs: prompt, parameters }, endpoint: 'base' };
  }
  if (request.path === '/' && request.media && MEDIA_METHODS[task]) return { method: MEDIA_METHODS[task]!, args: { data: MEDIA }, media: 'blob' };
  const mediaJson = MEDIA_JSON_METHODS[task];
  if (request.path === '/' && mediaJson && request.mediaInJson?.pointer === mediaJson.pointer) {
    return { method: mediaJson.method, args: markedJson(request), media: 'blob' };
  }
  if (request.path === '/' && !request.media && !request.mediaInJson && plain && JSON_METHODS[task]) {
    const { stream, ...args } = json;
    const method = JSON_METHODS[task]!;
    return { method: stream && method === 'textGeneration' ? 'textGenerationStream' : method, args };
  }
  if (request.media) return { method: request.stream ? 'streamingRequest' : 'request', args: { data: MEDIA }, media: 'blob', endpoint: 'url' };
  return { method: request.stream ? 'streamingRequest' : 'request', args: markedJson(request), media: request.mediaInJson ? 'base64' : undefined, endpoint: 'url' };
}

function officialSnippet(request: WidgetRequest, target: SnippetTarget, base: string, url: string): string {
  const call = officialCall(request, target.task);
  const name = request.media?.name ?? request.mediaInJson?.name ?? '';
  const type = request.media?.type;
  const blob = `new Blob([fs.readFileSync(${JSON.stringify(name)})]${type ? `, { type: "${type}" }` : ''})`;
  const media = call.media === 'blob' ? blob : call.media === 'base64' ? nodeBase64(name) : '';
  const endpoint = call.endpoint === 'url' ? url : base;
  const head = [
    'import { InferenceClient } from "@huggingface/inference";',
    ...(name || request.binary ? ['import fs from "node:fs";'] : []),
  ].join('\n');
  const args = jsLiteral(call.args, media);
  const client = `const client = new InferenceClient(process.env.HF_TOKEN, { endpointUrl: "${endpoint}" });`;
  let body: string;
  if (call.method.endsWith('Stream') || call.method === 'streamingRequest') {
    // chatCompletionStream and textGenerationStream yield OpenAI chunks; streamingRequest the Endpoint's TGI events.
    const piece =
      call.method === 'chatCompletionStream'
        ? 'chunk.choices[0]?.delta?.content ?? ""'
        : call.method === 'textGenerationStream'
          ? 'chunk.choices[0]?.text ?? ""'
          : 'chunk.token && !chunk.token.special ? chunk.token.text : ""';
    body = `let text = "";\nfor await (const chunk of client.${call.method}(${args})) {\n  text += ${piece};\n}\n\nconsole.log(text);`;
  } else if (request.binary) {
    body = `const image = await client.${call.method}(${args});\n\nfs.writeFileSync("image.png", Buffer.from(await image.arrayBuffer()));\nconsole.log("Wrote image.png");`;
  } else {
    body = `const output = await client.${call.method}(${args});\n\nconsole.log(JSON.stringify(output));`;
  }
  return `${head}\n\n${client}\n\n${body}`;
}

/** Browser code reading the file `name` as a Blob / as base64. */
const browserBlob = (name: string) => `await (await fetch(${JSON.stringify(name)})).blob()`;

function localSnippet(request: WidgetRequest, target: SnippetTarget): string {
  const lines = [
    'import { LocalEndpointClient } from "local-endpoint";',
    '',
    '// Answered in this page, by a Web Worker: no server, no token.',
    `const client = new LocalEndpointClient({ model: ${JSON.stringify(target.model)}, task: ${JSON.stringify(target.task)} });`,
    '',
  ];
  let body: string;
  let type = 'application/json';
  if (request.media) {
    lines.push(`const file = ${browserBlob(request.media.name)}; // or a File from <input type="file">`);
    type = request.media.type;
    body = 'file';
  } else {
    if (request.mediaInJson) {
      lines.push(
        `const file = ${browserBlob(request.mediaInJson.name)}; // or a File from <input type="file">`,
        'const base64 = await new Promise((resolve) => {',
        '  const reader = new FileReader();',
        '  reader.onload = () => resolve(String(reader.result).split(",")[1]);',
        '  reader.readAsDataURL(file);',
        '});',
      );
    }
    body = `JSON.stringify(${jsLiteral(markedJson(request), 'base64', '  ')})`;
  }
  lines.push(
    `const response = await client.fetch(${JSON.stringify(request.path)}, {`,
    '  method: "POST",',
    `  headers: { "Content-Type": "${type}"${request.binary ? ', Accept: "image/png"' : ''} },`,
    `  body: ${body},`,
    '});',
    'if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);',
  );
  if (request.stream) {
    lines.push('const text = await (async () => {', `  ${sseReader(request.stream, 'response')}`, '})();', 'console.log(text);');
  } else if (request.binary) {
    lines.push('const image = await response.blob(); // show it: img.src = URL.createObjectURL(image)', 'console.log(image.type, image.size);');
  } else {
    lines.push('console.log(JSON.stringify(await response.json()));');
  }
  return lines.join('\n');
}

function openaiSnippet(request: WidgetRequest, base: string): string {
  const { stream, ...args } = (request.json ?? {}) as Record<string, unknown>;
  const chat = request.path === '/v1/chat/completions';
  const api = chat ? 'client.chat.completions' : 'client.completions';
  const head = `import OpenAI from "openai";\n\nconst client = new OpenAI({ baseURL: "${base}/v1", apiKey: process.env.HF_TOKEN ?? "-" });\n\n`;
  const literal = jsLiteral({ ...args, ...(stream ? { stream: true } : {}) });
  if (stream) {
    const piece = chat ? 'chunk.choices[0]?.delta?.content ?? ""' : 'chunk.choices[0]?.text ?? ""';
    return `${head}const stream = await ${api}.create(${literal});\n\nlet text = "";\nfor await (const chunk of stream) {\n  text += ${piece};\n}\n\nconsole.log(text);`;
  }
  const content = chat ? 'completion.choices[0].message.content' : 'completion.choices[0].text';
  return `${head}const completion = await ${api}.create(${literal});\n\nconsole.log(${content});`;
}
