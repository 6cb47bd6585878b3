/**
 * Checks for the `parameters` object of a payload. Each reader names the parameter and what was
 * expected when the value is wrong.
 */
import { badRequest, describeType, quote, quoteName } from '../../protocol/errors.js';

export type Parameters = Record<string, unknown>;

/** How many unknown parameter names an error lists. */
const MAX_NAMED = 10;

/** Rejects parameters the task does not know, listing the ones it does. */
export function checkKnownParameters(task: string, parameters: Parameters, known: readonly string[]): void {
  const unknown = Object.keys(parameters).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const list = known.length ? known.join(', ') : 'none';
    // Names come from the caller: each is cut short, and only the first few are listed.
    const named = unknown.slice(0, MAX_NAMED).map((k) => quoteName(k)).join(', ');
    const more = unknown.length > MAX_NAMED ? ` and ${unknown.length - MAX_NAMED} more` : '';
    throw badRequest(
      `Unknown parameter${unknown.length > 1 ? 's' : ''} for ${task}: ${named}${more}. Supported: ${list}.`,
    );
  }
}

export function readBoolean(parameters: Parameters, name: string): boolean | undefined {
  const v = parameters[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`parameters.${name} must be a boolean, got ${describeType(v)}.`);
  return v;
}

/** A positive integer; `null` is returned as null (it means "all" for `top_k`). */
export function readPositiveInteger(parameters: Parameters, name: string): number | null | undefined {
  const v = parameters[name];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw badRequest(`parameters.${name} must be a positive integer, got ${quote(v)}.`);
  }
  return v;
}

/** A number in [0, 1] (a score threshold); `fallback` when absent. */
export function readThreshold(parameters: Parameters, name: string, fallback: number): number {
  const v = parameters[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw badRequest(`parameters.${name} must be a number from 0 to 1, got ${quote(v)}.`);
  return v;
}

export function readEnum<T extends string>(parameters: Parameters, name: string, allowed: readonly T[]): T | undefined {
  const v = parameters[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw badRequest(`parameters.${name} must be one of ${allowed.join(', ')}, got ${quote(v)}.`);
  }
  return v as T;
}

/** `inputs` as a non-empty string or a non-empty list of strings. */
export function readTextInputs(inputs: unknown): string | string[] {
  if (typeof inputs === 'string') return inputs;
  if (Array.isArray(inputs)) {
    if (inputs.length === 0) throw badRequest('inputs must not be an empty list.');
    const bad = inputs.findIndex((x) => typeof x !== 'string');
    if (bad >= 0) throw badRequest(`inputs[${bad}] must be a string, got ${describeType(inputs[bad])}.`);
    return inputs as string[];
  }
  throw badRequest(`inputs must be a string or a list of strings, got ${describeType(inputs)}.`);
}

export function readParameters(parameters: unknown): Parameters {
  if (parameters === undefined || parameters === null) return {};
  if (typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw badRequest(`parameters must be an object, got ${describeType(parameters)}.`);
  }
  return parameters as Parameters;
}
