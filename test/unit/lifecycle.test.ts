import { describe, expect, it } from 'vitest';
import { DisposableStore, toDisposable } from '../../electron/core/common/lifecycle.js';

// The one way resources are released: everything registered goes, once, newest first, and a
// failure in one does not keep the rest alive.

describe('toDisposable', () => {
  it('runs its release once, however often it is disposed', async () => {
    let runs = 0;
    const item = toDisposable(() => void runs++);
    await item.dispose();
    await item.dispose();
    expect(runs).toBe(1);
  });
});

describe('DisposableStore', () => {
  it('disposes every item once, newest first, each after the one before has finished', async () => {
    const order: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => void order.push('tunnel')));
    store.add(toDisposable(async () => {
      await Promise.resolve();
      order.push('client (async)');
    }));
    store.add(toDisposable(() => void order.push('window')));
    await store.dispose();
    await store.dispose();
    expect(order).toEqual(['window', 'client (async)', 'tunnel']);
    expect(store.isDisposed).toBe(true);
  });

  it('keeps going past a failing item and throws the failures once all are done', async () => {
    const released: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => void released.push('first')));
    store.add(toDisposable(() => {
      throw new Error('window already gone');
    }));
    store.add(toDisposable(async () => {
      throw new Error('pool refused');
    }));
    store.add(toDisposable(() => void released.push('last')));
    const failure = await store.dispose().then(() => undefined, (error: unknown) => error);
    expect(released).toEqual(['last', 'first']);
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).errors.map((error: Error) => error.message)).toEqual(['pool refused', 'window already gone']);
    // Reported once, not again to the next caller.
    await expect(store.dispose()).resolves.toBeUndefined();
  });

  it('throws a single failure as it is', async () => {
    const store = new DisposableStore();
    store.add(toDisposable(() => {
      throw new Error('only this');
    }));
    await expect(store.dispose()).rejects.toThrow('only this');
  });

  it('disposes at once what is added after it was disposed, and a later dispose() waits for it', async () => {
    const store = new DisposableStore();
    await store.dispose();
    let finish!: () => void;
    const late = new Promise<void>((resolve) => (finish = resolve));
    let lateStarted = false;
    let lateDone = false;
    store.add(toDisposable(async () => {
      lateStarted = true;
      await late;
      lateDone = true;
    }));
    expect(lateStarted).toBe(true);
    const waited = store.dispose().then(() => lateDone);
    finish();
    expect(await waited).toBe(true);
  });

  it('lets every caller of dispose() wait for the same release', async () => {
    const store = new DisposableStore();
    let finish!: () => void;
    let done = false;
    store.add(toDisposable(async () => {
      await new Promise<void>((resolve) => (finish = resolve));
      done = true;
    }));
    const first = store.dispose();
    const second = store.dispose().then(() => done);
    finish();
    await first;
    expect(await second).toBe(true);
  });

  it('delete() releases one item now and leaves it out of the store\'s own release', async () => {
    const released: string[] = [];
    const store = new DisposableStore();
    const window = store.add(toDisposable(() => void released.push('window')));
    store.add(toDisposable(() => void released.push('tunnel')));
    await store.delete(window);
    expect(released).toEqual(['window']);
    await store.dispose();
    expect(released).toEqual(['window', 'tunnel']);
  });

  it('can hold another store, whose items go with it', async () => {
    const released: string[] = [];
    const session = new DisposableStore();
    session.add(toDisposable(() => void released.push('tunnel')));
    const claim = session.add(new DisposableStore());
    claim.add(toDisposable(() => void released.push('sign-in window')));
    await session.dispose();
    expect(released).toEqual(['sign-in window', 'tunnel']);
    expect(claim.isDisposed).toBe(true);
  });
});
