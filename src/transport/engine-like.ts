/** What the page needs from an engine: the in-process one (Node) and the worker host both fit. */
import type { EngineRequest, EngineResult, EngineStatus, ProgressEvent, StreamEvent } from '../../worker/engine.js';

export type { EngineRequest, EngineResult, EngineStatus, ProgressEvent, StreamEvent };

export interface EngineLike {
  /**
   * Answers one request. A streaming request (`request.stream`) reports its events to `onStream`
   * as they happen. `signal` cancels: a queued request never starts, a running one stops within
   * one token, and the answer is a failure with `cancelled: true`.
   */
  infer(
    request: EngineRequest,
    onProgress?: (event: ProgressEvent) => void,
    onStream?: (event: StreamEvent) => void,
    signal?: AbortSignal,
  ): Promise<EngineResult>;
  load(
    request: Pick<EngineRequest, 'task' | 'model' | 'device' | 'dtype'>,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<EngineResult>;
  status(): Promise<EngineStatus>;
}
