import { describe, expect, it } from 'vitest';
import { OneAtATime } from '../../electron/core/common/one-at-a-time.js';

describe('OneAtATime', () => {
  it('starts each task after the one before has finished, and a failure does not stop the next', async () => {
    const queue = new OneAtATime();
    const log: string[] = [];
    let finishFirst!: () => void;
    const first = queue.run(async () => {
      log.push('first starts');
      await new Promise<void>((resolve) => (finishFirst = resolve));
      log.push('first ends');
      throw new Error('disk full');
    });
    const second = queue.run(async () => {
      log.push('second runs');
      return 2;
    });
    await Promise.resolve();
    expect(log).toEqual(['first starts']);
    finishFirst();
    await expect(first).rejects.toThrow('disk full');
    expect(await second).toBe(2);
    expect(log).toEqual(['first starts', 'first ends', 'second runs']);
  });
});
