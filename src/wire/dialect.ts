/**
 * Which reader an answer is for. Raw Endpoint requests get the Endpoint server's shape; requests
 * from the official `@huggingface/inference` client get the shape it accepts (CONTRACT.md ⚠).
 *
 * The client names itself in the User-Agent it hands to `fetch`. Browsers drop that header on the
 * wire, so over real HTTP a caller can say which it wants with `x-endpoint-dialect`.
 */
import type { Dialect } from '../protocol/wire.js';

export const DIALECT_HEADER = 'x-endpoint-dialect';
const CLIENT_AGENT = '@huggingface/inference';

export function detectDialect(headers: Headers, forced?: Dialect | 'auto'): Dialect {
  if (forced && forced !== 'auto') return forced;
  const asked = headers.get(DIALECT_HEADER)?.trim().toLowerCase();
  if (asked === 'client' || asked === 'endpoint') return asked;
  return headers.get('user-agent')?.includes(CLIENT_AGENT) ? 'client' : 'endpoint';
}
