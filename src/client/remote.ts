/**
 * The remote transport: the real network, for the official client. It adds `x-endpoint-dialect`
 * so that a server that speaks both shapes (like `local-endpoint serve`) can tell the official
 * client from a raw request even in a browser, which drops the client's User-Agent.
 */
import type { Dialect } from '../tasks/types.js';
import { DIALECT_HEADER } from '../wire/dialect.js';
import type { FetchFn } from '../local-fetch/index.js';

export function remoteFetch(dialect: Dialect, base: FetchFn = (i, init) => fetch(i, init)): FetchFn {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set(DIALECT_HEADER, dialect);
    return base(input, { ...init, headers });
  };
}
