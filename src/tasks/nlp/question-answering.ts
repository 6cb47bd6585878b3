/**
 * question-answering: `{question, context}` → `{answer, score, start, end}` with
 * `context.slice(start, end) === answer` (a list, best first, when `top_k` > 1).
 *
 * A context longer than the model's window is read in overlapping windows of whole words
 * (`max_seq_len`, `doc_stride`), each window encoded with the question by the model's own
 * tokenizer; the best spans of all windows compete, as in transformers.
 */
import { textPipeline, type TaskRunner, type TaskSpec, type TensorLike, type TokenizerFn } from '../types.js';
import { checkKnownParameters, readBoolean, readParameters, readPositiveInteger } from '../shared/parameters.js';
import { softmax } from '../shared/scores.js';
import { isSubword, offsetScheme, tokenSpans, type OffsetScheme, type Span } from '../shared/token-offsets.js';
import { badRequest, describeType } from '../../protocol/errors.js';
import { yieldToEventLoop } from '../shared/yield.js';

export interface QuestionAnsweringRequest {
  question: string;
  context: string;
  topK: number;
  maxAnswerLen: number;
  handleImpossibleAnswer: boolean;
  docStride: number;
  maxSeqLen: number;
  maxQuestionLen: number;
  /** Widen answers to whole words (transformers' default). */
  alignToWords: boolean;
}

export interface Answer {
  score: number;
  start: number;
  end: number;
  answer: string;
}

const PARAMETERS = [
  'top_k',
  'max_answer_len',
  'handle_impossible_answer',
  'doc_stride',
  'max_seq_len',
  'max_question_len',
  'align_to_words',
] as const;

export const questionAnswering = {
  id: 'question-answering',
  client: ['questionAnswering'],
  example: {
    inputs: {
      question: 'What is used for inference?',
      context: 'My Name is Philipp and I live in Nuremberg. This model is used with sagemaker for inference.',
    },
  },

  parse(payload) {
    const parameters = readParameters(payload.parameters);
    checkKnownParameters('question-answering', parameters, PARAMETERS);
    const inputs = payload.inputs as Record<string, unknown> | null;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw badRequest(`inputs must be an object {"question": …, "context": …}, got ${describeType(inputs)}.`);
    }
    for (const field of ['question', 'context'] as const) {
      if (typeof inputs[field] !== 'string') throw badRequest(`inputs.${field} must be a string, got ${describeType(inputs[field])}.`);
      if ((inputs[field] as string).trim() === '') throw badRequest(`inputs.${field} must not be empty.`);
    }
    return {
      question: inputs.question as string,
      context: inputs.context as string,
      topK: readPositiveInteger(parameters, 'top_k') ?? 1,
      maxAnswerLen: readPositiveInteger(parameters, 'max_answer_len') ?? 15,
      handleImpossibleAnswer: readBoolean(parameters, 'handle_impossible_answer') ?? false,
      docStride: readPositiveInteger(parameters, 'doc_stride') ?? 128,
      maxSeqLen: readPositiveInteger(parameters, 'max_seq_len') ?? 384,
      maxQuestionLen: readPositiveInteger(parameters, 'max_question_len') ?? 64,
      alignToWords: readBoolean(parameters, 'align_to_words') ?? true,
    };
  },
} satisfies TaskSpec<QuestionAnsweringRequest>;

export const questionAnsweringRunner: TaskRunner<QuestionAnsweringRequest, void> = {
  spec: questionAnswering,
  pipeline: 'question-answering',

  async run(pipe, request, _setup, ctx) {
    const { tokenizer, model } = textPipeline(pipe);
    const scheme = offsetScheme(tokenizer);
    const question = truncateQuestion(tokenizer, scheme, request.question, request.maxQuestionLen);
    const answers: Answer[] = [];
    let nullScore = Infinity;
    // Window by window, the context tokenized as the windows reach it: a long context neither
    // holds the event loop (one turn between windows) nor runs on once its caller has gone.
    for (const window of contextWindows(tokenizer, scheme, question, request)) {
      if (ctx?.cancelled()) return null;
      const found = await answerWindow(tokenizer, model, scheme, question, window, request);
      answers.push(...found.answers);
      nullScore = Math.min(nullScore, found.nullScore);
      await yieldToEventLoop();
    }
    // Overlapping windows find the same span: keep its best score.
    const best = new Map<string, Answer>();
    for (const a of answers) {
      const key = `${a.start}:${a.end}`;
      if (!best.has(key) || best.get(key)!.score < a.score) best.set(key, a);
    }
    const ranked = [...best.values()];
    if (request.handleImpossibleAnswer) ranked.push({ score: nullScore, start: 0, end: 0, answer: '' });
    ranked.sort((a, b) => b.score - a.score);
    const top = ranked.slice(0, request.topK);
    return request.topK === 1 ? top[0] : top;
  },
};

