/**
 * An image or sound a decoder refuses with a message written for the caller (the Endpoint's 400
 * says it as it is), unlike a third-party decoder's own words, which decode.ts prefixes.
 */
export class MediaRefused extends Error {
  override name = 'MediaRefused';
}
