// Changes to one file are read, modified and written back. Two that overlap (two saves from the
// window, a password saved while a server is deleted) both read the old contents, and the later
// write drops the earlier change. Run through one of these, each starts after the last is done.

export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();

  /** Runs `task` once every task given before it has finished (or failed). */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.last.then(task, task);
    this.last = result.catch(() => undefined);
    return result;
  }
}
