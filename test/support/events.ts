// Collects events (tunnel events, CLI JSON lines) and lets a test wait for one by content,
// bounded by a timeout: tests wait for what happened, never for a fixed time.

export class EventLog<T> {
  readonly events: T[] = [];
  private waiters: Array<{ match: (event: T) => boolean; resolve: (event: T) => void }> = [];

  readonly push = (event: T): void => {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(event);
      }
    }
  };

  /** The first event (already seen from index `from`, or still to come) that matches. */
  waitFor(match: (event: T) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<T> {
    const seen = this.events.slice(from).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw: ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      const done = (event: T) => {
        clearTimeout(timer);
        resolve(event);
      };
      this.waiters.push({ match, resolve: done });
    });
  }
}
