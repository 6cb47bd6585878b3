/**
 * Serial queues: the work given to one queue runs one item at a time, in the order it arrived.
 * ONNX Runtime must never run one session concurrently (it hangs on WebGPU and fails on WASM).
 */
export class SerialQueues {
  private tails = new Map<string, Promise<unknown>>();
  private depths = new Map<string, number>();

  /** Runs `work` after everything queued before it under `key`. A failure does not block the queue. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    this.depths.set(key, (this.depths.get(key) ?? 0) + 1);
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      const left = (this.depths.get(key) ?? 1) - 1;
      if (left === 0) {
        this.depths.delete(key);
        if (this.tails.get(key) === tail) this.tails.delete(key);
      } else this.depths.set(key, left);
    });
    return result;
  }

  /** Items waiting or running under `key`. */
  depth(key: string): number {
    return this.depths.get(key) ?? 0;
  }
}
