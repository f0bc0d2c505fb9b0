// One way to release what a piece of work holds (a tunnel, an HTTP pool, a window, an abort
// controller), modelled on VS Code's lifecycle.ts: each resource is registered where it is
// created, and every way the work can end runs the same dispose(), so no path forgets one.

export interface Disposable {
  /** Releases the resource. Must finish promptly: it means "stop now", never "drain first". */
  dispose(): void | Promise<void>;
}

/** A disposable that runs `release` the first time it is disposed, and never again. */
export function toDisposable(release: () => void | Promise<void>): Disposable {
  let released = false;
  return {
    dispose() {
      if (released) return;
      released = true;
      return release();
    },
  };
}

export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;
  private released: Promise<void> = Promise.resolve();
  private readonly failures: unknown[] = [];

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Registers `item` to be disposed with the store. A store that is already disposed disposes it
   * at once: work that finishes after it was cancelled (a tunnel that opens just after Cancel)
   * then releases what it made instead of leaking it.
   */
  add<T extends Disposable>(item: T): T {
    if (this.disposed) this.release([item]);
    else this.items.push(item);
    return item;
  }

  /** Disposes `item` now and stops holding it (for a resource whose job ended before the store's). */
  async delete(item: Disposable): Promise<void> {
    const index = this.items.indexOf(item);
    if (index >= 0) this.items.splice(index, 1);
    await item.dispose();
  }

  /**
   * Disposes every item once, newest first, each after the one before has finished. One that
   * fails does not stop the others; the failures are thrown together once all are done. A later
   * call waits for the same release, and for anything added since.
   */
  async dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = true;
      this.release(this.items.splice(0).reverse());
    }
    await this.released;
    const failures = this.failures.splice(0);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} resources failed to release.`);
  }

  private release(items: Disposable[]): void {
    const done = (async () => {
      for (const item of items) {
        try {
          await item.dispose();
        } catch (error) {
          this.failures.push(error);
        }
      }
    })();
    this.released = Promise.all([this.released, done]).then(() => undefined);
  }
}
