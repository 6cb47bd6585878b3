/**
 * Constrained decoding (engine side): a grammar compiled by xgrammar for the model's vocabulary,
 * and a StepHook that masks, at every step, the tokens the grammar does not allow next.
 *
 * - The vocabulary is read as xgrammar's `TokenizerInfo.from_huggingface` reads it: the tokens of
 *   `tokenizer.json` in id order, the decoder's type (ByteLevel → byte_level; ByteFallback or
 *   Metaspace → byte_fallback; else raw), and the model's logits size. Special tokens are given as
 *   empty strings, which xgrammar never allows (a `<|im_start|>` inside a JSON string would vanish
 *   from the decoded text); the model's EOS ids are the grammar's stop tokens.
 * - JSON is compiled on one line with fixed separators (`{"a": 1, "b": [2, 3]}`) and no free
 *   whitespace, so a model cannot loop on whitespace; properties outside the schema are never
 *   generated (xgrammar's strict mode), except for `json_object`, which is any object.
 * - The token budget: near its end (the last quarter, at most 64 tokens) the mask also prefers,
 *   among the allowed tokens, EOS, then a token that starts with `"` (which ends a string), then
 *   one of only `}` and `]`, so that an answer the grammar can close is closed before the budget
 *   cuts it. An answer that still does not fit ends
 *   with finish_reason `length`, cut, as OpenAI's does.
 *
 * One compiler per tokenizer, made on first use. After a schema fails to compile (xgrammar aborts
 * its WebAssembly call), the compiler is made again for the next request.
 */
import { badRequest } from '../../protocol/errors.js';
import { captureErrors, GrammarError, loadXGrammar, type XGrammarModule } from './xgrammar-load.js';
import type { GenerationSetup, StepHook } from './generate-core.js';
import type { PipelineFn } from '../types.js';
import type { CompiledGrammar, GrammarCompiler, GrammarMatcher, StructuralTag, TokenizerInfo } from '@mlc-ai/web-xgrammar';

/** JSON: one line, `, ` and `: ` between items, as Python's json.dumps writes it. */
const SEPARATORS: [string, string] = [', ', ': '];
const ONE_LINE = -1;

/** What to compile: JSON (of a schema; null is any object), or a structural tag (tool calls). */
export type GrammarPlan = { kind: 'json'; schema: unknown } | { kind: 'tag'; tag: StructuralTag };

interface TokenizerJSON {
  model?: { vocab?: Record<string, number> | [string, number][] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  decoder?: { type?: string; decoders?: { type?: string; pattern?: { String?: string } }[] } | null;
  pre_tokenizer?: { type?: string; prepend_scheme?: string; add_prefix_space?: boolean; pretokenizers?: { type?: string; prepend_scheme?: string }[] } | null;
  normalizer?: { type?: string; prepend?: string; normalizers?: { type?: string; prepend?: string }[] } | null;
}

interface Vocabulary {
  xg: XGrammarModule;
  info: TokenizerInfo;
  compiler: GrammarCompiler | null;
  size: number;
  /**
   * What closes an answer, by preference: 3 the stop tokens, 2 tokens of `"` then only `"`, `}`
   * and `]` (inside a string, `"` ends it; where a value starts, it opens one that the next closes),
   * 1 tokens of only `}` and `]`; a space before is allowed. 0 for the others.
   */
  closers: Uint8Array;
}

const vocabularies = new WeakMap<object, Promise<Vocabulary>>();

function partsOf(pipe: PipelineFn) {
  return pipe as unknown as { tokenizer: { _tokenizerJSON: TokenizerJSON; all_special_ids: number[] }; model: { config: Record<string, unknown> } };
}

/** The model's vocabulary as xgrammar needs it (once per tokenizer). */
function vocabulary(pipe: PipelineFn, setup: GenerationSetup): Promise<Vocabulary> {
  const { tokenizer, model } = partsOf(pipe);
  let entry = vocabularies.get(tokenizer);
  if (!entry) {
    entry = readVocabulary(tokenizer._tokenizerJSON, tokenizer.all_special_ids, Number(model.config.vocab_size ?? 0), setup.eosIds);
    entry.catch(() => vocabularies.delete(tokenizer));
    vocabularies.set(tokenizer, entry);
  }
  return entry;
}

async function readVocabulary(json: TokenizerJSON, specialIds: number[], logitsSize: number, eosIds: number[]): Promise<Vocabulary> {
  const xg = await loadXGrammar();
  const tokens: string[] = [];
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach(([piece], id) => (tokens[id] = piece));
  else for (const [piece, id] of Object.entries(vocab ?? {})) tokens[id] = piece;
  for (const added of json.added_tokens ?? []) tokens[added.id] = added.content;
  const special = new Set(specialIds.map(Number));
  for (const added of json.added_tokens ?? []) if (added.special) special.add(added.id);
  const size = Math.max(logitsSize, tokens.length);
  const encoded = Array.from({ length: tokens.length }, (_, id) => (special.has(id) ? '' : (tokens[id] ?? '')));
  const type = vocabType(json);
  const info = await xg.TokenizerInfo.createTokenizerInfo(encoded, type, prependsSpace(json), size, eosIds.length ? eosIds : undefined);
  const closers = new Uint8Array(size);
  encoded.forEach((token, id) => {
    if (/^(Ġ|▁| )?"["}\]]*$/.test(token)) closers[id] = 2;
    else if (/^(Ġ|▁| )?[}\]]+$/.test(token)) closers[id] = 1;
  });
  for (const id of eosIds) if (id < size) closers[id] = 3;
  return { xg, info, compiler: null, size, closers };
}