interface Window {
  /** The window's text, and where it starts in the context. */
  text: string;
  offset: number;
}

/** The question, cut to `max_question_len` tokens. */
function truncateQuestion(tokenizer: TokenizerFn, scheme: OffsetScheme, question: string, max: number): string {
  const tokens = tokenize(tokenizer, question);
  if (tokens.length <= max) return question;
  const spans = tokenSpans(question, tokens, scheme);
  const last = spans.slice(0, max).findLast((s) => s !== null);
  return last ? question.slice(0, last[1]) : question;
}

/** Characters of context tokenized at a time (a context up to twice this is tokenized whole). */
const PIECE_CHARS = 32 * 1024;

/**
 * The context's tokens and their spans, tokenized piece by piece (pieces end where a run of white
 * space begins, so that each word is tokenized whole, as in the whole text) as `at` reaches
 * them, and dropped once no window needs them: work and memory follow the windows.
 */
export class ContextTokens {
  private tokens: string[] = [];
  private spans: (Span | null)[] = [];
  /** The context index of tokens[0]. */
  private base = 0;
  /** Characters of the context tokenized so far. */
  private read = 0;

  constructor(
    private readonly tokenizer: TokenizerFn,
    private readonly scheme: OffsetScheme,
    private readonly context: string,
  ) {}

  /** Whether token `i` exists (tokenizing on to it). */
  has(i: number): boolean {
    while (i >= this.base + this.tokens.length && this.read < this.context.length) this.readPiece();
    return i < this.base + this.tokens.length;
  }

  token(i: number): string {
    return this.has(i) ? this.tokens[i - this.base]! : '';
  }

  span(i: number): Span | null {
    return this.has(i) ? (this.spans[i - this.base] ?? null) : null;
  }

  /** Forgets the tokens before `i`. */
  drop(i: number): void {
    const n = Math.min(Math.max(0, i - this.base), this.tokens.length);
    if (n < 4096) return; // in batches: splice is linear
    this.tokens.splice(0, n);
    this.spans.splice(0, n);
    this.base += n;
  }

  private readPiece(): void {
    const rest = this.context.length - this.read;
    const end = rest <= 2 * PIECE_CHARS ? this.context.length : pieceEnd(this.context, this.read + PIECE_CHARS);
    const piece = this.context.slice(this.read, end);
    const tokens = tokenize(this.tokenizer, piece);
    const spans = tokenSpans(piece, tokens, this.scheme);
    for (const [k, token] of tokens.entries()) {
      this.tokens.push(token);
      const span = spans[k];
      this.spans.push(span ? [span[0] + this.read, span[1] + this.read] : null);
    }
    this.read = end;
  }
}

/** Where a piece ending near `at` ends: where the run of white space before `at` begins (else `at`). */
function pieceEnd(text: string, at: number): number {
  let i = at;
  while (i > at - 1024 && i > 0 && !/\s/u.test(text[i]!)) i--;
  if (!/\s/u.test(text[i]!)) return /[\udc00-\udfff]/.test(text[at]!) ? at + 1 : at; // no white space near: cut (never inside a surrogate pair)
  while (i > 0 && /\s/u.test(text[i - 1]!)) i--;
  return i;
}

