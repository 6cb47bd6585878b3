/**
 * Generation with structured output (engine side), for the two OpenAI routes: the grammar of the
 * request (`response_format`, or the tool calls `tool_choice` asks for) is compiled and applied as
 * a StepHook; the tools go through the chat template; the text is read back into `tool_calls`.
 */
import { runGeneration, type GenerationResult, type GenerationSetup, type StepHook } from './generate-core.js';
import { constrain, type Constraint, type GrammarPlan } from './grammar.js';
import { toolGrammar, withTools } from './tool-calls.js';
import { readToolCalls, type ToolCall } from './tool-call-text.js';
import { openAIId } from '../shared/ids.js';
import type { GenerationInput, GenerationOptions } from './generation-parameters.js';
import type { StructuredRequest, ToolChatMessage } from './structured.js';
import type { PipelineFn, RunContext } from '../types.js';

/** One sequence's tool calls and the text outside them; absent when the request has no tools. */
export interface ToolAnswer {
  content: string | null;
  calls: ToolCall[];
}

export interface StructuredResult extends GenerationResult {
  /** Per sequence, when the request has tools (and tool_choice is not `none`). */
  tools: ToolAnswer[] | null;
}

/** Runs one generation under the request's grammar (and `hooks`, e.g. log-probabilities). */
export async function generateStructured(
  pipe: PipelineFn,
  input: GenerationInput,
  request: { options: GenerationOptions; structured: StructuredRequest | null },
  setup: GenerationSetup,
  ctx: RunContext | undefined,
  hooks: readonly StepHook[] = [],
): Promise<StructuredResult> {
  const structured = request.structured;
  if (!structured) return { ...(await runGeneration(pipe, input, request.options, setup, ctx, {}, hooks)), tools: null };
  let plan: GrammarPlan | null = structured.format ? { kind: 'json', schema: structured.format.schema } : null;
  let run = pipe;
  const tools = structured.tools;
  if (tools && input.kind === 'chat') {
    const rendered = withTools(pipe, input.messages as ToolChatMessage[], tools);
    run = rendered.pipe;
    plan ??= await toolGrammar(tools, rendered.format);
  }
  let constraint: Constraint | null = null;
  if (plan) constraint = await constrain(pipe, setup, plan, request.options.maxNewTokens ?? setup.defaultMaxNewTokens);
  try {
    const result = await runGeneration(run, input, request.options, setup, ctx, {}, constraint ? [constraint.hook, ...hooks] : hooks);
    if (!tools || tools.choice === 'none') return { ...result, tools: null };
    const names = tools.functions.map((f) => f.name);
    return { ...result, tools: result.sequences.map((s) => readToolCalls(s.text, names, () => openAIId('call'))) };
  } finally {
    constraint?.dispose();
  }
}
