/**
 * The public contract, as both entries (`local-endpoint` and `local-endpoint/node`) export it: the
 * engine's request, answer, stream and option types, and the one error type.
 */
export type * from './engine.js';
export type * from './stream.js';
export type * from './wire.js';
export { EndpointError } from './errors.js';
