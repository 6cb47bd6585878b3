/**
 * Structured output on the OpenAI routes (page side: reading `response_format`, `tools`,
 * `tool_choice` and `parallel_tool_calls`, and the tool turns of a chat history). Pure.
 *
 * The engine side (grammar.ts, tool-calls.ts) turns what is read here into a grammar, and the
 * grammar into a token mask at each decoding step, so the answer is valid by construction.
 */
import { badRequest, describeType, quote } from '../../protocol/errors.js';
import { readMessages, type ChatMessage } from './generation-parameters.js';

/** A JSON Schema, as sent (an object, or `true`/`false`). */
export type JsonSchema = Record<string, unknown> | boolean;

/** The answer is JSON: of `schema`, or any JSON object when `schema` is null (`json_object`). */
export interface JsonFormat {
  schema: JsonSchema | null;
}

/** A function the model may call: OpenAI's `{type: "function", function: {…}}`. */
export interface ToolFunction {
  name: string;
  description?: string;
  /** The arguments' JSON Schema (an empty object schema when the tool sets none). */
  parameters: Record<string, unknown>;
}

/** `tool_choice`: `auto` (text or calls), `none` (text), `required` (one call or more), or one named function. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ToolsRequest {
  functions: ToolFunction[];
  choice: ToolChoice;
  /** `parallel_tool_calls` (default true): several calls in one answer. */
  parallel: boolean;
}

/** What the answer must be: JSON (of a schema), or calls of the tools. */
export interface StructuredRequest {
  format: JsonFormat | null;
  tools: ToolsRequest | null;
}

/** A chat message with OpenAI's tool fields, as the chat template receives it. */
export interface ToolChatMessage extends ChatMessage {
  /** An assistant turn's calls (`arguments` parsed to an object, as chat templates expect). */
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: unknown } }[];
  /** A tool turn: the call it answers. */
  tool_call_id?: string;
  name?: string;
}

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Reads `response_format`, `tools`, `tool_choice` (the old `functions` is refused); null when the answer is free text. */
export function readStructured(body: Record<string, unknown>): StructuredRequest | null {
  if (body.functions !== undefined && body.functions !== null) {
    throw badRequest('functions (the deprecated form) is not supported locally: send tools: [{type: "function", function: {name, parameters}}].');
  }
  const format = readResponseFormat(body.response_format);
  const tools = readTools(body.tools, body.tool_choice, body.parallel_tool_calls);
  if (tools && !('messages' in body)) throw badRequest('tools are read on /v1/chat/completions only: /v1/completions takes response_format.');
  if (format && tools && tools.choice !== 'none') {
    throw badRequest('response_format and tools cannot be combined locally (unless tool_choice is "none"): the answer is either JSON or tool calls.');
  }
  return format || tools ? { format, tools } : null;
}

function readResponseFormat(value: unknown): JsonFormat | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`response_format must be an object {type: ...}, got ${describeType(value)}.`);
  const format = value as Record<string, unknown>;
  switch (format.type) {
    case 'text':
      return null;
    case 'json_object':
      return { schema: null };
    case 'json_schema': {
      const spec = format.json_schema;
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
        throw badRequest(`response_format.json_schema must be an object {name, schema, strict}, got ${describeType(spec)}.`);
      }
      const { name, schema } = spec as Record<string, unknown>;
      if (name !== undefined && (typeof name !== 'string' || !FUNCTION_NAME.test(name))) {
        throw badRequest(`response_format.json_schema.name must be letters, digits, _ and - (at most 64), got ${quote(name)}.`);
      }
      return { schema: schema === undefined || schema === null ? null : readSchema(schema, 'response_format.json_schema.schema') };
    }
    case 'json': // TGI's grammar: {type: "json", value: <schema>}
      return { schema: readSchema(format.value, 'response_format.value') };
    default:
      throw badRequest(`response_format.type must be "text", "json_object", "json_schema" (or TGI's "json"), got ${quote(format.type)}.`);
  }
}

