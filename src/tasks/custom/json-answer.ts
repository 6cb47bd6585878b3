/**
 * What a custom handler may answer: JSON. The Endpoint toolkit serialises a handler's return value
 * with `json.dumps`; anything it cannot serialise is the handler's bug (a 500 naming what was
 * returned), never the caller's. Pure.
 *
 * - JSON: strings, finite numbers, booleans, null, arrays and plain objects of them. An object
 *   with `toJSON` (a Date) is what `toJSON` returns. NaN and ±Infinity become null, as in
 *   `JSON.stringify`. Typed arrays (a Float32Array of scores) become arrays of numbers.
 * - Not JSON: `undefined`, a function, a symbol, a BigInt, a cyclic value, a Map, a Set, a
 *   Promise, a class instance without `toJSON` (a transformers.js Tensor or RawImage), anywhere in
 *   the answer. An object property whose value is `undefined` is left out, as `JSON.stringify`
 *   does; anywhere else `undefined` is refused.
 * - Bytes: a top-level Uint8Array or ArrayBuffer (or a Blob, read by the engine first) goes out
 *   as the raw body (`application/octet-stream`, or the Blob's type), as the toolkit sends bytes.
 */
import { EndpointError } from '../../protocol/errors.js';

/** The deepest answer accepted (as the request side's MAX_JSON_DEPTH). */
const MAX_DEPTH = 128;

/**
 * The answer as plain JSON data (a fresh copy, safe to post to the page), or a 500 naming what was
 * not JSON and where (`answer.scores[2] is a BigInt`). `what` names the value in that message.
 */
export function jsonAnswer(value: unknown, what = 'answer'): unknown {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string, depth: number, inObject: boolean): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : null;
    if (v === undefined) {
      if (inObject) return undefined;
      throw notJson(at, 'undefined (nothing)');
    }
    if (typeof v === 'function') throw notJson(at, `a function${v.name ? ` (${v.name})` : ''}`);
    if (typeof v === 'symbol') throw notJson(at, 'a symbol');
    if (typeof v === 'bigint') throw notJson(at, `a BigInt (${v}n); send it as a number or a string`);
    const object = v as object;
    if (depth > MAX_DEPTH) throw notJson(at, `nested over ${MAX_DEPTH} levels deep`);
    if (seen.has(object)) throw notJson(at, 'a cyclic value (it contains itself)');
    if (ArrayBuffer.isView(object) && !(object instanceof DataView)) {
      const items = Array.from(object as unknown as ArrayLike<number | bigint>);
      return items.map((n, i) => walk(n, `${at}[${i}]`, depth + 1, false));
    }
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(object), at, depth, inObject);
    seen.add(object);
    try {
      if (Array.isArray(object)) return object.map((item, i) => walk(item, `${at}[${i}]`, depth + 1, false));
      const proto = Object.getPrototypeOf(object);
      if (proto !== Object.prototype && proto !== null) {
        const name = (proto as { constructor?: { name?: string } })?.constructor?.name || 'an object of a class';
        throw notJson(at, `a ${name}, not a plain object${name === 'Promise' ? ' (await it)' : ''}`);
      }
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(object)) {
        const field = /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
        const copied = walk(item, field, depth + 1, true);
        if (copied !== undefined) out[key] = copied;
      }
      return out;
    } finally {
      seen.delete(object);
    }
  };
  return walk(value, what, 1, false);
}

function notJson(at: string, got: string): EndpointError {
  return new EndpointError(500, `The custom handler's answer is not JSON: ${at} is ${got}.`);
}

/** A top-level bytes answer (Uint8Array, ArrayBuffer), as a Uint8Array of its own; else null. */
export function bytesAnswer(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value.slice();
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  return null;
}
