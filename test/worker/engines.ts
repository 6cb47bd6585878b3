/** Browser tests' engines: a WorkerEngine per model folder, each terminated after its test. */
import { afterEach } from 'vitest';
import { WorkerEngine } from '../../src/index.js';

/**
 * Registers an afterEach that terminates every engine made since the last test, and returns the
 * maker: `engineAt()` loads from the default folder, `engineAt(base)` from `base`.
 */
export function enginesPerTest(): (localModelPath?: string) => WorkerEngine {
  const engines: WorkerEngine[] = [];
  afterEach(() => {
    for (const engine of engines.splice(0)) engine.terminate();
  });
  return (localModelPath) => {
    const engine = new WorkerEngine(localModelPath ? { localModelPath } : {});
    engines.push(engine);
    return engine;
  };
}