function readSchema(value: unknown, what: string): JsonSchema {
  if (typeof value === 'boolean') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${what} must be a JSON Schema object, got ${describeType(value)}.`);
  checkEnforceable(value as Record<string, unknown>, what, '');
  return value as Record<string, unknown>;
}

/**
 * Keywords the grammar compiler (xgrammar 0.1.27) accepts but does not enforce: an answer could
 * break them, so they are refused rather than ignored. Measured: `multipleOf`, `uniqueItems`,
 * `not`, `if`/`then`/`else`, `contains`, `propertyNames`, `dependentRequired` and an `allOf` of
 * several schemas are dropped; bounds on a `number` let 3.5 pass a maximum of 3, and a fractional
 * bound makes its "." match any character (integer bounds are exact).
 */
const UNENFORCED = ['not', 'if', 'then', 'else', 'multipleOf', 'contains', 'minContains', 'maxContains', 'propertyNames', 'dependentSchemas', 'dependentRequired', 'dependencies'];
const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];
/** Where subschemas sit: keywords holding one, and keywords holding a list or a map of them. */
const ONE = ['additionalProperties', 'items', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems'];
const MANY = ['properties', 'patternProperties', '$defs', 'definitions', 'prefixItems', 'anyOf', 'oneOf', 'allOf'];

function checkEnforceable(schema: Record<string, unknown>, what: string, at: string): void {
  const refuse = (keyword: string, why = 'which constrained decoding does not enforce, so the answer could break it') => {
    throw badRequest(`${what} uses "${keyword}"${at ? ` at ${at}` : ''}, ${why}. Remove it, or check it yourself after the answer.`);
  };
  for (const keyword of UNENFORCED) if (keyword in schema) refuse(keyword);
  if (schema.uniqueItems === true) refuse('uniqueItems');
  if (Array.isArray(schema.allOf) && schema.allOf.length > 1) refuse('allOf', 'with more than one schema, which constrained decoding does not enforce (merge them into one)');
  for (const keyword of BOUNDS) {
    if (!(keyword in schema)) continue;
    if (schema.type !== 'integer') refuse(keyword, 'on a type other than "integer": bounds are enforced exactly for integers only');
    if (!Number.isInteger(schema[keyword])) refuse(keyword, 'with a value that is not an integer');
  }
  const visit = (value: unknown, path: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) checkEnforceable(value as Record<string, unknown>, what, path);
  };
  for (const keyword of ONE) visit(schema[keyword], `${at}/${keyword}`);
  for (const keyword of MANY) {
    const group = schema[keyword];
    if (Array.isArray(group)) group.forEach((item, i) => visit(item, `${at}/${keyword}/${i}`));
    else if (group !== null && typeof group === 'object') for (const [name, item] of Object.entries(group)) visit(item, `${at}/${keyword}/${name}`);
  }
}

function readTools(tools: unknown, choice: unknown, parallel: unknown): ToolsRequest | null {
  const none = tools === undefined || tools === null || (Array.isArray(tools) && tools.length === 0);
  if (none) {
    if (choice !== undefined && choice !== null && choice !== 'none' && choice !== 'auto') {
      throw badRequest(`tool_choice ${quote(choice)} needs tools, and the request has none.`);
    }
    return null;
  }
  if (!Array.isArray(tools)) throw badRequest(`tools must be a list of {type: "function", function: {name, parameters}}, got ${describeType(tools)}.`);
  const functions = tools.map((tool, i) => readTool(tool, `tools[${i}]`));
  const names = new Set<string>();
  for (const f of functions) {
    if (names.has(f.name)) throw badRequest(`tools has two functions named ${quote(f.name)}.`);
    names.add(f.name);
  }
  if (parallel !== undefined && parallel !== null && typeof parallel !== 'boolean') {
    throw badRequest(`parallel_tool_calls must be a boolean, got ${quote(parallel)}.`);
  }
  return { functions, choice: readToolChoice(choice, names), parallel: parallel !== false };
}

function readTool(value: unknown, what: string): ToolFunction {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${what} must be an object {type: "function", function}, got ${describeType(value)}.`);
  const tool = value as Record<string, unknown>;
  if (tool.type !== 'function') throw badRequest(`${what}.type must be "function", got ${quote(tool.type)}.`);
  const f = tool.function as Record<string, unknown> | null | undefined;
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw badRequest(`${what}.function must be an object {name, description, parameters}, got ${describeType(f)}.`);
  if (typeof f.name !== 'string' || !FUNCTION_NAME.test(f.name)) {
    throw badRequest(`${what}.function.name must be letters, digits, _ and - (1 to 64), got ${quote(f.name)}.`);
  }
  if (f.description !== undefined && f.description !== null && typeof f.description !== 'string') {
    throw badRequest(`${what}.function.description must be a string, got ${describeType(f.description)}.`);
  }
  let parameters: Record<string, unknown> = { type: 'object', properties: {} };
  if (f.parameters !== undefined && f.parameters !== null) {
    if (typeof f.parameters !== 'object' || Array.isArray(f.parameters)) {
      throw badRequest(`${what}.function.parameters must be a JSON Schema object, got ${describeType(f.parameters)}.`);
    }
    parameters = f.parameters as Record<string, unknown>;
    checkEnforceable(parameters, `${what}.function.parameters`, '');
  }
  return { name: f.name, ...(typeof f.description === 'string' ? { description: f.description } : {}), parameters };
}

