/**
 * Checks values against the servers' own OpenAPI schemas (`tgi.json`, `tei.json`), with Ajv.
 * `expectSchema('tgi', 'GenerateResponse', answer)` fails the test with Ajv's errors.
 *
 * OpenAPI 3.0 schema objects are JSON Schema with extras: `nullable` (rewritten here as
 * `anyOf: [schema, {type: "null"}]`, since the documents also put it beside `allOf` with no
 * `type`, which Ajv's own `nullable` refuses), `example`, and `format`s such as `int32` and
 * `float`, which are not checked (validateFormats: false).
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

const read = (file: string) => withNullable(JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')));
const DOCS = { tgi: read('./tgi.json'), tei: read('./tei.json') } as const;

/** `{…, nullable: true}` → `{anyOf: [{…}, {type: "null"}]}`, everywhere in the document. */
function withNullable(node: any): any {
  if (Array.isArray(node)) return node.map(withNullable);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'nullable') out[key] = withNullable(value);
  return node.nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addKeyword('example');
for (const [name, doc] of Object.entries(DOCS)) ajv.addSchema({ $id: `${name}.json`, components: doc.components }, `${name}.json`);

/** The names of a document's component schemas. */
export function schemaNames(server: keyof typeof DOCS): string[] {
  return Object.keys(DOCS[server].components.schemas);
}

/** Ajv's errors for `value` against `components.schemas[name]` of a server's document; [] when it is valid. */
export function schemaErrors(server: keyof typeof DOCS, name: string, value: unknown): string[] {
  if (!(name in DOCS[server].components.schemas)) throw new Error(`${server}.json has no schema ${name}`);
  const validate = ajv.getSchema(`${server}.json#/components/schemas/${name}`)!;
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Fails the test unless `value` is valid against the schema. */
export function expectSchema(server: keyof typeof DOCS, name: string, value: unknown): void {
  expect(schemaErrors(server, name, value), `${server} ${name}: ${JSON.stringify(value).slice(0, 400)}`).toEqual([]);
}

/** The request body and the 200 answers a path of a server's document declares (JSON and SSE). */
export function documentedPath(server: keyof typeof DOCS, method: 'get' | 'post', path: string): { request?: unknown; json?: unknown; events?: unknown } {
  const operation = DOCS[server].paths[path]?.[method];
  if (!operation) throw new Error(`${server}.json has no ${method.toUpperCase()} ${path}`);
  const content = operation.responses['200']?.content ?? {};
  return {
    request: operation.requestBody?.content?.['application/json']?.schema,
    json: content['application/json']?.schema,
    events: content['text/event-stream']?.schema,
  };
}

/** The paths a server's document lists, as `METHOD /path`. */
export function documentedPaths(server: keyof typeof DOCS): string[] {
  return Object.entries(DOCS[server].paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
}

const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

/** Ajv's errors for `value` against a schema object of a server's document (its `#/components` refs resolved there). */
export function documentedErrors(server: keyof typeof DOCS, schema: unknown, value: unknown): string[] {
  const text = JSON.stringify(schema).replaceAll('"#/components/', `"${server}.json#/components/`);
  let validate = compiled.get(text);
  if (!validate) compiled.set(text, (validate = ajv.compile(withNullable(JSON.parse(text)))));
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
}

