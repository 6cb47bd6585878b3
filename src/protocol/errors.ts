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
  if (err instanceof EndpointError) return { status: err.status, error: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { status: fallbackStatus, error: message || 'Unknown error' };
}

/** Describes a JSON value's type for error messages: "a string", "an array", "null"… */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'nothing' : `a ${t}`;
}