function readToolChoice(choice: unknown, names: Set<string>): ToolChoice {
  if (choice === undefined || choice === null) return 'auto';
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (typeof choice === 'object' && !Array.isArray(choice)) {
    const { type, function: f } = choice as Record<string, unknown>;
    const name = (f as Record<string, unknown> | null | undefined)?.name;
    if (type === 'function' && typeof name === 'string') {
      if (!names.has(name)) throw badRequest(`tool_choice names the function ${quote(name)}, which is not in tools (${[...names].join(', ')}).`);
      return { name };
    }
  }
  throw badRequest(`tool_choice must be "auto", "none", "required" or {type: "function", function: {name}}, got ${quote(choice)}.`);
}

/**
 * Reads a chat history with OpenAI's tool turns: an assistant message with `tool_calls` (its
 * content may be null) and `tool` messages answering them. The rest is read by readMessages.
 */
export function readChatHistory(value: unknown): ToolChatMessage[] {
  if (!Array.isArray(value)) return readMessages(value);
  const plain = value.map((m) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return m;
    const message = m as Record<string, unknown>;
    return message.role === 'assistant' && message.tool_calls && (message.content === null || message.content === undefined) ? { ...message, content: '' } : m;
  });
  return readMessages(plain).map((message, i) => {
    const source = value[i] as Record<string, unknown>;
    const out: ToolChatMessage = { ...message };
    if (message.role === 'assistant' && source.tool_calls !== undefined && source.tool_calls !== null) {
      out.tool_calls = readToolCalls(source.tool_calls, `messages[${i}].tool_calls`);
    }
    if (message.role === 'tool') {
      for (const key of ['tool_call_id', 'name'] as const) {
        const v = source[key];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'string') throw badRequest(`messages[${i}].${key} must be a string, got ${describeType(v)}.`);
        out[key] = v;
      }
    }
    return out;
  });
}

function readToolCalls(value: unknown, what: string): NonNullable<ToolChatMessage['tool_calls']> {
  if (!Array.isArray(value)) throw badRequest(`${what} must be a list of {id, type: "function", function: {name, arguments}}, got ${describeType(value)}.`);
  return value.map((call, j) => {
    const c = call as Record<string, unknown> | null;
    const f = c?.function as Record<string, unknown> | null | undefined;
    if (!c || typeof c !== 'object' || !f || typeof f !== 'object' || typeof f.name !== 'string') {
      throw badRequest(`${what}[${j}] must be {id, type: "function", function: {name, arguments}}, got ${quote(call)}.`);
    }
    let args: unknown = f.arguments ?? {};
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        throw badRequest(`${what}[${j}].function.arguments must be a JSON string, got ${quote(f.arguments)}.`);
      }
    }
    return { id: typeof c.id === 'string' ? c.id : `call_${j}`, type: 'function' as const, function: { name: f.name, arguments: args } };
  });
}
