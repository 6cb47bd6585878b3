/** The events of a streamed generation, as they cross from the engine to the page. Types only. */

/** Why a generation ended. `cancelled`: the caller aborted it. */
export type FinishReason = 'length' | 'eos_token' | 'stop_sequence' | 'cancelled';

/** Sent once, when the prompt is read and generation starts. */
export interface StreamStart {
  type: 'start';
  promptTokens: number;
  /** Set by the engine: the device that runs the request, and why when it is not the fastest. */
  device?: string;
  fallback?: string;
}

/** One generated token. The last one of a generation carries `finish`. */
export interface StreamToken {
  type: 'token';
  /** 0-based position among the generated tokens. */
  index: number;
  id: number;
  /** The text this token adds (empty for special tokens and incomplete characters). */
  text: string;
  special: boolean;
  /** A special token's own text (`<|endoftext|>`), which TGI's `token.text` shows; absent for the others. */
  name?: string;
  /** The token's log-probability (natural log, of the model's own distribution), when the request asks for them. */
  logprob?: number;
  /** The most likely tokens at this step, most likely first, when the request asks for them (`top_n_tokens`, `top_logprobs`). */
  top?: TopToken[];
  finish?: { reason: FinishReason; text: string; generatedTokens: number };
}

/** One of the most likely tokens at a step: its own text (decoded alone, special tokens by name). */
export interface TopToken {
  id: number;
  text: string;
  logprob: number;
  special: boolean;
}

/** One value a custom handler's `call` yielded (an async generator): one `data:` JSON event. */
export interface StreamValue {
  type: 'value';
  /** Plain JSON data (checked by the engine). */
  value: unknown;
}

export type StreamEvent = StreamStart | StreamToken;

/** Receives a streaming request's events (`start`, then one per token, or one `value` per custom handler value). */
export type StreamListener = (event: StreamEvent | StreamValue) => void;

/**
 * What travels on a stream's own MessagePort from the worker to the page: each event, then
 * `{type: "end"}` once, before the answer is returned.
 */
export type StreamPortMessage = StreamEvent | StreamValue | { type: 'end' };
