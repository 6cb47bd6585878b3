/** What the page needs from an engine: the in-process one (Node) and the worker host both fit. */
import type { EngineRequest, EngineResult, EngineStatus, ProgressEvent } from '../../worker/engine.js';

export type { EngineRequest, EngineResult, EngineStatus, ProgressEvent };

export interface EngineLike {
  infer(request: EngineRequest, onProgress?: (event: ProgressEvent) => void): Promise<EngineResult>;
  load(
    request: Pick<EngineRequest, 'task' | 'model' | 'device' | 'dtype'>,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<EngineResult>;
  status(): Promise<EngineStatus>;
}
