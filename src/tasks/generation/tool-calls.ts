/**
 * Tools on `/v1/chat/completions` (engine side): the tool list goes through the model's own chat
 * template, a structural tag makes each call valid JSON for its function's parameters, and the
 * generated text is read back into OpenAI's `tool_calls`.
 *
 * The call format follows the template: one that shows `<tool_call>` (Qwen 2.5 / Qwen 3, Hermes)
 * gets `<tool_call>\n{"name": "f", "arguments": {…}}\n</tool_call>`; another that renders tools gets
 * a bare `{"name": "f", "arguments": {…}}` (`"parameters"` when its template names the key so, as
 * Llama 3.1's does). `auto` lets the model write text until it writes the call's opening (the
 * trigger); `required` and a named function start the answer with a call. Reading the calls back
 * is tool-call-text.ts (page-safe: the stream's formatter uses it too).
 */
import { badRequest } from '../../protocol/errors.js';
import { schemaGrammar, type GrammarPlan } from './grammar.js';
import type { ToolChatMessage, ToolsRequest } from './structured.js';
import type { PipelineFn } from '../types.js';
import type { StructuralTag, TagFormat } from '@mlc-ai/web-xgrammar';

export interface CallFormat {
  /** Text that opens a call (the `auto` trigger), and the call's closing text after its JSON. */
  open: string;
  close: string;
  /** The JSON key of the arguments. */
  argumentsKey: 'arguments' | 'parameters';
}

const HERMES: CallFormat = { open: '<tool_call>\n', close: '\n</tool_call>', argumentsKey: 'arguments' };

interface TemplateTokenizer {
  chat_template: unknown;
  apply_chat_template(messages: unknown[], options: Record<string, unknown>): string;
}

/** OpenAI's tool list, as chat templates take it. */
function templateTools(tools: ToolsRequest) {
  return tools.functions.map((f) => ({ type: 'function', function: f }));
}

/**
 * The pipeline, with its tokenizer's chat template given the tools (and the tool turns of the
 * history): a 400 when the template does not render tools. Returns the call format it shows.
 */
export function withTools(pipe: PipelineFn, messages: ToolChatMessage[], tools: ToolsRequest): { pipe: PipelineFn; format: CallFormat } {
  const { tokenizer, model } = pipe as unknown as { tokenizer: TemplateTokenizer; model: unknown };
  if (!tokenizer.chat_template) {
    throw badRequest('This model has no chat template (tokenizer_config.json has no "chat_template"), so it cannot take chat messages or tools.');
  }
  const list = templateTools(tools);
  const render = (withList: boolean) => {
    try {
      return tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true, ...(withList ? { tools: list } : {}) });
    } catch (err) {
      throw badRequest(`The model's chat template rejected these messages: ${(err as Error).message}`);
    }
  };
  if (render(true) === render(false)) {
    throw badRequest('This model\'s chat template has no tools support (it renders the same prompt with and without tools), so tools cannot be used with it. Describe the functions in the messages instead, or use response_format.');
  }
  const template = typeof tokenizer.chat_template === 'string' ? tokenizer.chat_template : JSON.stringify(tokenizer.chat_template);
  const format: CallFormat = template.includes('<tool_call>')
    ? HERMES
    : { open: '', close: '', argumentsKey: template.includes('"parameters"') ? 'parameters' : 'arguments' };
  const proxied = new Proxy(tokenizer as unknown as object, {
    get(target, prop) {
      if (prop === 'apply_chat_template') {
        return (_messages: unknown[], options: Record<string, unknown>) =>
          (target as TemplateTokenizer).apply_chat_template(messages, { ...options, tools: list });
      }
      return Reflect.get(target, prop, target);
    },
  });
  return { pipe: { tokenizer: proxied, model } as unknown as PipelineFn, format };
}

/** The grammar of the answer for `tool_choice` (null for `none`: free text). */
export async function toolGrammar(tools: ToolsRequest, format: CallFormat): Promise<GrammarPlan | null> {
  const choice = tools.choice;
  if (choice === 'none') return null;
  const functions = typeof choice === 'object' ? tools.functions.filter((f) => f.name === choice.name) : tools.functions;
  const tags: TagFormat[] = [];
  for (const f of functions) {
    tags.push({
      type: 'tag',
      begin: `${format.open}{"name": ${JSON.stringify(f.name)}, "${format.argumentsKey}": `,
      content: { type: 'grammar', grammar: await schemaGrammar(f.parameters) },
      end: `}${format.close}`,
    });
  }
  const once = !tools.parallel;
  const tag: StructuralTag =
    choice === 'auto'
      ? { type: 'structural_tag', format: { type: 'triggered_tags', triggers: [format.open.trimEnd() || '{"name": '], tags, at_least_one: false, stop_after_first: once } }
      : { type: 'structural_tag', format: { type: 'tags_with_separator', tags, separator: '\n', at_least_one: true, stop_after_first: once } };
  return { kind: 'tag', tag };
}
