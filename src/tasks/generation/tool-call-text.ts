/**
 * Reading tool calls back out of generated text (pure, page-safe: the engine's answer and the
 * page's stream formatter both use it). Two forms are read, the ones tool-calls.ts makes the model
 * write: `<tool_call>\n{"name": "f", "arguments": {…}}\n</tool_call>` (Qwen, Hermes), and a bare
 * `{"name": "f", "arguments": {…}}` (`"parameters"` also read, as Llama 3.1 writes it).
 */

/** OpenAI's `message.tool_calls[i]`. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

const TAGGED = { open: '<tool_call>', close: '</tool_call>' };
const BARE = '{"name": ';

/** The calls in `text` (of functions in `names`), and the text outside them (null when none). */
export function readToolCalls(text: string, names: readonly string[], newId: () => string): { content: string | null; calls: ToolCall[] } {
  const tagged = text.includes(TAGGED.open);
  const opener = tagged ? TAGGED.open : BARE;
  const calls: ToolCall[] = [];
  const outside: string[] = [];
  let rest = text;
  for (;;) {
    const at = rest.indexOf(opener);
    if (at < 0) break;
    const parsed = readCallAt(rest, tagged ? at + opener.length : at, tagged ? TAGGED.close : '', names);
    if (!parsed) break;
    outside.push(rest.slice(0, at));
    calls.push({ id: newId(), type: 'function', function: { name: parsed.name, arguments: JSON.stringify(parsed.args) } });
    rest = rest.slice(parsed.end);
  }
  outside.push(rest);
  const content = outside.join('').trim();
  return { content: content === '' ? null : content, calls };
}

/** The JSON call starting at `from` (the shortest prefix that parses), and where its closing text ends. */
function readCallAt(text: string, from: number, close: string, names: readonly string[]): { name: string; args: unknown; end: number } | null {
  for (let end = text.indexOf('}', from); end >= 0; end = text.indexOf('}', end + 1)) {
    let value: unknown;
    try {
      value = JSON.parse(text.slice(from, end + 1));
    } catch {
      continue;
    }
    const call = value as Record<string, unknown> | null;
    if (!call || typeof call !== 'object' || Array.isArray(call) || typeof call.name !== 'string' || !names.includes(call.name)) return null;
    const closing = close ? text.slice(end + 1).match(new RegExp(`^\\s*${close.replace(/[/]/g, '\\/')}`)) : null;
    return { name: call.name, args: call.arguments ?? call.parameters ?? {}, end: end + 1 + (closing ? closing[0].length : 0) };
  }
  return null;
}

/** How much of a streamed `auto` answer's text is surely outside a call: a call's opening may still be arriving. */
export function visibleBeforeCall(text: string): number {
  let visible = text.length;
  for (const opener of [TAGGED.open, BARE]) {
    const at = text.indexOf(opener);
    if (at >= 0) {
      visible = Math.min(visible, at);
      continue;
    }
    for (let keep = Math.min(opener.length - 1, text.length); keep > 0; keep--) {
      if (opener.startsWith(text.slice(text.length - keep))) {
        visible = Math.min(visible, text.length - keep);
        break;
      }
    }
  }
  return visible;
}
