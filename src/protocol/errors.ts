/**
 * The one error type of local-endpoint. It carries an HTTP-like status and serialises to the
 * Inference Endpoint's error body, `{"error": "…"}`.
 */
export class EndpointError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'EndpointError';
    this.status = status;
  }

  /** The Endpoint's error body. */
  toJSON(): { error: string } {
    return { error: this.message };
  }
}

/** A 400: the request is wrong. The message names the field and what was expected. */
export function badRequest(message: string): EndpointError {
  return new EndpointError(400, message);
}

/** Plain-data form of an error, as it crosses the worker boundary. */
export interface ErrorValue {
  status: number;
  error: string;
}

export function toErrorValue(err: unknown, fallbackStatus = 500): ErrorValue {
  if (err instanceof EndpointError) return { status: err.status, error: withoutBuildPaths(err.message) };
  const message = err instanceof Error ? err.message : String(err);
  return { status: fallbackStatus, error: withoutBuildPaths(message) || 'Unknown error' };
}

/**
 * ONNX Runtime's messages name its own source files by the path they were built at
 * (`/onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376`, or a build machine's folder
 * before `onnxruntime/core/…`): an error keeps the file and line (`bfc_arena.cc:376`), never the path.
 */
export function withoutBuildPaths(message: string): string {
  return message.replace(/(?:\/onnxruntime_src\/|(?:[A-Za-z]:)?[\\/](?:[^\s'"():\\/]+[\\/])*onnxruntime[\\/](?:core|contrib_ops|wasm)[\\/])(?:[^\s'"():\\/]+[\\/])*([^\s'"():\\/]+\.(?:cc|cpp|h|hpp|c)\b)/g, '$1');
}

/** Describes a JSON value's type for error messages: "a string", "an array", "null"… */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'nothing' : `a ${t}`;
}

/** How many characters of a bad value an error message quotes at most. */
export const QUOTE_LIMIT = 100;
/** How deep `quote` descends into arrays and objects. */
const QUOTE_DEPTH = 4;

/**
 * A bad value as an error message quotes it: JSON, cut to `limit` characters with `…`. Never the
 * whole of a huge value, and never a stack overflow on a deeply nested one (it stops descending).
 * Numbers that JSON cannot hold are named: `1e400` parses to Infinity, which JSON.stringify would
 * print as `null`.
 */
export function quote(value: unknown, limit = QUOTE_LIMIT): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return nonFinite(value);
  let out = '';
  const write = (v: unknown, depth: number): void => {
    if (out.length > limit) return;
    if (typeof v === 'string') {
      out += JSON.stringify(v.length > limit ? v.slice(0, limit) : v);
    } else if (typeof v === 'number') {
      out += Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : String(v);
    } else if (v === null || typeof v === 'boolean') {
      out += String(v);
    } else if (Array.isArray(v)) {
      if (depth >= QUOTE_DEPTH) {
        out += v.length ? '[…]' : '[]';
        return;
      }
      out += '[';
      for (let i = 0; i < v.length && out.length <= limit; i++) {
        if (i) out += ',';
        write(v[i], depth + 1);
      }
      out += ']';
    } else if (typeof v === 'object') {
      if (depth >= QUOTE_DEPTH) {
        out += '{…}';
        return;
      }
      out += '{';
      let first = true;
      for (const key in v) {
        if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
        if (out.length > limit) break;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key.length > limit ? key.slice(0, limit) : key)}:`;
        write((v as Record<string, unknown>)[key], depth + 1);
      }
      out += '}';
    } else {
      out += describeType(v);
    }
  };
  write(value, 0);
  return out.length > limit ? `${out.slice(0, limit)}…` : out;
}

/** Infinity, -Infinity or NaN, said plainly. */
function nonFinite(value: number): string {
  if (Number.isNaN(value)) return 'NaN (not a number)';
  return `${value > 0 ? '' : '-'}Infinity, not a finite number (a JSON number such as 1e400 overflows to Infinity)`;
}

/** A name (a parameter, a field) quoted for a message: cut to a short prefix. */
export function quoteName(name: string, limit = 40): string {
  return name.length > limit ? `${name.slice(0, limit)}…` : name;
}