/** Overlapping windows of whole words that fit the model with the question, made as they are read. */
function* contextWindows(tokenizer: TokenizerFn, scheme: OffsetScheme, question: string, request: QuestionAnsweringRequest): Generator<Window> {
  const { context } = request;
  const tokens = new ContextTokens(tokenizer, scheme, context);
  const maxLen = Math.min(request.maxSeqLen, tokenizer.model_max_length ?? Infinity);
  const pairOverhead = tokenizer('a', { text_pair: 'b' }).input_ids!.dims.at(-1)! - 2;
  const size = maxLen - tokenize(tokenizer, question).length - pairOverhead;
  if (size < 8) throw badRequest(`The question leaves too little room for the context in the model's ${maxLen} tokens.`);
  const stride = Math.min(request.docStride, Math.floor(size / 2)); // the overlap between windows
  const wordStart = (i: number) => {
    while (i > 0 && tokens.span(i) && isSubword(context, tokens.token(i), tokens.span(i), scheme)) i--;
    return i;
  };
  for (let begin = 0; tokens.has(begin); ) {
    let end = begin + size;
    const more = tokens.has(end);
    if (!more) while (!tokens.has(end - 1)) end--; // the last window ends with the context
    else end = Math.max(wordStart(end), begin + 1); // never cut a word
    let first: Span | null = null;
    let last: Span | null = null;
    for (let i = begin; i < end; i++) {
      const span = tokens.span(i);
      if (span) {
        first ??= span;
        last = span;
      }
    }
    if (first && last) yield { text: context.slice(first[0], last[1]), offset: first[0] };
    if (!more) break;
    begin = Math.max(wordStart(end - stride), begin + 1);
    tokens.drop(begin - size); // a word-start walk never goes back further
  }
}

async function answerWindow(
  tokenizer: TokenizerFn,
  model: ReturnType<typeof textPipeline>['model'],
  scheme: OffsetScheme,
  question: string,
  window: Window,
  request: QuestionAnsweringRequest,
): Promise<{ answers: Answer[]; nullScore: number }> {
  const encoded = tokenizer(question, { text_pair: window.text, truncation: true });
  const ids = Array.from(encoded.input_ids!.data, Number);
  const contextIds = tokenizer.encode(window.text, { add_special_tokens: false });
  const from = findLast(ids, contextIds);
  if (from < 0) return { answers: [], nullScore: Infinity };
  const to = from + contextIds.length; // context tokens are ids[from, to)
  const tokens = tokenize(tokenizer, window.text);
  const spans: (Span | null)[] = tokenSpans(window.text, tokens, scheme);
  // With align_to_words, an answer starts at its first token's word and ends at its last token's.
  const continues = tokens.map((t, k) => Boolean(spans[k]) && k > 0 && isSubword(window.text, t, spans[k]!, scheme));
  const wordFirst = (k: number) => {
    while (request.alignToWords && k > 0 && continues[k]) k--;
    return k;
  };
  const wordLast = (k: number) => {
    while (request.alignToWords && k + 1 < tokens.length && continues[k + 1]) k++;
    return k;
  };

  const { start_logits, end_logits } = await model(encoded);
  const masked = (logits: TensorLike) =>
    Array.from(logits.data, Number).map((x, i) => ((i >= from && i < to) || (i === 0 && request.handleImpossibleAnswer) ? x : -Infinity));
  const pStart = softmax(masked(start_logits!));
  const pEnd = softmax(masked(end_logits!));
  const nullScore = request.handleImpossibleAnswer ? pStart[0]! * pEnd[0]! : Infinity;

  const answers: Answer[] = [];
  for (let i = from; i < to; i++) {
    for (let j = i; j < Math.min(to, i + request.maxAnswerLen); j++) {
      const a = spans[wordFirst(i - from)];
      const b = spans[wordLast(j - from)];
      if (!a || !b) continue;
      const start = window.offset + a[0];
      const end = window.offset + b[1];
      answers.push({ score: pStart[i]! * pEnd[j]!, start, end, answer: request.context.slice(start, end) });
    }
  }
  answers.sort((x, y) => y.score - x.score);
  // Several token spans can widen to one word span: keep the best of each.
  const seen = new Set<string>();
  const distinct = answers.filter((a) => !seen.has(`${a.start}:${a.end}`) && seen.add(`${a.start}:${a.end}`));
  return { answers: distinct.slice(0, request.topK), nullScore };
}

function tokenize(tokenizer: TokenizerFn, text: string): string[] {
  return (tokenizer as unknown as { tokenize(text: string): string[] }).tokenize(text);
}

/** Where `needle` last occurs in `haystack`: the context comes after the question. */
function findLast(haystack: number[], needle: number[]): number {
  outer: for (let i = haystack.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
