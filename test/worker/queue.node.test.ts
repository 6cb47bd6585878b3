import { describe, expect, it } from 'vitest';
import { SerialQueues } from '../../worker/queue.js';

const tick = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe('SerialQueues', () => {
  it('runs one item at a time per key, in arrival order, whatever each takes', async () => {
    const queues = new SerialQueues();
    const log: string[] = [];
    let running = 0;
    const job = (name: string, ms: number) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([queues.run('a', job('1', 20)), queues.run('a', job('2', 1)), queues.run('a', job('3', 5))]);
    expect(results).toEqual(['1', '2', '3']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('lets different keys run side by side', async () => {
    const queues = new SerialQueues();
    const started: string[] = [];
    const slow = queues.run('a', async () => (started.push('a'), tick(30)));
    const fast = queues.run('b', async () => started.push('b'));
    await fast;
    expect(started).toEqual(['a', 'b']);
    await slow;
  });

  it('keeps going after a failure, and counts what waits', async () => {
    const queues = new SerialQueues();
    const failing = queues.run('a', async () => {
      throw new Error('boom');
    });
    const next = queues.run('a', async () => 'next');
    expect(queues.depth('a')).toBe(2);
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
    await tick(0);
    expect(queues.depth('a')).toBe(0);
  });
});
