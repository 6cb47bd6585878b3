/** Ids of answers and stream chunks, as OpenAI makes them (`chatcmpl-…`). Pure, page and engine. */

/** A fresh id with a prefix: `cmpl-`, `chatcmpl-`, `gen-` and 24 hex digits. */
export function openAIId(prefix: string): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