function vocabType(json: TokenizerJSON): 'byte_level' | 'byte_fallback' | 'raw' {
  type Step = { type?: string; pattern?: { String?: string } };
  const decoders: Step[] = json.decoder?.type === 'Sequence' ? (json.decoder.decoders ?? []) : json.decoder ? [json.decoder as Step] : [];
  const types = decoders.map((d) => d.type);
  if (types.includes('ByteLevel')) return 'byte_level';
  if (types.includes('ByteFallback') || types.includes('Metaspace') || decoders.some((d) => d.type === 'Replace' && d.pattern?.String === '▁')) return 'byte_fallback';
  return 'raw';
}

function prependsSpace(json: TokenizerJSON): boolean {
  const pre = json.pre_tokenizer;
  const pres = pre?.type === 'Sequence' ? (pre.pretokenizers ?? []) : pre ? [pre] : [];
  if (pres.some((p) => p.type === 'Metaspace' && (p.prepend_scheme === 'first' || p.prepend_scheme === 'always' || (p as { add_prefix_space?: boolean }).add_prefix_space === true))) return true;
  const norm = json.normalizer;
  const norms = norm?.type === 'Sequence' ? (norm.normalizers ?? []) : norm ? [norm] : [];
  return norms.some((n) => n.type === 'Prepend' && n.prepend === '▁');
}

/** A compiled grammar for one request, and the hook that applies it. `dispose` frees both. */
export interface Constraint {
  hook: StepHook;
  dispose(): void;
}

/** Compiles `plan` for this model (a 400 naming the problem when it cannot) and makes its step hook. */
export async function constrain(pipe: PipelineFn, setup: GenerationSetup, plan: GrammarPlan, budget: number): Promise<Constraint> {
  const vocab = await vocabulary(pipe, setup);
  const compiled = await compile(vocab, plan);
  let matcher: GrammarMatcher | null = null;
  let mask: Int32Array | null = null;
  let steps = 0;
  const wrapUpFrom = budget - Math.min(64, Math.max(4, Math.floor(budget / 4)));
  const hook: StepHook = {
    async beginSequence() {
      matcher?.dispose();
      matcher = await vocab.xg.GrammarMatcher.createGrammarMatcher(compiled);
      steps = 0;
    },
    async beforeStep() {
      mask = matcher && !matcher.isTerminated() ? await matcher.getNextTokenBitmask() : null;
    },
    logits(logits) {
      if (!mask) return;
      applyMask(logits.data.subarray(0, logits.dims.at(-1)!), mask, steps >= wrapUpFrom ? vocab.closers : null);
    },
    accept(id) {
      steps++;
      if (matcher && !matcher.isTerminated() && !matcher.acceptToken(id)) {
        // Cannot happen with the mask applied; should it, the grammar stops constraining.
        matcher.dispose();
        matcher = null;
      }
    },
  };
  return {
    hook,
    dispose() {
      matcher?.dispose();
      matcher = null;
      compiled.dispose();
    },
  };
}

async function compile(vocab: Vocabulary, plan: GrammarPlan): Promise<CompiledGrammar> {
  vocab.compiler ??= await vocab.xg.GrammarCompiler.createGrammarCompiler(vocab.info);
  const compiler = vocab.compiler;
  try {
    return await captureErrors(() => {
      if (plan.kind === 'tag') return compiler.compileStructuralTag(plan.tag);
      if (plan.schema === null) return compiler.compileJSONSchema('{"type": "object"}', false, ONE_LINE, SEPARATORS, false);
      return compiler.compileJSONSchema(JSON.stringify(plan.schema), false, ONE_LINE, SEPARATORS, true);
    });
  } catch (err) {
    // The WebAssembly aborted mid-call: the next request gets a fresh compiler.
    compiler.dispose();
    vocab.compiler = null;
    const what = plan.kind === 'tag' ? 'A tool\'s parameters schema' : 'The response_format schema';
    throw badRequest(`${what} cannot be used for constrained decoding: ${err instanceof GrammarError ? err.message : String(err)}.`);
  }
}

/** A JSON Schema as an EBNF grammar (for a tool's arguments inside a structural tag), with the same whitespace rules. */
export async function schemaGrammar(schema: unknown): Promise<string> {
  const xg = await loadXGrammar();
  try {
    return await captureErrors(() => xg.Testings._jsonSchemaToEBNF(JSON.stringify(schema), false, ONE_LINE, SEPARATORS, true));
  } catch (err) {
    throw badRequest(`A tool's parameters schema cannot be used for constrained decoding: ${err instanceof GrammarError ? err.message : String(err)}.`);
  }
}

/**
 * Sets the logits the bitmask disallows to -Infinity (bit i of word i>>5 set = allowed). With
 * `closers`, when some allowed token closes the answer, only the allowed ones of the most
 * preferred kind stay.
 */
export function applyMask(row: Float32Array, mask: Int32Array, closers: Uint8Array | null): void {
  const size = row.length;
  const allowed = (i: number) => i < mask.length << 5 && ((mask[i >> 5]! >>> (i & 31)) & 1) === 1;
  if (closers) {
    let best = 0;
    for (let i = 0; i < size; i++) if (closers[i]! > best && allowed(i)) best = closers[i]!;
    if (best > 0) {
      for (let i = 0; i < size; i++) if (closers[i] !== best || !allowed(i)) row[i] = -Infinity;
      return;
    }
  }
  for (let word = 0; word < mask.length; word++) {
    const bits = mask[word]!;
    if (bits === -1) continue;
    const base = word << 5;
    const end = Math.min(base + 32, size);
    for (let i = base; i < end; i++) if (!((bits >>> (i - base)) & 1)) row[i] = -Infinity;
  }
  for (let i = mask.length << 5; i < size; i++) row[i] = -Infinity;
}
